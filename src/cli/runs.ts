// Opening a training run for the commands that read one (evaluate, predict, export): the library's
// openRun, with the run's spec compiled the CLI's way (spec errors printed, exit 3).
import type { CompileOptions } from '../frontend/compile.js';
import type { CheckpointName, OpenRun } from '../train/run.js';
import { compileOrFail } from './common.js';

export type { OpenRun };

export async function openRun(dir: string, name: CheckpointName, json = false, opts: CompileOptions = {}): Promise<OpenRun> {
  const lib = await import('../train/run.js');
  return lib.openRun(dir, name, (path) => compileOrFail(path, opts, json));
}
