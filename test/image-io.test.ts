// The `--io image` ONNX graph (src/emit/onnx-image.ts withImageIo) against `alcli predict`'s own
// path (src/train/infer.ts createPredictor) on odd-sized 8-bit images: probabilities to 1e-5 before
// thresholding, masks equal, without TTA and with tta flips (against train/tta.ts withTta; the 4
// mirror images one batch; dihedral refused); the one padding rule (ir/stride.ts padBox) as a
// table; onnx.checker.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { onnxModel } from '../src/emit/onnx.js';
import { decodeModel, encodeModel } from '../src/emit/onnx-proto.js';
import { IMAGE_INPUT, MASK_OUTPUT, PROBABILITIES_OUTPUT, withImageIo, type ImageIoOptions } from '../src/emit/onnx-image.js';
import { networkStride, padBox } from '../src/ir/stride.js';
import { initWeights, randomizeBatchNorm, rng } from '../src/ir/weights.js';
import { deployForm } from '../src/passes/pipeline.js';
import { loadTf } from '../src/runtime/backend.js';
import { runImageOnnx } from '../src/runtime/ort.js';
import { padToMultiple } from '../src/train/augment.js';
import { hwc } from '../src/train/image.js';
import { createPredictor } from '../src/train/infer.js';
import { withTta } from '../src/train/tta.js';
import { assertOnnxChecker, graphOf, maxDiff, strideFourSpec, thrown } from './helpers.js';

const { tf } = await loadTf('wasm');
/** models for the onnx.checker test at the end */
const checked = new Map<string, Uint8Array>();




// ---- the padding rule ----

const PADS: [h: number, w: number, stride: [number, number], box: [top: number, bottom: number, left: number, right: number]][] = [
  [32, 32, [4, 4], [0, 0, 0, 0]],
  [50, 37, [4, 4], [1, 1, 1, 2]],
  [50, 37, [32, 32], [7, 7, 13, 14]],
  [1, 3, [16, 8], [7, 8, 2, 3]],
  [17, 17, [16, 16], [7, 8, 7, 8]],
];
for (const [h, w, stride, box] of PADS)
  test(`padBox ${h}x${w} to stride ${stride.join('x')}: top, bottom, left, right = ${box.join(', ')}; padToMultiple puts the image there`, () => {
    const p = padBox(h, w, stride);
    assert.equal([p.top, p.bottom, p.left, p.right], box);
    assert.equal([p.height, p.width], [h + box[0] + box[1], w + box[2] + box[3]]);
    assert.ok(p.height % stride[0] === 0 && p.width % stride[1] === 0);
    const img = hwc(h, w, 1, Float32Array.from({ length: h * w }, (_, i) => i));
    const { image, box: b } = padToMultiple(img, stride);
    assert.equal([image.height, image.width, b.top, b.left], [p.height, p.width, p.top, p.left]);
    assert.is(image.data[b.top * image.width + b.left], 0, 'the first pixel at (top, left)');
  });

// ---- the image graph against the predictor ----

interface Case {
  name: string;
  channels: number;
  classes: number;
  activation: 'sigmoid' | 'softmax';
  size: [number, number];
  normalize: { mean: number[]; std: number[] } | null;
}
const CASES: Case[] = [
  { name: 'binary, RGB, normalized, 50x37', channels: 3, classes: 1, activation: 'sigmoid', size: [50, 37], normalize: { mean: [0.4, 0.5, 0.6], std: [0.2, 0.25, 0.3] } },
  { name: 'softmax 3 classes, gray, 21x30', channels: 1, classes: 3, activation: 'softmax', size: [21, 30], normalize: null },
  { name: 'binary, gray, 3x2 (smaller than its padding: reflected again)', channels: 1, classes: 1, activation: 'sigmoid', size: [3, 2], normalize: { mean: [0.5], std: [0.25] } },
];

/**
 * The image graph (with `tta`) against alcli predict's path (withTta over createPredictor) on seeded
 * 8-bit pixels: the max |diff| of the probabilities, the mask pixels that differ (a sigmoid pixel
 * within rounding of the cut may fall either way), whether the mask is constant; the threshold cuts
 * between the two middle probabilities so the mask has both values.
 */
async function againstPredict(k: Case, tta: 'none' | 'flips', seed: number) {
  const g = graphOf(strideFourSpec(k.channels, k.classes, k.activation));
  const weights = randomizeBatchNorm(g, initWeights(g, 5), 6);
  const [h, w] = k.size;
  const r = rng(seed);
  const pixels = Uint8Array.from({ length: h * w * k.channels }, () => Math.floor(r.uniform() * 256));
  // predict's path: 8-bit pixels / 255 (decode.ts toImage), then the predictor (TF.js engine)
  const predictor = withTta(await createPredictor({ tf, graph: g, weights, normalize: k.normalize, engine: 'tfjs' }), tta);
  const probs = await predictor.predict(hwc(h, w, k.channels, Float32Array.from(pixels, (v) => v / 255)));
  predictor.dispose();
  const sorted = [...probs].sort((x, y) => x - y);
  const threshold = k.activation === 'sigmoid' ? (sorted[(sorted.length >> 1) - 1] + sorted[sorted.length >> 1]) / 2 : 0.5;
  const d = deployForm(g, { weights });
  const io: ImageIoOptions = { normalize: k.normalize, stride: networkStride(g), activation: k.activation, threshold, classes: k.classes, channels: k.channels };
  const modelOf = (t: 'none' | 'flips') => encodeModel(withImageIo(onnxModel(d.graph, d.weights!), { ...io, tta: t }));
  const model = modelOf(tta);
  checked.set(`${k.name}_${tta}`.replace(/\W+/g, '_'), model);
  const out = await runImageOnnx(model, pixels, [h, w, k.channels], { threads: 1 });
  const n = h * w;
  const mask = Uint8Array.from({ length: n }, (_, i) => {
    if (k.activation === 'sigmoid') return probs[i] >= threshold ? 255 : 0;
    let best = 0;
    for (let c = 1; c < k.classes; c++) if (probs[c * n + i] > probs[best * n + i]) best = c;
    return best;
  });
  const near = (i: number) => k.activation === 'sigmoid' && Math.abs(probs[i] - threshold) < 1e-5;
  return { out, probs, diff: maxDiff(out.probabilities, probs), wrong: [...mask].filter((v, i) => v !== out.mask[i] && !near(i)).length, plain: () => runImageOnnx(modelOf('none'), pixels, [h, w, k.channels], { threads: 1 }) };
}

for (const k of CASES)
  test(`image IO (${k.name}): probabilities equal alcli predict's to 1e-5, the mask equals its mask`, async () => {
    const { out, diff, wrong } = await againstPredict(k, 'none', 11);
    assert.is(out.probabilities.length, k.classes * k.size[0] * k.size[1]);
    assert.ok(diff <= 1e-5, `max |diff| ${diff}`);
    assert.is(wrong, 0, 'mask pixels that differ');
    assert.ok(new Set(out.mask).size > 1, 'the mask is not constant (the test could not tell)');
  });

test('the image model declares uint8 [H, W, C] in, uint8 mask and float32 probabilities out, H and W symbolic', () => {
  const g = graphOf(strideFourSpec(3, 1, 'sigmoid'));
  const d = deployForm(g, { weights: initWeights(g, 1) });
  const m = decodeModel(encodeModel(withImageIo(onnxModel(d.graph, d.weights!), { normalize: null, stride: [4, 4], activation: 'sigmoid', threshold: 0.3, classes: 1, channels: 3 })));
  const info = (v: { name: string; type: { tensor_type: { elem_type: number; shape: { dim: { dim_param?: string; dim_value?: number }[] } } } }) => [v.name, v.type.tensor_type.elem_type, v.type.tensor_type.shape.dim.map((x) => x.dim_param ?? x.dim_value)];
  assert.equal(m.graph.input.map(info), [[IMAGE_INPUT, 2, ['H', 'W', 3]]]);
  assert.equal(m.graph.output.map(info), [[MASK_OUTPUT, 2, ['H', 'W']], [PROBABILITIES_OUTPUT, 1, ['H', 'W']]]);
  assert.ok(m.metadata_props?.some((p) => p.key === 'threshold' && p.value === '0.3'));
});

test('a uint8 image is scaled by 1/255: pixels 0 and 255 give the [0, 1] image, not 0 and 255', async () => {
  // identity network (1x1 conv of weight 1, no activation): probabilities are the normalized pixels
  const g = graphOf(`alcli: 1\nname: id\ninput: {channels: 1, size: [4, 4]}\noutput: {classes: 1, activation: none}\ngraph:\n  head: {op: conv, in: input, out: 1, kernel: 1}\n`);
  const w = initWeights(g, 0);
  w.set('head:kernel', { shape: [1, 1, 1, 1], data: Float32Array.of(1) });
  const model = encodeModel(withImageIo(onnxModel(g, w), { normalize: { mean: [0.5], std: [0.25] }, stride: [1, 1], activation: 'none', threshold: 1, classes: 1, channels: 1 }));
  const out = await runImageOnnx(model, Uint8Array.of(0, 255, 51, 204), [2, 2, 1]);
  assert.equal([...out.probabilities].map((v) => +v.toFixed(5)), [-2, 2, -1.2, 1.2]);
  assert.equal([...out.mask], [0, 255, 0, 255]);
});

// ---- tta flips inside the graph: the 4 mirror images as one batch, each mapped back, their mean ----

/** odd sizes, so the padding is uneven and a mirror image pads differently from the image */
const TTA_CASES: Case[] = [
  { name: 'binary, RGB, normalized, 37x50', channels: 3, classes: 1, activation: 'sigmoid', size: [37, 50], normalize: { mean: [0.4, 0.5, 0.6], std: [0.2, 0.25, 0.3] } },
  { name: 'softmax 3 classes, gray, 37x50', channels: 1, classes: 3, activation: 'softmax', size: [37, 50], normalize: null },
  { name: 'binary, gray, 3x2 (smaller than its padding)', channels: 1, classes: 1, activation: 'sigmoid', size: [3, 2], normalize: { mean: [0.5], std: [0.25] } },
];

for (const k of TTA_CASES)
  test(`image IO with tta flips (${k.name}): probabilities equal alcli predict --tta flips to 1e-5 (and differ from no TTA), masks equal`, async () => {
    const { out, probs, diff, wrong, plain } = await againstPredict(k, 'flips', 13);
    assert.ok(diff <= 1e-5, `max |diff| ${diff}`);
    // the graph without TTA is another map: the test can tell the mean from a single pass
    assert.ok(maxDiff((await plain()).probabilities, probs) > 1e-3, 'no TTA gives the same map: the flips changed nothing');
    assert.is(wrong, 0, 'mask pixels that differ');
    assert.ok(new Set(out.mask).size > 1, 'the mask is not constant (the test could not tell)');
  });

test('the flips graph runs the network once, on a batch of 4; its metadata says tta flips', () => {
  const g = graphOf(strideFourSpec(1, 1, 'sigmoid'));
  const d = deployForm(g, { weights: initWeights(g, 1) });
  const net = onnxModel(d.graph, d.weights!) as { graph: { node: unknown[] } };
  const m = decodeModel(encodeModel(withImageIo(net, { normalize: null, stride: [4, 4], activation: 'sigmoid', threshold: 0.5, classes: 1, channels: 1, tta: 'flips' })));
  assert.is(m.graph.node.filter((n) => n.op_type === 'Conv').length, net.graph.node.filter((n) => (n as { op_type: string }).op_type === 'Conv').length);
  assert.ok(m.metadata_props?.some((p) => p.key === 'tta' && p.value === 'flips'));
});

test('tta dihedral (or anything but none and flips) is refused by the graph, saying why', () => {
  const g = graphOf(strideFourSpec(1, 1, 'sigmoid'));
  const d = deployForm(g, { weights: initWeights(g, 1) });
  for (const tta of ['dihedral', 'rot90']) {
    const e = thrown(() => withImageIo(onnxModel(d.graph, d.weights!), { normalize: null, stride: [4, 4], activation: 'sigmoid', threshold: 0.5, classes: 1, channels: 1, tta: tta as 'flips' }));
    assert.match(e.message, /none or flips/);
    assert.match(e.message, /cannot share one batch/);
  }
});

test('onnx.checker.check_model(full_check=True) accepts the image models', () => {
  assert.ok(checked.size >= CASES.length + TTA_CASES.length, `models collected: ${checked.size}`);
  assertOnnxChecker(checked);
});

test.run();
