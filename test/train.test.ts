// The training loop end to end on TF.js wasm with a tiny network (conv-bn-relu x3, a stride-2 conv
// and an upsample, 1 channel, 32x32) on 8 synthetic images: loss, Adam, BN running statistics, flat
// memory, the run directory, atomic checkpoints, exact resume, the library's run (setup, engine
// choice and memory, resume), and the CLI's flags, exit codes and output.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile, type Compiled } from '../src/frontend/compile.js';
import { loadTf } from '../src/runtime/backend.js';
import { initWeights, type WeightStore } from '../src/ir/weights.js';
import { scanDataset } from '../src/train/dataset.js';
import { TfjsEngine } from '../src/train/engine-tfjs.js';
import { bceDiceLoss } from '../src/train/engine-tfjs.js';
import { bceDiceValue } from '../src/train/objective.js';
import { loadTrainingData, trainLoop, trainSettings, type TrainingData } from '../src/train/loop.js';
import { fsRunHost, RunDir, type RunHost } from '../src/train/run.js';
import { BadDataError, BadOptionsError } from '../src/train/errors.js';
import { PathError } from '../src/io/dir.js';
import { trainRun, type TrainRunOptions } from '../src/train/session.js';
import { syntheticDataset } from '../src/train/synthetic.js';
import { fsHost, tinySpec, writeDataset } from './helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'alcli-train-test-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));
let count = 0;
const tempDir = () => join(scratch, `t${count++}`);

const TINY = tinySpec({ epochs: 2, deep: true });
const specPath = join(scratch, 'tiny.yaml');
writeFileSync(specPath, TINY);

const compileText = (text: string, overrides: string[] = []): Compiled => {
  const path = join(scratch, `spec${count++}.yaml`);
  writeFileSync(path, text);
  const r = compile(path, fsHost, { overrides });
  if (!r.compiled) throw new Error(r.diagnostics.map((d) => d.message).join('\n') + r.usageErrors.join('\n'));
  return r.compiled;
};

const dataDir = join(scratch, 'data');
await writeDataset(dataDir, syntheticDataset(1, { count: 8, size: 40, channels: 1 }));

const { tf } = await loadTf('wasm');
const scan = await scanDataset(dataDir, { need: ['train', 'val'] });
const data: TrainingData = await loadTrainingData(scan.dataset!.samples, { channels: 1, normalize: 'dataset' });

const bitEqual = (a: WeightStore, b: WeightStore) => {
  assert.equal([...a.keys()].sort(), [...b.keys()].sort());
  for (const [k, t] of a) {
    const u = b.get(k)!;
    for (let i = 0; i < t.data.length; i++) if (!Object.is(t.data[i], u.data[i])) assert.unreachable(`${k}[${i}]: ${t.data[i]} != ${u.data[i]}`);
  }
};

/** A fresh run of the tiny spec; stopAfter cuts it short after that many epochs. */
async function tinyRun(dir: string, sets: string[] = [], stopAfter?: number) {
  const c = compileText(TINY, sets);
  const s = trainSettings(c.resolved.train as Record<string, unknown>);
  const engine = new TfjsEngine(tf, c.graph, initWeights(c.graph, s.seed), { optimizer: s.optimizer, loss: s.loss });
  const run = new RunDir(fsRunHost(dir));
  const result = await trainLoop({ engine, data, settings: s, stride: c.stride, run, stopAfter });
  return { c, s, engine, run, result };
}

test('the loss: TF.js ops and plain arrays agree, and are stable for large logits', () => {
  const rows: [number[], number[]][] = [
    [[0.3, -2, 5, 0.1, -0.7, 1.2, 3, -3], [1, 0, 1, 0, 0, 1, 1, 0]],
    [[80, -90, 120, -200, 60, -1, 0, 2], [1, 0, 0, 1, 1, 0, 1, 1]],
  ];
  for (const [z, y] of rows) {
    const got = tf.tidy(() => bceDiceLoss(tf, tf.tensor4d(z, [2, 2, 2, 1]), tf.tensor4d(y, [2, 2, 2, 1])).dataSync()[0]);
    const want = bceDiceValue(z, y, { bce: 1, dice: 1 }, 2);
    assert.ok(Number.isFinite(got));
    assert.ok(Math.abs(got - want) < 1e-4 * Math.max(1, want), `${got} vs ${want}`);
  }
  // dice: smooth 1, per image then mean; a perfect prediction of an empty mask costs ~0
  assert.ok(bceDiceValue([-50, -50, -50, -50], [0, 0, 0, 0]) < 1e-6);
  assert.ok(Math.abs(bceDiceValue([0, 0], [1, 0], { bce: 0, dice: 1 }) - (1 - 2 / 3)) < 1e-12);
});

test('Adam: two steps on a 1-parameter network match the hand-computed update (PyTorch formulas)', async () => {
  for (const wd of [0, 0.1]) {
    const c = compileText(`alcli: 1\ninput: {channels: 1, size: [8, 8]}\noutput: {classes: 1}\ngraph:\n  head: {op: conv, in: input, out: 1, kernel: 1}\n`);
    const e = new TfjsEngine(tf, c.graph, initWeights(c.graph, 5), { optimizer: { kind: 'adam', weightDecay: wd }, loss: { bce: 1, dice: 0 } });
    let w = e.weights().get('head:kernel')!.data[0];
    // x = 1, y = 1 everywhere: loss = softplus(-w), dL/dw = sigmoid(w) - 1
    const batch = { x: new Float32Array(64).fill(1), y: new Float32Array(64).fill(1), shape: [1, 8, 8, 1] as [number, number, number, number] };
    let m = 0;
    let v = 0;
    const lr = 0.05;
    for (let t = 1; t <= 2; t++) {
      const loss = await e.step(batch, lr);
      assert.ok(Math.abs(loss - Math.log1p(Math.exp(-w))) < 1e-5);
      const g = 1 / (1 + Math.exp(-w)) - 1 + wd * w;
      m = 0.9 * m + 0.1 * g;
      v = 0.999 * v + 0.001 * g * g;
      w -= (lr / (1 - 0.9 ** t)) * (m / (Math.sqrt(v) / Math.sqrt(1 - 0.999 ** t) + 1e-8));
      const got = e.weights().get('head:kernel')!.data[0];
      assert.ok(Math.abs(got - w) < 1e-6, `wd ${wd} step ${t}: ${got} vs ${w}`);
    }
    const o = e.optimizerState();
    assert.is(o.get('adam/step')!.data[0], 2);
    assert.ok(Math.abs(o.get('adam/m/head:kernel')!.data[0] - m) < 1e-6);
    assert.ok(Math.abs(o.get('adam/v/head:kernel')!.data[0] - v) < 1e-9);
    e.dispose();
  }
});

test('BN running statistics move toward the batch statistics (momentum 0.1, unbiased variance)', async () => {
  const c = compileText(`alcli: 1\ninput: {channels: 2, size: [4, 4]}\noutput: {classes: 1}\ngraph:\n  b: {op: bn, in: input}\n  head: {op: conv, out: 1, kernel: 1}\n`);
  const e = new TfjsEngine(tf, c.graph, initWeights(c.graph, 1), { optimizer: { kind: 'adam' }, loss: { bce: 1, dice: 1 } });
  const n = 2 * 4 * 4;
  const x = Float32Array.from({ length: n * 2 }, (_, i) => (i % 2 ? 3 + Math.sin(i) : -1 + 0.5 * Math.cos(i * 1.7)));
  const y = Float32Array.from({ length: n }, (_, i) => i % 3 === 0 ? 1 : 0);
  await e.step({ x, y, shape: [2, 4, 4, 2] }, 1e-3);
  const w = e.weights();
  for (let ch = 0; ch < 2; ch++) {
    const xs = Array.from({ length: n }, (_, i) => x[2 * i + ch]);
    const mean = xs.reduce((a, b) => a + b, 0) / n;
    const unbiased = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
    assert.ok(Math.abs(w.get('b:mean')!.data[ch] - 0.1 * mean) < 1e-5, `mean ${ch}`);
    assert.ok(Math.abs(w.get('b:variance')!.data[ch] - (0.9 + 0.1 * unbiased)) < 1e-5, `variance ${ch}`);
  }
  e.dispose();
});

test('memory stays flat across steps (tf.memory().numTensors)', async () => {
  const c = compileText(TINY);
  const s = trainSettings(c.resolved.train as Record<string, unknown>);
  const e = new TfjsEngine(tf, c.graph, initWeights(c.graph, 0), { optimizer: s.optimizer, loss: s.loss });
  const batch = { x: Float32Array.from({ length: 2 * 32 * 32 }, (_, i) => Math.sin(i)), y: Float32Array.from({ length: 2 * 32 * 32 }, (_, i) => (i % 5 ? 0 : 1)), shape: [2, 32, 32, 1] as [number, number, number, number] };
  await e.step(batch, 0.01);
  await e.infer(batch.x, batch.shape);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 4; i++) {
    await e.step(batch, 0.01);
    await e.infer(batch.x, batch.shape);
    e.weights();
    e.optimizerState();
  }
  assert.is(tf.memory().numTensors, before);
  const held = tf.memory().numTensors;
  e.dispose();
  assert.ok(tf.memory().numTensors < held);
});

test('training lowers the loss; the run directory has every file; checkpoints round-trip', async () => {
  const dir = tempDir();
  const { engine, run, result } = await tinyRun(dir, ['train.epochs=6', 'train.lr=0.02']);
  const rows = run.readMetrics();
  assert.is(rows.length, 6);
  assert.is(result.epochs, 6);
  assert.ok(rows[5].train_loss < rows[0].train_loss, `train loss ${rows.map((r) => r.train_loss.toFixed(3)).join(' ')}`);
  for (const r of rows) for (const k of ['val_iou', 'val_dice', 'val_accuracy', 'images_per_s'] as const) assert.ok(Number.isFinite(r[k]), k);
  // the seeded run measured 0.229 -> 0.437 val IoU, 0.369 -> 0.608 Dice, 0.239 -> 0.710 accuracy over the 6 epochs
  const curve = (k: 'val_iou' | 'val_dice' | 'val_accuracy') => rows.map((r) => r[k].toFixed(3)).join(' ');
  assert.ok(rows[5].val_iou > rows[0].val_iou + 0.1 && rows[5].val_iou >= 0.35, `val IoU ${curve('val_iou')}`);
  assert.ok(rows[5].val_dice >= 0.5, `val Dice ${curve('val_dice')}`);
  assert.ok(rows[5].val_accuracy > rows[0].val_accuracy + 0.2 && rows[5].val_accuracy >= 0.6, `val accuracy ${curve('val_accuracy')}`);
  for (const f of ['metrics.csv', 'events.jsonl'].concat(['last', 'best'].flatMap((n) => ['weights.json', 'weights.bin', 'optimizer.json', 'optimizer.bin', 'state.json'].map((x) => `checkpoints/${n}/${x}`))))
    assert.ok(existsSync(join(dir, f)), f);
  const events = run.readEvents().map((e) => e.event);
  assert.is(events.filter((e) => e === 'epoch').length, 6);
  assert.ok(events.includes('best') && events.includes('checkpoint'));
  const last = run.readCheckpoint('last');
  assert.is(last.state.epoch, 6);
  assert.is(last.state.step, 6 * Math.ceil(data.train.length / 2));
  bitEqual(last.weights, engine.weights());
  bitEqual(last.optimizer, engine.optimizerState());
  const best = run.readCheckpoint('best');
  assert.is(best.state.best_epoch, best.state.epoch);
  assert.ok(Math.abs(best.state.best_val_iou - Math.max(...rows.map((r) => r.val_iou))) < 1e-5);
  // manifest: TF.js weights-manifest groups
  const manifest = JSON.parse(readFileSync(join(dir, 'checkpoints/last/weights.json'), 'utf8'));
  assert.equal(manifest[0].paths, ['weights.bin']);
  assert.ok(manifest[0].weights.some((w: { name: string }) => w.name === 'b1:mean'));
  engine.dispose();
});

test('resume after epoch 1 ends bit for bit where an uninterrupted 2-epoch run ends', async () => {
  const a = await tinyRun(tempDir());
  const dir = tempDir();
  const b1 = await tinyRun(dir, [], 1);
  assert.is(b1.result.stopped, 'stopAfter');
  assert.is(b1.result.epochs, 1);
  b1.engine.dispose();
  // a fresh engine (other initial weights), loaded from the checkpoint
  const c = compileText(TINY);
  const s = trainSettings(c.resolved.train as Record<string, unknown>);
  const engine = new TfjsEngine(tf, c.graph, initWeights(c.graph, 99), { optimizer: s.optimizer, loss: s.loss });
  const run = new RunDir(fsRunHost(dir));
  const ck = run.readCheckpoint('last');
  engine.load(ck.weights, ck.optimizer);
  const r = await trainLoop({ engine, data, settings: s, stride: c.stride, run, resume: ck.state });
  assert.is(r.epochs, 2);
  bitEqual(engine.weights(), a.engine.weights());
  bitEqual(engine.optimizerState(), a.engine.optimizerState());
  assert.equal(run.readMetrics().map((m) => m.train_loss), a.run.readMetrics().map((m) => m.train_loss));
  engine.dispose();
  a.engine.dispose();
});

/** A host that throws at the first write or rename matching `when`: a kill at that moment. */
const killing = (host: RunHost, when: (op: string, path: string) => boolean): RunHost => {
  let dead = false;
  const guard = (op: string, path: string) => {
    if (dead || when(op, path)) {
      dead = true;
      throw new Error('killed');
    }
  };
  return { ...host, write: (p, d) => (guard('write', p), host.write(p, d)), rename: (a, b) => (guard('rename', `${a}->${b}`), host.rename(a, b)), remove: (p) => (guard('remove', p), host.remove(p)) };
};

test('a kill at any point of a checkpoint write leaves a loadable checkpoint (old or new)', () => {
  const w = (v: number): WeightStore => new Map([['a:k', { shape: [2], data: Float32Array.of(v, v) }]]);
  const ckpt = (epoch: number) => ({ weights: w(epoch), optimizer: w(-epoch), state: { epoch, step: epoch, lr: 1, best_val_iou: 0, best_epoch: 0, epochs_without_improvement: 0, saved: '' } });
  let swapped = false;
  const points: [string, (op: string, p: string) => boolean, number][] = [
    ['writing weights.bin', (op, p) => op === 'write' && p.endsWith('weights.bin'), 1],
    ['writing state.json', (op, p) => op === 'write' && p.endsWith('state.json'), 1],
    ['moving the old one aside', (op, p) => op === 'rename' && p.startsWith('checkpoints/last->'), 1],
    ['between the two renames', (op, p) => op === 'rename' && p.startsWith('checkpoints/.last.tmp->'), 2],
    ['removing the old one', (op, p) => (swapped ||= op === 'rename' && p.startsWith('checkpoints/.last.tmp->')) && op === 'remove' && p === 'checkpoints/.last.old', 2],
  ];
  for (const [name, when, epoch] of points) {
    const dir = tempDir();
    mkdirSync(dir);
    new RunDir(fsRunHost(dir)).writeCheckpoint('last', ckpt(1));
    assert.throws(() => new RunDir(killing(fsRunHost(dir), when)).writeCheckpoint('last', ckpt(2)), /killed/, name);
    const read = new RunDir(fsRunHost(dir)).readCheckpoint('last');
    assert.is(read.state.epoch, epoch, name);
    assert.is(read.weights.get('a:k')!.data[0], epoch, name);
    assert.is(read.optimizer.get('a:k')!.data[0], -epoch, name);
    // and the next write works from there
    new RunDir(fsRunHost(dir)).writeCheckpoint('last', ckpt(3));
    assert.is(new RunDir(fsRunHost(dir)).readCheckpoint('last').state.epoch, 3, name);
  }
});

// ---- the library's run (train/session.ts): setup, engine choice and memory, resume

/** trainRun of the tiny spec, its log lines kept. */
async function libRun(opts: TrainRunOptions) {
  const lines: string[] = [];
  const result = await trainRun(opts, { log: (l) => lines.push(l) });
  return { result, log: lines.join('\n') };
}

const rejectsWith = async (f: () => Promise<unknown>, type: new (...a: never[]) => Error, message: RegExp) => {
  try {
    await f();
  } catch (e) {
    assert.instance(e, type);
    assert.match((e as Error).message, message);
    return e;
  }
  assert.unreachable(`no ${type.name}`);
};

test('trainRun: a run cut after epoch 1 resumes on the engine and backend it ran on, to the weights of an uninterrupted run', async () => {
  const full = tempDir();
  await libRun({ spec: specPath, data: dataDir, out: full, engine: 'tfjs', backend: 'wasm' });
  const cut = tempDir();
  const first = await libRun({ spec: specPath, data: dataDir, out: cut, engine: 'tfjs', backend: 'wasm', stopAfter: 1 });
  assert.is(first.result.stopped, 'stopAfter');
  // no engine or backend given: run.json's (tfjs on wasm), not auto's choice (ort)
  const resumed = await libRun({ resume: cut });
  assert.match(resumed.log, /resume .*after epoch 1\/2.*engine tfjs-wasm/);
  assert.is(resumed.result.epochs, 2);
  bitEqual(new RunDir(fsRunHost(cut)).readCheckpoint('last').weights, new RunDir(fsRunHost(full)).readCheckpoint('last').weights);
  assert.is(new RunDir(fsRunHost(cut)).readMetrics().length, 2);
  // the errors the CLI maps to exit codes are typed
  await rejectsWith(() => trainRun({ resume: dataDir }), BadOptionsError, /is not a run directory/);
  await rejectsWith(() => trainRun({ spec: specPath, data: dataDir, out: cut }), PathError, /not empty; use --resume/);
  await rejectsWith(() => trainRun({ spec: specPath, data: dataDir, out: tempDir(), set: ['train.crop=33'] }), BadOptionsError, /multiple of the network's stride 2x2; e\.g\. --set train\.crop=34/);
  const bad = (await rejectsWith(() => trainRun({ spec: specPath, data: join(dataDir, 'nope'), out: tempDir() }), BadDataError, /nope/)) as BadDataError;
  assert.ok(bad.errors.length > 0);
});

test('trainRun engines: auto trains on ort, tfjs on TF.js, a run resumes on the other engine, max pooling trains on ort', async () => {
  const auto = tempDir();
  assert.match((await libRun({ spec: specPath, data: dataDir, out: auto, backend: 'wasm', set: ['train.epochs=1'] })).log, /engine ort/);
  assert.is(new RunDir(fsRunHost(auto)).readInfo()!.engine, 'ort');
  // a 2-epoch run cut after epoch 1 on TF.js, finished on ort
  const cut = tempDir();
  assert.match((await libRun({ spec: specPath, data: dataDir, out: cut, engine: 'tfjs', backend: 'wasm', stopAfter: 1 })).log, /engine tfjs-wasm/);
  assert.match((await libRun({ resume: cut, engine: 'ort' })).log, /resume .*after epoch 1\/2.*engine ort/);
  assert.is(new RunDir(fsRunHost(cut)).readMetrics().length, 2);
  const pooled = join(scratch, 'pooled.yaml');
  writeFileSync(pooled, TINY.replace('  c2: {op: conv, out: 8, kernel: 3, stride: 2}', '  c2: {op: maxpool, kernel: 2}'));
  const r = await libRun({ spec: pooled, data: dataDir, out: tempDir(), engine: 'ort', set: ['train.epochs=1'] });
  assert.match(r.log, /engine ort/);
  assert.is(r.result.epochs, 1);
});

// ---- the CLI (node bin/run.js: npm test builds dist/ first)

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}
const alcli = (args: string[]): Run => {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'run.js'), ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', DEBUG: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const expectExit = (r: Run, code: number, stderr?: RegExp) => {
  assert.is(r.code, code, `exit ${r.code}, want ${code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.not.ok(r.stderr.includes('    at '), `stack trace:\n${r.stderr}`);
  if (stderr) assert.match(r.stderr, stderr);
};

test('cli: train, refuse a non-empty --out, resume a run cut short, --json', () => {
  const out = tempDir();
  const r = alcli(['train', specPath, '--data', dataDir, '--out', out, '--backend', 'wasm', '--set', 'train.epochs=1']);
  expectExit(r, 0, /epoch 1\/1 .*IoU/);
  assert.match(r.stdout, /best val IoU/);
  assert.ok(existsSync(join(out, 'spec.resolved.yaml')) && existsSync(join(out, 'run.json')));
  expectExit(alcli(['train', specPath, '--data', dataDir, '--out', out]), 2, /not empty.*--resume/);
  expectExit(alcli(['train', '--resume', out, '--data', dataDir]), 2, /drop --data/);
  expectExit(alcli(['train', specPath, '--data', dataDir]), 2, /--out/);
  // "cut short": the spec asked for 1 epoch; a resumed run with the same spec is already done
  const again = alcli(['train', '--resume', out, '--json']);
  expectExit(again, 0);
  assert.is(JSON.parse(again.stdout).epochs, 1);
  // --force replaces it
  const forced = alcli(['train', specPath, '--data', dataDir, '--out', out, '--force', '--json', '--set', 'train.epochs=2']);
  expectExit(forced, 0);
  const j = JSON.parse(forced.stdout);
  assert.is(j.ok, true);
  assert.is(j.epochs, 2);
  assert.is(forced.stderr, '');
});

test('cli: a data error exits 4, names the file, and writes nothing', () => {
  const bad = tempDir();
  mkdirSync(join(bad, 'images'), { recursive: true });
  mkdirSync(join(bad, 'masks'), { recursive: true });
  for (let i = 0; i < 6; i++) {
    writeFileSync(join(bad, 'images', `i${i}.png`), readFileSync(join(dataDir, 'images', `img00${i}.png`)));
    writeFileSync(join(bad, 'masks', `i${i}.png`), readFileSync(join(dataDir, 'masks', `img00${i}.png`)));
  }
  unlinkSync(join(bad, 'masks', 'i3.png'));
  writeFileSync(join(bad, 'images', 'i4.png'), 'not a png');
  const out = tempDir();
  const r = alcli(['train', specPath, '--data', bad, '--out', out]);
  expectExit(r, 4, /i3\.png[\s\S]*missing-mask|missing-mask[\s\S]*i3\.png/);
  assert.match(r.stderr, /i4\.png/);
  assert.not.ok(existsSync(out));
  const j = alcli(['train', specPath, '--data', bad, '--out', out, '--json']);
  expectExit(j, 4);
  assert.ok(JSON.parse(j.stdout).errors.length >= 2);
  expectExit(alcli(['train', specPath, '--data', join(bad, 'nope'), '--out', out]), 4, /nope/);
  assert.not.ok(existsSync(out));
});

test('cli: a crop that does not divide by the stride is a usage error; train --help has examples', () => {
  expectExit(alcli(['train', specPath, '--data', dataDir, '--out', tempDir(), '--set', 'train.crop=33']), 2, /multiple of the network's stride/);
  const h = alcli(['train', '--help']);
  expectExit(h, 0);
  assert.match(h.stdout, /EXAMPLES\n\s+\$ alcli train /);
});

test.run();
