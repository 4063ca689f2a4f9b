// Symbolic input size: one ONNX model (src/emit/onnx.ts) runs at two sizes and equals the TF.js
// executor on the graph re-shaped to each (ir/resize-graph.ts); Triton says -1; a network that
// resizes to an absolute size stays fixed, with the reason; `alcli export` checks ONNX at two sizes
// and writes model.image.onnx with --io image (verify.json, MODEL_CARD.md).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile } from '../src/frontend/compile.js';
import { emitOnnx, onnxSizeForm } from '../src/emit/onnx.js';
import { decodeModel } from '../src/emit/onnx-proto.js';
import { tritonConfig } from '../src/emit/triton.js';
import type { IrGraph } from '../src/ir/graph.js';
import { resizeGraph } from '../src/ir/resize-graph.js';
import { fixedSizeReason, networkStride } from '../src/ir/stride.js';
import { initWeights, randomizeBatchNorm } from '../src/ir/weights.js';
import { deployForm } from '../src/passes/pipeline.js';
import { exportArtifacts } from '../src/export/export.js';
import { BadOptionsError } from '../src/train/errors.js';
import { loadTf } from '../src/runtime/backend.js';
import { runOnnx } from '../src/runtime/ort.js';
import { compareOutputs, randomInput, runForm } from '../src/runtime/verify.js';
import { fsHost, graphOf } from './helpers.js';

const { tf } = await loadTf('wasm');
const scratch = mkdtempSync(join(tmpdir(), 'alcli-dynamic-size-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));

/** Stride 4: a resize like: a skip (Shape at run time) and a resize by scale (a constant); `size` adds a resize to an absolute size. */
const TINY = (tail = '') => `alcli: 1
name: tiny
input: {channels: 2, size: [16, 16]}
output: {classes: 2, activation: softmax}
graph:
  a: {op: conv, in: input, out: 4, kernel: 3, stride: 2}
  a_bn: {op: bn}
  a_r: {op: relu}
  b: {op: conv, out: 4, kernel: 3, stride: 2}
  b_r: {op: relu}
  up: {op: resize, like: a_r}
  cat: {op: concat, in: [a_r, up]}
  head: {op: conv, out: 2, kernel: 1, bias: true}
  logits: {op: resize, scale: 2}
${tail}`;
const FIXED_TAIL = '  out: {op: resize, size: [16, 16]}\n';

const dims = (v: unknown) => (v as { type: { tensor_type: { shape: { dim: { dim_param?: string; dim_value?: number }[] } } } }).type.tensor_type.shape.dim.map((d) => d.dim_param ?? d.dim_value);

const CASES: [name: string, graph: () => IrGraph, sizes: [number, number][], tolerance: number][] = [
  ['tiny (resize like: and scale:)', () => graphOf(TINY()), [[16, 16], [20, 28]], 1e-5],
  ['alnet at 32x32', () => compile('architectures/alnet.yaml', fsHost, { size: [32, 32] }).compiled!.graph, [[32, 32], [64, 32]], 1e-4],
];

for (const [name, make, sizes, tolerance] of CASES)
  test(`${name}: one ONNX model with symbolic H, W runs at ${sizes.map((s) => s.join('x')).join(' and ')}, equal to the executor re-shaped to each`, async () => {
    const g = make();
    const weights = randomizeBatchNorm(g, initWeights(g, 2), 3);
    const d = deployForm(g, { weights });
    const model = emitOnnx(d.graph, d.weights!);
    const m = decodeModel(model);
    assert.equal(dims(m.graph.input[0]), ['N', g.input.channels, 'H', 'W']);
    assert.equal(dims(m.graph.output[0]), ['N', g.output.classes, 'H', 'W']);
    for (const [h, w] of sizes) {
      assert.ok(h % networkStride(g)[0] === 0 && w % networkStride(g)[1] === 0);
      const shape: [number, number, number, number] = [1, h, w, g.input.channels];
      const x = randomInput(shape, h + w);
      const r = compareOutputs(await runForm(tf, resizeGraph(g, [h, w]), weights, x, shape), await runOnnx(model, x, shape, { threads: 1 }));
      assert.ok(r.maxAbs <= tolerance * Math.max(1, r.maxRef), `${h}x${w}: max abs diff ${r.maxAbs} (max |logit| ${r.maxRef})`);
    }
  });

test('Triton config: dims -1 for H and W of a symbolic network, the compiled size of a fixed one', () => {
  const free = deployForm(graphOf(TINY())).graph;
  const fixed = deployForm(graphOf(TINY(FIXED_TAIL))).graph;
  assert.match(tritonConfig('tiny', free), /name: "input"\n {4}data_type: TYPE_FP32\n {4}dims: \[ 2, -1, -1 \]/);
  assert.match(tritonConfig('tiny', free), /name: "logits"\n {4}data_type: TYPE_FP32\n {4}dims: \[ 2, -1, -1 \]/);
  assert.match(tritonConfig('tiny', fixed), /dims: \[ 2, 16, 16 \]/);
  assert.match(tritonConfig('tiny', free, { size: 'fixed' }), /dims: \[ 2, 16, 16 \]/);
});

test('a network that resizes to an absolute size stays fixed, and says why; size: fixed keeps the old form', () => {
  const fixed = graphOf(TINY(FIXED_TAIL));
  const reason = fixedSizeReason(fixed);
  assert.match(reason ?? '', /'out' resizes to the absolute size 16x16/);
  assert.equal(onnxSizeForm(fixed), { form: 'fixed', reason });
  assert.equal(onnxSizeForm(graphOf(TINY())), { form: 'symbolic' });
  const free = graphOf(TINY());
  const w = initWeights(fixed, 0);
  assert.equal(dims(decodeModel(emitOnnx(fixed, w)).graph.input[0]), ['N', 2, 16, 16]);
  assert.equal(dims(decodeModel(emitOnnx(free, initWeights(free, 0), { size: 'fixed' })).graph.input[0]), ['N', 2, 16, 16]);
});

test('export: ONNX and Triton checked at the export size and one stride step larger; --io image writes and checks model.image.onnx', async () => {
  const spec = join(scratch, 'tiny.yaml');
  writeFileSync(spec, TINY());
  const out = join(scratch, 'export');
  const res = await exportArtifacts(spec, { output: out, formats: ['onnx', 'triton'], opset: 17, seed: 0, tolerance: 1e-4, backend: 'wasm', io: 'image' });
  assert.ok(res.ok, JSON.stringify(res.verify.checks));
  const verify = JSON.parse(readFileSync(join(out, 'verify.json'), 'utf8'));
  assert.equal(verify.inputs.shape, [2, 16, 16, 2]);
  assert.equal(verify.inputs.second.shape, [1, 20, 20, 2]);
  const stages = (verify.checks as { stage: string; pass: boolean }[]).map((k) => k.stage.replace(/ \(.*\)/, ''));
  assert.equal(stages, ['deploy form', 'ONNX', 'ONNX at 20x20', 'Triton repository', 'Triton repository at 20x20', 'ONNX image IO on a 15x13 uint8 image vs alcli predict\'s probabilities']);
  assert.ok(res.ok && res.files.includes('model.image.onnx'));
  const card = readFileSync(join(out, 'MODEL_CARD.md'), 'utf8');
  assert.match(card, /any height and width that divide by 4x4 .*checked at 16x16 and 20x20/);
  assert.match(card, /session\.run\(\['mask', 'probabilities'\]/);
});

test('--io image without the onnx format is refused (BadOptionsError: exit 2) before anything is written', async () => {
  const spec = join(scratch, 'tiny.yaml');
  writeFileSync(spec, TINY());
  const out = join(scratch, 'export-refused');
  await exportArtifacts(spec, { output: out, formats: ['tfjs'], opset: 17, seed: 0, tolerance: 1e-4, backend: 'wasm', io: 'image' }).then(
    () => assert.unreachable('exported'),
    (e: unknown) => assert.ok(e instanceof BadOptionsError && /add onnx/.test((e as Error).message), String(e)),
  );
  assert.not.ok(existsSync(out));
});

test('export of a fixed-size network: one size, and the card says why', async () => {
  const spec = join(scratch, 'fixed.yaml');
  writeFileSync(spec, TINY(FIXED_TAIL));
  const out = join(scratch, 'export-fixed');
  const res = await exportArtifacts(spec, { output: out, formats: ['onnx'], opset: 17, seed: 0, tolerance: 1e-4, backend: 'wasm' });
  assert.ok(res.ok);
  assert.is(res.verify.inputs.second, undefined);
  assert.equal(res.verify.checks.map((k) => k.stage.split(' (')[0]), ['deploy form', 'ONNX']);
  assert.match(readFileSync(join(out, 'MODEL_CARD.md'), 'utf8'), /take 16x16 only: 'out' resizes to the absolute size/);
});

test.run();
