// Writes schemas/architecture.schema.json from the op registry (run: npm run schema).
import { writeFileSync } from 'node:fs';
import { architectureSchema } from '../src/spec/schema.js';

writeFileSync('schemas/architecture.schema.json', `${JSON.stringify(architectureSchema(), null, 2)}\n`);
console.log('wrote schemas/architecture.schema.json');
