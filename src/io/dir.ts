// src/io/: output folders on disk: the check before a command writes one, the one atomic directory writer.
// May import: nothing of src/.
// A folder is written into a staging folder beside it first, so a failure or a kill never leaves
// a half-written output; then it replaces the target one of two ways:
//   'whole': the old folder moves aside (OLD), the staging folder takes its name, OLD goes;
//            recover() finishes or undoes a swap cut short by a kill
//   'files': a new folder appears by one rename; into an existing one each written file moves by
//            its own rename, and files it did not write are left alone
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/** A path the caller gave cannot be used as given (the CLI shows the message and exits 2). */
export class PathError extends Error {}

/**
 * An output folder may be new or empty; a non-empty one only with `force` (`remedy` says what
 * else the user can do). Nothing is removed here: each writer replaces the folder its own way.
 */
export function checkOutputDir(dir: string, force: boolean, remedy = 'use --force to replace it'): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new PathError(`'${dir}' exists and is not a directory`);
  if (!force && readdirSync(dir).length > 0) throw new PathError(`'${dir}' is not empty; ${remedy}`);
}

/** File operations on paths relative to one root folder (tests inject faults through it). */
export interface FileHost {
  read(path: string): Uint8Array | undefined;
  /** creates the parent folders */
  write(path: string, data: Uint8Array | string): void;
  exists(path: string): boolean;
  /** names in a folder; [] when it does not exist */
  list(path: string): string[];
  /** with its parents; no error when it exists */
  mkdir(path: string): void;
  rename(from: string, to: string): void;
  /** recursive; no error when absent */
  remove(path: string): void;
}

/** The file system under `root`. */
export function fileHost(root: string): FileHost {
  const at = (p: string) => join(root, p);
  return {
    read: (p) => (existsSync(at(p)) ? new Uint8Array(readFileSync(at(p))) : undefined),
    write(p, data) {
      mkdirSync(dirname(at(p)), { recursive: true });
      writeFileSync(at(p), data);
    },
    exists: (p) => existsSync(at(p)),
    list: (p) => (existsSync(at(p)) ? readdirSync(at(p)) : []),
    // mkdirSync honours the umask (mkdtemp would leave a new folder at 0700)
    mkdir: (p) => void mkdirSync(at(p), { recursive: true }),
    rename: (a, b) => renameSync(at(a), at(b)),
    remove: (p) => rmSync(at(p), { recursive: true, force: true }),
  };
}

export type ReplaceMode = 'whole' | 'files';

export interface StagingNames {
  /** the staging folder; default `.NAME.tmp-PID-TIME` beside the target */
  tmp?: string;
  /** where the old folder waits during a 'whole' swap; default `TMP.old` */
  old?: string;
}

/**
 * One folder written atomically through a host: write() into the staging folder, read() back from
 * it, then commit() or discard(). Paths are relative to the host's root; `dir` is the target.
 */
export class DirWriter {
  readonly tmp: string;
  readonly old: string;
  private readonly written = new Set<string>();

  constructor(
    readonly host: FileHost,
    readonly dir: string,
    names: StagingNames = {},
  ) {
    this.tmp = names.tmp ?? join(dirname(dir), `.${basename(dir)}.tmp-${process.pid}-${Date.now().toString(36)}`);
    this.old = names.old ?? `${this.tmp}.old`;
  }

  /** Creates an empty staging folder (a leftover one of the same name goes first) and its parents. */
  open(): this {
    this.host.remove(this.tmp);
    this.host.mkdir(dirname(this.tmp));
    this.host.mkdir(this.tmp);
    return this;
  }

  write(path: string, data: Uint8Array | string): void {
    this.host.write(join(this.tmp, path), data);
    this.written.add(path);
  }

  /** A file as staged (what is on disk, not what was meant to be written). */
  read(path: string): Uint8Array | undefined {
    return this.host.read(join(this.tmp, path));
  }

  /** The staged folder takes the target's place. */
  commit(mode: ReplaceMode): void {
    const { host, dir, tmp, old } = this;
    if (!host.exists(dir)) host.rename(tmp, dir);
    else if (mode === 'whole') {
      host.rename(dir, old);
      host.rename(tmp, dir);
      host.remove(old);
    } else {
      for (const path of this.written) {
        host.mkdir(dirname(join(dir, path)));
        host.rename(join(tmp, path), join(dir, path));
      }
      host.remove(tmp);
    }
  }

  discard(): void {
    this.host.remove(this.tmp);
  }

  /**
   * Finishes or undoes a 'whole' swap cut short by a kill, for fixed staging names. Order of a
   * swap: TMP whole (`whole(TMP)`, e.g. its last file written) -> DIR to OLD -> TMP to DIR -> OLD
   * removed. So: DIR present means it is whole (leftovers go); DIR missing means the kill came
   * between the renames, when TMP was already whole, so it becomes DIR (or OLD does, if TMP
   * somehow is not whole).
   */
  recover(whole: (path: string) => boolean): void {
    const { host, dir, tmp, old } = this;
    if (!host.exists(dir)) {
      if (whole(tmp)) host.rename(tmp, dir);
      else if (whole(old)) host.rename(old, dir);
    }
    host.remove(old);
    if (host.exists(dir)) host.remove(tmp);
  }
}

/** A writer for folder `dir` on disk, its staging folder beside it (created with open()). */
export function dirWriter(dir: string): DirWriter {
  const abs = resolve(dir);
  return new DirWriter(fileHost(dirname(abs)), basename(abs));
}

/** Every file under `dir`, as paths relative to it (`a/b.txt`). */
export function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]));
}
