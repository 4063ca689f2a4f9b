// Datasets on disk: tiny images written with sharp into a temp folder (PNG, JPEG, GIF, multi-page TIFF,
// gray and RGB), every layout and split rule, every data error naming its file, and the decoding:
// [0, 1] scaling, channel adaptation, mask binarization at > 127 (--mask-threshold 0.5; the strict mask
// rule and every encoding are in decode.test.ts), FOV, train-set statistics.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { scanDataset, splitCounts, type Dataset, type ScanOptions } from '../src/train/dataset.js';
import { datasetStats, imageStats, loadSample, normalize } from '../src/train/load.js';
import { DataErrors, renderDataErrors } from '../src/train/errors.js';
import { hwc } from '../src/train/image.js';
import { matchByStem, entry } from '../src/train/match.js';

const root = mkdtempSync(join(tmpdir(), 'alcli-data-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

/** An image file: `values` are 8-bit, HWC; `pages` > 1 writes a multi-page TIFF of `pages` copies, page p offset by p. */
interface Img {
  w: number;
  h: number;
  c?: 1 | 3;
  values?: number[];
  fill?: number;
  pages?: number;
}

async function encode(path: string, img: Img): Promise<Buffer> {
  const c = img.c ?? 1;
  const n = img.w * img.h * c;
  const base = img.values ?? new Array(n).fill(img.fill ?? 200);
  const pages = img.pages ?? 1;
  const bytes = Buffer.from(Array.from({ length: pages }, (_, p) => base.map((v) => Math.min(255, v + p))).flat());
  let s = sharp(bytes, { raw: { width: img.w, height: img.h * pages, channels: c, ...(pages > 1 ? { pageHeight: img.h } : {}) } });
  if (c === 1) s = s.toColourspace('b-w');
  const ext = path.slice(path.lastIndexOf('.') + 1).toLowerCase();
  if (ext === 'png') return s.png().toBuffer();
  if (ext === 'jpg' || ext === 'jpeg') return s.jpeg({ quality: 100 }).toBuffer();
  if (ext === 'gif') return s.gif().toBuffer();
  if (ext === 'tif' || ext === 'tiff') return s.tiff({ compression: 'lzw' }).toBuffer(); // sharp's default TIFF compression is lossy JPEG
  throw new Error(`no encoder for ${path}`);
}

let counter = 0;
/** Writes a dataset folder from a map of relative path to image (or raw text/bytes) and returns its path. */
async function make(files: Record<string, Img | string>): Promise<string> {
  const dir = join(root, `ds${counter++}`);
  for (const [rel, f] of Object.entries(files)) {
    const path = join(dir, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, typeof f === 'string' ? f : await encode(path, f));
  }
  return dir;
}

const pair = (stem: string, img: Img = { w: 4, h: 3 }) => ({ [`images/${stem}.png`]: img, [`masks/${stem}.png`]: { ...img, c: 1 as const, fill: 255 } });
const pairs = (n: number, prefix = '') => Object.assign({}, ...Array.from({ length: n }, (_, i) => pair(`${prefix}${String(i).padStart(2, '0')}`)));

async function scanOk(dir: string, opts?: ScanOptions): Promise<Dataset> {
  const r = await scanDataset(dir, opts);
  if (!r.dataset) assert.unreachable(renderDataErrors(r.errors));
  return r.dataset!;
}
const idsOf = (d: Dataset, split: string) => d.samples.filter((s) => s.split === split).map((s) => s.id);

// ---------- splits ----------

test('splitCounts is 5:2:3 with every split non-empty from 3 samples', () => {
  const cases: [number, [number, number, number]][] = [[30, [15, 6, 9]], [10, [5, 2, 3]], [20, [10, 4, 6]], [3, [1, 1, 1]], [4, [2, 1, 1]], [7, [4, 1, 2]], [2, [1, 0, 1]], [1, [1, 0, 0]]];
  for (const [n, want] of cases) {
    const c = splitCounts(n);
    assert.equal([c.train, c.val, c.test], want, `n = ${n}`);
  }
});

test('no split.json: a seeded 5:2:3 split, the same for the same seed', async () => {
  const dir = await make(pairs(10));
  const a = await scanOk(dir, { seed: 7 });
  const b = await scanOk(dir, { seed: 7 });
  const c = await scanOk(dir, { seed: 8 });
  assert.is(a.splitFrom, 'seeded');
  assert.equal([idsOf(a, 'train').length, idsOf(a, 'val').length, idsOf(a, 'test').length], [5, 2, 3]);
  assert.equal(a.samples, b.samples);
  assert.not.equal(a.samples.map((s) => s.split), c.samples.map((s) => s.split));
  assert.equal(a.samples.map((s) => s.id), Array.from({ length: 10 }, (_, i) => String(i).padStart(2, '0')), 'samples in name order');
});

test('split.json decides the split; other keys are ignored; unlisted samples are left out and reported', async () => {
  const split = { note: 'ours', train: ['00', '01', '02'], val: ['03'], test: ['04'] };
  const dir = await make({ ...pairs(6), 'split.json': JSON.stringify(split) });
  const d = await scanOk(dir);
  assert.is(d.splitFrom, 'split.json');
  assert.equal([idsOf(d, 'train'), idsOf(d, 'val'), idsOf(d, 'test')], [split.train, split.val, split.test]);
  assert.equal(d.unlisted, ['05']);
});

test('train/ val/ test/ folders decide the split; without val/, 2/7 of train is carved out, seeded', async () => {
  const three = await make({ ...prefixed('train', pairs(3, 'a')), ...prefixed('val', pairs(1, 'b')), ...prefixed('test', pairs(2, 'c')) });
  const d = await scanOk(three);
  assert.is(d.splitFrom, 'folders');
  assert.equal([idsOf(d, 'train'), idsOf(d, 'val'), idsOf(d, 'test')], [['a00', 'a01', 'a02'], ['b00'], ['c00', 'c01']]);
  const noVal = await make({ ...prefixed('train', pairs(10, 'a')), ...prefixed('test', pairs(2, 'c')) });
  const e = await scanOk(noVal, { seed: 1 });
  assert.equal([idsOf(e, 'train').length, idsOf(e, 'val').length, idsOf(e, 'test').length], [7, 3, 2]); // STARE's 10 -> 7 + 3
  assert.equal(e.samples, (await scanOk(noVal, { seed: 1 })).samples);
  assert.ok(idsOf(e, 'val').every((id) => id.startsWith('a')));
});

test('a name used in two split folders is a duplicate-id error naming both files (ids stay unique)', async () => {
  const dup = await make({ ...prefixed('train', pairs(3)), ...prefixed('val', pairs(1, 'v')), ...prefixed('test', pairs(2)) });
  const r = await scanDataset(dup);
  assert.equal(r.errors.map((e) => [e.code, e.file.slice(dup.length + 1)]), [['duplicate-id', 'test/images/00.png'], ['duplicate-id', 'test/images/01.png']]);
  assert.match(r.errors[0].message, `${join(dup, 'train', 'images', '00.png')} and ${join(dup, 'test', 'images', '00.png')}`);
  const dir = await make({ ...prefixed('train', pairs(3)), ...prefixed('val', pairs(1, 'v')), ...prefixed('test', pairs(2, 'test_')) });
  const d = await scanOk(dir);
  assert.equal(d.samples.map((s) => s.id), ['00', '01', '02', 'v00', 'test_00', 'test_01']);
});

test('a test/ folder may be absent when the test split is not needed', async () => {
  const dir = await make({ ...prefixed('train', pairs(3, 'a')), ...prefixed('val', pairs(1, 'b')) });
  const d = await scanOk(dir, { need: ['train', 'val'] });
  assert.equal(idsOf(d, 'test'), []);
});

function prefixed(folder: string, files: Record<string, Img | string>) {
  return Object.fromEntries(Object.entries(files).map(([k, v]) => [`${folder}/${k}`, v]));
}

// ---------- mask naming ----------

test('masks are found by stem, by stem + suffix, and by a unique leading token; extensions may differ', async () => {
  const img = { w: 4, h: 3 };
  const m = { w: 4, h: 3, fill: 255 };
  const dir = await make({
    'images/01.jpg': img, 'masks/01.png': m, // same stem, other format
    'images/ISIC_02.png': img, 'masks/ISIC_02_segmentation.png': m, // stem + suffix
    'images/im0003.png': img, 'masks/im0003.ah.png': m, // stem + .suffix (STARE's own names)
    'images/21_training.tif': img, 'masks/21_manual1.gif': m, // leading token (DRIVE's own names)
    'images/1.png': img, 'images/12.png': img, 'masks/1_mask.png': m, 'masks/12_mask.png': m, // longest stem wins
    'images/notes.txt': 'not an image',
  });
  const d = await scanOk(dir, { need: [] });
  const maskOf = Object.fromEntries(d.samples.map((s) => [s.id, s.mask.path.slice(s.mask.path.lastIndexOf('/') + 1)]));
  assert.equal(maskOf, { '01': '01.png', ISIC_02: 'ISIC_02_segmentation.png', 'im0003': 'im0003.ah.png', '21_training': '21_manual1.gif', '1': '1_mask.png', '12': '12_mask.png' });
  assert.equal(d.ignored, [join(dir, 'images', 'notes.txt')]);
});

test('matchByStem: a leading token shared by two images is not used', () => {
  const m = matchByStem(['21_a', '21_b'], [entry('21_x.png')]);
  assert.equal(m.unmatched.map((f) => f.name), ['21_x.png']);
});

// ---------- errors ----------

const img43 = { w: 4, h: 3 };
const mask43 = { w: 4, h: 3, fill: 255 };
/** [name, files, expected [code, file relative to the dataset]] */
const errorCases: [string, Record<string, Img | string>, [string, string][]][] = [
  ['missing mask', { ...pairs(3), 'images/lonely.png': img43 }, [['missing-mask', 'images/lonely.png']]],
  ['mask without image', { ...pairs(3), 'masks/orphan.png': mask43 }, [['unmatched-mask', 'masks/orphan.png']]],
  ['FOV without image', { ...pairs(3), ...fovs(3), 'fov/orphan.png': mask43 }, [['unmatched-mask', 'fov/orphan.png']]],
  ['two masks for one image', { ...pairs(3), 'images/21.png': img43, 'masks/21_manual1.png': mask43, 'masks/21_manual2.png': mask43 }, [['ambiguous-mask', 'masks/21_manual1.png']]],
  ['image/mask size mismatch', { ...pairs(3), 'images/big.png': { w: 5, h: 3 }, 'masks/big.png': mask43 }, [['size-mismatch', 'masks/big.png']]],
  ['image/FOV size mismatch', { ...pairs(3), ...fovs(2), 'fov/02.png': { w: 4, h: 4, fill: 255 } }, [['size-mismatch', 'fov/02.png']]],
  ['page count mismatch', { ...pairs(3), 'images/vol.tif': { ...img43, pages: 3 }, 'masks/vol.tif': { ...mask43, pages: 2 } }, [['size-mismatch', 'masks/vol.tif']]],
  ['unreadable image', { ...pairs(3), 'images/bad.png': 'not a png at all', 'masks/bad.png': mask43 }, [['unreadable', 'images/bad.png']]],
  ['unreadable mask', { ...pairs(3), 'masks/02.png': '\x89PNG garbage' }, [['unreadable', 'masks/02.png']]],
  ['missing FOV', { ...pairs(3), ...fovs(2) }, [['missing-fov', 'images/02.png']]],
  ['same stem twice', { ...pairs(3), 'images/00.jpg': img43 }, [['duplicate-stem', 'images/00.png']]],
  ['no masks folder', { 'images/a.png': img43 }, [['no-dataset', 'masks']]],
  ['nothing inside', { 'readme.txt': 'hi' }, [['no-dataset', '']]],
  ['split folder without images/', { ...prefixed('train', pairs(3)), 'test/masks/00.png': mask43 }, [['no-dataset', 'test/images']]],
  ['too few for 5:2:3', pairs(2), [['empty-split', 'images']]],
  ['empty val folder', { ...prefixed('train', pairs(3)), 'val/images/.keep': '', 'val/masks/.keep': '', ...prefixed('test', pairs(1, 't')) }, [['empty-split', 'val']]],
  ['split.json not JSON', { ...pairs(3), 'split.json': '{"train": [' }, [['bad-split-file', 'split.json']]],
  ['split.json unknown id', { ...pairs(3), 'split.json': '{"train": ["00", "99"], "val": ["01"], "test": ["02"]}' }, [['bad-split-file', 'split.json']]],
  ['split.json id twice', { ...pairs(3), 'split.json': '{"train": ["00", "01"], "val": ["01"], "test": ["02"]}' }, [['bad-split-file', 'split.json']]],
  ['split.json empty test', { ...pairs(3), 'split.json': '{"train": ["00", "01"], "val": ["02"], "test": []}' }, [['empty-split', 'split.json']]],
  ['split.json not a list', { ...pairs(3), 'split.json': '{"train": "00", "val": ["01"], "test": ["02"]}' }, [['bad-split-file', 'split.json']]],
  ['split.json lists a broken sample: one error, not two', { ...pairs(3), 'masks/02.png': 'xx', 'split.json': '{"train": ["00"], "val": ["01"], "test": ["02"]}' }, [['unreadable', 'masks/02.png']]],
  [
    'every problem at once, each named',
    { ...pairs(3), 'images/lonely.png': img43, 'masks/orphan.png': mask43, 'images/big.png': { w: 5, h: 3 }, 'masks/big.png': mask43, 'images/bad.png': 'xx', 'masks/bad.png': mask43 },
    [['missing-mask', 'images/lonely.png'], ['unmatched-mask', 'masks/orphan.png'], ['size-mismatch', 'masks/big.png'], ['unreadable', 'images/bad.png']],
  ],
];

function fovs(n: number) {
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`fov/${String(i).padStart(2, '0')}.png`, mask43]));
}

for (const [name, files, want] of errorCases) {
  test(`data error: ${name}`, async () => {
    const dir = await make(files);
    const r = await scanDataset(dir);
    assert.is(r.dataset, undefined, 'no dataset when there are errors');
    const got = r.errors.map((e) => [e.code, e.file === dir ? '' : e.file.slice(dir.length + 1)]).sort();
    assert.equal(got, [...want].sort(), renderDataErrors(r.errors));
    for (const e of r.errors) {
      assert.ok(e.message.length > 10 && e.hint.length > 10, `${e.code} says what and what to do`);
      assert.ok(renderDataErrors([e]).startsWith(`${e.file}: error[${e.code}]`));
    }
  });
}

test('a missing folder is a no-dataset error', async () => {
  const r = await scanDataset(join(root, 'nope'));
  assert.equal(r.errors.map((e) => [e.code, e.file]), [['no-dataset', join(root, 'nope')]]);
});

test('a broken link or a looping one in a dataset folder is an unreadable error naming it; a link to a folder is skipped', async () => {
  const dir = await make(pairs(4));
  symlinkSync(join(dir, 'nowhere.png'), join(dir, 'masks', '03b.png'));
  symlinkSync(join(dir, 'images', 'loop.png'), join(dir, 'images', 'loop.png'));
  symlinkSync(join(dir, 'images'), join(dir, 'images', 'sub'));
  const r = await scanDataset(dir);
  assert.equal(r.errors.map((e) => [e.code, e.file.slice(dir.length + 1)]).sort(), [['unreadable', 'images/loop.png'], ['unreadable', 'masks/03b.png']]);
  assert.match(renderDataErrors(r.errors), /cannot read '.*03b\.png': no such file or folder \(ENOENT\) \(a link to a file that does not exist\)/);
  assert.match(renderDataErrors(r.errors), /too many levels of symbolic links \(ELOOP\)/);
});

// ---------- decoding ----------

const ramp = (n: number, step: number, from = 0) => Array.from({ length: n }, (_, i) => from + i * step);
const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-6, what = '') => {
  assert.is(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) if (!(Math.abs(a[i] - b[i]) <= tol)) assert.unreachable(`${what} at ${i}: ${a[i]} vs ${b[i]}`);
};

const grayValues = ramp(12, 20, 10); // 4x3, 10..230
const rgbValues = ramp(36, 7, 3);
const luma = (v: number[]) => Array.from({ length: v.length / 3 }, (_, i) => (0.299 * v[3 * i] + 0.587 * v[3 * i + 1] + 0.114 * v[3 * i + 2]) / 255);
const maskValues = [0, 127, 128, 255, 0, 127, 128, 255, 0, 127, 128, 255];
const maskBits = maskValues.map((v) => (v > 127 ? 1 : 0));

/** [name, image file, image, channels wanted, expected values (exact formats) or a tolerance] */
const decodeCases: [string, string, Img, 1 | 3, number[], number][] = [
  ['gray PNG as gray', 'png', { w: 4, h: 3, values: grayValues }, 1, grayValues.map((v) => v / 255), 1e-6],
  ['gray PNG as RGB (repeated)', 'png', { w: 4, h: 3, values: grayValues }, 3, grayValues.flatMap((v) => [v / 255, v / 255, v / 255]), 1e-6],
  ['RGB PNG as RGB', 'png', { w: 4, h: 3, c: 3, values: rgbValues }, 3, rgbValues.map((v) => v / 255), 1e-6],
  ['RGB PNG as gray (luminance)', 'png', { w: 4, h: 3, c: 3, values: rgbValues }, 1, luma(rgbValues), 1e-6],
  ['gray GIF', 'gif', { w: 4, h: 3, values: grayValues }, 1, grayValues.map((v) => v / 255), 1e-6],
  ['gray TIFF', 'tif', { w: 4, h: 3, values: grayValues }, 1, grayValues.map((v) => v / 255), 1e-6],
  ['gray JPEG (lossy)', 'jpg', { w: 4, h: 3, fill: 100 }, 1, new Array(12).fill(100 / 255), 3 / 255],
  ['RGB JPEG as RGB (lossy)', 'jpeg', { w: 4, h: 3, c: 3, values: new Array(36).fill(0).map((_, i) => [200, 100, 50][i % 3]) }, 3, new Array(36).fill(0).map((_, i) => [200, 100, 50][i % 3] / 255), 6 / 255],
];

for (const [name, ext, img, channels, want, tol] of decodeCases) {
  test(`decode ${name}, with the mask binarized at > 127 (--mask-threshold 0.5)`, async () => {
    const dir = await make({ [`images/a.${ext}`]: img, 'masks/a.png': { w: 4, h: 3, values: maskValues } });
    const d = await scanOk(dir, { need: [], maskThreshold: 0.5 });
    const s = await loadSample(d.samples[0], { channels, maskThreshold: 0.5 });
    assert.equal([s.image.height, s.image.width, s.image.channels], [3, 4, channels]);
    close(s.image.data, want, tol, 'image');
    assert.equal([...s.mask.data], maskBits);
    assert.is(s.fov, undefined);
  });
}

test('invertMask flips the polarity; a colour mask counts any channel > 127; FOV is binarized (--mask-threshold 0.5)', async () => {
  const red = Array.from({ length: 12 }, (_, i) => (i % 2 ? [200, 0, 0] : [0, 0, 0])).flat();
  const dir = await make({ 'images/a.png': { w: 4, h: 3 }, 'masks/a.png': { w: 4, h: 3, values: maskValues }, 'fov/a.gif': { w: 4, h: 3, values: [...maskValues].reverse() }, 'images/b.png': { w: 4, h: 3 }, 'masks/b.png': { w: 4, h: 3, c: 3, values: red }, 'fov/b.png': { w: 4, h: 3, fill: 255 } });
  const d = await scanOk(dir, { need: [], maskThreshold: 0.5 });
  const a = await loadSample(d.samples[0], { channels: 1, invertMask: true, maskThreshold: 0.5 });
  assert.equal([...a.mask.data], maskBits.map((b) => 1 - b));
  assert.equal([...a.fov!.data], [...maskBits].reverse());
  const b = await loadSample(d.samples[1], { channels: 1, maskThreshold: 0.5 });
  assert.equal([...b.mask.data], Array.from({ length: 12 }, (_, i) => i % 2));
  const strict = await loadSample(d.samples[1], { channels: 1 });
  assert.equal([...strict.mask.data], Array.from({ length: 12 }, (_, i) => i % 2), 'red on black is binary without a threshold');
});

test('a multi-page TIFF is one sample per page, with its mask pages; a one-page FOV serves every page', async () => {
  const dir = await make({ 'images/vol.tif': { w: 4, h: 3, values: grayValues, pages: 3 }, 'masks/vol.tif': { w: 4, h: 3, values: maskValues, pages: 3 }, 'fov/vol.png': { w: 4, h: 3, fill: 255 } });
  const d = await scanOk(dir, { need: [], maskThreshold: 0.5 });
  assert.equal(d.samples.map((s) => s.id), ['vol#0', 'vol#1', 'vol#2']);
  for (const [p, s] of d.samples.entries()) {
    const l = await loadSample(s, { channels: 1, maskThreshold: 0.5 });
    close(l.image.data, grayValues.map((v) => (v + p) / 255), 1e-6, `page ${p}`);
    assert.equal([...l.mask.data], maskValues.map((v) => (v + p > 127 ? 1 : 0)));
    assert.equal([...l.fov!.data], new Array(12).fill(1));
  }
  const split = await make({ 'images/vol.tif': { w: 4, h: 3, pages: 3 }, 'masks/vol.tif': { w: 4, h: 3, pages: 3, fill: 255 }, 'images/b.png': img43, 'masks/b.png': mask43, 'split.json': '{"train": ["vol"], "val": ["b"], "test": ["vol#2"]}' });
  const r = await scanDataset(split);
  assert.equal(r.errors.map((e) => e.code), ['bad-split-file'], 'vol#2 is listed twice (all of vol, and vol#2)');
  const ok = await make({ 'images/vol.tif': { w: 4, h: 3, pages: 3 }, 'masks/vol.tif': { w: 4, h: 3, pages: 3, fill: 255 }, 'split.json': '{"train": ["vol#0", "vol#1"], "val": [], "test": ["vol#2"]}' });
  assert.equal(idsOf(await scanOk(ok, { need: ['train', 'test'] }), 'test'), ['vol#2']);
});

test('a network with 2 input channels is a channels error naming the image', async () => {
  const dir = await make(pair('a'));
  const d = await scanOk(dir, { need: [] });
  try {
    await loadSample(d.samples[0], { channels: 2 });
    assert.unreachable('no error');
  } catch (e) {
    assert.instance(e, DataErrors);
    assert.equal((e as DataErrors).errors.map((x) => [x.code, x.file]), [['channels', join(dir, 'images', 'a.png')]]);
  }
});

// ---------- statistics ----------

test('imageStats: per-channel mean and population std, by hand', () => {
  const a = hwc(1, 2, 2, Float32Array.from([0, 1, 1, 1]));
  const b = hwc(1, 2, 2, Float32Array.from([0.5, 1, 0.5, 1]));
  const s = imageStats([a, b]);
  close(s.mean, [0.5, 1], 1e-12);
  close(s.std, [Math.sqrt(0.125), 0], 1e-12); // channel 0: 0, 1, .5, .5
  assert.is(s.count, 4);
  close(normalize(a, s).data, [-0.5 / Math.sqrt(0.125), 0, 0.5 / Math.sqrt(0.125), 0], 1e-6, 'constant channel only centred');
});

test('datasetStats counts the train split only', async () => {
  const files = { 'images/a.png': { w: 2, h: 1, values: [0, 255] }, 'masks/a.png': { w: 2, h: 1, fill: 255 }, 'images/b.png': { w: 2, h: 1, values: [51, 51] }, 'masks/b.png': { w: 2, h: 1, fill: 255 }, 'images/c.png': { w: 2, h: 1, values: [255, 255] }, 'masks/c.png': { w: 2, h: 1, fill: 255 } };
  const dir = await make({ ...files, 'split.json': '{"train": ["a", "b"], "val": ["c"], "test": []}' });
  const d = await scanOk(dir, { need: ['train'] });
  const s = await datasetStats(d.samples, { channels: 1 });
  const xs = [0, 1, 0.2, 0.2];
  const mean = 0.35;
  close(s.mean, [mean], 1e-6);
  close(s.std, [Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / 4)], 1e-6);
  const rgb = await datasetStats(d.samples, { channels: 3 });
  close(rgb.mean, [mean, mean, mean], 1e-6);
});

test.run();
