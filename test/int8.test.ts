// INT8 export (emit/onnx-qdq.ts, export/calibrate.ts, export/int8.ts, export/gate.ts): the
// quantization arithmetic on hand-computed cases; a tiny network's QDQ model (Relu folded, every
// Conv quantized, onnx.checker, ONNX Runtime, close to fp32; nothing quantized = fp32 exactly); and
// `alcli export --precision fp32,int8` of a tiny trained run end to end: the gate's table, the
// file evaluate --artifact scores the same, a gate forced to fail leaves nothing, a spec is refused.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { activationParams, floatTensors, quantizeQdq, quantizeWeight, type ModelObject } from '../src/emit/onnx-qdq.js';
import { onnxModel } from '../src/emit/onnx.js';
import { encodeModel, decodeModel } from '../src/emit/onnx-proto.js';
import { calibrateRanges } from '../src/export/calibrate.js';
import { exportArtifacts, type ExportRequest } from '../src/export/export.js';
import { exclusionSizes } from '../src/export/int8.js';
import { initWeights } from '../src/ir/weights.js';
import { deployForm } from '../src/passes/pipeline.js';
import { runOnnx } from '../src/runtime/ort.js';
import { calibratedWeights, randomInput } from '../src/runtime/verify.js';
import { loadTf } from '../src/runtime/backend.js';
import { BadOptionsError } from '../src/train/errors.js';
import { compileFile, trainRun } from '../src/train/session.js';
import { syntheticDataset } from '../src/train/synthetic.js';
import { evaluateRun, openRun } from '../src/train/trained.js';
import { assertOnnxChecker, tinySpec, writeDataset } from './helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const alcli = (args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin', 'run.js'), ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
const scratch = mkdtempSync(join(tmpdir(), 'alcli-int8-test-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));
const at = (...p: string[]) => join(scratch, ...p);

/** [range, scale, zero point]: uint8 over [min(0, lo), max(0, hi)] (ONNX Runtime's rule) */
const ACTIVATIONS: [{ min: number; max: number }, number, number][] = [
  [{ min: 0, max: 2.55 }, 0.01, 0], // a Relu output: zero point 0 clips negatives
  [{ min: -1, max: 1 }, 2 / 255, 128], // round(1 / (2/255)) = round(127.5) = 128
  [{ min: 0.5, max: 1 }, 1 / 255, 0], // the range always holds 0
  [{ min: -3, max: -1 }, 3 / 255, 255],
  [{ min: 0, max: 0 }, 1, 0], // a constant-zero tensor
];

test('activationParams: uint8 asymmetric scale and zero point', () => {
  for (const [r, scale, zp] of ACTIVATIONS) {
    const p = activationParams(r);
    assert.ok(Math.abs(p.scale - scale) < 1e-12, `${JSON.stringify(r)}: scale ${p.scale}`);
    assert.is(p.zeroPoint, zp, JSON.stringify(r));
  }
});

test('quantizeWeight: int8 symmetric per output channel, along the given axis', () => {
  // [2, 1, 1, 2] OIHW: channel 0 max 1.27 -> scale 0.01; channel 1 all zero -> scale 1
  const a = quantizeWeight(Float32Array.of(1.27, -0.5, 0, 0), [2, 1, 1, 2], 0);
  assert.equal([...a.scales].map((s) => +s.toFixed(6)), [0.01, 1]);
  assert.equal([...a.q], [127, -50, 0, 0]);
  // [1, 2, 1, 2] IOHW (ConvTranspose): channels along axis 1, each of 2 values
  const b = quantizeWeight(Float32Array.of(0.5, -0.25, 2, 1), [1, 2, 1, 2], 1);
  assert.equal([...b.scales].map((s) => +s.toFixed(6)), [+(0.5 / 127).toFixed(6), +(2 / 127).toFixed(6)]);
  assert.equal([...b.q], [127, -64, 127, 64]); // -63.5 and 63.5: Math.round goes up
});

test('exclusionSizes: 1, 2, 4, ... up to half of the quantizable nodes', () => {
  for (const [n, want] of [[0, []], [1, [1]], [2, [1]], [5, [1, 2, 3]], [16, [1, 2, 4, 8]], [40, [1, 2, 4, 8, 16, 20]]] as [number, number[]][])
    assert.equal(exclusionSizes(n), want, `n = ${n}`);
});

// ---- a tiny network's QDQ model

const spec = at('tiny.yaml');
writeFileSync(spec, tinySpec({ epochs: 1, deep: false }));
const { tf } = await loadTf('auto');
const c = compileFile(spec);
const shape: [number, number, number, number] = [1, ...c.graph.input.size, c.graph.input.channels];
const trained = await calibratedWeights(tf, c.graph, initWeights(c.graph, 3), [2, ...shape.slice(1)] as [number, number, number, number], 4);
const deploy = deployForm(c.graph, { weights: trained });
const fp32 = onnxModel(deploy.graph, deploy.weights!) as ModelObject;
const images = [5, 6, 7, 8].map((s) => ({ data: randomInput(shape, s), shape }));
const ranges = await calibrateRanges(fp32, images);

test('calibration: a range for every float activation tensor, holding what the fp32 model computes', async () => {
  assert.equal([...ranges.keys()], floatTensors(fp32));
  const logits = ranges.get('logits')!;
  const y = await runOnnx(encodeModel(fp32), images[0].data, shape);
  assert.ok(Math.min(...y) >= logits.min && Math.max(...y) <= logits.max);
  const p = await calibrateRanges(fp32, images, { method: 'percentile', percentile: 99 });
  for (const [t, r] of p) assert.ok(r.min >= ranges.get(t)!.min - 1e-6 && r.max <= ranges.get(t)!.max + 1e-6, `${t}: percentile range inside min/max`);
});

test('quantizeQdq: every Conv quantized, Relus folded, checker passes, runs close to fp32', async () => {
  const { model, report } = quantizeQdq(fp32, ranges);
  const convs = fp32.graph.node.filter((n) => n.op_type === 'Conv').length;
  const relus = fp32.graph.node.filter((n) => n.op_type === 'Relu').length;
  assert.is(report.quantized.Conv, convs);
  assert.ok(relus > 0 && report.folded === relus, `${report.folded} of ${relus} Relus folded`);
  const ops = decodeModel(encodeModel(model)).graph.node.map((n) => n.op_type);
  assert.not.ok(ops.includes('Relu'));
  assert.is(ops.filter((o) => o === 'DequantizeLinear').length, report.tensors + convs + fp32.graph.node.filter((n) => n.op_type === 'Conv' && n.input[2]).length);
  const bytes = encodeModel(model);
  assertOnnxChecker(new Map([['tiny.int8', bytes]]));
  // a calibration image: an input far outside the calibrated ranges (randomInput varies brightness
  // and contrast per image) would measure clipping, not the 8-bit grid
  const x = images[1].data;
  const [a, b] = [await runOnnx(encodeModel(fp32), x, shape), await runOnnx(bytes, x, shape)];
  const maxRef = Math.max(...a.map(Math.abs));
  const maxDiff = Math.max(...a.map((v, i) => Math.abs(v - b[i])));
  // 8-bit grids over ~6 layers: a few per cent of the logit scale
  assert.ok(maxDiff < 0.1 * maxRef && maxDiff > 0, `max diff ${maxDiff} at max |logit| ${maxRef}`);
});

test('quantizeQdq: with every node excluded nothing is quantized and the model is fp32 exactly', async () => {
  const all = new Set(fp32.graph.node.map((n) => n.name));
  const { model, report } = quantizeQdq(fp32, ranges, { exclude: all });
  assert.equal([report.tensors, report.folded, report.quantized], [0, 0, {}]);
  const x = images[2].data;
  assert.equal(await runOnnx(encodeModel(model), x, shape), await runOnnx(encodeModel(fp32), x, shape));
  assert.throws(() => quantizeQdq(fp32, new Map()), /no calibrated range/);
});

test('quantizeQdq: a Relu that writes the model output is kept (the output is not quantized)', () => {
  const last = fp32.graph.node.at(-1)!;
  const relu = { op_type: 'Relu', name: 'final_relu', input: ['logits_pre'], output: ['logits'], attribute: [] };
  const model: ModelObject = { ...fp32, graph: { ...fp32.graph, node: [...fp32.graph.node.slice(0, -1), { ...last, output: ['logits_pre'] }, relu] } };
  const withPre = new Map(ranges).set('logits_pre', ranges.get('logits')!);
  const { model: q, report } = quantizeQdq(model, withPre);
  assert.ok(q.graph.node.some((n) => n.name === 'final_relu'), 'the final Relu was folded away');
  assert.is(report.folded, fp32.graph.node.filter((n) => n.op_type === 'Relu').length);
});

// ---- export --precision fp32,int8 of a tiny trained run

const samples = syntheticDataset(7, { count: 10, size: 32, channels: 1 });
await writeDataset(at('data'), samples);
await trainRun({ spec, data: at('data'), out: at('run') }, { log: () => {} });
const request = (output: string, extra: Partial<ExportRequest> = {}): ExportRequest => ({ output, formats: ['onnx'], opset: 17, seed: 0, tolerance: 1e-4, precisions: ['fp32', 'int8'], calib: 4, ...extra });

test('export --precision fp32,int8: model.int8.onnx gated on val, and evaluate --artifact scores the same file alike', async () => {
  const res = await exportArtifacts(at('run'), request(at('ex')));
  assert.ok(res.ok, JSON.stringify(res.verify.precision));
  const gate = res.verify.precision!;
  assert.equal(gate.rows.map((r) => [r.artifact, r.precision, r.pass]), [['model.onnx', 'fp32', true], ['model.int8.onnx', 'int8', true]]);
  const [f32, i8] = gate.rows;
  // every conv kernel is stored as int8 (a tiny network's file is mostly graph, so its size says little)
  const stored = decodeModel(new Uint8Array(readFileSync(at('ex', 'model.int8.onnx'))));
  const int8 = new Set(stored.graph.initializer.filter((t) => t.data_type === 3).map((t) => t.name));
  const kernels = stored.graph.node.filter((n) => n.op_type === 'Conv').map((n) => n.input[1]);
  assert.ok(kernels.length > 0 && kernels.every((k) => int8.has(k.replace(/\/dq$/, '/q'))), kernels.join());
  assert.is(i8.drop, f32.val_iou - i8.val_iou);
  assert.ok(i8.ms! > 0 && f32.ms! > 0);
  const bytes = new Uint8Array(readFileSync(at('ex', 'model.int8.onnx')));
  const opened = await openRun(at('run'));
  const scored = await evaluateRun(opened, { split: 'val', artifact: { path: 'model.int8.onnx', bytes } });
  assert.is(scored.summary.iou.mean, i8.val_iou);
  assert.is(scored.artifact, 'model.int8.onnx');
  const verify = JSON.parse(readFileSync(at('ex', 'verify.json'), 'utf8'));
  assert.is(verify.precision.rows.length, 2);
  assert.match(readFileSync(at('ex', 'MODEL_CARD.md'), 'utf8'), /\| model\.int8\.onnx \| int8 \|/);
});

test('alcli evaluate --artifact: the gate\'s val IoU from the file; a file that is not a model is refused (exit 2)', () => {
  const gate = JSON.parse(readFileSync(at('ex', 'verify.json'), 'utf8')).precision;
  const r = alcli(['evaluate', at('run'), '--artifact', at('ex', 'model.int8.onnx'), '--split', 'val', '--json']);
  assert.is(r.status, 0, r.stderr);
  assert.is(JSON.parse(r.stdout).summary.iou.mean, gate.rows[1].val_iou);
  writeFileSync(at('junk.onnx'), 'not a model');
  for (const [file, message] of [[at('junk.onnx'), /does not load in ONNX Runtime/], [at('missing.onnx'), /no such file/], [at('tiny.yaml'), /expected an ONNX file/]] as const) {
    const bad = alcli(['evaluate', at('run'), '--artifact', file]);
    assert.is(bad.status, 2, `${file}: ${bad.stderr}`);
    assert.match(bad.stderr, message);
    assert.not.match(bad.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('export --precision: a gate forced past its tolerance fails and leaves nothing; a spec source is refused', async () => {
  const res = await exportArtifacts(at('run'), request(at('fail'), { maxIouDrop: -1 }));
  assert.not.ok(res.ok);
  if (!res.ok) assert.match(res.failed.map((f) => f.stage).join(), /int8 gate/);
  assert.not.ok(existsSync(at('fail')) && readdirSync(at('fail')).length > 0, 'the failed export left files');
  let err: unknown;
  try {
    await exportArtifacts(spec, request(at('spec')));
  } catch (e) {
    err = e;
  }
  assert.instance(err, BadOptionsError);
  assert.match((err as Error).message, /needs a trained run/);
});

test.run();
