// Safe under garbage numbers, concurrent runs and foreign folders (issue 11, items 2-4): every
// train setting finite and in range (exit 2 for --set, 3 for a spec file), a diverging run stops
// with exit 5 keeping its last finite checkpoint, metrics never hang or score NaN as perfect, run
// and export folders are locked (a stale lock is taken over), and the commands write nothing to
// HOME or the temp folder (ONNX Runtime's telemetry off).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile } from '../src/frontend/compile.js';
import { TRAIN_LIMITS } from '../src/frontend/schema.js';
import { LockError, lockDir, lockFile, pidAlive } from '../src/io/lock.js';
import { PathError } from '../src/io/dir.js';
import { initWeights, type WeightStore } from '../src/ir/weights.js';
import { loadTf } from '../src/runtime/backend.js';
import { scanDataset } from '../src/train/dataset.js';
import { TfjsEngine } from '../src/train/engine-tfjs.js';
import type { TrainEngine } from '../src/train/engine.js';
import { BadOptionsError, DivergedError } from '../src/train/errors.js';
import { loadTrainingData, trainLoop, trainSettings } from '../src/train/loop.js';
import { auc, imageMetrics, summarize } from '../src/train/metrics.js';
import { fsRunHost, RunDir } from '../src/train/run.js';
import { trainRun } from '../src/train/session.js';
import { syntheticDataset } from '../src/train/synthetic.js';
import { exportArtifacts } from '../src/export/export.js';
import { fsHost, tinySpec, writeDataset } from './helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'alcli-safety-test-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));
let count = 0;
const tempDir = () => join(scratch, `t${count++}`);

const TINY = tinySpec({ epochs: 2, deep: true });
const specPath = join(scratch, 'tiny.yaml');
writeFileSync(specPath, TINY);
const dataDir = join(scratch, 'data');
await writeDataset(dataDir, syntheticDataset(1, { count: 8, size: 40, channels: 1 }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}
const alcli = (args: string[], env: NodeJS.ProcessEnv = { ...process.env }): Run => {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'run.js'), ...args], { cwd: ROOT, encoding: 'utf8', env: { ...env, NO_COLOR: '1', DEBUG: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const expectExit = (r: Run, code: number, stderr?: RegExp) => {
  assert.is(r.code, code, `exit ${r.code}, want ${code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.not.ok(r.stderr.includes('    at '), `stack trace:\n${r.stderr}`);
  if (stderr) assert.match(r.stderr, stderr);
};

const rejectsWith = async (f: () => Promise<unknown>, type: new (...a: never[]) => Error, message: RegExp) => {
  try {
    await f();
  } catch (e) {
    assert.instance(e, type);
    assert.match((e as Error).message, message);
    return e as Error;
  }
  assert.unreachable(`no ${type.name}`);
  throw new Error('unreachable');
};

const finite = (w: WeightStore) => [...w.values()].every((t) => t.data.every(Number.isFinite));

// ---- 2. settings finite and in range

/** [--set, the setting the message names]: each refused (exit 2 from the CLI). */
const BAD_SETS: [string, RegExp][] = [
  ['train.lr=1e30', /train\.lr must be <= 100/],
  ['train.lr=1e309', /train\.lr must be a finite number, got Infinity/],
  ['train.lr=-1e309', /train\.lr must be a finite number, got -Infinity/],
  ['train.lr=.nan', /train\.lr must be a finite number, got NaN/],
  ['train.lr=0', /train\.lr must be > 0/],
  ['train.lr=-0.1', /train\.lr must be > 0/],
  ['train.epochs=0', /train\.epochs must be >= 1/],
  ['train.epochs=1e9', /train\.epochs must be <= 100000/],
  ['train.epochs=2.5', /train\.epochs must be integer/],
  ['train.batch=0', /train\.batch must be >= 1/],
  ['train.batch=100000', /train\.batch must be <= 1024/],
  ['train.crop=100000', /train\.crop must be <= 4096/],
  ['train.crop=[32,1e309]', /train\.crop/],
  ['train.crop=4', /train\.crop must be >= 8/],
  ['train.lr_decay=0', /train\.lr_decay must be > 0/],
  ['train.lr_decay=1.5', /train\.lr_decay must be <= 1/],
  ['train.weight_decay=-1', /train\.weight_decay must be >= 0/],
  ['train.weight_decay=1e30', /train\.weight_decay must be <= 1/],
  ['train.loss.bce=1e309', /train\.loss\.bce must be a finite number/],
  ['train.loss.dice=1000', /train\.loss\.dice must be <= 100/],
  ['train.augment.translate=0.9', /train\.augment\.translate must be <= 0\.5/],
  ['train.augment.translate=.inf', /train\.augment\.translate must be a finite number/],
  ['train.early_stop=0', /train\.early_stop must be >= 1/],
  ['train.seed=-1', /train\.seed must be >= 0/],
  ['train.seed=1e20', /train\.seed must be <= 4294967295/],
  ['train.threshold=1.5', /train\.threshold must be <= 1/],
  ['train.threshold=.nan', /train\.threshold must be a finite number/],
];

test('--set: every train setting out of range or not finite is a usage error naming it', () => {
  for (const [set, message] of BAD_SETS) {
    const r = compile(specPath, fsHost, { overrides: [set] });
    assert.not.ok(r.compiled, set);
    assert.is(r.usageErrors.length, 1, `${set}: ${r.usageErrors.join('; ')}`);
    assert.match(r.usageErrors[0], message, set);
    assert.match(r.usageErrors[0], new RegExp(`--set '${set.split('=')[0].replace(/\./g, '\\.')}`));
  }
  // the edges themselves are in range
  for (const set of ['train.lr=100', 'train.lr=1e-9', 'train.lr_decay=1', 'train.crop=4096', 'train.seed=4294967295', 'train.threshold=0', 'train.augment.translate=0.5']) {
    const r = compile(specPath, fsHost, { overrides: [set] });
    assert.equal(r.usageErrors, [], set);
  }
});

test('a spec file: out-of-range and non-finite train values are located spec errors (exit 3)', () => {
  for (const [value, key] of [['lr: 1e30', 'lr'], ['lr: .inf', 'lr'], ['lr: 1e309', 'lr'], ['lr: .nan', 'lr'], ['epochs: 1e12', 'epochs'], ['crop: 100000', 'crop'], ['threshold: -.inf', 'threshold']]) {
    const path = join(scratch, `spec-${count++}.yaml`);
    writeFileSync(path, TINY.replace('lr: 0.01', value));
    const r = compile(path, fsHost, {});
    assert.not.ok(r.compiled, value);
    assert.ok(r.diagnostics.length > 0, value);
    // located on the train line, naming the key
    assert.ok(
      r.diagnostics.some((d) => d.at?.line === 17 && d.message.includes(key)),
      `${value}: ${JSON.stringify(r.diagnostics)}`,
    );
  }
});

test('trainSettings refuses what the schema refuses (the library called without it)', () => {
  const table: [Record<string, unknown>, RegExp][] = [
    [{ lr: Infinity }, /train\.lr is Infinity: it must be a finite number in \(0, 100\]/],
    [{ lr: NaN }, /train\.lr is NaN/],
    [{ lr: 0 }, /train\.lr is 0/],
    [{ epochs: 1.5 }, /train\.epochs is 1\.5: it must be a finite integer/],
    [{ crop: [32, 1e6] }, /train\.crop is \[32,1000000\]/],
    [{ loss: { bce: -1 } }, /train\.loss\.bce is -1/],
    [{ augment: { translate: 2 } }, /train\.augment\.translate is 2/],
    [{ batch: '4' }, /train\.batch is "4"/],
  ];
  for (const [train, message] of table) {
    try {
      trainSettings(train);
      assert.unreachable(JSON.stringify(train));
    } catch (e) {
      assert.instance(e, BadOptionsError);
      assert.match((e as Error).message, message);
    }
  }
  // every default is in range
  const s = trainSettings({});
  assert.ok(s.lr > TRAIN_LIMITS.lr.min && s.lr <= TRAIN_LIMITS.lr.max);
});

test('cli: lr=1e30 and lr=1e309 exit 2 naming the setting; a spec file with lr: .inf exits 3; nothing written', () => {
  const out = tempDir();
  expectExit(alcli(['train', specPath, '--data', dataDir, '--out', out, '--set', 'train.lr=1e30']), 2, /train\.lr must be <= 100/);
  expectExit(alcli(['train', specPath, '--data', dataDir, '--out', out, '--set', 'train.lr=1e309']), 2, /train\.lr must be a finite number, got Infinity/);
  const bad = join(scratch, 'inf.yaml');
  writeFileSync(bad, TINY.replace('lr: 0.01', 'lr: .inf'));
  expectExit(alcli(['train', bad, '--data', dataDir, '--out', out]), 3, /inf\.yaml:17/);
  expectExit(alcli(['validate', bad]), 3);
  assert.not.ok(existsSync(out));
});

// ---- 2. metrics tolerate NaN

test('metrics on NaN probabilities: bounded time, never perfect', () => {
  const n = 512 * 512;
  const truth = new Float32Array(n).map((_, i) => (i % 3 === 0 ? 1 : 0));
  const allNaN = new Float32Array(n).fill(NaN);
  const t0 = performance.now();
  const m = imageMetrics(allNaN, truth);
  assert.ok(performance.now() - t0 < 5000, `${performance.now() - t0} ms`);
  // every NaN prediction is a wrong one
  assert.is(m.accuracy, 0);
  assert.is(m.iou, 0);
  assert.is(m.dice, 0);
  assert.is(m.sensitivity, 0);
  assert.is(m.specificity, 0);
  assert.is(m.auc, 0);
  // an empty truth: a NaN prediction is not the "both empty" perfect score
  const empty = imageMetrics(new Float32Array(16).fill(NaN), new Float32Array(16));
  assert.is(empty.iou, 0);
  assert.is(empty.accuracy, 0);
  // some NaNs: each costs, the rest count as usual
  const prob = Float32Array.from(truth);
  prob[0] = NaN; // a foreground pixel
  prob[1] = NaN; // a background pixel
  const some = imageMetrics(prob, truth);
  assert.ok(some.iou < 1 && some.accuracy < 1 && some.auc < 1, JSON.stringify(some));
  assert.ok(some.auc > 0.99);
  // mixed with infinities and ties: still terminates and stays in [0, 1]
  const mixed = [NaN, Infinity, -Infinity, 0.5, 0.5, NaN, 1, 0];
  const a = auc(mixed, [1, 0, 1, 0, 1, 0, 1, 0]);
  assert.ok(a >= 0 && a <= 1, String(a));
  const sum = summarize([m, some]);
  assert.ok(sum.iou.mean < 1);
});

// ---- 2. divergence: stop, keep the last finite checkpoint, exit 5

const { tf } = await loadTf('wasm');
const scan = await scanDataset(dataDir, { need: ['train', 'val'] });
const data = await loadTrainingData(scan.dataset!.samples, { channels: 1, normalize: 'dataset' });

/** The tiny spec's TF.js engine, its loss or weights made NaN from global step `at` (1-based) on. */
function sabotaged(at: number, what: 'loss' | 'weights') {
  const r = compile(specPath, fsHost, {});
  const c = r.compiled!;
  const s = trainSettings(c.resolved.train as Record<string, unknown>);
  const inner = new TfjsEngine(tf, c.graph, initWeights(c.graph, s.seed), { optimizer: s.optimizer, loss: s.loss });
  let steps = 0;
  const engine: TrainEngine = {
    name: 'sabotaged',
    async step(batch, lr) {
      const loss = await inner.step(batch, lr);
      return ++steps >= at && what === 'loss' ? NaN : loss;
    },
    infer: (x, shape) => inner.infer(x, shape),
    weights() {
      const w = inner.weights();
      if (steps >= at && what === 'weights') w.get('c1:kernel')!.data[3] = NaN;
      return w;
    },
    optimizerState: () => inner.optimizerState(),
    load: (w, o) => inner.load(w, o),
    dispose: () => inner.dispose(),
  };
  return { c, s, engine };
}

test('a NaN loss stops the loop: "loss is NaN at epoch E step S", checkpoints stay at the last finite epoch', async () => {
  // 4 train images, batch 2: 2 steps an epoch; global step 3 is epoch 2 step 1
  const { c, s, engine } = sabotaged(3, 'loss');
  const dir = tempDir();
  const run = new RunDir(fsRunHost(dir));
  const e = await rejectsWith(() => trainLoop({ engine, data, settings: { ...s, epochs: 3 }, stride: c.stride, run }), DivergedError, /^loss is NaN at epoch 2 step 1: lower train\.lr$/);
  assert.is((e as DivergedError).epoch, 2);
  assert.is((e as DivergedError).step, 1);
  const last = run.readCheckpoint('last');
  assert.is(last.state.epoch, 1);
  assert.ok(finite(last.weights));
  assert.ok(finite(run.readCheckpoint('best').weights));
  assert.is(run.readMetrics().length, 1);
  assert.match(readFileSync(join(dir, 'events.jsonl'), 'utf8'), /"event":"diverged","time":"[^"]+","epoch":2,"step":1,"loss":"NaN"/);
  engine.dispose();
});

test('a NaN weight after an update (an overflowing gradient) stops the loop before validation and the checkpoint', async () => {
  const { c, s, engine } = sabotaged(4, 'weights');
  const run = new RunDir(fsRunHost(tempDir()));
  await rejectsWith(() => trainLoop({ engine, data, settings: { ...s, epochs: 3 }, stride: c.stride, run }), DivergedError, /^weight c1:kernel is not finite at epoch 2 step 2: lower train\.lr$/);
  assert.is(run.readCheckpoint('last').state.epoch, 1);
  assert.ok(finite(run.readCheckpoint('last').weights));
  engine.dispose();
});

test('cli: a run that really diverges (sgd, lr 100, bce weight 100: in range) exits 5 with the message and a finite checkpoint', () => {
  const out = tempDir();
  const r = alcli(['train', specPath, '--data', dataDir, '--out', out, '--engine', 'tfjs', '--backend', 'wasm', '--set', 'train.optimizer=sgd', '--set', 'train.lr=100', '--set', 'train.loss.bce=100', '--set', 'train.epochs=4']);
  expectExit(r, 5, /is not finite at epoch \d+ step \d+: lower train\.lr|loss is NaN at epoch \d+ step \d+: lower train\.lr/);
  const run = new RunDir(fsRunHost(out));
  const last = run.readCheckpoint('last');
  assert.ok(last.state.epoch >= 1);
  assert.ok(finite(last.weights));
  assert.ok(finite(run.readCheckpoint('best').weights));
  const j = alcli(['train', '--resume', out, '--json']);
  expectExit(j, 5);
  const err = JSON.parse(j.stdout);
  assert.is(err.ok, false);
  assert.equal([err.error.code, err.error.exit, err.error.epoch >= 1], ['diverged', 5, true]);
  assert.match(err.error.message, /lower train\.lr/);
});

// ---- 3. locks

test('lockDir: one holder; a second is refused naming the pid; release frees it; a stale lock is taken over', () => {
  const dir = tempDir();
  const a = lockDir(dir);
  assert.ok(existsSync(lockFile(dir)));
  assert.is(readFileSync(lockFile(dir), 'utf8').trim(), String(process.pid));
  try {
    lockDir(dir);
    assert.unreachable('second lock');
  } catch (e) {
    assert.instance(e, LockError);
    assert.instance(e, PathError);
    assert.is((e as Error).message, `${dir} is in use by pid ${process.pid}`);
  }
  a.release();
  a.release();
  assert.not.ok(existsSync(lockFile(dir)));
  // the folders made for a lock go again with it
  const deep = tempDir();
  const c = lockDir(join(deep, 'a', 'run'));
  assert.ok(existsSync(join(deep, 'a', '.run.lock')));
  c.release();
  assert.not.ok(existsSync(deep));
  // a dead process's lock
  const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  const pid = Number(dead.stdout.trim());
  assert.not.ok(pidAlive(pid));
  mkdirSync(dir, { recursive: true });
  writeFileSync(lockFile(dir), `${pid}\n`);
  const b = lockDir(dir);
  assert.is(readFileSync(lockFile(dir), 'utf8').trim(), String(process.pid));
  b.release();
  // garbage in a lock file is no live process either
  writeFileSync(lockFile(dir), 'garbage');
  lockDir(dir).release();
  assert.not.ok(existsSync(lockFile(dir)));
});

test('a lock goes with its process on SIGTERM and SIGINT (which still ends it), and on a normal exit', async () => {
  for (const signal of ['SIGTERM', 'SIGINT', null] as const) {
    const dir = tempDir();
    // the normal exit comes when its stdin closes, after the lock is seen (a timer raced a busy machine)
    const code = `const { lockDir } = await import(${JSON.stringify(join(ROOT, 'src/io/lock.ts'))}); lockDir(${JSON.stringify(dir)}); console.log('locked'); ${signal ? 'setTimeout(() => {}, 60000);' : 'process.stdin.resume();'}`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout!.on('data', (d) => String(d).includes('locked') && resolve()));
    assert.ok(existsSync(lockFile(dir)));
    if (signal) child.kill(signal);
    else child.stdin!.end();
    const [exitCode, exitSignal] = await new Promise<[number | null, string | null]>((resolve) => child.on('exit', (c, sig) => resolve([c, sig])));
    if (signal) assert.is(exitSignal, signal);
    else assert.is(exitCode, 0);
    assert.not.ok(existsSync(lockFile(dir)), `${signal}: lock left`);
  }
});

test('trainRun: two runs on one --out at once: the second is refused (in use), the first finishes; a stale lock is taken over', async () => {
  const out = tempDir();
  const opts = { spec: specPath, data: dataDir, out, engine: 'tfjs' as const, backend: 'wasm' as const, set: ['train.epochs=1'] };
  const first = trainRun(opts);
  await rejectsWith(() => trainRun({ ...opts, force: true }), LockError, new RegExp(`is in use by pid ${process.pid}`));
  await rejectsWith(() => trainRun({ resume: out }), LockError, /is in use by pid/);
  await rejectsWith(() => exportArtifacts(specPath, { output: out, force: true, formats: ['onnx'], opset: 17, seed: 0, tolerance: 1e-4 }), LockError, /is in use by pid/);
  const r = await first;
  assert.is(r.epochs, 1);
  assert.not.ok(existsSync(lockFile(out)));
  // a lock left by a killed process
  const dead = Number(spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }).stdout.trim());
  writeFileSync(lockFile(out), `${dead}\n`);
  const again = await trainRun({ resume: out });
  assert.is(again.epochs, 1);
  assert.not.ok(existsSync(lockFile(out)));
});

test('cli: train and export on a folder another live process holds exit 2 "in use by pid N"; nothing written', async () => {
  // a live process holding the lock: another alcli, as far as the lock can tell
  const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  try {
    const out = tempDir();
    mkdirSync(out);
    writeFileSync(lockFile(out), `${holder.pid}\n`);
    expectExit(alcli(['train', specPath, '--data', dataDir, '--out', out]), 2, new RegExp(`${out} is in use by pid ${holder.pid}`));
    expectExit(alcli(['export', specPath, '-o', out, '--format', 'onnx']), 2, new RegExp(`is in use by pid ${holder.pid}`));
    assert.equal(readdirSync(out), []);
    // the holder's lock is left alone
    assert.is(readFileSync(lockFile(out), 'utf8').trim(), String(holder.pid));
    rmSync(lockFile(out));
  } finally {
    holder.kill();
  }
});

// ---- 4. nothing outside the named folders

test('cli: train, export and predict with a fresh HOME and TMPDIR leave both empty (ONNX Runtime telemetry off)', () => {
  const home = mkdtempSync(join(scratch, 'home-'));
  const tmp = mkdtempSync(join(scratch, 'tmp-'));
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, TMPDIR: tmp, TMP: tmp, TEMP: tmp };
  for (const k of Object.keys(env)) if (k.startsWith('XDG_') || k === 'ORT_DISABLE_TELEMETRY') delete env[k];
  const run = tempDir();
  // auto engine: ONNX Runtime trains, exports and predicts here
  expectExit(alcli(['train', specPath, '--data', dataDir, '--out', run, '--set', 'train.epochs=1'], env), 0);
  expectExit(alcli(['export', run, '-o', tempDir(), '--format', 'onnx,tfjs'], env), 0);
  expectExit(alcli(['predict', run, join(dataDir, 'images', 'img000.png'), '-o', tempDir()], env), 0);
  const left = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? [`${e.name}/`, ...left(join(d, e.name)).map((x) => `${e.name}/${x}`)] : [e.name]));
  assert.equal(left(home), [], 'HOME');
  assert.equal(left(tmp), [], 'TMPDIR');
  // and no lock or staging file beside the outputs
  assert.equal(readdirSync(scratch).filter((n) => n.startsWith('.')), []);
});

test.run();
