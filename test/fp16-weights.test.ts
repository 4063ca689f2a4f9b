// Lower-precision weight storage: float32 -> float16 bit patterns (a table and every half value),
// uint8 affine per tensor (tfjs-converter's rule), the TF.js graph model with float16 and uint8
// storage loaded by tf.loadGraphModel, and the fp16 ONNX (float16 weights, float32 IO) in ONNX
// Runtime and onnx.checker.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tensor } from '@tensorflow/tfjs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { emitTfjsGraphModel, tfjsGraphFiles } from '../src/emit/tfjs-graph.js';
import { onnxModel } from '../src/emit/onnx.js';
import { toFloat16Onnx, Float16Error, FP32_OPS } from '../src/emit/onnx-fp16.js';
import { DataType, decodeModel, encodeModel } from '../src/emit/onnx-proto.js';
import { exportWeightsFromSpec } from '../src/export/export.js';
import { compile, type Compiled } from '../src/frontend/compile.js';
import { floatToHalf, halfToFloat } from '../src/ir/float16.js';
import { quantizeTensor, type WeightDtype } from '../src/ir/weights-manifest.js';
import { initWeights, type WeightStore } from '../src/ir/weights.js';
import { deployForm } from '../src/passes/pipeline.js';
import { loadTf } from '../src/runtime/backend.js';
import { runOnnx } from '../src/runtime/ort.js';
import { graphModelHandler } from '../src/runtime/tfjs-graph-io.js';
import { compareOutputs, randomInput } from '../src/runtime/verify.js';
import { fsHost, memHost, tinySpec } from './helpers.js';

const scratch = mkdtempSync(join(tmpdir(), 'alcli-fp16-test-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));

// [value, half bits, why]
const HALVES: [number, number, string][] = [
  [0, 0x0000, 'zero'],
  [-0, 0x8000, 'negative zero keeps its sign'],
  [1, 0x3c00, 'one'],
  [-2, 0xc000, 'minus two'],
  [0.1, 0x2e66, '0.1 rounds down (0.0999755859375)'],
  [1 + 2 ** -11, 0x3c00, 'halfway between 1 and the next half: ties to even (down)'],
  [1 + 3 * 2 ** -11, 0x3c02, 'halfway between 0x3c01 and 0x3c02: ties to even (up)'],
  [1 + 2 ** -11 + 2 ** -20, 0x3c01, 'just past halfway rounds up'],
  [65504, 0x7bff, 'the largest half'],
  [65519, 0x7bff, 'below halfway to 65536 stays finite'],
  [65520, 0x7c00, 'halfway to 65536 ties to even: infinity'],
  [1e6, 0x7c00, 'past the range: infinity'],
  [-1e6, 0xfc00, 'past the range, negative: -infinity'],
  [Infinity, 0x7c00, 'infinity'],
  [-Infinity, 0xfc00, '-infinity'],
  [NaN, 0x7e00, 'NaN: a quiet NaN'],
  [2 ** -14, 0x0400, 'the smallest normal'],
  [2 ** -14 - 2 ** -24, 0x03ff, 'the largest subnormal'],
  [2 ** -24, 0x0001, 'the smallest subnormal'],
  [3 * 2 ** -24, 0x0003, 'a subnormal multiple of 2^-24'],
  [2.5 * 2 ** -24, 0x0002, 'subnormal halfway: ties to even (down)'],
  [1.5 * 2 ** -24, 0x0002, 'subnormal halfway: ties to even (up)'],
  [2 ** -25, 0x0000, 'half the smallest subnormal ties to even: zero'],
  [1.5 * 2 ** -25, 0x0001, 'past half the smallest subnormal: rounds up to it'],
  [-(2 ** -26), 0x8000, 'underflow keeps the sign'],
  [1e-45, 0x0000, 'a float32 subnormal: zero'],
];

test('floatToHalf: round to nearest even, infinities, NaN, subnormals', () => {
  for (const [x, bits, why] of HALVES) assert.is(floatToHalf(x).toString(16), bits.toString(16), `${x}: ${why}`);
});

test('floatToHalf inverts halfToFloat on every one of the 65536 half values but NaNs', () => {
  let wrong = 0;
  for (let h = 0; h < 0x10000; h++) if (!Number.isNaN(halfToFloat(h)) && floatToHalf(halfToFloat(h)) !== h) wrong++;
  assert.is(wrong, 0);
});

// [values, expected min, scale, stored bytes, why]
const AFFINE: [number[], number, number, number[], string][] = [
  [[0, 1, 2.55], 0, 0.01, [0, 100, 255], 'min 0: no nudge'],
  [[-1, 0, 1.55], -1, 0.01, [0, 100, 255], 'zero on the grid already'],
  [[-1.004, 0, 1.546], -1, 0.01, [0, 100, 255], 'min nudged to the grid so 0 is exact; values past max clip'],
  [[1, 2, 3.55], 1, 0.01, [0, 100, 255], 'range without zero: not nudged'],
  [[0.5, 0.5], 0.5, 1, [0, 0], 'constant tensor: zeros, min = the value, scale 1'],
];

test('uint8 affine storage: tfjs-converter rule, zero stored exactly', () => {
  for (const [values, min, scale, bytes, why] of AFFINE) {
    const { bytes: q, quantization } = quantizeTensor(Float32Array.from(values), 'uint8');
    assert.ok(quantization.dtype === 'uint8');
    if (quantization.dtype !== 'uint8') continue;
    assert.ok(Math.abs(quantization.min - min) < 1e-6 && Math.abs(quantization.scale - scale) < 1e-6, `${why}: min ${quantization.min}, scale ${quantization.scale}`);
    assert.equal([...q], bytes, why);
  }
});

// ---- the TF.js graph model ----

const { tf } = await loadTf('cpu');
const tiny = compile('tiny.yaml', memHost({ 'tiny.yaml': tinySpec({ epochs: 1, deep: true }) })).compiled!;
const tinyDeploy = await deployed(tiny);

async function deployed(c: Compiled): Promise<{ graph: Compiled['graph']; weights: WeightStore }> {
  const d = deployForm(c.graph, { weights: await exportWeightsFromSpec(tf, c, 0, 2) });
  return { graph: d.graph, weights: d.weights! };
}

/** The weights as tf.loadGraphModel reads them back from `dtype` storage (float32 after dequantization). */
function storedAs(weights: WeightStore, dtype: Exclude<WeightDtype, 'float32'>): WeightStore {
  const out: WeightStore = new Map();
  for (const [k, t] of weights) {
    const { bytes, quantization: qz } = quantizeTensor(t.data, dtype);
    const data = qz.dtype === 'float16' ? Float32Array.from(new Uint16Array(bytes.buffer, bytes.byteOffset, t.data.length), halfToFloat) : Float32Array.from(bytes, (v) => v * qz.scale + qz.min);
    out.set(k, { shape: t.shape, data });
  }
  return out;
}

async function graphModelLogits(weights: WeightStore, dtype: WeightDtype, input: Float32Array, shape: [number, number, number, number]): Promise<Float32Array> {
  const files = tfjsGraphFiles(emitTfjsGraphModel(tinyDeploy.graph, weights, { weightDtype: dtype }));
  const model = await tf.loadGraphModel(graphModelHandler((p) => files.get(p)!));
  const x = tf.tensor4d(input, shape);
  const y = model.execute(x) as Tensor;
  const out = (await y.data()) as Float32Array;
  tf.dispose([x, y]);
  model.dispose();
  return out;
}

const shape: [number, number, number, number] = [2, 32, 32, 1];
const input = randomInput(shape, 1);

// [storage, tolerance against float32 (times max(1, max |logit|)), why that tolerance]
const STORAGE: [Exclude<WeightDtype, 'float32'>, number, string][] = [
  ['float16', 2e-3, 'each weight within 2^-11 of itself (relative); 4 layers of it; measured 5.6e-4'],
  ['uint8', 5e-2, 'each weight within scale/2 = range/510 of itself (0.2 % of its tensor range); measured 1.7e-2'],
];

for (const [dtype, tolerance, why] of STORAGE) {
  test(`TF.js graph model with ${dtype} weights: tf.loadGraphModel dequantizes them as stored, logits near float32`, async () => {
    const fp32 = await graphModelLogits(tinyDeploy.weights, 'float32', input, shape);
    const stored = await graphModelLogits(tinyDeploy.weights, dtype, input, shape);
    // exact: TF.js computes in float32 from the dequantized weights, as the float32 model of those weights does
    const same = compareOutputs(await graphModelLogits(storedAs(tinyDeploy.weights, dtype), 'float32', input, shape), stored);
    assert.ok(same.maxAbs <= 1e-6, `${dtype} storage vs float32 model of the dequantized weights: ${same.maxAbs}`);
    const near = compareOutputs(fp32, stored);
    assert.ok(near.maxAbs > 0, 'the storage changed the weights');
    assert.ok(near.maxAbs <= tolerance * Math.max(1, near.maxRef), `${dtype} vs float32: max abs ${near.maxAbs} (max |logit| ${near.maxRef}), tolerance ${tolerance}: ${why}`);
  });
}

test('alnet at its default size (512x512): float16 weights are half the float32 bytes, uint8 a quarter (int32 constants as they are)', () => {
  const c = compile('architectures/alnet.yaml', fsHost).compiled!;
  const d = deployForm(c.graph, { weights: initWeights(c.graph, 0) });
  const models = Object.fromEntries((['float32', 'float16', 'uint8'] as const).map((t) => [t, emitTfjsGraphModel(d.graph, d.weights!, { weightDtype: t })]));
  const model = (dtype: WeightDtype) => models[dtype];
  const fp32 = model('float32');
  const count = (dtype: 'float32' | 'int32') => fp32.modelJson.weightsManifest[0].weights.filter((w) => w.dtype === dtype).reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1), 0);
  const [floats, ints] = [count('float32'), count('int32')];
  const bytes = Object.fromEntries((['float32', 'float16', 'uint8'] as const).map((t) => [t, model(t).weightData.byteLength]));
  assert.equal(bytes, { float32: 4 * floats + 4 * ints, float16: 2 * floats + 4 * ints, uint8: floats + 4 * ints });
  assert.equal(bytes, { float32: 13_538_184, float16: 6_769_154, uint8: 3_384_639 }, 'the numbers the README quotes');
  const manifest = model('float16').modelJson.weightsManifest[0];
  assert.ok(manifest.weights.every((w) => (w.dtype === 'float32' ? w.quantization?.dtype === 'float16' : !w.quantization)), 'every float32 constant, and only those, stored as float16');
  assert.equal(manifest.paths, ['group1-shard1of2.bin', 'group1-shard2of2.bin'], '4 MiB shards, as tfjs-converter cuts them');
});

// ---- fp16 ONNX ----

test('fp16 ONNX: float16 weights, float32 input and logits, Resize in float32, the model it was made from untouched', () => {
  const m32 = onnxModel(tinyDeploy.graph, tinyDeploy.weights);
  const before = encodeModel(m32);
  const m16 = decodeModel(encodeModel(toFloat16Onnx(m32)));
  assert.ok(Buffer.from(encodeModel(m32)).equals(Buffer.from(before)), 'toFloat16Onnx returns a new model');
  assert.equal([m16.graph.input[0].name, m16.graph.input[0].type.tensor_type.elem_type, m16.graph.output[0].name, m16.graph.output[0].type.tensor_type.elem_type], ['input', DataType.FLOAT, 'logits', DataType.FLOAT]);
  const types = new Map(m16.graph.initializer.map((t) => [t.name, t.data_type]));
  for (const n of m16.graph.node.filter((n) => n.op_type === 'Conv')) for (const i of n.input.slice(1)) assert.is(types.get(i), DataType.FLOAT16, `${n.name} reads ${i} as float16`);
  const writer = new Map(m16.graph.node.flatMap((n) => n.output.map((o) => [o, n])));
  const resize = m16.graph.node.find((n) => n.op_type === 'Resize')!;
  const cast = writer.get(resize.input[0])!;
  assert.equal([cast.op_type, cast.attribute?.[0].i], ['Cast', DataType.FLOAT], 'Resize reads float32');
  assert.equal(writer.get('logits')!.op_type, 'Cast', 'logits cast back to float32');
  assert.ok(m16.metadata_props?.some((p) => p.key === 'precision' && p.value.includes('Resize')));
});

test('fp16 ONNX runs in ONNX Runtime (CPU) near the float32 model, and onnx.checker accepts it', async () => {
  const m32 = onnxModel(tinyDeploy.graph, tinyDeploy.weights);
  const [b32, b16] = [encodeModel(m32), encodeModel(toFloat16Onnx(m32))];
  const floatBytes = (b: Uint8Array, type: number) => decodeModel(b).graph.initializer.filter((t) => t.data_type === type).reduce((s, t) => s + t.raw_data!.byteLength, 0);
  // Resize's scales stay float32 (ONNX defines them so): 16 bytes
  const m16 = decodeModel(b16);
  const scales = new Set(m16.graph.node.filter((n) => n.op_type === 'Resize').map((n) => n.input[2]));
  assert.equal(m16.graph.initializer.filter((t) => t.data_type === DataType.FLOAT).map((t) => t.name), [...scales], 'the only float32 initializers left: Resize scales');
  assert.is(floatBytes(b16, DataType.FLOAT16), (floatBytes(b32, DataType.FLOAT) - floatBytes(b16, DataType.FLOAT)) / 2, 'float16 weights: half the bytes');
  const c = compareOutputs(await runOnnx(b32, input, shape, { threads: 2 }), await runOnnx(b16, input, shape, { threads: 2 }));
  // weights and the activations at each Cast rounded to half (2^-11 relative); measured 5.6e-4
  assert.ok(c.maxAbs > 0 && c.maxAbs <= 2e-3 * Math.max(1, c.maxRef), `fp16 vs fp32 ONNX: max abs ${c.maxAbs} (max |logit| ${c.maxRef})`);

  const probe = spawnSync('/usr/bin/python3', ['-c', 'import onnx'], { encoding: 'utf8' });
  if (probe.status !== 0) assert.unreachable(`python3-onnx is required for this test: apt-get install -y python3-onnx (${(probe.stderr || String(probe.error)).trim().split('\n').at(-1)})`);
  writeFileSync(join(scratch, 'model.fp16.onnx'), b16);
  const r = spawnSync('/usr/bin/python3', ['-c', 'import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)', join(scratch, 'model.fp16.onnx')], { encoding: 'utf8' });
  assert.is(r.status, 0, `onnx.checker rejected:\n${r.stdout}${r.stderr}`);
});

test('toFloat16Onnx refuses an op it cannot place, and a weight past 65504', () => {
  const m = onnxModel(tinyDeploy.graph, tinyDeploy.weights) as ReturnType<typeof decodeModel>;
  const odd = { ...m, graph: { ...m.graph, node: m.graph.node.map((n, i) => (i === 0 ? { ...n, op_type: 'Erf' } : n)) } };
  assert.throws(() => toFloat16Onnx(odd), (e: Error) => e instanceof Float16Error && /Erf/.test(e.message) && /FP16_OPS or FP32_OPS/.test(e.message));
  const w = m.graph.initializer.find((t) => t.data_type === DataType.FLOAT && t.dims.length === 4)!;
  const big = { ...m, graph: { ...m.graph, initializer: m.graph.initializer.map((t) => (t === w ? { ...t, raw_data: new Uint8Array(Float32Array.of(...new Float32Array(t.raw_data!.byteLength / 4).fill(1e5)).buffer) } : t)) } };
  assert.throws(() => toFloat16Onnx(big), (e: Error) => e instanceof Float16Error && /65504/.test(e.message));
  assert.ok(Object.keys(FP32_OPS).includes('Resize'));
});

test.run();
