// Training-step benchmark (not a test): alnet at 256x256, batch 4. The TF.js engine (forward +
// backward of a BCE + Dice loss through the executor's training mode with the hand-written
// gradients of src/runtime/gradients.ts, on the wasm backend) and the ONNX Runtime engine (the
// compiled training step of src/train/ort/training-model.ts). Prints ms per step, images/s, the forward /
// backward split, and, where python3-torch is installed, the ratio to the PyTorch twin
// (../shared/peers/alnet_torch.py train --hw 256 --batch 4 --threads 2) measured in the same run.
//   node --import tsx bench/train.ts            (BENCH_RUNS=7, BENCH_HW=256, BENCH_BATCH=4)
//   BENCH_SITTINGS=3        alternate the ORT step and the twin's three times in this run (a ratio per sitting)
//   BENCH_TFJS=0            skip the TF.js engine's rows (minutes at 256x256)
//   GRAD_STRIDED=transpose | GRAD_FILTER=im2col      try the slower alternatives
//   BENCH_PROFILE=1                           adds a per-kernel profile of one TF.js step and ORT's per-op profile
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Scalar, Tensor, Tensor4D, Variable } from '@tensorflow/tfjs';
import { measure } from '../src/bench/infer.js';
import { fileSpecHost as fsHost } from '../src/frontend/load.js';
import { compile } from '../src/frontend/compile.js';
import { loadTf } from '../src/runtime/backend.js';
import { forward } from '../src/runtime/executor.js';
import { GRAD_OPTIONS } from '../src/runtime/gradients.js';
import { randomInput } from '../src/runtime/verify.js';
import { initWeights, weightSpecs } from '../src/ir/weights.js';
import { TfjsEngine } from '../src/train/engine-tfjs.js';
import { OrtEngine, trainSessionOptions } from '../src/train/ort/engine.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const SITTINGS = Number(process.env.BENCH_SITTINGS ?? 1);
const TFJS = process.env.BENCH_TFJS !== '0';
/** warm-up steps before timing (ORT plans its memory on the first runs; the twin's default is 3) */
const WARMUP = 3;
const HW = Number(process.env.BENCH_HW ?? 256);
const BATCH = Number(process.env.BENCH_BATCH ?? 4);
if (process.env.GRAD_STRIDED === 'transpose') GRAD_OPTIONS.stridedInputGrad = 'transpose';
if (process.env.GRAD_FILTER === 'im2col') GRAD_OPTIONS.filterGrad = 'im2col';

const c = compile('architectures/alnet.yaml', fsHost, { size: [HW, HW] }).compiled!;
const g = c.graph;
const { tf, backend } = await loadTf('wasm');
const store = initWeights(g, 0);
const trainable = new Set(weightSpecs(g).filter(({ spec }) => spec.role === 'trainable').map(({ node, spec }) => `${node.id}:${spec.name}`));
const weights = new Map<string, Tensor>([...store].map(([k, t]) => [k, trainable.has(k) ? tf.variable(tf.tensor(t.data, t.shape), true, k) : tf.tensor(t.data, t.shape)]));
const vars = [...weights].filter(([k]) => trainable.has(k)).map(([, v]) => v as Variable);
const shape: [number, number, number, number] = [BATCH, HW, HW, 3];
const x = tf.tensor4d(randomInput(shape, 1), shape);
// a blob-like mask: half the pixels foreground
const y = tf.tidy(() => tf.cast(tf.greater(tf.mean(x, 3, true), 0), 'float32')) as Tensor4D;

/** BCE (from logits) + Dice, as the PyTorch twin's bce_dice. */
function lossOf(logits: Tensor): Scalar {
  const bce = tf.mean(tf.add(tf.sub(tf.relu(logits), tf.mul(logits, y)), tf.log1p(tf.exp(tf.neg(tf.abs(logits))))));
  const p = tf.sigmoid(logits);
  const inter = tf.sum(tf.mul(p, y), [1, 2, 3]);
  const dice = tf.sub(1, tf.div(tf.add(tf.mul(inter, 2), 1), tf.add(tf.add(tf.sum(p, [1, 2, 3]), tf.sum(y, [1, 2, 3])), 1)));
  return tf.add(bce, tf.mean(dice)) as Scalar;
}
const f = () => lossOf(forward(tf, g, weights, x, { training: true, dropout: false, inputGrad: false }));

/** median ms of `runs` calls after one warm-up */
const time = async (fn: () => unknown, runs: number) => (await measure(async () => void (await fn()), 1, runs)).median;

const step = () => tf.tidy(() => {
  const { value, grads } = tf.variableGrads(f, vars);
  value.dataSync();
  for (const gr of Object.values(grads)) gr.dataSync();
});
const fwd = () => tf.tidy(() => void f().dataSync());
// the step `alcli train` runs: the engine's own loss, Adam and BatchNorm running-statistics update
const engine = new TfjsEngine(tf, g, store, { optimizer: { kind: 'adam' }, loss: { bce: 1, dice: 1 } });
const batch = { x: x.dataSync() as Float32Array, y: y.dataSync() as Float32Array, shape };
const withAdam = () => engine.step(batch, 5e-3);

// the ONNX Runtime engine (the compiled training step), same batch and weights
const ortEngine = await OrtEngine.create(g, store, { optimizer: { kind: 'adam' }, loss: { bce: 1, dice: 1 } });
const ortStep = async () => (await measure(async () => void (await ortEngine.step(batch, 5e-3)), WARMUP, RUNS)).median;
const ips = (ms: number) => (BATCH * 1000) / ms;

// the PyTorch twin (../shared/peers/alnet_torch.py train), where python3-torch is installed
const PEER = '../shared/peers/alnet_torch.py';
const python = '/usr/bin/python3';
const hasPeer = existsSync(PEER) && spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
function peerStep(): { ms: number; torch: string } {
  const OPENBLAS = '/usr/lib/x86_64-linux-gnu/openblas-openmp';
  const env = { ...process.env, ...(existsSync(OPENBLAS) ? { LD_LIBRARY_PATH: OPENBLAS } : {}) };
  const r = spawnSync(python, [PEER, 'train', '--hw', String(HW), '--batch', String(BATCH), '--threads', '2', '--warmup', String(WARMUP), '--runs', String(RUNS)], { encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`${PEER} train: ${r.stderr}`);
  const p = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { median_ms: number; torch?: string };
  return { ms: p.median_ms, torch: p.torch ?? '' };
}

// sittings: the ORT step and the twin's step one after the other, so each ratio is of one moment of a shared machine
const sittings: { ort: number; peer?: number }[] = [];
let torchVersion = '';
for (let i = 0; i < SITTINGS; i++) {
  const ort = await ortStep();
  const peer = hasPeer ? peerStep() : undefined;
  if (peer) torchVersion = peer.torch;
  sittings.push({ ort, peer: peer?.ms });
}
ortEngine.dispose();
const ortMs = [...sittings.map((t) => t.ort)].sort((a, b) => a - b)[sittings.length >> 1];

console.log(`# Training step, alnet.yaml at ${HW}x${HW}, batch ${BATCH}\n`);
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}; medians of ${RUNS} steps after ${WARMUP} warm-ups\n`);
console.log(`| sitting | ONNX Runtime engine step (--engine ort, ${cpus().length} threads), ms | PyTorch ${torchVersion} twin (2 threads, its step includes Adam), ms | ratio (twin ms / ort ms; > 1: alcli faster) |\n|---|---:|---:|---:|`);
sittings.forEach((t, i) => console.log(`| ${i + 1} | ${t.ort.toFixed(0)} | ${t.peer?.toFixed(0) ?? 'no python3-torch'} | ${t.peer ? (t.peer / t.ort).toFixed(3) + 'x' : ''} |`));

let stepMs = NaN;
if (TFJS) {
  stepMs = await time(step, RUNS);
  const fwdMs = await time(fwd, RUNS);
  const adamMs = await time(withAdam, RUNS);
  console.log(`\nTF.js ${backend} (single-threaded), medians of ${RUNS} runs after a warm-up; strided input gradient: ${GRAD_OPTIONS.stridedInputGrad}, filter gradient: ${GRAD_OPTIONS.filterGrad}\n`);
  console.log('| what | ms per step | images/s |\n|---|---:|---:|');
  console.log(`| forward only (training mode, no tape) | ${fwdMs.toFixed(0)} | ${ips(fwdMs).toFixed(2)} |`);
  console.log(`| forward + backward (variableGrads) | ${stepMs.toFixed(0)} | ${ips(stepMs).toFixed(2)} |`);
  console.log(`| training step (TfjsEngine.step: + Adam, BN statistics) | ${adamMs.toFixed(0)} | ${ips(adamMs).toFixed(2)} |`);
  console.log(`| ONNX Runtime engine step (median of the sittings) | ${ortMs.toFixed(0)} | ${ips(ortMs).toFixed(2)} |`);
  console.log(`\nbackward ~ ${(stepMs - fwdMs).toFixed(0)} ms (${((stepMs - fwdMs) / fwdMs).toFixed(2)}x the forward)`);
  const peerMs = sittings.map((t) => t.peer).filter((v): v is number => v !== undefined).sort((a, b) => a - b)[sittings.length >> 1];
  if (peerMs) console.log(`ratio, TF.js ${backend} training step / PyTorch: ${(peerMs / adamMs).toFixed(3)}x (target >= 0.15x); fwd+bwd only: ${(peerMs / stepMs).toFixed(3)}x`);
}

if (process.env.BENCH_PROFILE && TFJS) {
  const prof = await tf.profile(step);
  const byKernel = new Map<string, number>();
  for (const k of prof.kernels) byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + (Number(k.kernelTimeMs) || 0));
  console.log('\n| kernel | ms |\n|---|---:|');
  for (const [k, ms] of [...byKernel].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`| ${k} | ${ms.toFixed(0)} |`);
}

if (process.env.BENCH_PROFILE) {
  // where the ONNX Runtime step's time goes: ORT's own per-node profile, summed by op type
  const { trainingModel, stepShape, toStepLayout, TRAIN_X, TRAIN_Y, STEP_SIZE, BIAS_CORRECTION2 } = await import('../src/train/ort/training-model.js');
  const ort = await (await import('../src/runtime/ort.js')).importOrt();
  const { nhwcToNchw } = await import('../src/ir/layout.js');
  const prefix = join(mkdtempSync(join(tmpdir(), 'alcli-ort-profile-')), 'step');
  const m = trainingModel(g, { loss: { bce: 1, dice: 1 }, optimizer: { kind: 'adam' } });
  const session = await ort.InferenceSession.create(m.bytes, { ...trainSessionOptions(cpus().length), enableProfiling: true, profileFilePrefix: prefix });
  const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {
    [TRAIN_X]: new ort.Tensor('float32', nhwcToNchw(batch.x, shape), [BATCH, 3, HW, HW]),
    [TRAIN_Y]: new ort.Tensor('float32', batch.y, [BATCH, 1, HW, HW]),
    [STEP_SIZE]: new ort.Tensor('float32', Float32Array.of(1e-3), []),
    [BIAS_CORRECTION2]: new ort.Tensor('float32', Float32Array.of(0.03), []),
  };
  // weights from the store, Adam's slots zero
  for (const t of m.tensors) feeds[t.key] = new ort.Tensor('float32', toStepLayout(t, store.get(t.key)?.data ?? new Float32Array(t.tfShape.reduce((a, d) => a * d, 1))), stepShape(t));
  const PROFILED = 3;
  for (let i = 0; i <= PROFILED; i++) await session.run(feeds);
  await session.release();
  const file = readdirSync(dirname(prefix)).map((f) => join(dirname(prefix), f))[0];
  const events = JSON.parse(readFileSync(file, 'utf8')) as { cat: string; name: string; dur: number; args?: { op_name?: string } }[];
  const byOp = new Map<string, number>();
  // the first run plans memory: count the last PROFILED
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run');
  const from = runs.length > PROFILED ? (runs[runs.length - PROFILED] as unknown as { ts: number }).ts : 0;
  for (const e of events) if (e.cat === 'Node' && e.name.endsWith('_kernel_time') && (e as unknown as { ts: number }).ts >= from) byOp.set(e.args!.op_name!, (byOp.get(e.args!.op_name!) ?? 0) + e.dur / 1000 / PROFILED);
  const total = [...byOp.values()].reduce((a, b) => a + b, 0);
  console.log(`\nONNX Runtime step by op type (ms per step, ORT's profiler, ${PROFILED} steps; kernels sum to ${total.toFixed(0)} ms)\n\n| op | ms | share |\n|---|---:|---:|`);
  for (const [op, ms] of [...byOp].sort((a, b) => b[1] - a[1]).slice(0, 14)) console.log(`| ${op} | ${ms.toFixed(1)} | ${((100 * ms) / total).toFixed(0)} % |`);
  rmSync(dirname(prefix), { recursive: true, force: true });
}

