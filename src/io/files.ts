// Single files on disk and the errors of the file system: fsync'ed writes, one file replaced
// atomically (temp + fsync + rename + fsync of the folder), the inputs an output must keep away
// from, and Node's fs errors turned into messages that name the path and the reason.
import { closeSync, existsSync, fsyncSync, openSync, readdirSync, realpathSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';

/** A path the caller gave cannot be used as given (the CLI shows the message and exits 2). */
export class PathError extends Error {}

/** Reading or writing a path failed (disk full, read-only, no permission, ...): the CLI exits 7. */
export class IoError extends Error {
  constructor(
    message: string,
    /** the path at fault */
    readonly path: string,
    /** Node's error code: ENOSPC, EACCES, EROFS, ... */
    readonly code: string,
  ) {
    super(message);
  }
}

/** Node's fs error codes and what each means for the user. */
const REASONS: Record<string, string> = {
  ENOSPC: 'disk full',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'it is a folder',
  ENOENT: 'no such file or folder',
  EEXIST: 'it already exists',
  ENOTEMPTY: 'folder not empty',
  EBUSY: 'busy (a mount point or a file in use)',
  EXDEV: 'crosses a mount point',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files',
  EIO: 'input/output error',
  ENAMETOOLONG: 'name too long',
  ELOOP: 'too many levels of symbolic links',
  ETXTBSY: 'file busy',
};

type ErrnoError = Error & { code?: string; path?: string; dest?: string; syscall?: string };

/** An error of Node's fs module (or one shaped like it) with a code we can explain. */
export function isFsError(e: unknown): e is ErrnoError {
  return e instanceof Error && typeof (e as ErrnoError).code === 'string' && (e as ErrnoError).code! in REASONS && !(e instanceof IoError);
}

const READS = new Set(['read', 'scandir', 'stat', 'lstat', 'access', 'realpath', 'readlink', 'opendir']);
/** codes only a write can meet */
const WRITES = new Set(['ENOSPC', 'EDQUOT', 'EFBIG', 'EROFS']);

/** `cannot write 'PATH': disk full (ENOSPC)`; `path` stands in where the error carries none, `verb` where the call says more than the error. */
export function describeFsError(e: ErrnoError, path?: string, verb?: string): string {
  const code = e.code ?? 'EIO';
  const where = e.path ?? path ?? '?';
  const call = e.syscall ?? '';
  if (call === 'rename' && e.dest) return `cannot move '${where}' to '${e.dest}': ${REASONS[code] ?? code.toLowerCase()} (${code})`;
  const v =
    verb ?? (WRITES.has(code) ? 'write' : READS.has(call) ? 'read' : call === 'mkdir' ? 'create' : ['unlink', 'rmdir', 'rm'].includes(call) ? 'remove' : call === 'open' ? 'open' : 'write');
  return `cannot ${v} '${where}': ${REASONS[code] ?? code.toLowerCase()} (${code})`;
}

/** An fs error as an IoError naming the path (`path` where the error has none); anything else as it is. */
export function toIoError(e: unknown, path?: string, verb?: string): unknown {
  if (!isFsError(e)) return e;
  return new IoError(describeFsError(e, path, verb), e.path ?? path ?? '?', e.code!);
}

/** Runs `f`; an fs error it throws comes out as an IoError naming `path` where it names none. */
export function guardFs<T>(path: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw toIoError(e, path);
  }
}

/** Writes `data` to `path` and fsyncs it before closing. */
export function writeSynced(path: string, data: Uint8Array | string): void {
  let fd: number;
  try {
    fd = openSync(path, 'w');
  } catch (e) {
    throw toIoError(e, path, 'write');
  }
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } catch (e) {
    throw toIoError(e, path, 'write');
  } finally {
    closeSync(fd);
  }
}

/** fsync of a folder (its entries: names created, renamed, removed). */
export function syncDir(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } catch (e) {
    // some file systems cannot fsync a folder; the files themselves are synced
    if (!['EINVAL', 'ENOTSUP', 'EISDIR', 'EBADF', 'EPERM'].includes((e as ErrnoError).code ?? '')) throw toIoError(e, path);
  } finally {
    closeSync(fd);
  }
}

/** A process that is still running (not this one): its temporaries are in use. */
export function otherLiveProcess(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as ErrnoError).code === 'EPERM';
  }
}

/** The file operations of writeFileAtomic (tests inject faults: a kill, a full disk). */
export interface AtomicFileOps {
  write(path: string, data: Uint8Array | string): void;
  rename(from: string, to: string): void;
  remove(path: string): void;
  syncDir(path: string): void;
}

export const diskFileOps: AtomicFileOps = {
  write: writeSynced,
  rename: renameSync,
  remove: (p) => rmSync(p, { force: true }),
  syncDir,
};

let temps = 0;

const FILE_TEMP = /^\..+\.tmp-(\d+)-[0-9a-z]+$/;

/**
 * Replaces `path` whole or not at all: the bytes go to `.NAME.tmp-PID-TIME` beside it (fsync'ed),
 * which is renamed over `path`, then the folder is fsync'ed. On a failure the temporary goes and the
 * error is an IoError naming `path`; a kill leaves the old file and a temporary cleanStaleFiles removes.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string, ops: AtomicFileOps = diskFileOps): void {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Date.now().toString(36)}${(temps++).toString(36)}`);
  try {
    ops.write(tmp, data);
    ops.rename(tmp, path);
    ops.syncDir(dirname(path));
  } catch (e) {
    try {
      ops.remove(tmp);
    } catch {
      // the error that matters is the first
    }
    throw toIoError(e, path, 'write');
  }
}

/** Removes the temporaries of writeFileAtomic that processes no longer running left in `dir`. */
export function cleanStaleFiles(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  const gone: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const m = FILE_TEMP.exec(e.name);
    if (!m || !e.isFile() || otherLiveProcess(Number(m[1]))) continue;
    guardFs(join(dir, e.name), () => rmSync(join(dir, e.name), { force: true }));
    gone.push(e.name);
  }
  return gone;
}

/** An input an output must keep away from: `what` names it for the user ('the data folder'). */
export interface Protected {
  path: string;
  what: string;
  /** an output inside it is fine (predict into a folder of the run): only equal or containing is refused */
  allowInside?: boolean;
}

/** The real path of `p` (links resolved) also when it does not exist yet: its nearest existing ancestor's real path plus the rest. */
function realPath(p: string): string {
  let up = resolve(p);
  const rest: string[] = [];
  while (!existsSync(up) && dirname(up) !== up) {
    rest.unshift(basename(up));
    up = dirname(up);
  }
  try {
    return join(realpathSync(up), ...rest);
  } catch {
    return resolve(p);
  }
}

const inside = (child: string, parent: string) => {
  const r = relative(parent, child);
  return r !== '' && !r.startsWith(`..${sep}`) && r !== '..' && !r.startsWith(sep);
};

/**
 * Refuses (PathError, exit 2) an output folder `out` that is, contains or lies inside one of the
 * inputs: a --force there would delete or mix with what the user gave. Real paths are compared
 * (links resolved), both ways.
 */
export function refuseOverlap(out: string, inputs: readonly Protected[]): void {
  const o = realPath(out);
  for (const input of inputs) {
    const i = realPath(input.path);
    const how = o === i ? 'is' : inside(i, o) ? 'contains' : !input.allowInside && inside(o, i) ? 'lies inside' : undefined;
    if (how) throw new PathError(`'${out}' ${how} ${input.what} '${input.path}': writing there could destroy it; choose an output folder outside it`);
  }
}
