// `alcli export --io image --tta flips --precision fp32,int8` of a tiny trained run: model.image.onnx
// holds predict --tta flips (checked against it), model.int8.image.onnx wraps model.int8.onnx the
// same way and matches the predictor running model.int8.onnx to 1e-5; the model card says so;
// --tta dihedral and --tta without --io image are refused (library and CLI, exit 2).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeModel } from '../src/emit/onnx-proto.js';
import { exportArtifacts, INT8_IMAGE_ONNX_FILE, type ExportRequest } from '../src/export/export.js';
import { BadOptionsError } from '../src/train/errors.js';
import { trainRun } from '../src/train/session.js';
import { syntheticDataset } from '../src/train/synthetic.js';
import { tinySpec, writeDataset } from './helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const alcli = (args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin', 'run.js'), ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
const scratch = mkdtempSync(join(tmpdir(), 'alcli-image-int8-test-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));
const at = (...p: string[]) => join(scratch, ...p);

writeFileSync(at('tiny.yaml'), tinySpec({ epochs: 1, deep: false }));
await writeDataset(at('data'), syntheticDataset(7, { count: 10, size: 32, channels: 1 }));
await trainRun({ spec: at('tiny.yaml'), data: at('data'), out: at('run') }, { log: () => {} });
const request = (output: string, extra: Partial<ExportRequest> = {}): ExportRequest => ({ output, formats: ['onnx'], opset: 17, seed: 0, tolerance: 1e-4, precisions: ['fp32', 'int8'], calib: 4, io: 'image', tta: 'flips', ...extra });

test('export --io image --tta flips --precision fp32,int8: both image models written, each matches its predict --tta flips to 1e-5', async () => {
  const res = await exportArtifacts(at('run'), request(at('ex')));
  assert.ok(res.ok, JSON.stringify(res.verify.checks.filter((k) => !k.pass)));
  for (const f of ['model.onnx', 'model.image.onnx', 'model.int8.onnx', INT8_IMAGE_ONNX_FILE]) assert.ok(existsSync(at('ex', f)), f);
  const stages = res.verify.checks.filter((k) => k.stage.startsWith('ONNX image IO'));
  assert.is(stages.length, 2, stages.map((k) => k.stage).join('\n'));
  const [fp32, int8] = stages;
  assert.match(fp32.stage, /model\.image\.onnx.*tta flips inside.*alcli predict --tta flips/);
  assert.match(int8.stage, /model\.int8\.image\.onnx.*tta flips inside.*alcli predict --tta flips's probabilities \(running model\.int8\.onnx\)/);
  // the same int8 graph in ONNX Runtime on both sides: float rounding only
  for (const k of stages) assert.ok(k.pass && k.maxAbs <= 1e-5, `${k.stage}: max abs diff ${k.maxAbs}`);
  // the int8 image model holds the quantized network (int8 kernels), run once on a batch of 4
  const m = decodeModel(new Uint8Array(readFileSync(at('ex', INT8_IMAGE_ONNX_FILE))));
  assert.ok(m.graph.initializer.some((t) => t.data_type === 3), 'int8 initializers');
  assert.ok(m.graph.node.some((n) => n.op_type === 'DequantizeLinear'));
  assert.equal(m.graph.input.map((v) => v.name), ['image']);
  assert.ok(m.metadata_props?.some((p) => p.key === 'tta' && p.value === 'flips'));
  const card = readFileSync(at('ex', 'MODEL_CARD.md'), 'utf8');
  assert.match(card, /Test-time augmentation is inside/);
  assert.match(card, /model\.int8\.image\.onnx/);
  assert.ok(JSON.parse(readFileSync(at('ex', 'verify.json'), 'utf8')).checks.some((k: { stage: string }) => k.stage.includes(INT8_IMAGE_ONNX_FILE)));
});

const REFUSED: [string, Partial<ExportRequest>, RegExp][] = [
  ['--tta dihedral', { tta: 'dihedral' }, /dihedral cannot go inside model\.image\.onnx.*transposed/],
  ['--tta flips without --io image', { io: 'tensor', precisions: ['fp32'] }, /add --io image/],
];
for (const [name, extra, message] of REFUSED)
  test(`export ${name} is refused (BadOptionsError), nothing written`, async () => {
    let err: unknown;
    try {
      await exportArtifacts(at('run'), request(at('refused'), extra));
    } catch (e) {
      err = e;
    }
    assert.instance(err, BadOptionsError);
    assert.match((err as Error).message, message);
    assert.not.ok(existsSync(at('refused', 'model.onnx')));
  });

test('alcli export --tta dihedral exits 2 with the reason; --help names --tta', () => {
  const r = alcli(['export', at('run'), '-o', at('cli'), '--format', 'onnx', '--io', 'image', '--tta', 'dihedral']);
  assert.is(r.status, 2, r.stderr);
  assert.match(r.stderr, /cannot share one batch/);
  assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
  assert.match(alcli(['export', '--help']).stdout, /--tta/);
});

test.run();
