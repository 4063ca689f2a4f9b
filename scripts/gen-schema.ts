// Writes schemas/architecture.schema.json and schemas/architecture.validate.cjs from the op registry.
import { writeFileSync } from 'node:fs';
import { schemaJson, standaloneValidator } from '../src/frontend/schema-build.js';

writeFileSync('schemas/architecture.schema.json', schemaJson());
writeFileSync('schemas/architecture.validate.cjs', standaloneValidator());
console.log('wrote schemas/architecture.schema.json and schemas/architecture.validate.cjs');
