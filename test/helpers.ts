// Shared by the tests: the CLI's file-system SpecHost and an in-memory one.
import type { SpecHost } from '../src/spec/load.js';

export { fsHost } from '../src/cli/common.js';

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
