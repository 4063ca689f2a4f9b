// Opening a training run for the commands that read one (evaluate, predict, export): the library's
// openRun (train/trained.ts); its errors are mapped to exit codes in base.ts.
import type { CompileOptions } from '../frontend/compile.js';
import type { CheckpointName } from '../train/run.js';
import type { OpenRun } from '../train/trained.js';

export type { OpenRun };

/** `json` is kept for the callers: base.ts reports spec errors as JSON when --json was given. */
export async function openRun(dir: string, name: CheckpointName, _json = false, opts: CompileOptions = {}): Promise<OpenRun> {
  const lib = await import('../train/trained.js');
  return lib.openRun(dir, name, opts);
}
