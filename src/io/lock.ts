// One process at a time per folder: a run being trained, an export being written. The lock is a
// file beside the folder, `.NAME.lock`, holding the owner's pid, created with O_EXCL ('wx') so only
// one process gets it; it goes when released, when the process exits, and on SIGINT, SIGTERM and
// SIGHUP. A lock whose pid is no longer alive (a killed process) is stale and taken over.
// Beside the folder, not in it: the folder may not exist yet, may be replaced whole (--force, an
// export's swap), and its emptiness is how a non-empty output is refused.
import { existsSync, mkdirSync, readFileSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { PathError, refuseUnderFile } from './dir.js';

/** The folder is locked by another live process (the CLI exits 2). */
export class LockError extends PathError {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(`${dir} is in use by pid ${pid}`);
  }
}

export interface DirLock {
  /** the lock file */
  readonly file: string;
  /** removes the lock file (once; later calls do nothing) */
  release(): void;
}

/** The lock file of folder `dir`: `.NAME.lock` beside it. */
export const lockFile = (dir: string): string => {
  const abs = resolve(dir);
  return join(dirname(abs), `.${basename(abs)}.lock`);
};

/** Whether process `pid` is alive (a process of another user counts as alive). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

const held = new Set<DirLock>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function releaseAll(): void {
  for (const l of [...held]) l.release();
}

function onSignal(signal: NodeJS.Signals): void {
  releaseAll();
  // die of the signal as the process would have without this handler, unless someone else handles it
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function watchExit(on: boolean): void {
  if (on) {
    process.on('exit', releaseAll);
    for (const s of SIGNALS) process.on(s, onSignal);
  } else {
    process.off('exit', releaseAll);
    for (const s of SIGNALS) process.off(s, onSignal);
  }
}

/**
 * Locks folder `dir` for this process, or throws a LockError naming the live process that holds
 * it (this one included: a second lock of the same folder in one process is refused too). The
 * folder's parent is created when missing, and removed again on release when still empty.
 */
export function lockDir(dir: string): DirLock {
  const file = lockFile(dir);
  const parent = dirname(file);
  refuseUnderFile(dir);
  // the first folder created on the way, when the parent was missing
  const made = existsSync(parent) ? undefined : mkdirSync(parent, { recursive: true });
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new PathError(`cannot lock '${dir}': ${(e as Error).message}`);
      }
    }
    let pid = NaN;
    try {
      pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
    } catch {
      // gone in between: try again
    }
    // a lock being written this instant reads empty: give its owner a moment before calling it stale
    if (Number.isNaN(pid) && attempt < 3) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      continue;
    }
    if (pidAlive(pid)) throw new LockError(dir, pid);
    if (attempt >= 5) throw new PathError(`cannot lock '${dir}': its lock file ${file} keeps coming back`);
    // stale: its process is gone
    try {
      unlinkSync(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new PathError(`cannot take over the stale lock ${file}: ${(e as Error).message}`);
    }
  }
  let released = false;
  const lock: DirLock = {
    file,
    release() {
      if (released) return;
      released = true;
      held.delete(lock);
      if (!held.size) watchExit(false);
      try {
        // only our own lock: never one another process took over
        if (Number.parseInt(readFileSync(file, 'utf8'), 10) === process.pid) unlinkSync(file);
      } catch {
        // already gone
      }
      // the folders made for the lock go again, unless something was written there after all
      for (let d = parent; made !== undefined; d = dirname(d)) {
        try {
          rmdirSync(d);
        } catch {
          break;
        }
        if (d === made || d === dirname(d)) break;
      }
    },
  };
  if (!held.size) watchExit(true);
  held.add(lock);
  return lock;
}
