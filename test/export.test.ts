// Every network in architectures/ exports from seeded random weights in every format, and every
// artifact, written to disk and read back by its own runtime, matches the training form; the
// exported ONNX model holds no BatchNormalization (all folded by the deploy passes).
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile } from '../src/frontend/compile.js';
import { buildExport, checkArtifacts, exportWeightsFromSpec, EXPORT_FORMATS, type ExportOptions } from '../src/export/export.js';
import { ONNX_FILE } from '../src/export/formats.js';
import { decodeModel } from '../src/emit/onnx-proto.js';
import { loadTf, type TF } from '../src/runtime/backend.js';
import { fsHost } from './helpers.js';

let tf: TF;
const scratch = mkdtempSync(join(tmpdir(), 'alcli-export-test-'));
test.before(async () => {
  tf = (await loadTf('wasm')).tf;
});
test.after(() => rmSync(scratch, { recursive: true, force: true }));

const opts: ExportOptions = { formats: [...EXPORT_FORMATS], opset: 17, seed: 0, batch: 2, normalize: null, threshold: 0.5, tolerance: 1e-4 };

async function exportTo(spec: string, size: number, dir: string) {
  const c = compile(spec, fsHost, { size: [size, size] }).compiled!;
  const weights = await exportWeightsFromSpec(tf, c, opts.seed, opts.batch);
  const build = await buildExport(tf, c, weights, opts);
  for (const [p, data] of build.files) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), data);
  }
  const checks = [...build.checks, ...(await checkArtifacts(tf, build, opts, (p) => readFileSync(join(dir, p))))];
  const onnxOps = decodeModel(readFileSync(join(dir, ONNX_FILE))).graph.node.map((n) => n.op_type);
  return { checks, onnxOps };
}

for (const file of readdirSync('architectures').filter((f) => f.endsWith('.yaml')).sort()) {
  const size = file === 'cenet.yaml' ? 192 : 128;
  test(`${file} exports (tfjs, onnx, ts, triton) and every check passes`, async () => {
    const dir = join(scratch, file);
    const { checks, onnxOps } = await exportTo(`architectures/${file}`, size, dir);
    assert.equal(checks.map((k) => k.stage.split(' (')[0]), ['deploy form', 'TF.js graph model', 'ONNX', 'Triton repository']);
    for (const k of checks) assert.ok(k.pass, `${k.stage}: ${k.maxAbs} (max |logit| ${k.maxRef})`);
    // every BatchNorm folds into the conv (or conv_transpose: cenet's decoder) before it
    assert.ok(onnxOps.includes('Conv'), 'the exported model.onnx has its convs');
    assert.is(onnxOps.filter((op) => op === 'BatchNormalization').length, 0, 'BatchNormalization nodes in the exported model.onnx');
  });
}

test.run();
