// Test-time augmentation inside the `--io image` ONNX graph (emit/onnx-image.ts, tta `flips`): the
// 4 mirror images as one batch, each mapped back, their mean, against `alcli predict --tta flips`
// (train/tta.ts withTta over train/infer.ts createPredictor) on odd-sized 8-bit images, binary and
// softmax; the masks from the mean; dihedral refused; onnx.checker accepts the graph.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { onnxModel } from '../src/emit/onnx.js';
import { decodeModel, encodeModel } from '../src/emit/onnx-proto.js';
import { withImageIo, type ImageIoOptions } from '../src/emit/onnx-image.js';
import { networkStride } from '../src/ir/stride.js';
import { initWeights, randomizeBatchNorm, rng } from '../src/ir/weights.js';
import { deployForm } from '../src/passes/pipeline.js';
import { loadTf } from '../src/runtime/backend.js';
import { runImageOnnx } from '../src/runtime/ort.js';
import { hwc } from '../src/train/image.js';
import { createPredictor } from '../src/train/infer.js';
import { withTta } from '../src/train/tta.js';
import { assertOnnxChecker, graphOf, maxDiff, strideFourSpec, thrown } from './helpers.js';

const { tf } = await loadTf('wasm');




interface Case {
  name: string;
  channels: number;
  classes: number;
  activation: 'sigmoid' | 'softmax';
  /** [H, W]: odd sizes, so the padding is uneven and a mirror image pads differently from the image */
  size: [number, number];
  normalize: { mean: number[]; std: number[] } | null;
}
const CASES: Case[] = [
  { name: 'binary, RGB, normalized, 37x50', channels: 3, classes: 1, activation: 'sigmoid', size: [37, 50], normalize: { mean: [0.4, 0.5, 0.6], std: [0.2, 0.25, 0.3] } },
  { name: 'softmax 3 classes, gray, 37x50', channels: 1, classes: 3, activation: 'softmax', size: [37, 50], normalize: null },
  { name: 'binary, gray, 3x2 (smaller than its padding)', channels: 1, classes: 1, activation: 'sigmoid', size: [3, 2], normalize: { mean: [0.5], std: [0.25] } },
];
const checked = new Map<string, Uint8Array>();

for (const k of CASES)
  test(`image IO with tta flips (${k.name}): probabilities equal alcli predict --tta flips to 1e-5 (and differ from no TTA), masks equal`, async () => {
    const g = graphOf(strideFourSpec(k.channels, k.classes, k.activation));
    const weights = randomizeBatchNorm(g, initWeights(g, 5), 6);
    const [h, w] = k.size;
    const r = rng(13);
    const pixels = Uint8Array.from({ length: h * w * k.channels }, () => Math.floor(r.uniform() * 256));
    const predictor = withTta(await createPredictor({ tf, graph: g, weights, normalize: k.normalize, engine: 'tfjs' }), 'flips');
    const probs = await predictor.predict(hwc(h, w, k.channels, Float32Array.from(pixels, (v) => v / 255)));
    predictor.dispose();
    const sorted = [...probs].sort((x, y) => x - y);
    const threshold = k.activation === 'sigmoid' ? (sorted[(sorted.length >> 1) - 1] + sorted[sorted.length >> 1]) / 2 : 0.5;
    const d = deployForm(g, { weights });
    const io: ImageIoOptions = { normalize: k.normalize, stride: networkStride(g), activation: k.activation, threshold, classes: k.classes, channels: k.channels };
    const model = encodeModel(withImageIo(onnxModel(d.graph, d.weights!), { ...io, tta: 'flips' }));
    checked.set(k.name.replace(/\W+/g, '_'), model);
    const out = await runImageOnnx(model, pixels, [h, w, k.channels], { threads: 1 });
    const diff = maxDiff(out.probabilities, probs);
    assert.ok(diff <= 1e-5, `max |diff| ${diff}`);
    // the graph without TTA is another map: the test can tell the mean from a single pass
    const plain = await runImageOnnx(encodeModel(withImageIo(onnxModel(d.graph, d.weights!), io)), pixels, [h, w, k.channels], { threads: 1 });
    assert.ok(maxDiff(plain.probabilities, probs) > 1e-3, 'no TTA gives the same map: the flips changed nothing');
    const n = h * w;
    const mask = Uint8Array.from({ length: n }, (_, i) => {
      if (k.activation === 'sigmoid') return probs[i] >= threshold ? 255 : 0;
      let best = 0;
      for (let c = 1; c < k.classes; c++) if (probs[c * n + i] > probs[best * n + i]) best = c;
      return best;
    });
    const near = (i: number) => k.activation === 'sigmoid' && Math.abs(probs[i] - threshold) < 1e-5;
    assert.is([...mask].filter((v, i) => v !== out.mask[i] && !near(i)).length, 0, 'mask pixels that differ');
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

test('onnx.checker.check_model(full_check=True) accepts the flips graphs', () => {
  assert.ok(checked.size >= CASES.length, `models collected: ${checked.size}`);
  assertOnnxChecker(checked);
});

test.run();
