// The TypeScript module emitter: the emitted module type-checks on its own (strict, only
// @tensorflow/tfjs), and, transpiled and imported, predict() on a test image gives the executor's
// logits through the activation, with the image normalized and padded to the stride by reflection.
// A tiny spec's emitted source is pinned by a golden file
// (regenerate: UPDATE_GOLDEN=1 node --import tsx test/typescript-emit.test.ts).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { GraphModel, Tensor, Tensor3D, Tensor4D, io } from '@tensorflow/tfjs';
import ts from 'typescript';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile } from '../src/frontend/compile.js';
import { emitTfjsGraphModel, tfjsGraphFiles } from '../src/emit/tfjs-graph.js';
import { emitTypeScriptModule } from '../src/emit/typescript.js';
import type { IrGraph } from '../src/ir/graph.js';
import { loadTf, type TF } from '../src/runtime/backend.js';
import { graphModelFileHandler } from '../src/runtime/tfjs-graph-io.js';
import { compareOutputs, runForm } from '../src/runtime/verify.js';
import { initWeights, randomizeBatchNorm, type WeightStore } from '../src/ir/weights.js';
import { networkStride, padBox } from '../src/ir/stride.js';
import { reflectIndex } from '../src/train/image.js';
import { matchGolden, memHost } from './helpers.js';

interface EmittedModule {
  MODEL_INFO: { stride: readonly [number, number]; classes: number };
  load(url: string | io.IOHandler): Promise<GraphModel>;
  predict<T extends Tensor3D | Tensor4D>(model: GraphModel, image: T, opts?: { normalized?: boolean }): T;
  threshold<T extends Tensor3D | Tensor4D>(probs: T, t?: number): T;
  padBox(h: number, w: number): { top: number; left: number; height: number; width: number };
}

let tf: TF;
// inside the package, so the module's `import '@tensorflow/tfjs'` resolves to the same TF.js as the test's
let dir: string;
test.before(async () => {
  tf = (await loadTf('wasm')).tf;
  mkdirSync('node_modules/.cache', { recursive: true });
  dir = resolve(mkdtempSync('node_modules/.cache/alcli-ts-emit-'));
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

// stride 4: a strided conv, a pool, and the way back up
const TINY = '  c1: {op: conv, in: input, out: 4, kernel: 3, stride: 2}\n  b1: {op: bn}\n  r1: {op: relu}\n  p1: {op: maxpool, kernel: 2}\n  up: {op: resize, scale: 4}\n  cat: {op: concat, in: [up, input]}\n  head: {op: conv, out: CLASSES, kernel: 1, bias: true}';
const NORMALIZE = { mean: [120, 110, 100], std: [60, 50, 40] };

function tiny(size: [number, number], classes = 1, activation = 'sigmoid'): IrGraph {
  const text = `alcli: 1\nname: tiny\ninput: {channels: 3, size: [${size.join(', ')}]}\noutput: {classes: ${classes}, activation: ${activation}}\ngraph:\n${TINY.replace('CLASSES', String(classes))}\n`;
  const r = compile('tiny.yaml', memHost({ 'tiny.yaml': text }));
  if (!r.compiled) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.compiled.graph;
}

/** A test image in 0..255: a bright disc on a gradient, different per channel. */
function image(n: number, h: number, w: number): Float32Array {
  const out = new Float32Array(n * h * w * 3);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let c = 0; c < 3; c++) {
          const disc = (y - h / 2) ** 2 + (x - w / 3 - b) ** 2 < (h * h) / 9 ? 150 : 0;
          out[((b * h + y) * w + x) * 3 + c] = Math.min(255, disc + 8 * x + 3 * y + 20 * c);
        }
  return out;
}

/** Writes model.ts, its transpiled model.mjs and the graph model's files into `sub` and returns the source. */
function writeModule(sub: string, g: IrGraph, w: WeightStore): string {
  const source = emitTypeScriptModule(g, { normalize: NORMALIZE, threshold: 0.5, generatedBy: 'alcli test' });
  const at = join(dir, sub);
  mkdirSync(at, { recursive: true });
  writeFileSync(join(at, 'model.ts'), source);
  const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 } }).outputText;
  writeFileSync(join(at, 'model.mjs'), js);
  for (const [p, bytes] of tfjsGraphFiles(emitTfjsGraphModel(g, w))) writeFileSync(join(at, p), bytes);
  return source;
}

const importModule = async (sub: string) => (await import(pathToFileURL(join(dir, sub, 'model.mjs')).href)) as EmittedModule;

/** Indices of `n` samples, `before` of them ahead, reflected (repeatedly) out to `to`: image.ts reflectIndex. */
const reflected = (n: number, before: number, to: number) => Int32Array.from({ length: to }, (_, i) => reflectIndex(i - before, n));

/** The reference: normalize, reflect-pad to `padded` centred as `alcli predict` does (padBox), run the executor, crop, activation. */
async function reference(w: WeightStore, x: Float32Array, shape: [number, number, number, number], padded: [number, number], classes: number, activation: string): Promise<Float32Array> {
  const [n, h, wd, c] = shape;
  const g = tiny(padded, classes, activation);
  const box = padBox(h, wd, networkStride(g));
  assert.equal([box.height, box.width], padded);
  const norm = tf.tidy(() => {
    const z = tf.div(tf.sub(tf.tensor4d(x, shape), NORMALIZE.mean), NORMALIZE.std);
    return tf.gather(tf.gather(z, reflected(h, box.top, padded[0]), 1), reflected(wd, box.left, padded[1]), 2);
  });
  const logits = await runForm(tf, g, w, (await norm.data()) as Float32Array, [n, padded[0], padded[1], c]);
  norm.dispose();
  const out = tf.tidy(() => {
    const y = tf.slice(tf.tensor4d(logits, [n, padded[0], padded[1], classes]), [0, box.top, box.left, 0], [-1, h, wd, -1]);
    return activation === 'softmax' ? tf.softmax(y, -1) : tf.sigmoid(y);
  });
  const data = (await out.data()) as Float32Array;
  out.dispose();
  return data;
}

test('the emitted module type-checks alone (strict), importing only @tensorflow/tfjs', () => {
  const g = tiny([16, 16]);
  const source = writeModule('sigmoid', g, initWeights(g, 0));
  assert.equal([...source.matchAll(/from '([^']+)'/g)].map((m) => m[1]), ['@tensorflow/tfjs']);
  const program = ts.createProgram([join(dir, 'sigmoid', 'model.ts')], {
    strict: true,
    noEmit: true,
    noUnusedLocals: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ES2022,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    skipLibCheck: true,
    types: [],
  });
  const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  assert.equal(problems, []);
});

const predictCases: [string, [number, number, number], [number, number]][] = [
  ['one 16x16 image (no padding)', [1, 16, 16], [16, 16]],
  ['a batch of 2 at 13x18 (reflect-padded to 16x20)', [2, 13, 18], [16, 20]],
  ['a 3x2 image (smaller than its padding: reflected repeatedly)', [1, 3, 2], [4, 4]],
];

for (const [name, [n, h, wd], padded] of predictCases) {
  test(`predict, ${name}: = sigmoid(executor) (1e-5)`, async () => {
    const g = tiny([16, 16]);
    const w = randomizeBatchNorm(g, initWeights(g, 0), 1);
    writeModule('sigmoid-run', g, w);
    const mod = await importModule('sigmoid-run');
    const model = await mod.load(graphModelFileHandler(join(dir, 'sigmoid-run')));
    const x = image(n, h, wd);
    const input: Tensor = n === 1 ? tf.tensor3d(x, [h, wd, 3]) : tf.tensor4d(x, [n, h, wd, 3]);
    const probs = mod.predict(model, input as Tensor3D);
    assert.equal(probs.shape, n === 1 ? [h, wd, 1] : [n, h, wd, 1]);
    const cmp = compareOutputs(await reference(w, x, [n, h, wd, 3], padded, 1, 'sigmoid'), (await probs.data()) as Float32Array);
    assert.ok(cmp.maxAbs <= 1e-5, JSON.stringify(cmp));
    const mask = mod.threshold(probs);
    assert.is(mask.dtype, 'int32');
    assert.equal(await mask.data(), Int32Array.from(await probs.data(), (p) => (p >= 0.5 ? 1 : 0)));
    tf.dispose([input, probs, mask]);
    model.dispose();
  });
}

test("the module's padBox is alcli's one padding rule (ir/stride.ts padBox, used by alcli predict)", async () => {
  const g = tiny([16, 16]);
  writeModule('pad-rule', g, initWeights(g, 0));
  const mod = await importModule('pad-rule');
  for (const [h, w] of [[16, 16], [13, 18], [3, 2], [50, 37], [1, 1]]) {
    const want = padBox(h, w, networkStride(g));
    assert.equal(mod.padBox(h, w), { top: want.top, left: want.left, height: want.height, width: want.width }, `${h}x${w}`);
  }
});

test('predict with softmax over 3 classes; threshold gives the class of each pixel', async () => {
  const g = tiny([16, 16], 3, 'softmax');
  const w = randomizeBatchNorm(g, initWeights(g, 4), 5);
  writeModule('softmax', g, w);
  const mod = await importModule('softmax');
  const model = await mod.load(graphModelFileHandler(join(dir, 'softmax')));
  const x = image(2, 10, 12);
  const input = tf.tensor4d(x, [2, 10, 12, 3]);
  const probs = mod.predict(model, input);
  const cmp = compareOutputs(await reference(w, x, [2, 10, 12, 3], [12, 12], 3, 'softmax'), (await probs.data()) as Float32Array);
  assert.ok(cmp.maxAbs <= 1e-5, JSON.stringify(cmp));
  const mask = mod.threshold(probs);
  assert.equal(mask.shape, [2, 10, 12, 1]);
  const p = (await probs.data()) as Float32Array;
  assert.equal(await mask.data(), Int32Array.from({ length: p.length / 3 }, (_, i) => [0, 1, 2].reduce((best, k) => (p[3 * i + k] > p[3 * i + best] ? k : best), 0)));
  tf.dispose([input, probs, mask]);
  model.dispose();
});

test('normalize must give one mean and one positive std per input channel', () => {
  const g = tiny([16, 16]);
  assert.throws(() => emitTypeScriptModule(g, { normalize: { mean: [0], std: [1] }, threshold: 0.5 }), /3 means and stds/);
  assert.throws(() => emitTypeScriptModule(g, { normalize: { mean: [0, 0, 0], std: [1, 0, 1] }, threshold: 0.5 }), /positive/);
  assert.match(emitTypeScriptModule(g, { normalize: null, threshold: 0.5 }), 'export const NORMALIZE: Normalization | null = null;');
});

test('golden: the module emitted for a tiny spec', () => {
  const source = emitTypeScriptModule(tiny([16, 16]), { normalize: NORMALIZE, threshold: 0.4, generatedBy: 'alcli test' });
  const path = 'test/golden/typescript-tiny.ts.golden';
  matchGolden(path, source);
});

test.run();
