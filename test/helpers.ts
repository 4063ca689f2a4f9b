// Shared by the tests: the CLI's file-system SpecHost and an in-memory one.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as assert from 'uvu/assert';
import type { SpecHost } from '../src/frontend/load.js';

export { fileSpecHost as fsHost } from '../src/frontend/load.js';

/** A host over a map of file name to text. */
export const memHost = (files: Record<string, string>): SpecHost => ({ read: (p) => files[p] });

/** `# expect: code, code` markers in a fixture: the errors that line must produce. */
export function expectedMarkers(file: string, text: string): string[] {
  const out: string[] = [];
  text.split('\n').forEach((line, i) => {
    const m = /# expect: ([\w, -]+)$/.exec(line);
    if (m) for (const code of m[1].split(',')) out.push(`${file}:${i + 1} ${code.trim()}`);
  });
  return out;
}

/** Compares text with a golden file; `UPDATE_GOLDEN=1` rewrites the file instead. */
export function matchGolden(path: string, text: string): void {
  if (process.env.UPDATE_GOLDEN) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  assert.ok(existsSync(path), `no golden file ${path}: run with UPDATE_GOLDEN=1`);
  assert.fixture(text, readFileSync(path, 'utf8'));
}
