// src/io/: output folders on disk: the check before a command writes one, the one atomic directory writer.
// May import: nothing of src/.
// Every file is fsync'ed before the rename that makes it visible, and so is the staging folder
// and, after the rename, the folder it moved into. Staging names carry the writer's pid
// (`.NAME.tmp-PID-TIME`): the next writer of NAME (checkOutputDir, open()) finishes or undoes a
// swap a killed process left half done (recoverStale) and removes its temporaries.
// File-system errors become IoError (fs-errors.ts), naming the path and the reason.
// A folder is written into a staging folder beside it first, so a failure or a kill never leaves
// a half-written output; then it replaces the target one of two ways:
//   'whole': the old folder moves aside (OLD), the staging folder takes its name, OLD goes;
//            recover() finishes or undoes a swap cut short by a kill
//   'files': a new folder appears by one rename; into an existing one each written file moves by
//            its own rename, and files it did not write are left alone
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { guardFs, otherLiveProcess, PathError, refuseOverlap, syncDir, writeSynced, type Protected } from './files.js';

export { cleanStaleFiles, describeFsError, diskFileOps, guardFs, IoError, isFsError, otherLiveProcess, PathError, refuseOverlap, syncDir, toIoError, writeFileAtomic, writeSynced, type AtomicFileOps, type Protected } from './files.js';

export interface OutputDirOptions {
  /** inputs the output must not be, contain or lie inside (the data, the spec, its imports, the source run) */
  protect?: Protected[];
}

/** A folder that does not exist yet cannot be made where a file stands on its path: a PathError naming that file. */
export function refuseUnderFile(dir: string): void {
  let up = resolve(dir);
  while (!existsSync(up) && dirname(up) !== up) up = dirname(up);
  if (up !== resolve(dir) && !statSync(up).isDirectory()) throw new PathError(`'${dir}' cannot be created: '${up}' is a file, not a folder`);
}

/**
 * An output folder may be new or empty; a non-empty one only with `force` (`remedy` says what
 * else the user can do); never one that is, contains or lies inside a protected input; never one
 * under a file. A swap a killed writer of `dir` left half done is finished or undone first, and
 * its temporaries go (recoverStale). Nothing else is removed here: each writer replaces the folder
 * its own way.
 */
export function checkOutputDir(dir: string, force: boolean, remedy = 'use --force to replace it', opts: OutputDirOptions = {}): void {
  refuseOverlap(dir, opts.protect ?? []);
  refuseUnderFile(dir);
  guardFs(dirname(resolve(dir)), () => {
    if (existsSync(dirname(resolve(dir)))) dirWriter(dir).recoverStale();
  });
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
  /** flushes a folder's entries to disk (fsync of the folder); optional: hosts in memory have none */
  syncDir?(path: string): void;
  /** true for a folder; optional (recovery of a 'files' commit needs it for nested files) */
  isDir?(path: string): boolean;
}

/** The file system under `root`. */
export function fileHost(root: string): FileHost {
  const at = (p: string) => join(root, p);
  return {
    read: (p) => (existsSync(at(p)) ? new Uint8Array(readFileSync(at(p))) : undefined),
    write(p, data) {
      mkdirSync(dirname(at(p)), { recursive: true });
      writeSynced(at(p), data);
    },
    exists: (p) => existsSync(at(p)),
    list: (p) => (existsSync(at(p)) ? readdirSync(at(p)) : []),
    // mkdirSync honours the umask (mkdtemp would leave a new folder at 0700)
    mkdir: (p) => void mkdirSync(at(p), { recursive: true }),
    rename: (a, b) => renameSync(at(a), at(b)),
    remove: (p) => rmSync(at(p), { recursive: true, force: true }),
    syncDir: (p) => syncDir(at(p)),
    isDir: (p) => existsSync(at(p)) && statSync(at(p)).isDirectory(),
  };
}

/** The staging names of writers of folder NAME: `.NAME.tmp-PID-TIME`, with `.old` (a 'whole' swap) or `.commit` (a 'files' commit). */
const stagingPattern = (name: string) => new RegExp(`^\\.${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.tmp-(\\d+)-[0-9a-z]+(\\.old|\\.commit)?$`);

export type ReplaceMode = 'whole' | 'files';

/** tells apart the staging names of writers made in the same millisecond */
let writers = 0;

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
    this.tmp = names.tmp ?? join(dirname(dir), `.${basename(dir)}.tmp-${process.pid}-${Date.now().toString(36)}${(writers++).toString(36)}`);
    this.old = names.old ?? `${this.tmp}.old`;
  }

  /** Creates an empty staging folder (a leftover one of the same name goes first) and its parents. */
  open(): this {
    this.recoverStale();
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

  /**
   * The staged folder takes the target's place. Its files were fsync'ed as written; the staging
   * folder is synced before the renames, the parent after them. 'files' into an existing folder
   * first renames the staging folder to TMP.commit: from then on the next writer rolls it forward.
   */
  commit(mode: ReplaceMode): void {
    const { host, dir, tmp, old } = this;
    host.syncDir?.(tmp);
    if (!host.exists(dir)) host.rename(tmp, dir);
    else if (mode === 'whole') {
      host.rename(dir, old);
      host.rename(tmp, dir);
      host.syncDir?.(dirname(dir));
      host.remove(old);
    } else {
      const staged = `${tmp}.commit`;
      host.rename(tmp, staged);
      host.syncDir?.(dirname(dir));
      for (const path of this.written) {
        host.mkdir(dirname(join(dir, path)));
        host.rename(join(staged, path), join(dir, path));
      }
      host.syncDir?.(dir);
      host.remove(staged);
    }
    host.syncDir?.(dirname(dir));
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

  /**
   * What writers of the same folder killed before they finished left beside it (staging names
   * with a pid that is not running): a 'whole' swap cut between its renames (DIR missing, TMP.old
   * there) is finished (TMP, whole since commit began, becomes DIR) or, without TMP, undone (OLD
   * becomes DIR); a 'files' commit (TMP.commit) is finished, each file left moving into DIR; a
   * staging folder whose commit never began is removed, as is every other leftover.
   */
  recoverStale(): void {
    const { host } = this;
    const parent = dirname(this.dir);
    const pattern = stagingPattern(basename(this.dir));
    const inParent = (n: string) => (parent === '.' ? n : join(parent, n));
    const stale = host.list(parent === '.' ? '.' : parent).filter((n) => {
      const m = pattern.exec(n);
      return m && !otherLiveProcess(Number(m[1])) && inParent(n) !== this.tmp && inParent(n) !== this.old;
    });
    for (const n of stale.filter((n) => n.endsWith('.old'))) {
      const tmp = inParent(n.slice(0, -'.old'.length));
      if (!host.exists(this.dir)) host.rename(host.exists(tmp) ? tmp : inParent(n), this.dir);
    }
    for (const n of stale.filter((n) => n.endsWith('.commit'))) {
      const moveAll = (from: string, to: string) => {
        for (const e of host.list(from)) {
          if (host.isDir?.(join(from, e)) && host.exists(join(to, e)) && host.isDir?.(join(to, e))) moveAll(join(from, e), join(to, e));
          else {
            host.mkdir(to);
            host.rename(join(from, e), join(to, e));
          }
        }
      };
      moveAll(inParent(n), this.dir);
    }
    for (const n of stale) host.remove(inParent(n));
    if (stale.length) host.syncDir?.(parent);
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
