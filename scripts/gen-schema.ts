// Writes schemas/architecture.schema.json and schemas/architecture.validate.cjs from the op registry.
import { writeFileSync } from 'node:fs';
import { schemaJson, standaloneValidator } from '../src/frontend/schema-build.js';

writeFileSync('schemas/architecture.schema.json', schemaJson());
writeFileSync('schemas/architecture.validate.cjs', standaloneValidator());
console.log('wrote schemas/architecture.schema.json and schemas/architecture.validate.cjs');
// the study file's schema (src/study/study-file.ts), for editors; alcli compiles it at run time
const { studySchema } = await import('../src/study/study-file.js');
writeFileSync('schemas/study.schema.json', `${JSON.stringify(studySchema, null, 2)}\n`);
console.log('wrote schemas/study.schema.json');
