// Multi-class masks (issue 12, item 1): for each encoding (index PNG 8/16-bit, TIFF, palette,
// RGB(A) colours from classes.json or the default colours, grey-coded levels, a binary mask as
// K = 2) a tiny file is written with sharp or fast-png and read as a K-class task's labels: it
// equals the intended label map, or the label-values error names the file, the value and its pixel
// count. Then classes.json's own checks, the dataset scan (every file's errors at once, pixels per
// class, a class missing from train), loadTrainingData's table, run.json's classes, and
// `alcli data check --classes` (class fractions, exit 4 naming file and value, exit 2 for binary flags).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encode as encodePng } from 'fast-png';
import sharp from 'sharp';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_COLORS, defaultClassTable, type Rgb } from '../src/train/classes.js';
import { checkDataset, renderDataCheck } from '../src/train/data-check.js';
import { scanDataset } from '../src/train/dataset.js';
import { decodeFile, type MaskOptions } from '../src/train/decode.js';
import { BadOptionsError, DataErrors, renderDataErrors } from '../src/train/errors.js';
import { readClassesFile, toLabels } from '../src/train/labels.js';
import { loadTrainingData } from '../src/train/loop.js';
import { trainRun } from '../src/train/session.js';
import type { RunInfo } from '../src/train/run.js';
import { tinySpec } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'alcli-labels-'));
test.after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshDir = () => {
  const d = join(root, `d${counter++}`);
  mkdirSync(d, { recursive: true });
  return d;
};

// 3 wide, 2 high (non-square, so an EXIF turn shows); values row-major
const W = 3;
const H = 2;
type Builder = () => Promise<Buffer>;
const grey8 = (v: number[], orientation?: number): Builder => async () => {
  const s = sharp(Buffer.from(v), { raw: { width: W, height: H, channels: 1 } }).toColourspace('b-w').png();
  return orientation ? s.withMetadata({ orientation }).toBuffer() : s.toBuffer();
};
const fast = (data: Uint8Array | Uint16Array, depth: 8 | 16, channels: number): Builder => async () => Buffer.from(encodePng({ width: W, height: H, data, depth, channels }));
const rgb = (px: number[][], depth: 8 | 16 = 8) => fast(depth === 8 ? Uint8Array.from(px.flat()) : Uint16Array.from(px.flat()), depth, px[0].length);
const palette = (indices: number[], colours: number[][]): Builder => async () => {
  const packed = new Uint8Array(Math.ceil((W * 4) / 8) * H);
  indices.forEach((v, i) => {
    const [y, x] = [Math.floor(i / W), i % W];
    packed[y * Math.ceil((W * 4) / 8) + ((x * 4) >> 3)] |= v << (4 - ((x * 4) & 7));
  });
  return Buffer.from(encodePng({ width: W, height: H, data: packed, depth: 4, channels: 1, palette: colours }));
};
const tiff8 = (v: number[]): Builder => async () => sharp(Buffer.from(v), { raw: { width: W, height: H, channels: 1 } }).toColourspace('b-w').tiff({ compression: 'lzw' }).toBuffer();

const [R, G, B, K0] = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [0, 0, 0]];
const withColours = { '0': { name: 'background', color: K0 }, '1': { name: 'lung', color: R }, '2': { name: 'heart', color: G } };
const greyLevels = { '0': { name: 'background', color: [255, 255, 255] }, '1': { name: 'disc', color: [128, 128, 128] }, '2': { name: 'cup', color: [0, 0, 0] } };
const d1 = DEFAULT_COLORS[1];

interface Case {
  name: string;
  file?: string;
  build: Builder;
  /** K, the spec's output.classes */
  k: number;
  /** DATA/classes.json */
  json?: unknown;
  opts?: MaskOptions;
  /** the upright label map, or the error: code and message */
  want: number[] | { code: 'label-values' | 'mask-values'; error: RegExp; hint?: RegExp };
  size?: [number, number];
}

const cases: Case[] = [
  { name: 'index PNG 8-bit, K = 3', build: grey8([0, 1, 2, 2, 1, 0]), k: 3, want: [0, 1, 2, 2, 1, 0] },
  { name: 'index PNG 8-bit, K = 3, with classes.json names', build: grey8([0, 1, 2, 2, 1, 0]), k: 3, json: { '0': 'background', '1': 'a', '2': 'b' }, want: [0, 1, 2, 2, 1, 0] },
  { name: 'index PNG 16-bit, K = 6', build: fast(Uint16Array.from([0, 5, 1, 2, 3, 4]), 16, 1), k: 6, want: [0, 5, 1, 2, 3, 4] },
  { name: 'index PNG 16-bit, value 300 outside K = 3', build: fast(Uint16Array.from([0, 1, 2, 300, 300, 0]), 16, 1), k: 3, want: { code: 'label-values', error: /16-bit grey, value outside the 3-class table \(no classes\.json: class indices 0\.\.2\): 300 \(2 px\)$/, hint: /set output\.classes to 301/ } },
  { name: 'index PNG 8-bit, values 3 and 7 outside K = 3', build: grey8([0, 3, 7, 7, 1, 7]), k: 3, want: { code: 'label-values', error: /values outside the 3-class table .*: 7 \(3 px\), 3 \(1 px\)$/ } },
  { name: 'index TIFF 8-bit, K = 3', file: 'm.tif', build: tiff8([2, 1, 0, 0, 1, 2]), k: 3, want: [2, 1, 0, 0, 1, 2] },
  { name: 'index PNG with EXIF orientation 6: upright', build: grey8([0, 1, 2, 0, 0, 0], 6), k: 3, want: [0, 0, 0, 1, 0, 2], size: [H, W] },
  { name: 'palette PNG by index, colours ignored', build: palette([0, 1, 2, 2, 1, 0], [[9, 9, 9], [200, 0, 0], [0, 0, 200]]), k: 3, want: [0, 1, 2, 2, 1, 0] },
  { name: 'palette PNG, index 5 outside K = 3', build: palette([0, 5, 2, 5, 1, 0], [[0, 0, 0], R, G, B, B, B]), k: 3, want: { code: 'label-values', error: /4-bit palette indices, value outside the 3-class table .*: 5 \(2 px\)/ } },
  { name: 'RGB colours of classes.json', build: rgb([K0, R, G, G, R, K0]), k: 3, json: withColours, want: [0, 1, 2, 2, 1, 0] },
  { name: 'RGBA colours of classes.json, constant alpha', build: rgb([K0, R, G, G, R, K0].map((c) => [...c, 255])), k: 3, json: withColours, want: [0, 1, 2, 2, 1, 0] },
  { name: '16-bit RGB colours of classes.json (x 257)', build: rgb([K0, R, G, G, R, K0].map((c) => c.map((v) => v * 257)), 16), k: 3, json: withColours, want: [0, 1, 2, 2, 1, 0] },
  { name: 'RGB with a blended colour outside classes.json', build: rgb([K0, R, [128, 0, 0], G, R, K0]), k: 3, json: withColours, want: { code: 'label-values', error: /8-bit rgb, colour outside the 3-class table \(.*classes\.json\): \(128,0,0\) \(1 px\)$/, hint: /anti-aliasing/ } },
  { name: 'RGB without classes.json: the default colours', build: rgb([K0, d1, d1, K0, K0, DEFAULT_COLORS[2]]), k: 3, want: [0, 1, 1, 0, 0, 2] },
  { name: 'RGB whose pixels are all grey: read by index', build: rgb([[0, 0, 0], [1, 1, 1], [2, 2, 2], [2, 2, 2], [1, 1, 1], [0, 0, 0]]), k: 3, want: [0, 1, 2, 2, 1, 0] },
  { name: 'RGB with black and grey only, grey a colour of classes.json: read by colour', build: rgb([K0, [128, 128, 128], K0, K0, K0, K0]), k: 3, json: { '0': { name: 'bg', color: K0 }, '1': { name: 'a', color: [128, 128, 128] }, '2': { name: 'b', color: R } }, want: [0, 1, 0, 0, 0, 0] },
  { name: 'RGB grey indices when classes.json gives colours: read by colour (refused)', build: rgb([[0, 0, 0], [1, 1, 1], [2, 2, 2], [2, 2, 2], [1, 1, 1], [0, 0, 0]]), k: 3, json: withColours, want: { code: 'label-values', error: /colours outside .*: \(1,1,1\) \(2 px\), \(2,2,2\) \(2 px\)$/, hint: /save it as a single-channel PNG/ } },
  { name: 'RGBA with a varying alpha', build: rgb([K0, R, G, G, R, K0].map((c, i) => [...c, i ? 255 : 0])), k: 3, json: withColours, want: { code: 'label-values', error: /alpha channel varies \(255 \(5 px\), 0 \(1 px\)\)/ } },
  { name: 'grey-coded 0/128/255 with grey colours in classes.json', build: grey8([255, 128, 0, 0, 128, 255]), k: 3, json: greyLevels, want: [0, 1, 2, 2, 1, 0] },
  { name: 'grey 0/128/255 without grey colours: refused, the hint says how', build: grey8([255, 128, 0, 0, 128, 255]), k: 3, want: { code: 'label-values', error: /values outside .*: 128 \(2 px\), 255 \(2 px\)$/, hint: /"color": \[v, v, v\]/ } },
  { name: 'K = 2 without classes.json: a 0/255 mask by the binary rule', build: grey8([0, 255, 255, 0, 0, 255]), k: 2, want: [0, 1, 1, 0, 0, 1] },
  { name: 'K = 2 without classes.json: red on black by the binary rule', build: rgb([K0, R, R, K0, K0, R]), k: 2, want: [0, 1, 1, 0, 0, 1] },
  { name: 'K = 2 without classes.json: 0/1/2 by the binary rule (refused)', build: grey8([0, 1, 2, 2, 1, 0]), k: 2, want: { code: 'mask-values', error: /not a binary mask/ } },
  { name: 'K = 2 with classes.json: a label map', build: grey8([0, 1, 1, 0, 0, 1]), k: 2, json: { '0': 'background', '1': 'cell' }, want: [0, 1, 1, 0, 0, 1] },
  { name: 'K = 2 with classes.json: 0/255 refused, the hint names output.classes 1', build: grey8([0, 255, 255, 0, 0, 255]), k: 2, json: { '0': 'background', '1': 'cell' }, want: { code: 'label-values', error: /value outside the 2-class table .*classes\.json\): 255 \(3 px\)/, hint: /binary 0\/255 mask trains as output\.classes 1/ } },
  { name: 'K = 1: binary as today (0/255)', build: grey8([0, 255, 255, 0, 0, 255]), k: 1, want: [0, 1, 1, 0, 0, 1] },
  { name: 'K = 1: binary as today (--invert-mask)', build: grey8([0, 255, 255, 0, 0, 255]), k: 1, opts: { invertMask: true }, want: [1, 0, 0, 1, 1, 0] },
  { name: 'K = 1: binary as today (0/1/2 refused)', build: grey8([0, 1, 2, 2, 1, 0]), k: 1, want: { code: 'mask-values', error: /values 0 \(2 px\), 1 \(2 px\), 2 \(2 px\)/ } },
];

for (const c of cases) {
  test(`labels: ${c.name}`, async () => {
    const dir = freshDir();
    const path = join(dir, c.file ?? 'm.png');
    writeFileSync(path, await c.build());
    if (c.json) writeFileSync(join(dir, 'classes.json'), JSON.stringify(c.json));
    const { labels, errors } = readClassesFile(dir, c.k);
    assert.equal(errors, []);
    let got: number[];
    let counts: number[];
    let size: [number, number];
    try {
      const d = await decodeFile(path, { indices: true });
      size = [d.width, d.height];
      const r = toLabels(d, labels!, c.opts);
      [got, counts] = [[...r.mask.data], r.counts];
    } catch (e) {
      if (!(e instanceof DataErrors)) throw e;
      if (Array.isArray(c.want)) assert.unreachable(renderDataErrors(e.errors));
      else {
        const err = e.errors[0];
        assert.is(err.code, c.want.code);
        assert.is(err.file, path, 'the error names the file');
        assert.match(err.message, c.want.error);
        if (c.want.hint) assert.match(err.hint, c.want.hint);
      }
      return;
    }
    const want = c.want;
    if (!Array.isArray(want)) assert.unreachable(`no error; decoded ${got}`);
    else {
      assert.equal(got, want);
      assert.equal(size, c.size ?? [W, H]);
      assert.equal(counts, labels!.table.names.map((_, k) => want.filter((v: number) => v === k).length), 'pixels per class');
    }
  });
}

// ---------- classes.json ----------

interface TableCase {
  name: string;
  json: string;
  k: number;
  want: { names: string[]; colors?: Rgb[] } | RegExp;
}
const tables: TableCase[] = [
  { name: 'names', json: '{"0": "background", "1": "lung", "2": "heart"}', k: 3, want: { names: ['background', 'lung', 'heart'], colors: DEFAULT_COLORS.slice(0, 3) } },
  { name: 'names and some colours', json: '{"0": "bg", "1": {"name": "lung", "color": [255, 0, 0]}, "2": {"name": "heart"}}', k: 3, want: { names: ['bg', 'lung', 'heart'], colors: [[0, 0, 0], [255, 0, 0], DEFAULT_COLORS[2]] } },
  { name: 'a binary task (K = 1) has rows 0 and 1', json: '{"0": "background", "1": "vessel"}', k: 1, want: { names: ['background', 'vessel'] } },
  { name: 'missing key', json: '{"0": "background", "1": "lung"}', k: 3, want: /missing "2": the spec's output\.classes is 3, so the keys are "0"\.\."2"/ },
  { name: 'missing background', json: '{"1": "lung", "2": "heart"}', k: 3, want: /missing "0"/ },
  { name: 'extra key, the hint names the K it implies', json: '{"0": "b", "1": "l", "2": "h", "3": "c"}', k: 3, want: /extra "3": the spec's output\.classes is 3.*\n.*set output\.classes to 4/ },
  { name: 'a key that is no index', json: '{"0": "b", "1": "l", "2": "h", "lung": "x"}', k: 3, want: /extra "lung"/ },
  { name: 'not JSON', json: '{"0": "b",', k: 3, want: /not valid JSON/ },
  { name: 'a list', json: '["b", "l", "h"]', k: 3, want: /must be an object/ },
  { name: 'a colour out of range', json: '{"0": "b", "1": {"name": "l", "color": [300, 0, 0]}, "2": "h"}', k: 3, want: /class "1" has color \[300,0,0\]: a colour is \[r, g, b\], integers 0\.\.255/ },
  { name: 'a misspelt key', json: '{"0": "b", "1": {"name": "l", "colour": [255, 0, 0]}, "2": "h"}', k: 3, want: /class "1" has "colour": a class has "name" and "color" only/ },
  { name: 'no name', json: '{"0": "b", "1": {"color": [255, 0, 0]}, "2": "h"}', k: 3, want: /class "1" has no "name"/ },
  { name: 'two classes with one colour', json: '{"0": "b", "1": {"name": "l", "color": [255, 0, 0]}, "2": {"name": "h", "color": [255, 0, 0]}}', k: 3, want: /classes "1" and "2" have the same colour \[255, 0, 0\]/ },
  { name: 'a colour that is another class\'s default', json: '{"0": "b", "1": {"name": "l", "color": [0, 0, 0]}, "2": "h"}', k: 3, want: /classes "0" and "1" have the same colour \[0, 0, 0\] \(class "0" has it by default\)/ },
];
for (const t of tables) {
  test(`classes.json: ${t.name}`, () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'classes.json'), t.json);
    const r = readClassesFile(dir, t.k);
    if (t.want instanceof RegExp) {
      assert.is(r.labels, undefined);
      assert.equal(r.errors.map((e) => [e.code, e.file]), [['bad-classes-file', join(dir, 'classes.json')]]);
      assert.match(`${r.errors[0].message}\n${r.errors[0].hint}`, t.want);
    } else {
      assert.equal(r.errors, []);
      assert.equal(r.labels!.table.names, t.want.names);
      if (t.want.colors) assert.equal(r.labels!.table.colors, t.want.colors);
    }
  });
}

test('no classes.json: the default table', () => {
  const r = readClassesFile(freshDir(), 4);
  assert.equal(r.labels, { classes: 4, table: defaultClassTable(4) });
});

// ---------- datasets ----------

const IMG = grey8([10, 20, 30, 40, 50, 60]);
async function make(files: Record<string, Builder | string>): Promise<string> {
  const dir = freshDir();
  for (const [rel, b] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), typeof b === 'string' ? b : await b());
  }
  return dir;
}
/** n samples s0.. with images and masks `mask(i)`, split by split.json: the first n-2 train, then val, test */
function setOf(n: number, mask: (i: number) => Builder, extra: Record<string, Builder | string> = {}): Record<string, Builder | string> {
  const files: Record<string, Builder | string> = { ...extra };
  const ids = Array.from({ length: n }, (_, i) => `s${i}`);
  ids.forEach((id, i) => Object.assign(files, { [`images/${id}.png`]: IMG, [`masks/${id}.png`]: mask(i) }));
  files['split.json'] = JSON.stringify({ train: ids.slice(0, n - 2), val: [ids[n - 2]], test: [ids[n - 1]] });
  return files;
}

test('scan: every file with values outside the table is reported at once, naming file, value and pixels', async () => {
  const dir = await make(setOf(5, (i) => (i === 1 ? grey8([0, 4, 4, 1, 2, 0]) : i === 3 ? grey8([9, 1, 2, 0, 0, 0]) : grey8([0, 1, 2, 0, 0, 0]))));
  const r = await scanDataset(dir, { classes: 3 });
  assert.is(r.dataset, undefined);
  assert.equal(r.errors.map((e) => [e.code, e.file.slice(dir.length + 1), e.message.replace(/.*: /, '')]), [
    ['label-values', 'masks/s1.png', '4 (2 px)'],
    ['label-values', 'masks/s3.png', '9 (1 px)'],
  ]);
});

test('scan: pixels per class per sample; a class no train mask holds is a warning naming it; the binary scan is unchanged', async () => {
  const json = JSON.stringify({ '0': 'background', '1': 'lung', '2': 'heart', '3': 'clavicle' });
  // class 3 only in the test mask
  const dir = await make(setOf(5, (i) => (i === 4 ? grey8([0, 3, 3, 0, 0, 0]) : grey8([0, 1, 1, 2, 0, 0])), { 'classes.json': json }));
  const r = await scanDataset(dir, { classes: 4 });
  assert.equal(r.errors, []);
  assert.equal(r.dataset!.labels!.table.names, ['background', 'lung', 'heart', 'clavicle']);
  assert.equal(r.dataset!.samples.map((s) => s.classPixels), [[3, 2, 1, 0], [3, 2, 1, 0], [3, 2, 1, 0], [3, 2, 1, 0], [4, 0, 0, 2]]);
  assert.equal(r.warnings.map((w) => w.code), ['absent-class']);
  assert.match(r.warnings[0].message, /class 3 \(clavicle\) occurs in none of the 3 train masks/);
  // the same masks as a binary task: not binary, as before
  const binary = await scanDataset(dir);
  assert.equal(binary.errors.map((e) => e.code), ['mask-values', 'mask-values', 'mask-values', 'mask-values', 'mask-values']);
  assert.is(binary.found.labels, undefined);
});

test('scan: a broken classes.json is one error, the masks are not judged against a wrong table', async () => {
  const dir = await make(setOf(4, () => rgb([K0, R, G, G, R, K0]), { 'classes.json': '{"0": "b", "1": "l"}' }));
  const r = await scanDataset(dir, { classes: 3 });
  assert.equal(r.errors.map((e) => [e.code, e.file.slice(dir.length + 1)]), [['bad-classes-file', 'classes.json']]);
});

test('loadTrainingData: label masks as class indices and the table; binary masks as 0/1 with the default table', async () => {
  const dir = await make(setOf(4, (i) => rgb([K0, R, G, G, R, i ? K0 : R]), { 'classes.json': JSON.stringify(withColours) }));
  const r = await scanDataset(dir, { classes: 3 });
  const data = await loadTrainingData(r.dataset!.samples, { channels: 1, classes: r.dataset!.labels, normalize: 'none' });
  assert.equal([...data.train[0].mask.data], [0, 1, 2, 2, 1, 1]);
  assert.equal([...data.val[0].mask.data], [0, 1, 2, 2, 1, 0]);
  assert.equal(data.classes.names, ['background', 'lung', 'heart']);
  assert.equal(data.classes.colors, [K0, R, G]);
  const bin = await make(setOf(4, () => grey8([0, 255, 0, 0, 0, 255])));
  const b = await scanDataset(bin, { classes: 2 });
  const bd = await loadTrainingData(b.dataset!.samples, { channels: 1, classes: b.dataset!.labels, normalize: 'none' });
  assert.equal([...bd.train[0].mask.data], [0, 1, 0, 0, 0, 1]);
  assert.equal(bd.classes, defaultClassTable(2));
  const old = await loadTrainingData((await scanDataset(bin)).dataset!.samples, { channels: 1, normalize: 'none' });
  assert.equal(old.classes, defaultClassTable(1));
});

test('train records the class table in run.json (a binary run: classes.json names, else the default)', async () => {
  const dir = freshDir();
  const spec = join(dir, 'tiny.yaml');
  writeFileSync(spec, tinySpec({ epochs: 1, deep: false }));
  const square = (i: number): Builder => async () => sharp(Buffer.from(Array.from({ length: 32 * 32 }, (_, p) => ((p % 32) + i > 16 ? 255 : 0))), { raw: { width: 32, height: 32, channels: 1 } }).toColourspace('b-w').png().toBuffer();
  const image = (i: number): Builder => async () => sharp(Buffer.from(Array.from({ length: 32 * 32 }, (_, p) => ((p % 32) + i > 16 ? 200 : 40))), { raw: { width: 32, height: 32, channels: 1 } }).toColourspace('b-w').png().toBuffer();
  const files: Record<string, Builder | string> = { 'classes.json': '{"0": "background", "1": "cell"}', 'split.json': JSON.stringify({ train: ['a', 'b'], val: ['c'], test: [] }) };
  for (const [i, id] of ['a', 'b', 'c'].entries()) Object.assign(files, { [`images/${id}.png`]: image(i), [`masks/${id}.png`]: square(i) });
  for (const [rel, b] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, 'data', rel)), { recursive: true });
    writeFileSync(join(dir, 'data', rel), typeof b === 'string' ? b : await b());
  }
  await trainRun({ spec, data: join(dir, 'data'), out: join(dir, 'run'), engine: 'ort' });
  const info = JSON.parse(readFileSync(join(dir, 'run', 'run.json'), 'utf8')) as RunInfo;
  assert.equal(info.classes, { names: ['background', 'cell'], colors: defaultClassTable(1).colors });
});

// ---------- alcli data check ----------

test('checkDataset: the class table and each class\'s pixel fraction per split; K from classes.json without --classes', async () => {
  const dir = await make(setOf(4, (i) => (i < 2 ? rgb([K0, R, R, G, K0, K0]) : rgb([K0, K0, K0, K0, K0, R])), { 'classes.json': JSON.stringify(withColours) }));
  const r = await checkDataset(dir);
  assert.ok(r.trainable);
  assert.equal(r.classes!.count, 3);
  assert.is(r.classes!.from, 'classes.json');
  assert.equal(r.classes!.fractions, { train: [3 / 6, 2 / 6, 1 / 6], val: [5 / 6, 1 / 6, 0], test: [5 / 6, 1 / 6, 0] });
  assert.equal(r.samples[0].classes, [3 / 6, 2 / 6, 1 / 6]);
  const text = renderDataCheck(r);
  assert.match(text, /classes +3 \(from .*classes\.json\); pixels per split:/);
  assert.match(text, /1 lung +33\.3 % +16\.7 % +16\.7 %/);
  assert.is((await checkDataset(dir, { classes: 3 })).classes!.from, 'option');
  try {
    await checkDataset(dir, { classes: 3, maskThreshold: 0.5 });
    assert.unreachable('--mask-threshold on a label-map task');
  } catch (e) {
    assert.instance(e, BadOptionsError);
    assert.match((e as Error).message, /--mask-threshold reads binary masks; this 3-class task reads label maps/);
  }
});

test('checkDataset: a class missing from train is warned about in the table and, in capitals, last', async () => {
  const dir = await make(setOf(4, (i) => (i === 3 ? grey8([0, 2, 0, 0, 0, 0]) : grey8([0, 1, 0, 0, 0, 0]))));
  const text = renderDataCheck(await checkDataset(dir, { classes: 3 }));
  assert.match(text, /2 class_2 +0\.0 % +0\.0 % +16\.7 %  <- never in train/);
  assert.match(text, /WARNING: class 2 \(class_2\) occurs in none of the 2 train masks[^\n]*\n?$/);
});

const BIN = join(fileURLToPath(new URL('..', import.meta.url)), 'bin', 'run.js');
const alcli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', DEBUG: '' } });

test('alcli data check --classes: exit 4 naming file, value and pixels; exit 0 when the values fit; exit 2 for --invert-mask', async () => {
  const dir = await make(setOf(4, (i) => grey8(i === 2 ? [0, 1, 5, 2, 0, 0] : [0, 1, 1, 2, 0, 0])));
  const bad = alcli(['data', 'check', dir, '--classes', '3']);
  assert.is(bad.status, 4, bad.stderr);
  assert.match(bad.stderr, new RegExp(`${join(dir, 'masks', 's2.png')}: error\\[label-values\\]: 8-bit grey, value outside the 3-class table \\(no classes\\.json: class indices 0\\.\\.2\\): 5 \\(1 px\\)`));
  const ok = alcli(['data', 'check', dir, '--classes', '6']);
  assert.is(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /5 class_5 +0\.0 %/);
  const usage = alcli(['data', 'check', dir, '--classes', '3', '--invert-mask']);
  assert.is(usage.status, 2, usage.stderr);
});

test.run();
