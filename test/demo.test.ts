// The user's door after training: `alcli demo` end to end on its own synthetic data, then
// `alcli evaluate` and `alcli predict` on the run it made, and their error exits.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'alcli-demo-test-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));
const alcli = (args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin', 'run.js'), ...args], { cwd: scratch, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
const noStack = (s: string) => assert.not.ok(s.includes('    at '), s);

// 2 epochs: after 1 the seeded run still predicts all background (test IoU 0); its best checkpoint is epoch 2's
test('demo: generates data, trains, evaluates and writes an overlay per test image', () => {
  const r = alcli(['demo', '--out', 'demo', '--epochs', '2', '--images', '10', '--size', '64']);
  assert.is(r.status, 0, r.stderr);
  for (const f of ['metrics.csv', 'events.jsonl', 'run.json', 'spec.resolved.yaml']) assert.ok(readdirSync(join(scratch, 'demo/run')).includes(f), f);
  const overlays = readdirSync(join(scratch, 'demo/overlays'));
  // 10 images split 5:2:3
  assert.is(overlays.filter((f) => f.endsWith('.overlay.png')).length, 3);
  assert.is(overlays.length, 9);
  assert.match(r.stdout, 'overlays: demo/overlays/');
  assert.match(r.stdout, /accuracy\s+0\.\d{4} ± 0\.\d{4}/);
});

test('evaluate --json: every metric as mean, std and count over the split', () => {
  const r = alcli(['evaluate', 'demo/run', '--split', 'test', '--json']);
  assert.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(Object.keys(out.summary).sort(), ['accuracy', 'auc', 'dice', 'iou', 'sensitivity', 'specificity']);
  assert.is(out.images, 3);
  assert.is(out.perImage.length, 3);
  assert.ok(out.summary.accuracy.mean >= 0 && out.summary.accuracy.mean <= 1);
  // the seeded demo (10 images at 64x64, 2 epochs, engine auto = ort here) measured test IoU 0.1155;
  // a network that learned nothing predicts background only: IoU 0
  assert.ok(out.summary.iou.mean > 0.05, `test IoU ${out.summary.iou.mean}`);
});

test('predict: probability, mask and overlay at the image size, for any size', async () => {
  const img = join(scratch, 'odd.png');
  writeFileSync(img, await sharp({ create: { width: 77, height: 45, channels: 3, background: { r: 90, g: 120, b: 40 } } }).png().toBuffer());
  const r = alcli(['predict', 'demo/run', img, '--out', 'pred', '--json']);
  assert.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  for (const f of ['prob', 'mask', 'overlay'] as const) {
    const meta = await sharp(readFileSync(join(scratch, out.images[0][f]))).metadata();
    assert.equal([meta.width, meta.height], [77, 45], f);
  }
});

test('export of a trained run: its weights, normalization and validation metrics, every check passing', () => {
  const r = alcli(['export', 'demo/run', '-o', 'exp', '--size', '64x64', '--format', 'onnx,ts', '--json']);
  assert.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.ok(out.verify.checks.every((c: { pass: boolean }) => c.pass));
  const card = readFileSync(join(scratch, 'exp/MODEL_CARD.md'), 'utf8');
  assert.match(card, 'Trained in `demo/run`');
  assert.match(card, /then \(x - \[0\.\d{4}, 0\.\d{4}, 0\.\d{4}\]\)/);
  assert.match(readFileSync(join(scratch, 'exp/model.ts'), 'utf8'), /export const NORMALIZE: Normalization \| null = \{ mean: \[0\.\d+/);
});

const failures: [string, string[], number, RegExp][] = [
  ['evaluate of a folder that is no run', ['evaluate', '.'], 2, /is not a training run \(no run\.json\)/],
  ['predict of a missing image', ['predict', 'demo/run', 'missing.png', '--out', 'p2'], 2, /no such image file: 'missing\.png'/],
  ['demo into a non-empty folder', ['demo', '--out', 'demo'], 2, /not empty; use --force/],
  ['demo with a size AL-Net cannot take', ['demo', '--out', 'x', '--size', '100'], 2, /multiple of 32, e\.g\. 128/],
  ['demo with a class count its images cannot have', ['demo', '--out', 'x', '--classes', '2'], 2, /--classes 2: .*so 1 \(cells and vessels one foreground, sigmoid\) or 3 \(background, cell, vessel, softmax\)/],
];
for (const [name, args, code, message] of failures) {
  test(`${name}: exit ${code}, the reason, no stack trace`, () => {
    const r = alcli(args);
    assert.is(r.status, code, r.stderr);
    assert.match(r.stderr, message);
    noStack(r.stderr);
  });
}

test.run();
