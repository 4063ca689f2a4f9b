// Opening a training run for the commands that read one (evaluate, predict).
import { join } from 'node:path';
import type { Compiled, CompileOptions } from '../frontend/compile.js';
import type { Checkpoint, CheckpointName, RunDir, RunInfo } from '../train/run.js';
import { compileOrFail, UsageError } from './common.js';

export interface OpenRun {
  run: RunDir;
  info: RunInfo;
  compiled: Compiled;
  checkpoint: Checkpoint;
}

export async function openRun(dir: string, name: CheckpointName, json = false, opts: CompileOptions = {}): Promise<OpenRun> {
  const { RunDir, fsRunHost } = await import('../train/run.js');
  const run = new RunDir(fsRunHost(dir));
  const info = run.readInfo();
  if (!info) throw new UsageError(`'${dir}' is not a training run (no run.json): make one with \`alcli train SPEC --data DIR --out ${dir}\``);
  if (!run.hasCheckpoint(name)) throw new UsageError(`'${dir}' has no ${name} checkpoint yet: the run stopped before its first epoch ended; \`alcli train --resume ${dir}\``);
  const compiled = await compileOrFail(join(dir, 'spec.resolved.yaml'), opts, json);
  return { run, info, compiled, checkpoint: run.readCheckpoint(name) };
}
