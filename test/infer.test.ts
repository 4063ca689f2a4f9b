// Whole-image inference (src/train/infer.ts) on a tiny network with random weights: predictions at
// odd sizes against the executor on a hand-padded image, ONNX Runtime against TF.js, tiled against
// untiled, resizeGraph against compiling at the size, and evaluateSplit against imageMetrics.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { resizeGraph, ResizeGraphError } from '../src/ir/resize-graph.js';
import { loadTf } from '../src/runtime/backend.js';
import { runForm } from '../src/runtime/verify.js';
import { initWeights, randomizeBatchNorm, rng, type WeightStore } from '../src/ir/weights.js';
import { cropTo, padToMultiple } from '../src/train/augment.js';
import { scanDataset } from '../src/train/dataset.js';
import { hwc, type HwcImage } from '../src/train/image.js';
import { activate, createPredictor, evaluateSplit, foreground, tileOwners, tileSide, tileStarts, type Predictor } from '../src/train/infer.js';
import { loadSample, normalize } from '../src/train/load.js';
import { imageMetrics, summarize } from '../src/train/metrics.js';
import { encodePng, syntheticDataset } from '../src/train/synthetic.js';
import type { IrGraph } from '../src/ir/graph.js';
import { graphOf, maxDiff } from './helpers.js';

const { tf } = await loadTf('wasm');

/** Stride 4; a RepVGG-like sum (fused by the deploy passes), a skip concat and two upsamplings; no global pool. */
const TINY = (classes: number, activation: string, size = '[32, 32]') => `alcli: 1
name: tiny
input: {channels: 3, size: ${size}}
output: {classes: ${classes}, activation: ${activation}}
graph:
  a: {op: conv, in: input, out: 8, kernel: 3, stride: 2}
  a_bn: {op: bn}
  a_r: {op: relu}
  b: {op: conv, out: 8, kernel: 3, stride: 2}
  b_bn: {op: bn}
  b_r: {op: relu}
  p3: {op: conv, in: b_r, out: 8, kernel: 3}
  p3_bn: {op: bn}
  p1: {op: conv, in: b_r, out: 8, kernel: 1}
  p1_bn: {op: bn}
  sum: {op: add, in: [p3_bn, p1_bn]}
  sum_r: {op: relu}
  up: {op: resize, scale: 2}
  cat: {op: concat, in: [a_r, up]}
  c: {op: conv, out: 8, kernel: 3}
  c_bn: {op: bn}
  c_r: {op: relu}
  head: {op: conv, out: classes, kernel: 1, bias: true}
  logits: {op: resize, scale: 2}
`;


const weightsOf = (g: IrGraph, seed = 3): WeightStore => randomizeBatchNorm(g, initWeights(g, seed), seed + 1);

function randomImage(h: number, w: number, c: number, seed: number): HwcImage {
  const r = rng(seed);
  return hwc(h, w, c, Float32Array.from({ length: h * w * c }, () => r.uniform()));
}


const STATS = { mean: [0.4, 0.5, 0.6], std: [0.2, 0.25, 0.3] };

/** The reference: the training form compiled at the padded size, run by the executor, cropped, activated. */
async function reference(text: string, w: WeightStore, img: HwcImage): Promise<Float32Array> {
  const { image: padded, box } = padToMultiple(normalize(img, STATS), 4);
  const g = graphOf(text, [padded.height, padded.width]);
  const logits = await runForm(tf, g, w, padded.data, [1, padded.height, padded.width, 3]);
  return activate(cropTo(hwc(padded.height, padded.width, g.output.classes, logits as Float32Array<ArrayBuffer>), box), g.output.activation);
}

test('resizeGraph gives the shapes compile gives at that size, and explains a size that does not fit', () => {
  const text = TINY(1, 'sigmoid');
  const g = graphOf(text);
  for (const size of [[40, 56], [64, 32], [8, 4]] as [number, number][]) {
    const want = graphOf(text, size);
    const got = resizeGraph(g, size);
    assert.equal(got.input, want.input);
    assert.equal(got.nodes.map((n) => [n.id, n.shape]), want.nodes.map((n) => [n.id, n.shape]));
  }
  assert.is(resizeGraph(g, [32, 32]), g);
  assert.throws(() => resizeGraph(g, [37, 40]), (e: unknown) => e instanceof ResizeGraphError && /'cat'.*same spatial size/.test((e as Error).message));
});

const sizes: [number, number][] = [[37, 53], [32, 32], [5, 70], [1, 9]];
for (const engine of ['tfjs', 'ort'] as const)
  for (const [classes, act] of [[1, 'sigmoid'], [3, 'softmax']] as const)
    test(`${engine}, ${classes} class ${act}: predict at odd sizes = executor on the reflect-padded image, cropped`, async () => {
      const text = TINY(classes, act);
      const g = graphOf(text);
      const w = weightsOf(g);
      const p = await createPredictor({ tf, graph: g, weights: w, normalize: STATS, engine });
      try {
        assert.is(p.engine, engine);
        assert.equal(p.stride, [4, 4]);
        for (const [h, wd] of sizes) {
          const img = randomImage(h, wd, 3, h * 100 + wd);
          const got = await p.predict(img);
          assert.is(got.length, h * wd * classes);
          const d = maxDiff(got, await reference(text, w, img));
          assert.ok(d <= 1e-4, `${h}x${wd}: max diff ${d}`);
          if (act === 'softmax') for (let i = 0; i < h * wd; i++) assert.ok(Math.abs(got[i] + got[h * wd + i] + got[2 * h * wd + i] - 1) < 1e-5);
        }
      } finally {
        p.dispose();
      }
    });

test('ort and tfjs agree; auto picks ort here', async () => {
  const g = graphOf(TINY(1, 'sigmoid'));
  const w = weightsOf(g, 11);
  const [a, b, c] = await Promise.all((['ort', 'tfjs', 'auto'] as const).map((engine) => createPredictor({ tf, graph: g, weights: w, normalize: null, engine })));
  assert.is(c.engine, 'ort');
  const img = randomImage(45, 61, 3, 5);
  const d = maxDiff(await a.predict(img), await b.predict(img));
  assert.ok(d <= 1e-4, `ort vs tfjs ${d}`);
  for (const p of [a, b, c]) p.dispose();
});

test('tile starts lie on the stride grid and every pixel is owned at least `overlap` from a cut', () => {
  const cases = [[72, 48, 16, 4], [92, 48, 16, 4], [1024, 256, 64, 32], [1056, 256, 64, 32], [256, 256, 64, 32], [96, 32, 16, 8], [1120, 1024, 64, 32], [4000, 1024, 64, 32]] as const;
  for (const [n, tile, margin, stride] of cases) {
    const side = tileSide(n, tile, margin, stride);
    assert.ok(side <= tile && side % stride === 0, `side ${side}`);
    const starts = tileStarts(n, side, margin, stride);
    assert.ok(starts.length <= tileStarts(n, tile, margin, stride).length);
    assert.is(starts[0], 0);
    assert.is(starts.at(-1)! + side, n);
    for (const s of starts) assert.is(s % stride, 0);
    const owner = tileOwners(n, side, starts);
    for (let y = 0; y < n; y++) {
      const s = starts[owner[y]];
      assert.ok(y >= s && y < s + side);
      const inner = Math.min(s === 0 ? Infinity : y - s, s + side === n ? Infinity : s + side - 1 - y);
      assert.ok(inner >= Math.min(margin, Math.floor((side - stride) / 2)), `n=${n} y=${y}: ${inner} from a cut`);
    }
  }
  // a little over one tile: two even tiles, not two full ones
  assert.is(tileSide(1120, 1024, 64, 32), 640);
});

for (const engine of ['tfjs', 'ort'] as const)
  test(`${engine}: tiled = untiled when the overlap covers the receptive field`, async () => {
    const g = graphOf(TINY(2, 'softmax'));
    const w = weightsOf(g, 7);
    const whole = await createPredictor({ tf, graph: g, weights: w, normalize: STATS, engine });
    const tiles = await createPredictor({ tf, graph: g, weights: w, normalize: STATS, engine, maxPixels: 48 * 48, tile: 48, overlap: 16 });
    for (const [h, wd] of [[70, 90], [37, 130], [48, 49]] as [number, number][]) {
      const img = randomImage(h, wd, 3, h + wd);
      const d = maxDiff(await tiles.predict(img), await whole.predict(img));
      assert.ok(d <= 1e-4, `${h}x${wd}: tiled vs untiled ${d}`);
    }
    whole.dispose();
    tiles.dispose();
  });

test('a too-small overlap makes tiles differ (the test above is not vacuous)', async () => {
  const g = graphOf(TINY(1, 'sigmoid'));
  const w = weightsOf(g, 7);
  const whole = await createPredictor({ tf, graph: g, weights: w, normalize: null, engine: 'ort' });
  const tiles = await createPredictor({ tf, graph: g, weights: w, normalize: null, engine: 'ort', maxPixels: 16 * 16, tile: 16, overlap: 0 });
  const img = randomImage(40, 40, 3, 9);
  assert.ok(maxDiff(await tiles.predict(img), await whole.predict(img)) > 1e-3);
  whole.dispose();
  tiles.dispose();
});

test('a wrong channel count is refused', async () => {
  const g = graphOf(TINY(1, 'sigmoid'));
  const p = await createPredictor({ tf, graph: g, weights: weightsOf(g), normalize: null, engine: 'tfjs' });
  try {
    await p.predict(randomImage(8, 8, 1, 1));
    assert.unreachable('accepted a gray image');
  } catch (e) {
    assert.match((e as Error).message, /1 channels, the network takes 3/);
  }
  p.dispose();
});

test('evaluateSplit: per-image metrics inside the FOV = imageMetrics of predict, and their summary', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'alcli-infer-'));
  try {
    for (const sub of ['images', 'masks', 'fov']) mkdirSync(join(dir, sub));
    const data = syntheticDataset(5, { count: 5, size: [37, 45] });
    for (const [i, s] of data.entries()) {
      writeFileSync(join(dir, 'images', `${s.id}.png`), await encodePng(s.image));
      writeFileSync(join(dir, 'masks', `${s.id}.png`), await encodePng(s.mask));
      // an FOV disc, off-centre so it matters which pixels count
      const fov = hwc(37, 45, 1, Float32Array.from({ length: 37 * 45 }, (_, k) => (Math.hypot((k % 45) - 20 - i, Math.floor(k / 45) - 18) < 16 ? 1 : 0)));
      writeFileSync(join(dir, 'fov', `${s.id}.png`), await encodePng(fov));
    }
    writeFileSync(join(dir, 'split.json'), JSON.stringify({ train: ['img000', 'img001'], val: ['img002'], test: ['img003', 'img004'] }));
    const scan = await scanDataset(dir);
    assert.equal(scan.errors, []);
    const test = scan.dataset!.samples.filter((s) => s.split === 'test');
    assert.is(test.length, 2);

    const g = graphOf(TINY(1, 'sigmoid'));
    const p: Predictor = await createPredictor({ tf, graph: g, weights: weightsOf(g, 21), normalize: STATS, engine: 'ort' });
    const seen: string[] = [];
    const r = await evaluateSplit(p, test, { channels: 3 }, 0.5, { onImage: (s) => void seen.push(s.id) });
    assert.equal(seen, ['img003', 'img004']);
    assert.equal(r.perImage.map((x) => x.id), ['img003', 'img004']);
    const want = [];
    for (const s of test) {
      const l = await loadSample(s, { channels: 3 });
      assert.ok(l.fov);
      want.push(imageMetrics(foreground(await p.predict(l.image), 1, 37 * 45), l.mask.data, l.fov!.data, 0.5));
    }
    assert.equal(r.perImage.map((x) => x.metrics), want);
    assert.equal(r.summary, summarize(want));
    // the FOV changes the counts: without it the accuracy differs
    const l = await loadSample(test[0], { channels: 3 });
    assert.not.equal(imageMetrics(await p.predict(l.image), l.mask.data).accuracy, want[0].accuracy);
    p.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
