// Every network in architectures/ exports from seeded random weights in every format through the
// library's exportArtifacts (what `alcli export` runs), and every artifact, written to disk and read
// back by its own runtime, matches the training form; the exported ONNX model holds no
// BatchNormalization (all folded by the deploy passes). The Triton repository's model.onnx is the
// same bytes as model.onnx, so it is compared byte for byte instead of run through ORT a second time.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeModel } from '../src/emit/onnx-proto.js';
import { exportArtifacts, EXPORT_FORMATS, type ExportRequest } from '../src/export/export.js';
import { ONNX_FILE } from '../src/export/formats.js';

const scratch = mkdtempSync(join(tmpdir(), 'alcli-export-test-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));

// the deploy-form artifacts (safetensors and pytorch, the training form's weights, have their tests in
// safetensors-export.test.ts and pytorch-emit.test.ts)
const DEPLOY_FORMATS = EXPORT_FORMATS.filter((f) => f !== 'safetensors' && f !== 'pytorch');
const request = (output: string): ExportRequest => ({ output, formats: [...DEPLOY_FORMATS], opset: 17, seed: 0, tolerance: 1e-4, backend: 'wasm', runBack: DEPLOY_FORMATS.filter((f) => f !== 'triton') });

for (const file of readdirSync('architectures').filter((f) => f.endsWith('.yaml')).sort()) {
  const size = file === 'cenet.yaml' ? 192 : 128;
  test(`${file} exports (${DEPLOY_FORMATS.join(', ')}) and every check passes`, async () => {
    const dir = join(scratch, file);
    const res = await exportArtifacts(`architectures/${file}`, { ...request(dir), compile: { size: [size, size] } });
    const { checks } = res.verify;
    // ONNX again one stride step larger: every architecture here takes any size (symbolic H, W)
    assert.equal(checks.map((k) => k.stage.split(' (')[0]), ['deploy form', 'TF.js graph model', 'ONNX', 'ONNX']);
    assert.match(checks[3].stage, / at \d+x\d+$/);
    assert.equal(res.verify.inputs.second?.shape.slice(1, 3).map((d) => d > size), [true, true]);
    for (const k of checks) assert.ok(k.pass, `${k.stage}: ${k.maxAbs} (max |logit| ${k.maxRef})`);
    assert.ok(res.ok);
    const triton = res.ok ? res.files.filter((f) => f.startsWith('triton/') && f.endsWith('/1/model.onnx')) : [];
    assert.is(triton.length, 1, 'one Triton model');
    assert.ok(readFileSync(join(dir, triton[0])).equals(readFileSync(join(dir, ONNX_FILE))), `${triton[0]} is ${ONNX_FILE} byte for byte`);
    // every BatchNorm folds into the conv (or conv_transpose: cenet's decoder) before it
    const onnxOps = decodeModel(readFileSync(join(dir, ONNX_FILE))).graph.node.map((n) => n.op_type);
    assert.ok(onnxOps.includes('Conv'), `the exported ${ONNX_FILE} has its convs`);
    assert.is(onnxOps.filter((op) => op === 'BatchNormalization').length, 0, `BatchNormalization nodes in the exported ${ONNX_FILE}`);
  });
}

test.run();
