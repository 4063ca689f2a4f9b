// The study file (schema errors at file:line:col, paths and ${ENV}, the --set strings it makes) and
// the K-fold split (disjoint, covering the train+val pool, stratified by foreground, test never used).
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { expandEnv, loadStudy, trainSets } from '../src/study/study-file.js';
import { foldOf, foldSplit, writeFoldDataset } from '../src/study/folds.js';
import { gateRefusals } from '../src/study/run-study.js';
import type { ExportResult } from '../src/export/export.js';
import type { Dataset, Sample } from '../src/train/dataset.js';

const scratch = mkdtempSync(join(tmpdir(), 'alcli-study-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));
let n = 0;
const studyFile = (text: string) => {
  const p = join(scratch, `s${n++}.yaml`);
  writeFileSync(p, text);
  return p;
};

const VALID = 'specs: [a.yaml]\ndatasets: [data]\n';

// [name, file text, message fragment, line, col]
const ERRORS: [string, string, string, number, number][] = [
  ['no specs', 'datasets: [data]\n', "needs 'specs'", 1, 1],
  ['empty spec list', 'specs: []\ndatasets: [data]\n', 'specs', 1, 8],
  ['unknown top key', `${VALID}protocl: {seeds: [0]}\n`, "unknown key 'protocl'", 3, 1],
  ['unknown spec key', 'specs:\n  - {path: a.yaml, nmae: A}\ndatasets: [data]\n', "unknown key 'nmae'", 2, 20],
  ['spec entry without path', 'specs:\n  - {name: A}\ndatasets: [data]\n', "needs 'path'", 2, 5],
  ['folds not an integer', `${VALID}protocol: {folds: 2.5}\n`, 'protocol.folds', 3, 19],
  ['folds below 1', `${VALID}protocol: {folds: 0}\n`, 'protocol.folds', 3, 19],
  ['seed negative', `${VALID}protocol: {seeds: [-1]}\n`, 'protocol.seeds.0', 3, 20],
  ['unknown precision', `${VALID}deploy: {precisions: [int4]}\n`, 'allowed: "fp32", "fp16", "int8"', 3, 23],
  ['duplicate display names', 'specs: [{path: a.yaml, name: X}, {path: b.yaml, name: x}]\ndatasets: [data]\n', 'same name', 1, 34],
  ['unset environment variable', 'specs: [a.yaml]\ndatasets: [\'${NO_SUCH_ALCLI_VAR}/isbi\']\n', 'NO_SUCH_ALCLI_VAR is not set', 2, 12],
  ['not YAML', 'specs: [a.yaml\n', '', 1, 1],
];

for (const [name, text, fragment, line, col] of ERRORS)
  test(`study file error: ${name}`, () => {
    const path = studyFile(text);
    const r = loadStudy(path, {});
    assert.is(r.study, undefined);
    assert.ok(r.diagnostics.length > 0);
    const d = r.diagnostics[0];
    assert.ok(d.message.includes(fragment), d.message);
    if (fragment) {
      assert.is(d.at?.file, path);
      assert.is(`${d.at?.line}:${d.at?.col}`, `${line}:${col}`, d.message);
    }
  });

test('a study file: defaults, names from file stems, paths from its folder and the environment, --set strings in order', () => {
  const path = studyFile(
    [
      'specs:',
      '  - ../specs/alnet.yaml',
      '  - {path: /abs/unet.yaml, name: U-Net, train: {lr: 0.001}}',
      'datasets:',
      "  - {path: '${DATA:-fallback}/isbi', name: ISBI, train: {crop: [128, 128]}}",
      'protocol: {train: {epochs: 3, augment: {dihedral: true}}, seeds: [0, 1], folds: 2}',
    ].join('\n'),
  );
  const s = loadStudy(path, { DATA: '/data' }).study!;
  assert.equal(s.specs.map((x) => [x.name, x.path]), [['alnet', join(scratch, '../specs/alnet.yaml')], ['U-Net', '/abs/unet.yaml']]);
  assert.is(s.datasets[0].path, '/data/isbi');
  assert.is(loadStudy(path, {}).study!.datasets[0].path, join(scratch, 'fallback/isbi'));
  assert.equal(s.protocol, { train: { epochs: 3, augment: { dihedral: true } }, seeds: [0, 1], folds: 2 });
  assert.equal(s.deploy, { precisions: ['fp32'], runs: 15, overlays: 4, maxIouDrop: 0.005 });
  assert.equal(trainSets(s, s.specs[1], s.datasets[0], 1), ['train.epochs=3', 'train.augment={ dihedral: true }', 'train.crop=[ 128, 128 ]', 'train.lr=0.001', 'train.seed=1']);
});

test('expandEnv: ${NAME}, ${NAME:-default}, an empty value takes the default, the first missing name', () => {
  assert.equal(expandEnv('${A}/x/${B:-b}', { A: 'a' }), { value: 'a/x/b', missing: undefined });
  assert.equal(expandEnv('${A:-d}', { A: '' }), { value: 'd', missing: undefined });
  assert.is(expandEnv('${A}${C}', {}).missing, 'A');
});

const sample = (id: string, split: Sample['split'], foreground: number): Sample => ({ id, split, image: { path: `/d/images/${id}.png`, page: 0 }, mask: { path: `/d/masks/${id}.png`, page: 0 }, height: 8, width: 8, foreground });

// 23 pooled samples with foreground 0.01..0.23, and 5 test samples
const POOL = Array.from({ length: 23 }, (_, i) => sample(`p${String(i).padStart(2, '0')}`, i % 3 ? 'train' : 'val', (i + 1) / 100));
const DATASET: Dataset = { dir: '/d', samples: [...POOL, ...Array.from({ length: 5 }, (_, i) => sample(`t${i}`, 'test', 0.5))], splitFrom: 'split.json', ignored: [], unlisted: [], carvedVal: [], files: {} };

for (const k of [2, 3, 5])
  test(`${k}-fold split: disjoint, covers the pool, sizes within one, stratified by foreground, test untouched, seeded`, () => {
    const folds = Array.from({ length: k }, (_, f) => foldSplit(DATASET, k, f, 0));
    const vals = folds.map((f) => f.val);
    assert.equal(vals.flat().sort(), POOL.map((s) => s.id).sort());
    assert.is(new Set(vals.flat()).size, POOL.length);
    const sizes = vals.map((v) => v.length);
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `${sizes}`);
    for (const f of folds) {
      assert.equal(f.test, ['t0', 't1', 't2', 't3', 't4']);
      assert.equal([...f.train, ...f.val].sort(), POOL.map((s) => s.id).sort());
      assert.ok(!f.train.some((id) => f.val.includes(id)));
    }
    // stratified: each fold's mean foreground within one block's spread (k / 100) of the pool's mean
    const fg = new Map(POOL.map((s) => [s.id, s.foreground!]));
    const mean = (ids: string[]) => ids.reduce((a, id) => a + fg.get(id)!, 0) / ids.length;
    for (const v of vals) assert.ok(Math.abs(mean(v) - 0.12) <= k / 100, `${mean(v)}`);
    assert.equal(foldOf(POOL.map((s) => ({ id: s.id, foreground: s.foreground! })), k, 0), foldOf(POOL.map((s) => ({ id: s.id, foreground: s.foreground! })), k, 0));
    assert.not.equal([...foldOf(POOL.map((s) => ({ id: s.id, foreground: s.foreground! })), k, 0)], [...foldOf(POOL.map((s) => ({ id: s.id, foreground: s.foreground! })), k, 1)]);
  });

test('fold errors: k < 2, more folds than samples', () => {
  assert.throws(() => foldOf([{ id: 'a', foreground: 0 }], 1, 0), /folds must be an integer >= 2/);
  assert.throws(() => foldOf([{ id: 'a', foreground: 0 }], 2, 0), /at least 2 train\+val samples/);
});

test('a fold folder: links named by id, split.json last, left alone once written', () => {
  const src = join(scratch, 'ds');
  mkdirSync(join(src, 'images'), { recursive: true });
  mkdirSync(join(src, 'masks'), { recursive: true });
  const ds: Dataset = { ...DATASET, dir: src, samples: ['a', 'b', 'c'].map((id, i) => ({ ...sample(id, i === 2 ? 'test' : 'train', 0.1), image: { path: join(src, 'images', `${id}.png`), page: 0 }, mask: { path: join(src, 'masks', `${id}.gif`), page: 0 } })) };
  for (const s of ds.samples) {
    writeFileSync(s.image.path, 'img');
    writeFileSync(s.mask.path, 'mask');
  }
  const out = join(scratch, 'fold');
  writeFoldDataset(ds, out, { train: ['a'], val: ['b'], test: ['c'] });
  assert.equal(readdirSync(join(out, 'masks')).sort(), ['a.gif', 'b.gif', 'c.gif']);
  assert.is(readFileSync(join(out, 'images', 'b.png'), 'utf8'), 'img');
  assert.equal(JSON.parse(readFileSync(join(out, 'split.json'), 'utf8')).val, ['b']);
  writeFoldDataset(ds, out, { train: ['b'], val: ['a'], test: ['c'] });
  assert.equal(JSON.parse(readFileSync(join(out, 'split.json'), 'utf8')).val, ['b']);
});


// gateRefusals: which failed exports the study continues past (refused precisions) and which stop it
const row = (precision: string, val_iou: number, pass: boolean) => ({ artifact: `model.${precision}.onnx`, precision, bytes: 1, engine: 'ort', ms: null, val_iou, val_dice: 0, drop: 0.83 - val_iou, pass });
const check = (stage: string) => ({ stage, maxAbs: 0.1, meanAbs: 0.1, maxRef: 1, pass: false });
const exportResult = (failed: ReturnType<typeof check>[], rows?: ReturnType<typeof row>[]) => ({ ok: false, output: 'x', failed, verify: { checks: [], ...(rows ? { precision: { rows } } : {}) } }) as unknown as ExportResult;
const REFUSALS: [string, ExportResult, string[] | undefined][] = [
  ['passed', { ok: true, output: 'x', files: [], verify: {} } as unknown as ExportResult, undefined],
  ['int8 below the gate only', exportResult([check('int8 gate (...)')], [row('fp32', 0.83, true), row('fp16', 0.83, true), row('int8', 0.8, false)]), ['int8 0.8000 vs 0.8300 drop 0.0300 > 0.005']],
  ['int8 and fp16 below the gate', exportResult([check('fp16 gate'), check('int8 gate')], [row('fp32', 0.83, true), row('fp16', 0.81, false), row('int8', 0.8, false)]), ['fp16 0.8100 vs 0.8300 drop 0.0200 > 0.005', 'int8 0.8000 vs 0.8300 drop 0.0300 > 0.005']],
  ['a gate refusal and a failed numerical check', exportResult([check('onnx vs executor'), check('int8 gate')], [row('fp32', 0.83, true), row('int8', 0.8, false)]), undefined],
  ['a failed numerical check, no gate ran', exportResult([check('onnx vs executor')]), undefined],
];
for (const [name, res, want] of REFUSALS)
  test(`gateRefusals: ${name}`, () => {
    const got = gateRefusals(res, 0.005)?.map((r) => `${r.precision} ${r.val_iou.toFixed(4)} vs ${r.fp32_val_iou.toFixed(4)} drop ${r.drop.toFixed(4)} > ${r.max_drop}`);
    assert.equal(got, want);
  });
test.run();
