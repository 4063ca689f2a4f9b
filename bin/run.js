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
// ONNX Runtime's telemetry off before anything loads it (src/runtime/ort.ts importOrt does the same):
// it would write to ~/.cache/Microsoft/DeveloperTools/ and leave mat-debug-PID.log in the temp folder
process.env.ORT_DISABLE_TELEMETRY = '1';
await execute({ dir: import.meta.url });
