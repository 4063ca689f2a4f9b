// `alcli bench EXPORT_DIR` as a library call (functional, not timed): which files of an export it
// finds and in what order, one row per model file with its size on disk and the speed-up over
// model.onnx, symbolic sizes fed --size, and the refusals.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { benchExportArtifacts, findArtifacts, type ExportFiles } from '../src/bench/export.js';
import { EXPORT_SIZE_KEY, onnxModel } from '../src/emit/onnx.js';
import { toFloat16Onnx } from '../src/emit/onnx-fp16.js';
import { decodeModel, encodeModel } from '../src/emit/onnx-proto.js';
import { compile } from '../src/frontend/compile.js';
import { initWeights } from '../src/ir/weights.js';
import { deployForm } from '../src/passes/pipeline.js';
import { loadTf } from '../src/runtime/backend.js';
import { BadOptionsError } from '../src/train/errors.js';
import { memHost, tinySpec } from './helpers.js';

test('findArtifacts: every precision and IO variant, fp32 first, ONNX before graph models; nothing else', () => {
  const paths = ['verify.json', 'model.ts', 'model.int8.onnx', 'tfjs.uint8/model.json', 'model.image.onnx', 'tfjs/model.json', 'tfjs/group1-shard1of1.bin', 'model.onnx', 'model.fp16.onnx', 'tfjs.fp16/model.json', 'triton/alnet/1/model.onnx', 'model.onnx.bak', 'pytorch/model.py'];
  assert.equal(findArtifacts(paths), {
    onnx: ['model.onnx', 'model.fp16.onnx', 'model.int8.onnx', 'model.image.onnx'],
    tfjs: ['tfjs', 'tfjs.fp16', 'tfjs.uint8'],
  });
});

const { tf } = await loadTf('cpu');
const c = compile('tiny.yaml', memHost({ 'tiny.yaml': tinySpec({ epochs: 1, deep: false }) })).compiled!;
const d = deployForm(c.graph, { weights: initWeights(c.graph, 0) });
const fp32 = onnxModel(d.graph, d.weights!);
const folder = (files: Record<string, Uint8Array>): ExportFiles => ({ paths: Object.keys(files), read: (p) => files[p] });
const opts = { batch: 1, warmup: 0, runs: 1, threads: 1 };

test('two ONNX files: two rows, in order, with their bytes, the input fed and the speed-up over model.onnx', async () => {
  const files = { 'model.onnx': encodeModel(fp32), 'model.fp16.onnx': encodeModel(toFloat16Onnx(fp32)), 'model.ts': new Uint8Array(3) };
  const r = await benchExportArtifacts(tf, 'cpu', folder(files), opts);
  assert.equal(r.size, [32, 32], 'the size the models were exported at');
  assert.equal(r.rows.map((t) => [t.artifact, t.engine, t.bytes, t.input]), [
    ['model.onnx', 'ONNX Runtime (1 thread)', files['model.onnx'].byteLength, { dtype: 'float32', shape: [1, 1, 32, 32] }],
    ['model.fp16.onnx', 'ONNX Runtime (1 thread)', files['model.fp16.onnx'].byteLength, { dtype: 'float32', shape: [1, 1, 32, 32] }],
  ]);
  for (const t of r.rows) {
    assert.ok(t.runs === 1 && t.min_ms > 0 && t.median_ms === t.ms_per_image, t.artifact);
    assert.ok(Math.abs(t.speedup_vs_fp32! - r.rows[0].median_ms / t.median_ms) < 1e-12, t.artifact);
  }
  assert.is(r.rows[0].speedup_vs_fp32, 1);
  assert.equal(Object.keys(JSON.parse(JSON.stringify(r.rows[0]))).sort(), ['artifact', 'bytes', 'engine', 'images_per_s', 'input', 'max_ms', 'median_ms', 'min_ms', 'ms_per_image', 'runs', 'speedup_vs_fp32'].sort());
});

/** The (symbolic-size) model without the export size in its metadata, as another tool would write it. */
function unrecorded(m: object): Uint8Array {
  const dm = decodeModel(encodeModel(m));
  dm.metadata_props = dm.metadata_props?.filter((p) => p.key !== EXPORT_SIZE_KEY);
  return encodeModel(dm);
}

test('a symbolic-size model runs at --size, a fixed-size one refuses another --size, and symbolic without a recorded size is refused', async () => {
  const r = await benchExportArtifacts(tf, 'cpu', folder({ 'model.onnx': encodeModel(fp32) }), { ...opts, size: [64, 48] });
  assert.equal(r.rows.map((t) => t.input.shape), [[1, 1, 64, 48]]);
  const refused = async (files: Record<string, Uint8Array>, size: [number, number] | undefined, message: RegExp) => {
    try {
      await benchExportArtifacts(tf, 'cpu', folder(files), { ...opts, size });
    } catch (e) {
      assert.ok(e instanceof BadOptionsError && message.test(e.message), (e as Error).message);
      return;
    }
    assert.unreachable(`no error for ${Object.keys(files)}`);
  };
  await refused({ 'model.onnx': encodeModel(onnxModel(d.graph, d.weights!, { size: 'fixed' })) }, [64, 64], /fixed 32x32 input; --size 64x64 applies to symbolic-size models only/);
  await refused({ 'model.onnx': unrecorded(fp32) }, undefined, /give --size HxW/);
  await refused({ 'model.ts': new Uint8Array(1) }, undefined, /neither model\.onnx nor tfjs\/model\.json/);
});

test.run();
