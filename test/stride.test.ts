// The network stride (src/ir/stride.ts): every path merged back with a finer one counts its
// downsampling whatever the resize spelling, so a U-Net written `resize like: skip` has the stride
// of the one written `scale: 2`, is refused at sizes that do not divide by it, and predicts the same
// probabilities on odd-sized images (both padded to the stride). Size-free paths (a global pool, a
// fixed `size:`, a resize to the input never merged, a pyramid-pooling `stretch: true`) do not count.
import { readdirSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile } from '../src/frontend/compile.js';
import { renderDiagnostics } from '../src/frontend/diagnostics.js';
import type { IrGraph } from '../src/ir/graph.js';
import { initWeights, randomizeBatchNorm, rng } from '../src/ir/weights.js';
import { loadTf } from '../src/runtime/backend.js';
import { hwc } from '../src/train/image.js';
import { createPredictor } from '../src/train/infer.js';
import { fsHost, memHost } from './helpers.js';

const spec = (graph: string, size = '[32, 32]', classes = 1) =>
  `alcli: 1\nname: t\ninput: {channels: 2, size: ${size}}\noutput: {classes: ${classes}, activation: sigmoid}\ngraph:\n${graph.replace(/^/gm, '  ').trimEnd()}\n`;

/** A two-level U-Net (stride 4); `up` spells each decoder upsampling, given the skip it joins. */
const unet = (up: (skip: string) => string) => `e1: {op: conv, in: input, out: 4, kernel: 3}
e1_bn: {op: bn}
e1_r: {op: relu}
p1: {op: maxpool, kernel: 2}
e2: {op: conv, out: 6, kernel: 3}
e2_bn: {op: bn}
e2_r: {op: relu}
p2: {op: maxpool, kernel: 2}
b: {op: conv, out: 8, kernel: 3}
b_r: {op: relu}
u2: {op: resize, ${up('e2_r')}}
c2: {op: concat, in: [e2_r, u2]}
d2: {op: conv, out: 6, kernel: 3}
d2_r: {op: relu}
u1: {op: resize, ${up('e1_r')}}
c1: {op: concat, in: [e1_r, u1]}
d1: {op: conv, out: 4, kernel: 3}
d1_r: {op: relu}
head: {op: conv, out: classes, kernel: 1, bias: true}`;
const UNET_SCALE = spec(unet(() => 'scale: 2'));
const UNET_LIKE = spec(unet((skip) => `like: ${skip}`));

function compiled(text: string, size?: [number, number]) {
  return compile('t.yaml', memHost({ 't.yaml': text }), { size });
}
function graphOf(text: string, size?: [number, number]): IrGraph {
  const r = compiled(text, size);
  assert.ok(r.compiled, renderDiagnostics(r.diagnostics, r.sources));
  return r.compiled!.graph;
}

// [case, spec, stride]
const cases: [string, string, [number, number]][] = [
  ['U-Net, decoder resizes by scale: 2', UNET_SCALE, [4, 4]],
  ['the same U-Net, decoder resizes like: the skip', UNET_LIKE, [4, 4]],
  ['deeplab-style decoder: a stride-4 path resized like: a stride-1 node and concatenated', spec('a: {op: conv, in: input, out: 4, kernel: 3}\nd: {op: conv, out: 4, kernel: 3, stride: 4}\nu: {op: resize, like: a}\nk: {op: concat, in: [a, u]}\nh: {op: conv, out: classes, kernel: 1}'), [4, 4]],
  ['merged further on: like-resize, then a conv, then the add', spec('a: {op: conv, in: input, out: 4, kernel: 3}\nd: {op: maxpool, kernel: 2}\nu: {op: resize, like: a}\nc: {op: conv, out: 4, kernel: 3}\ns: {op: add, in: [a, c]}\nh: {op: conv, out: classes, kernel: 1}'), [2, 2]],
  ['anisotropic: a [2, 1]-strided path resized like: the input and added', spec('a: {op: conv, in: input, out: 4, kernel: 3}\nd: {op: conv, out: 4, kernel: 3, stride: [2, 1]}\nu: {op: resize, like: a}\ns: {op: add, in: [a, u]}\nh: {op: conv, out: classes, kernel: 1}'), [2, 1]],
  ['image pooling (ASPP): global pool, 1x1 conv, resize like: x, concat', spec('a: {op: conv, in: input, out: 4, kernel: 3}\ng: {op: global_avgpool}\nc: {op: conv, out: 4, kernel: 1}\nu: {op: resize, like: a}\nk: {op: concat, in: [a, u]}\nh: {op: conv, out: classes, kernel: 1}'), [1, 1]],
  ['a strided path then a fixed size: resize, merged', spec('a: {op: conv, in: input, out: 4, kernel: 3}\nd: {op: maxpool, kernel: 2}\nz: {op: resize, size: [4, 4]}\nu: {op: resize, like: a}\nk: {op: concat, in: [a, u]}\nh: {op: conv, out: classes, kernel: 1}'), [1, 1]],
  ['a final resize like: the input, never merged: size-free', spec('a: {op: conv, in: input, out: 4, kernel: 3, stride: 2}\nh: {op: conv, out: classes, kernel: 1}\nu: {op: resize, like: input}'), [1, 1]],
  ['pyramid-pooling bin (pool 3) resized like: x, stretch: true', spec('a: {op: conv, in: input, out: 4, kernel: 3}\np: {op: maxpool, kernel: 3}\nc: {op: conv, out: 1, kernel: 1}\nu: {op: resize, like: a, stretch: true}\nk: {op: concat, in: [u, a]}\nh: {op: conv, out: classes, kernel: 1}', '[33, 33]'), [1, 1]],
  ['the same bin without stretch: counts', spec('a: {op: conv, in: input, out: 4, kernel: 3}\np: {op: maxpool, kernel: 3}\nc: {op: conv, out: 1, kernel: 1}\nu: {op: resize, like: a}\nk: {op: concat, in: [u, a]}\nh: {op: conv, out: classes, kernel: 1}', '[33, 33]'), [3, 3]],
];
for (const [name, text, stride] of cases) {
  test(`${name}: stride ${stride.join('x')}`, () => {
    assert.equal(compiled(text).compiled?.stride, stride, renderDiagnostics(compiled(text).diagnostics, compiled(text).sources));
  });
}

test('stretch: is for resize like: only', () => {
  const r = compiled(spec('a: {op: conv, in: input, out: 4, kernel: 3}\nu: {op: resize, scale: 2, stretch: true}\nh: {op: conv, out: classes, kernel: 1}'));
  assert.equal(r.diagnostics.map((d) => d.code), ['shape-error']);
  assert.match(r.diagnostics[0].message, 'stretch');
});

test('validate --size 37x50: the like-spelled U-Net is refused as the scale-spelled one is (input-stride, use 40x52)', () => {
  for (const text of [UNET_SCALE, UNET_LIKE]) {
    const r = compiled(text, [37, 50]);
    assert.equal(r.diagnostics.map((d) => d.code), ['input-stride']);
    assert.match(r.diagnostics[0].message, 'does not divide by the network stride 4');
    assert.match(r.diagnostics[0].hint ?? '', 'use 40x52 (--size)');
  }
});

// every network of architectures/ and its stride; deeplabv3plus was 4 before a `like:` path merged
// with a finer one counted (its ASPP output, at 16, is resized like: layer1 and concatenated)
const strides: Record<string, number> = {
  alnet: 32,
  'alnet-aspp': 32,
  'alnet-resnet34': 32,
  'alnet-udecoder': 32,
  cenet: 32,
  deeplabv3plus: 16,
  pyconvunet: 16,
  'unet-repvgg': 32,
  unetpp: 16,
};
test('the stride of every spec in architectures/', () => {
  const got: Record<string, number[] | undefined> = {};
  for (const f of readdirSync('architectures').filter((n) => n.endsWith('.yaml'))) got[f.replace(/\.yaml$/, '')] = compile(`architectures/${f}`, fsHost).compiled?.stride;
  assert.equal(got, Object.fromEntries(Object.entries(strides).map(([k, s]) => [k, [s, s]])));
});

test('predict: the two spellings give the same probabilities on odd-sized images (same seeded weights)', async () => {
  const { tf } = await loadTf('wasm');
  const gs = graphOf(UNET_SCALE);
  const gl = graphOf(UNET_LIKE);
  const weights = randomizeBatchNorm(gs, initWeights(gs, 5), 6);
  const a = await createPredictor({ tf, graph: gs, weights, normalize: null, engine: 'tfjs' });
  const b = await createPredictor({ tf, graph: gl, weights, normalize: null, engine: 'tfjs' });
  try {
    assert.equal([a.stride, b.stride], [[4, 4], [4, 4]]);
    for (const [h, w, seed] of [[37, 50, 1], [21, 13, 2]]) {
      const r = rng(seed);
      const img = hwc(h, w, 2, Float32Array.from({ length: h * w * 2 }, () => r.uniform()));
      const pa = await a.predict(img);
      const pb = await b.predict(img);
      assert.is(pa.length, h * w);
      let diff = 0;
      for (let i = 0; i < pa.length; i++) diff = Math.max(diff, Math.abs(pa[i] - pb[i]));
      assert.ok(diff < 1e-5, `${h}x${w}: max |difference| ${diff}`);
      // and the outputs differ somewhere (the test would pass on a constant network otherwise)
      assert.ok(Math.max(...pa) - Math.min(...pa) > 1e-3, `${h}x${w}: a non-constant prediction`);
    }
  } finally {
    a.dispose();
    b.dispose();
  }
});

test.run();
