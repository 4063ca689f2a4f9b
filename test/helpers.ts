// Shared by the tests: the file-system SpecHost and an in-memory one, golden files, and a tiny
// trainable spec with its synthetic dataset.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import * as assert from 'uvu/assert';
import { compile } from '../src/frontend/compile.js';
import type { SpecHost } from '../src/frontend/load.js';
import type { IrGraph } from '../src/ir/graph.js';
import type { HwcImage } from '../src/train/image.js';
import type { WeightStore } from '../src/ir/weights.js';
import { RunDir, fsRunHost, type RunInfo } from '../src/train/run.js';
import { encodePng } from '../src/train/synthetic.js';

export { fileSpecHost as fsHost } from '../src/frontend/load.js';

/** A host over a map of file name to text. */
export const memHost = (files: Record<string, string>): SpecHost => ({ read: (p) => files[p] });

/** `# expect: code, code` markers in a fixture: the errors that line must produce. */
export function expectedMarkers(file: string, text: string): string[] {
  const out: string[] = [];
  text.split('\n').forEach((line, i) => {
    const m = /# expect: ([\w, -]+)$/.exec(line);
    if (m) for (const code of m[1].split(',')) out.push(`${file}:${i + 1} ${code.trim()}`);
  });
  return out;
}

/** Compares text with a golden file; `UPDATE_GOLDEN=1` rewrites the file instead. */
export function matchGolden(path: string, text: string): void {
  if (process.env.UPDATE_GOLDEN) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  assert.ok(existsSync(path), `no golden file ${path}: run with UPDATE_GOLDEN=1`);
  assert.fixture(text, readFileSync(path, 'utf8'));
}

/**
 * A small trainable spec for training tests (stride 2, 32x32, batch 2); `deep` adds a third conv
 * block. The tests that pin numbers of a trained run use the spec they measured with.
 */
export const tinySpec = ({ epochs, deep }: { epochs: number; deep: boolean }) => `alcli: 1
name: tiny
input: {channels: 1, size: [32, 32]}
output: {classes: 1}
graph:
  c1: {op: conv, in: input, out: 8, kernel: 3}
  b1: {op: bn}
  r1: {op: relu}
  c2: {op: conv, out: 8, kernel: 3, stride: 2}
  b2: {op: bn}
  r2: {op: relu}
${deep ? '  c3: {op: conv, out: 8, kernel: 3}\n  b3: {op: bn}\n  r3: {op: relu}\n' : ''}  up: {op: resize, scale: 2}
  head: {op: conv, out: 1, kernel: 1, bias: true}
train: {epochs: ${epochs}, batch: 2, crop: 32, lr: 0.01, seed: 3, samples_per_image: 1}
`;

/** Writes `samples` (gray synthetic images and their masks) as DIR/images/ID.png and DIR/masks/ID.png. */
export async function writeDataset(dir: string, samples: readonly { id: string; image: HwcImage; mask: HwcImage }[]): Promise<void> {
  mkdirSync(join(dir, 'images'), { recursive: true });
  mkdirSync(join(dir, 'masks'), { recursive: true });
  for (const s of samples) {
    writeFileSync(join(dir, 'images', `${s.id}.png`), await encodePng(s.image));
    writeFileSync(join(dir, 'masks', `${s.id}.png`), await encodePng(s.mask));
  }
}

/** The error f throws (for asserting on its type and message); throws itself when f does not. */
export const thrown = (f: () => unknown): Error => {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('did not throw');
};

/** The IR graph of a spec text (at `size` when given); throws with the diagnostics when it does not compile. */
export function graphOf(text: string, size?: [number, number]): IrGraph {
  const r = compile('t.yaml', memHost({ 't.yaml': text }), { size });
  if (!r.compiled) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.compiled.graph;
}

/** The largest |a[i] - b[i]|; asserts equal lengths. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.is(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** A stride-4 network (two stride-2 convs), a skip concat, upsampling by `like` and by scale: not mirror-symmetric. */
export const strideFourSpec = (channels: number, classes: number, activation: string) => `alcli: 1
name: tiny
input: {channels: ${channels}, size: [32, 32]}
output: {classes: ${classes}, activation: ${activation}}
graph:
  a: {op: conv, in: input, out: 6, kernel: 3, stride: 2}
  a_bn: {op: bn}
  a_r: {op: relu}
  b: {op: conv, out: 6, kernel: 3, stride: 2}
  b_r: {op: relu}
  up: {op: resize, like: a_r}
  cat: {op: concat, in: [a_r, up]}
  head: {op: conv, out: classes, kernel: 1, bias: true}
  logits: {op: resize, scale: 2}
`;

/**
 * Asserts that onnx.checker.check_model(full_check=True) (python3-onnx, /usr/bin/python3) accepts
 * every model; a missing python3-onnx fails the test with how to install it.
 */
export function assertOnnxChecker(models: ReadonlyMap<string, Uint8Array>): void {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import onnx'], { encoding: 'utf8' });
  if (probe.status !== 0) assert.unreachable(`python3-onnx is required for this test: apt-get install -y python3-onnx (${(probe.stderr || String(probe.error)).trim().split('\n').at(-1)})`);
  const dir = mkdtempSync(join(tmpdir(), 'alcli-checker-'));
  try {
    for (const [name, bytes] of models) writeFileSync(join(dir, `${name.replace(/\W/g, '_')}.onnx`), bytes);
    const script = 'import onnx, sys, glob, os\nfor f in sorted(glob.glob(os.path.join(sys.argv[1], "*.onnx"))):\n    onnx.checker.check_model(onnx.load(f), full_check=True)\n    print("ok", os.path.basename(f))';
    const r = spawnSync('/usr/bin/python3', ['-c', script, dir], { encoding: 'utf8' });
    assert.is(r.status, 0, `onnx.checker rejected:\n${r.stdout}${r.stderr}`);
    assert.is(r.stdout.trim().split('\n').length, models.size, r.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A run folder made by hand, no training: `spec` (its text; `specPath` recorded as its source), a
 * run.json over `data` with the split counts given (no normalization, engine ort), and `weights` as
 * the best checkpoint of epoch 1. For networks whose weights a test sets to known values.
 */
export function writeHandMadeRun(dir: string, o: { spec: string; specPath: string; data: string; counts: RunInfo['data']['counts']; channels: number; weights: WeightStore; classes?: RunInfo['classes'] }): void {
  const run = new RunDir(fsRunHost(dir));
  mkdirSync(dir, { recursive: true });
  run.writeSpec(o.spec);
  run.writeInfo({
    alcli: '0.1.0',
    spec: { source: o.specPath.split('/').at(-1)!, path: o.specPath },
    data: { dir: o.data, invert_mask: false, split_from: 'split.json', split_seed: 0, counts: o.counts },
    normalize: null,
    input_channels: o.channels,
    crop: [8, 8],
    seed: 0,
    backend: 'cpu',
    engine: 'ort',
    started: new Date(0).toISOString(),
    options: { set: [] },
    ...(o.classes ? { classes: o.classes } : {}),
  });
  run.writeCheckpoint('best', { weights: o.weights, optimizer: new Map(), state: { epoch: 1, step: 1, lr: 0.01, best_val_iou: 0, best_epoch: 1, epochs_without_improvement: 0, saved: new Date(0).toISOString() } });
}

/** An 8-bit single-channel PNG of `bytes` (row-major, width x height). */
export const grayPng = (bytes: Uint8Array, width: number, height: number) => sharp(bytes, { raw: { width, height, channels: 1 } }).toColourspace('b-w').png().toBuffer();
