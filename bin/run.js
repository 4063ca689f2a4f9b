#!/usr/bin/env node
// The alcli entry point. It runs the compiled commands in dist/ (npm run build), never src/:
// oclif would otherwise transpile src/ on the fly when NODE_ENV is development or test.
import { existsSync } from 'node:fs';
import { execute, settings } from '@oclif/core';

if (!existsSync(new URL('../dist/cli/index.js', import.meta.url))) {
  process.stderr.write('alcli: internal error: dist/ is missing; run `npm run build` first\n');
  process.exit(1);
}
settings.enableAutoTranspile = false;
await execute({ dir: import.meta.url });
