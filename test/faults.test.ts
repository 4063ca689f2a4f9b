// Faults and careless use (issue 11): each case asserts the exit code (or the typed error in
// process) and that nothing was lost: the inputs' bytes unchanged, no half-written output, no stray
// temporaries. A kill is simulated by a host whose every operation throws from a given one on (a
// dead process does nothing more); the next run's recovery must leave the old or the new output,
// whole. Full disks and read-only folders are injected errors (tests run as root here, where
// chmod does not stop writes; where it does, the real read-only folder is used too).
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { reportError } from '../src/cli/base.js';
import { EXIT, EXIT_MEANING } from '../src/cli/common.js';
import { exportArtifacts } from '../src/export/export.js';
import { checkOutputDir, cleanStaleFiles, diskFileOps, DirWriter, fileHost, IoError, PathError, writeFileAtomic, type AtomicFileOps, type FileHost, type ReplaceMode } from '../src/io/dir.js';
import { DamagedRunError } from '../src/train/run.js';
import { trainRun } from '../src/train/session.js';
import { syntheticDataset } from '../src/train/synthetic.js';
import { openRun, predictImages } from '../src/train/trained.js';
import { tinySpec, writeDataset } from './helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'alcli-faults-test-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));
const at = (...p: string[]) => join(scratch, ...p);
let n = 0;
const fresh = (name = 't') => {
  const d = at(`${name}${n++}`);
  mkdirSync(d, { recursive: true });
  return d;
};
const alcli = (args: string[], cwd = scratch) => {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'run.js'), ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', DEBUG: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const expectExit = (r: ReturnType<typeof alcli>, code: number, stderr?: RegExp) => {
  assert.is(r.code, code, `exit ${r.code}, want ${code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.not.ok(r.stderr.includes('    at '), `stack trace:\n${r.stderr}`);
  if (stderr) assert.match(r.stderr, stderr);
};

/** Every file under `dir` with its bytes (as text), for "nothing changed" comparisons. */
const snapshot = (dir: string): Record<string, string> => {
  const out: Record<string, string> = {};
  const walk = (d: string, pre: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name), `${pre}${e.name}/`);
      else out[`${pre}${e.name}`] = readFileSync(join(d, e.name)).toString('base64');
    }
  };
  if (existsSync(dir)) walk(dir, '');
  return out;
};
const temps = (dir: string) => readdirSync(dir).filter((f) => /\.tmp/.test(f));

const fsError = (code: string, syscall: string, path: string) => Object.assign(new Error(`${code}: injected, ${syscall} '${path}'`), { code, syscall, path, errno: -1 });

/** A host that dies at its `at`-th mutating operation: that one and every later one throw. */
function dying(host: FileHost, at: number): FileHost & { ops: number } {
  let ops = 0;
  const step = () => {
    if (ops++ >= at) throw new Error('killed');
  };
  const h: FileHost & { ops: number } = {
    ...host,
    get ops() {
      return ops;
    },
    write: (p, d) => (step(), host.write(p, d)),
    mkdir: (p) => (step(), host.mkdir(p)),
    rename: (a, b) => (step(), host.rename(a, b)),
    remove: (p) => (step(), host.remove(p)),
    syncDir: (p) => (step(), host.syncDir?.(p)),
  };
  return h;
}

// ---- the one atomic folder writer (export: 'whole', compile: 'files'; checkpoints: train.test.ts)

const OLD = { 'a.txt': 'old a', 'sub/b.bin': 'old b' };
const NEW = { 'a.txt': 'new a', 'sub/b.bin': 'new b', 'c.json': '{}' };
const b64 = (files: Record<string, string>) => Object.fromEntries(Object.entries(files).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));

function writeAll(host: FileHost, mode: ReplaceMode): void {
  const w = new DirWriter(host, 'out').open();
  for (const [p, d] of Object.entries(NEW)) w.write(p, d);
  w.commit(mode);
}

for (const mode of ['whole', 'files'] as const) {
  // the operations of one clean write, counted
  const probe = fresh('probe');
  for (const [p, d] of Object.entries(OLD)) fileHost(probe).write(`out/${p}`, d);
  const counting = dying(fileHost(probe), Infinity);
  writeAll(counting, mode);
  const total = counting.ops;

  test(`a kill at each of the ${total} operations of a '${mode}' folder write: the next writer leaves the old or the new folder whole, no temporaries`, () => {
    for (let k = 0; k <= total; k++) {
      const root = fresh(mode);
      for (const [p, d] of Object.entries(OLD)) fileHost(root).write(`out/${p}`, d);
      fileHost(root).write('out/mine.txt', 'a file alcli did not write');
      try {
        writeAll(dying(fileHost(root), k), mode);
        assert.is(k, total, `completed although killed at ${k}`);
      } catch (e) {
        assert.is((e as Error).message, 'killed');
      }
      // the next run: the output check recovers (as compile and export do before writing)
      checkOutputDir(join(root, 'out'), true);
      const got = snapshot(join(root, 'out'));
      const mine = got['mine.txt'];
      delete got['mine.txt'];
      const same = (a: Record<string, string>, b: Record<string, string>) => JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());
      const isOld = same(got, b64(OLD));
      const isNew = same(got, b64(NEW));
      assert.ok(isOld || isNew, `killed at op ${k}: neither old nor new: ${Object.keys(got)}`);
      if (k === total) assert.ok(isNew, 'a completed write is the new folder');
      // 'whole' replaces the folder; 'files' leaves files it did not write
      if (mode === 'files' || isOld) assert.is(mine, Buffer.from('a file alcli did not write').toString('base64'), `killed at op ${k}: a file alcli did not write is gone`);
      assert.equal(temps(root), [], `killed at op ${k}: temporaries left`);
    }
  });
}

test('a full disk (ENOSPC) while writing a folder: an error naming the path, the old folder untouched, nothing staged left', () => {
  const root = fresh();
  for (const [p, d] of Object.entries(OLD)) fileHost(root).write(`out/${p}`, d);
  const full: FileHost = {
    ...fileHost(root),
    write: (p) => {
      throw fsError('ENOSPC', 'write', join(root, p));
    },
  };
  const w = new DirWriter(full, 'out').open();
  assert.throws(() => w.write('a.txt', 'x'), (e: Error & { code?: string }) => e.code === 'ENOSPC');
  w.discard();
  assert.equal(snapshot(join(root, 'out')), b64(OLD));
  assert.equal(temps(root), []);
});

// ---- one file replaced atomically (predict's PNGs)

/** Disk operations that die at the `at`-th call. */
function dyingOps(at: number): AtomicFileOps & { ops: number } {
  let ops = 0;
  const step = () => {
    if (ops++ >= at) throw new Error('killed');
  };
  return {
    get ops() {
      return ops;
    },
    write: (p, d) => (step(), diskFileOps.write(p, d)),
    rename: (a, b) => (step(), diskFileOps.rename(a, b)),
    remove: (p) => (step(), diskFileOps.remove(p)),
    syncDir: (p) => (step(), diskFileOps.syncDir(p)),
  };
}

test('writeFileAtomic: a kill at each step leaves the old or the new bytes (never a 0-byte or partial file); the next run removes the temporary', () => {
  for (let k = 0; k <= 3; k++) {
    const dir = fresh('atomic');
    const file = join(dir, 'x.png');
    writeFileSync(file, 'old bytes');
    try {
      writeFileAtomic(file, 'new bytes, longer', dyingOps(k));
    } catch (e) {
      assert.is((e as Error).message, 'killed');
    }
    assert.ok(['old bytes', 'new bytes, longer'].includes(readFileSync(file, 'utf8')), `killed at ${k}: ${readFileSync(file, 'utf8')}`);
    cleanStaleFiles(dir);
    assert.equal(readdirSync(dir), ['x.png'], `killed at ${k}`);
  }
});

test('writeFileAtomic: a full disk is an IoError "cannot write PATH: disk full (ENOSPC)"; the old file stays, no temporary', () => {
  const dir = fresh();
  const file = join(dir, 'x.png');
  writeFileSync(file, 'old bytes');
  const full: AtomicFileOps = {
    ...diskFileOps,
    write: (p, d) => {
      writeFileSync(p, String(d).slice(0, 3)); // a partial write, then the disk is full
      throw fsError('ENOSPC', 'write', p);
    },
  };
  try {
    writeFileAtomic(file, 'new bytes', full);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, IoError);
    assert.match((e as Error).message, /^cannot write '.*\.x\.png\.tmp-[^']*': disk full \(ENOSPC\)$/);
  }
  assert.is(readFileSync(file, 'utf8'), 'old bytes');
  assert.equal(readdirSync(dir), ['x.png']);
});

// ---- file-system errors reach the CLI as exit 7, naming the path (JSON with --json)

const captured = async (f: () => Promise<number>) => {
  const out: string[] = [];
  const err: string[] = [];
  const [o, e] = [process.stdout.write, process.stderr.write];
  process.stdout.write = ((s: string) => (out.push(s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => (err.push(s), true)) as typeof process.stderr.write;
  try {
    return { code: await f(), stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
  }
};

for (const [code, reason] of [
  ['ENOSPC', 'disk full'],
  ['EACCES', 'permission denied'],
  ['EROFS', 'read-only file system'],
  ['ENOTDIR', 'a part of the path is a file, not a folder'],
  ['EDQUOT', 'disk quota exceeded'],
] as const) {
  test(`${code} from the file system: exit 7, "cannot write 'PATH': ${reason} (${code})", JSON with --json`, async () => {
    const e = fsError(code, 'write', '/out/x.png');
    const text = await captured(() => reportError(e, 'predict', false));
    assert.is(text.code, EXIT.io);
    assert.is(text.stderr, `alcli predict: cannot write '/out/x.png': ${reason} (${code})\n`);
    const json = await captured(() => reportError(e, 'predict', true));
    assert.is(json.code, 7);
    assert.equal(JSON.parse(json.stdout), { ok: false, error: { code, exit: 7, path: '/out/x.png', message: `cannot write '/out/x.png': ${reason} (${code})` } });
  });
}

const asRoot = process.getuid?.() === 0;

test(`a read-only output folder: compile exits 7 naming the path, nothing written${asRoot ? ' (as root: EACCES injected)' : ''}`, async () => {
  const ro = fresh('ro');
  chmodSync(ro, 0o555);
  try {
    if (!asRoot) {
      const r = alcli(['compile', join(ROOT, 'architectures/alnet.yaml'), '-o', join(ro, 'out')]);
      expectExit(r, 7, /cannot (create|write|open) '.*ro\d+.*': permission denied \(EACCES\)/);
      assert.equal(readdirSync(ro), []);
    }
    // what a read-only folder does to the writer compile and export use, as an injected error
    const host: FileHost = {
      ...fileHost(ro),
      mkdir: (p) => {
        throw fsError('EACCES', 'mkdir', join(ro, p));
      },
      write: (p) => {
        throw fsError('EACCES', 'open', join(ro, p));
      },
    };
    let err: Error | undefined;
    try {
      new DirWriter(host, 'out').open();
    } catch (e) {
      err = e as Error;
    }
    assert.ok(err, 'not refused');
    const r = await captured(() => reportError(err!, 'compile', false));
    assert.is(r.code, 7);
    assert.match(r.stderr, /^alcli compile: cannot create '.*ro\d+[^']*': permission denied \(EACCES\)\n$/);
    assert.equal(readdirSync(ro), []);
  } finally {
    chmodSync(ro, 0o755);
  }
});

test('an --out that is a file, or lies under a file: exit 2 naming it, the file unchanged', () => {
  const d = fresh();
  const file = join(d, 'file.txt');
  writeFileSync(file, 'keep me');
  expectExit(alcli(['compile', join(ROOT, 'architectures/alnet.yaml'), '-o', file]), 2, /file\.txt' exists and is not a directory/);
  expectExit(alcli(['compile', join(ROOT, 'architectures/alnet.yaml'), '-o', join(file, 'sub')]), 2, /cannot be created: '.*file\.txt' is a file/);
  expectExit(alcli(['export', join(ROOT, 'architectures/alnet.yaml'), '-o', join(file, 'sub'), '--size', '64x64']), 2, /is a file, not a folder/);
  assert.is(readFileSync(file, 'utf8'), 'keep me');
});

// ---- --force never destroys an input

const SPEC = tinySpec({ epochs: 1, deep: false });
const samples = syntheticDataset(1, { count: 10, size: 40, channels: 1 });
const dataset = (dir: string) => writeDataset(dir, samples.slice(0, 8));
const base = fresh('base');
writeFileSync(join(base, 'tiny.yaml'), SPEC);
await dataset(join(base, 'data'));
await trainRun({ spec: join(base, 'tiny.yaml'), data: join(base, 'data'), out: join(base, 'run') }, { log: () => {} });

const refusedWith = async (f: () => Promise<unknown>, pattern: RegExp) => {
  try {
    await f();
  } catch (e) {
    assert.instance(e, PathError, String(e));
    assert.match((e as Error).message, pattern);
    return;
  }
  assert.unreachable('not refused');
};

test('train --force: --out the data folder, inside it, containing it, or the spec\'s folder: refused (PathError), every input byte kept', async () => {
  const d = fresh('ws');
  writeFileSync(join(d, 'tiny.yaml'), SPEC);
  await dataset(join(d, 'data'));
  mkdirSync(join(d, 'data', 'run'));
  writeFileSync(join(d, 'data', 'run', 'old.txt'), 'x');
  mkdirSync(join(d, 'lib'));
  const before = snapshot(d);
  const spec = join(d, 'tiny.yaml');
  const data = join(d, 'data');
  await refusedWith(() => trainRun({ spec, data, out: data, force: true }), /is the data folder/);
  await refusedWith(() => trainRun({ spec, data, out: join(data, 'run'), force: true }), /lies inside the data folder/);
  await refusedWith(() => trainRun({ spec, data, out: d, force: true }), /contains the data folder/);
  // through a link to the data folder: real paths are compared
  symlinkSync(data, join(d, 'link'));
  await refusedWith(() => trainRun({ spec, data, out: join(d, 'link'), force: true }), /is the data folder/);
  rmSync(join(d, 'link'));
  assert.equal(snapshot(d), before);
});

test("train: --out containing a file the spec imports is refused (the import would be deleted)", async () => {
  const d = fresh('imp');
  await dataset(join(d, 'data'));
  mkdirSync(join(d, 'out', 'lib'), { recursive: true });
  writeFileSync(join(d, 'out', 'lib', 'm.yaml'), readFileSync(join(ROOT, 'architectures/lib/lraspp.yaml')));
  writeFileSync(join(d, 'spec.yaml'), SPEC.replace('alcli: 1\n', 'alcli: 1\nimports: [out/lib/m.yaml]\n'));
  const before = snapshot(d);
  await refusedWith(() => trainRun({ spec: join(d, 'spec.yaml'), data: join(d, 'data'), out: join(d, 'out'), force: true }), /contains a file the spec imports/);
  assert.equal(snapshot(d), before);
});

test('alcli train SPEC --data D --out D --force: exit 2, D untouched', () => {
  const before = snapshot(join(base, 'data'));
  expectExit(alcli(['train', join(base, 'tiny.yaml'), '--data', join(base, 'data'), '--out', join(base, 'data'), '--force']), 2, /is the data folder/);
  assert.equal(snapshot(join(base, 'data')), before);
});

test('export RUN -o RUN --force (and -o inside the run, or containing it): refused, the run unchanged', async () => {
  const run = join(base, 'run');
  const before = snapshot(run);
  const req = (output: string) => ({ output, force: true, formats: ['onnx' as const], opset: 17, seed: 0, tolerance: 1e-4, backend: 'wasm' as const });
  await refusedWith(() => exportArtifacts(run, req(run)), /is the source run/);
  await refusedWith(() => exportArtifacts(run, req(join(run, 'export'))), /lies inside the source run/);
  await refusedWith(() => exportArtifacts(run, req(base)), /contains the source run/);
  await refusedWith(() => exportArtifacts(run, req(join(base, 'data'))), /is the run's data folder/);
  expectExit(alcli(['export', run, '-o', run, '--force']), 2, /is the source run/);
  assert.equal(snapshot(run), before);
});

test('export SPEC -o the spec\'s folder --force, compile --force over the spec: refused, the spec unchanged', () => {
  const d = fresh('specdir');
  writeFileSync(join(d, 'spec.resolved.yaml'), SPEC);
  expectExit(alcli(['export', join(d, 'spec.resolved.yaml'), '-o', d, '--force', '--size', '32x32']), 2, /contains the source spec/);
  expectExit(alcli(['compile', join(d, 'spec.resolved.yaml'), '-o', d, '--force']), 2, /is the spec/);
  assert.is(readFileSync(join(d, 'spec.resolved.yaml'), 'utf8'), SPEC);
  assert.equal(readdirSync(d), ['spec.resolved.yaml']);
});

test('predict --out the run folder, a folder containing it, or its dataset: refused, both unchanged; inside the run is fine', async () => {
  const run = join(base, 'run');
  const image = join(base, 'data', 'images', `${samples[0].id}.png`);
  const before = snapshot(run);
  await refusedWith(() => predictImages(run, { images: [image], out: run }), /is the run folder/);
  await refusedWith(() => predictImages(run, { images: [image], out: base }), /contains the run folder/);
  // the run's dataset, or a folder holding an input: predictions there would break the dataset
  const data = snapshot(join(base, 'data'));
  await refusedWith(() => predictImages(run, { images: [image], out: join(base, 'data') }), /is the run's dataset/);
  await refusedWith(() => predictImages(run, { images: [image], out: join(base, 'data', 'images') }), /lies inside the run's dataset/);
  assert.equal(snapshot(join(base, 'data')), data);
  assert.equal(snapshot(run), before);
  const inside = join(run, 'pred');
  await predictImages(run, { images: [image], out: inside });
  assert.is(readdirSync(inside).length, 3);
  rmSync(inside, { recursive: true });
});

test('predict: a kill at any write or rename leaves every PNG old or new, never partial; the next predict removes the temporaries', async () => {
  const run = await openRun(join(base, 'run'));
  const images = samples.slice(0, 2).map((s) => join(base, 'data', 'images', `${s.id}.png`));
  const out = fresh('pred');
  const first = await predictImages(run, { images, out, threshold: 0.9 });
  const old = snapshot(out);
  const counting = dyingOps(Infinity);
  await predictImages(run, { images, out: fresh('pred'), threshold: 0.1, fileOps: counting });
  const total = counting.ops;
  assert.is(total, 6 * 3);
  const fresher = snapshot(join(dirname(out), `pred${n - 1}`));
  for (let k = 0; k < total; k++) {
    try {
      await predictImages(run, { images, out, threshold: 0.1, fileOps: dyingOps(k) });
      assert.unreachable();
    } catch (e) {
      assert.is((e as Error).message, 'killed', String(e));
    }
    for (const [f, bytes] of Object.entries(snapshot(out))) {
      if (/\.tmp-/.test(f)) continue;
      assert.ok(bytes === old[f] || bytes === fresher[f], `killed at ${k}: ${f} is neither old nor new`);
    }
    // back to the old outputs, through the next run (which cleans the temporaries first)
    await predictImages(run, { images, out, threshold: 0.9 });
    assert.equal(snapshot(out), old, `killed at ${k}`);
  }
  assert.is(first.images.length, 2);
});

test('predict on a full disk: exit-7 IoError naming the file; the old PNGs whole, no temporary', async () => {
  const run = await openRun(join(base, 'run'));
  const images = [join(base, 'data', 'images', `${samples[0].id}.png`)];
  const out = fresh('full');
  await predictImages(run, { images, out });
  const old = snapshot(out);
  const full: AtomicFileOps = {
    ...diskFileOps,
    write: (p) => {
      writeFileSync(p, '');
      throw fsError('ENOSPC', 'write', p);
    },
  };
  try {
    await predictImages(run, { images, out, threshold: 0.2, fileOps: full });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, IoError);
    assert.match((e as Error).message, /cannot write '.*full\d+\/\..*\.prob\.png\.tmp-[^']+': disk full \(ENOSPC\)/);
  }
  assert.equal(snapshot(out), old);
});

// ---- a damaged run names the damaged file and what to do (exit 4)

const damagedCopy = (damage: (run: string) => void) => {
  const copy = join(fresh('dmg'), 'run');
  cpSync(join(base, 'run'), copy, { recursive: true });
  damage(copy);
  return copy;
};

for (const [name, damage, file, what] of [
  ['a truncated weights.bin', (r: string) => truncateSync(join(r, 'checkpoints/best/weights.bin'), 100), 'checkpoints/best/weights.bin', /is truncated \(100 of \d+ bytes\)/],
  ['an empty optimizer.bin', (r: string) => truncateSync(join(r, 'checkpoints/best/optimizer.bin'), 0), 'checkpoints/best/optimizer.bin', /is truncated \(0 of \d+ bytes\)/],
  ['garbage state.json', (r: string) => writeFileSync(join(r, 'checkpoints/best/state.json'), '\u0000\u0001garbage'), 'checkpoints/best/state.json', /is damaged: not valid JSON/],
  ['garbage weights.json', (r: string) => writeFileSync(join(r, 'checkpoints/best/weights.json'), '{"a": 1}'), 'checkpoints/best/weights.json', /is damaged: not a weights manifest/],
  ['garbage run.json', (r: string) => writeFileSync(join(r, 'run.json'), '{ truncated'), 'run.json', /is damaged: not valid JSON/],
  ['a run.json that is no run', (r: string) => writeFileSync(join(r, 'run.json'), '[]'), 'run.json', /lacks the spec and data fields/],
] as const) {
  test(`a damaged run (${name}): DamagedRunError naming ${file}; alcli predict exits 4 with the file and a hint, writes nothing`, async () => {
    const run = damagedCopy(damage);
    const before = snapshot(run);
    try {
      await openRun(run);
      assert.unreachable();
    } catch (e) {
      assert.instance(e, DamagedRunError, String(e));
      assert.is((e as DamagedRunError).file, join(run, file));
      assert.match((e as Error).message, what);
    }
    const out = join(dirname(run), 'pred');
    const r = alcli(['predict', run, join(base, 'data', 'images', `${samples[0].id}.png`), '--out', out]);
    expectExit(r, 4, new RegExp(`${basename(dirname(run))}/run/${file.replace(/\./g, '\\.')} `));
    assert.match(r.stderr, /hint: /);
    const j = alcli(['evaluate', run, '--json']);
    assert.is(j.code, 4, j.stderr);
    assert.is(JSON.parse(j.stdout).error.code, 'damaged-run');
    assert.not.ok(existsSync(out));
    assert.equal(snapshot(run), before);
  });
}

// ---- --json covers usage errors

for (const [name, args] of [
  ['an unknown flag', ['validate', 'x.yaml', '--bogus', '--json']],
  ['a missing required flag', ['compile', join(ROOT, 'architectures/alnet.yaml'), '--json']],
  ['a bad flag value', ['export', join(ROOT, 'architectures/alnet.yaml'), '-o', 'x', '--format', 'nope', '--json']],
] as const) {
  test(`--json: ${name} is a JSON error on stdout, exit 2`, () => {
    const r = alcli([...args]);
    expectExit(r, 2);
    const j = JSON.parse(r.stdout);
    assert.is(j.ok, false);
    assert.is(j.error.exit, 2);
    assert.type(j.error.message, 'string');
  });
}

// ---- README's exit-code table is complete and true

test("README's exit-code table lists exactly the codes of EXIT, each with its meaning", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('Exit codes'));
  const rows = [...table.slice(0, table.indexOf('\n\n', table.indexOf('| code |'))).matchAll(/^\| `(\d+)` \| (.+) \|$/gm)].map((m) => [Number(m[1]), m[2]] as const);
  assert.ok(rows.length >= 7, `exit-code rows in README: ${rows.length}`);
  const documented = new Map(rows);
  for (const [key, code] of Object.entries(EXIT)) {
    assert.ok(documented.has(code), `exit ${code} (${key}) is not in README's table`);
    const meaning = EXIT_MEANING[key as keyof typeof EXIT];
    assert.ok(documented.get(code)!.toLowerCase().includes(meaning.toLowerCase()), `README says exit ${code} is '${documented.get(code)}', EXIT_MEANING says '${meaning}'`);
  }
  const used = new Set<number>(Object.values(EXIT));
  assert.equal(rows.map(([c]) => c).filter((c) => !used.has(c)), [], 'codes in README that EXIT does not have');
  assert.is(documented.size, rows.length, 'a code listed twice');
});

test.run();
