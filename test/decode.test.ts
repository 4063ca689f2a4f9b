// The encodings table (issue 10, item 6): for each (bit depth, colour model, orientation, value set)
// a tiny file is written with sharp (fast-png where sharp cannot: 16-bit, grey+alpha, palette
// indices) and decoded as a mask: it equals the intended 0/1 mask, or the mask-values error names
// the file and the values found. Then images at their own precision, EXIF orientation everywhere,
// and the dataset-level sanity checks (no foreground, orientation size mismatch, duplicate ids,
// 0/1 masks ready to train), and `alcli data check` exit codes.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encode as encodePngFile } from 'fast-png';
import sharp from 'sharp';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkDataset } from '../src/train/data-check.js';
import { scanDataset } from '../src/train/dataset.js';
import { decodeFile, toImage, toMask, type MaskOptions } from '../src/train/decode.js';
import { DataErrors, renderDataErrors } from '../src/train/errors.js';
import { loadImageFile, loadSample } from '../src/train/load.js';
import { loadTrainingData } from '../src/train/loop.js';
import { imageMetrics } from '../src/train/metrics.js';

const root = mkdtempSync(join(tmpdir(), 'alcli-decode-'));
test.after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const fresh = (name: string) => join(root, `f${counter++}`, name);

const W = 3;
const H = 2;
/** the intended mask, stored pixels row-major (3 wide, 2 high: non-square, so a turn shows) */
const BITS = [1, 0, 0, 1, 1, 0];

type Builder = (path: string) => Promise<Buffer>;
const raw8 = (values: number[], channels: 1 | 3 | 4, w = W, h = H) => {
  const s = sharp(Buffer.from(values), { raw: { width: w, height: h, channels } });
  return channels === 1 ? s.toColourspace('b-w') : s;
};
const png8 = (values: number[], channels: 1 | 3 | 4 = 1, orientation?: number): Builder => async () => {
  const s = raw8(values, channels).png();
  return orientation ? s.withMetadata({ orientation }).toBuffer() : s.toBuffer();
};
const fastPng = (data: Uint8Array | Uint16Array, depth: 8 | 16, channels: number): Builder => async () => Buffer.from(encodePngFile({ width: W, height: H, data, depth, channels }));
const palette = (indices: number[], depth: 1 | 2 | 4 | 8, colours: number[][]): Builder => async () => {
  const stride = Math.ceil((W * depth) / 8);
  const packed = new Uint8Array(stride * H);
  indices.forEach((v, i) => {
    const [y, x] = [Math.floor(i / W), i % W];
    packed[y * stride + ((x * depth) >> 3)] |= v << (8 - depth - ((x * depth) & 7));
  });
  return Buffer.from(encodePngFile({ width: W, height: H, data: packed, depth, channels: 1, palette: colours }));
};
const perPixel = (bits: number[], on: number[], off: number[]) => bits.flatMap((b) => (b ? on : off));

/** The upright view of stored W x H pixels: orientation 6 turns clockwise, 8 counter-clockwise. */
function upright(values: number[], orientation: 1 | 6 | 8, w = W, h = H): number[] {
  if (orientation === 1) return values;
  const out: number[] = [];
  for (let y = 0; y < w; y++) for (let x = 0; x < h; x++) out.push(orientation === 6 ? values[(h - 1 - x) * w + y] : values[x * w + (w - 1 - y)]);
  return out;
}

interface Case {
  name: string;
  file: string;
  build: Builder;
  opts?: MaskOptions;
  /** the mask (upright, 0/1), or the error's values text */
  want: number[] | { error: RegExp };
  /** the expected upright size [w, h] */
  size?: [number, number];
}

const g = (bits: number[], on: number, off = 0) => bits.map((b) => (b ? on : off));
const cases: Case[] = [
  { name: '8-bit grey {0, 255}', file: 'm.png', build: png8(g(BITS, 255)), want: BITS },
  { name: '8-bit grey {0, 1}', file: 'm.png', build: png8(g(BITS, 1)), want: BITS },
  { name: '16-bit grey {0, 65535}', file: 'm.png', build: fastPng(Uint16Array.from(g(BITS, 65535)), 16, 1), want: BITS },
  { name: '16-bit grey {0, 1}', file: 'm.png', build: fastPng(Uint16Array.from(g(BITS, 1)), 16, 1), want: BITS },
  { name: '16-bit grey {0, 255}: not binary at 16 bits', file: 'm.png', build: fastPng(Uint16Array.from(g(BITS, 255)), 16, 1), want: { error: /16-bit grey, values 0 \(3 px\), 255 \(3 px\)/ } },
  { name: '16-bit grey {0, 255} with --mask-threshold 0', file: 'm.png', build: fastPng(Uint16Array.from(g(BITS, 255)), 16, 1), opts: { maskThreshold: 0 }, want: BITS },
  { name: '8-bit grey {0, 1, 2}', file: 'm.png', build: png8([0, 1, 2, 2, 1, 0]), want: { error: /values 0 \(2 px\), 1 \(2 px\), 2 \(2 px\)/ } },
  { name: '8-bit grey {0, 1, 2} with --mask-threshold 0', file: 'm.png', build: png8([0, 1, 2, 2, 1, 0]), opts: { maskThreshold: 0 }, want: [0, 1, 1, 1, 1, 0] },
  { name: '8-bit grey ramp', file: 'm.png', build: png8([0, 50, 100, 150, 200, 250]), want: { error: /values 0 \(1 px\), 50 \(1 px\), 100 \(1 px\), 150 \(1 px\), 200 \(1 px\), and 1 more/ } },
  { name: '8-bit grey ramp with --mask-threshold 0.5', file: 'm.png', build: png8([0, 50, 100, 150, 200, 250]), opts: { maskThreshold: 0.5 }, want: [0, 0, 0, 1, 1, 1] },
  { name: '8-bit grey {0, 1, 255}', file: 'm.png', build: png8([0, 1, 255, 255, 1, 0]), want: { error: /values/ } },
  { name: '8-bit {0, 255} with --invert-mask', file: 'm.png', build: png8(g(BITS, 255)), opts: { invertMask: true }, want: BITS.map((b) => 1 - b) },
  { name: '8-bit {0, 1} with --invert-mask', file: 'm.png', build: png8(g(BITS, 1)), opts: { invertMask: true }, want: BITS.map((b) => 1 - b) },
  { name: 'all 0: an empty mask', file: 'm.png', build: png8(g(BITS, 0)), want: [0, 0, 0, 0, 0, 0] },
  { name: '8-bit RGB grey {0, 255}', file: 'm.png', build: png8(perPixel(BITS, [255, 255, 255], [0, 0, 0]), 3), want: BITS },
  { name: '8-bit RGB red on black', file: 'm.png', build: png8(perPixel(BITS, [200, 0, 0], [0, 0, 0]), 3), want: BITS },
  { name: '8-bit RGB red and green on black', file: 'm.png', build: png8([255, 0, 0, 0, 255, 0, 0, 0, 0, 255, 0, 0, 0, 0, 0, 0, 0, 0], 3), want: { error: /colours \(0,0,0\) \(3 px\), \(255,0,0\) \(2 px\), \(0,255,0\) \(1 px\)/ } },
  { name: '16-bit RGB red on black', file: 'm.png', build: fastPng(Uint16Array.from(perPixel(BITS, [65535, 0, 0], [0, 0, 0])), 16, 3), want: BITS },
  { name: '8-bit RGBA {0, 255}, alpha constant', file: 'm.png', build: png8(perPixel(BITS, [255, 255, 255, 255], [0, 0, 0, 255]), 4), want: BITS },
  { name: '8-bit RGBA, alpha varies', file: 'm.png', build: png8(perPixel(BITS, [255, 255, 255, 255], [255, 255, 255, 0]), 4), want: { error: /alpha channel varies.*alpha values 0 \(3 px\), 255 \(3 px\)/ } },
  { name: '8-bit RGBA, alpha varies, --mask-threshold 0.5', file: 'm.png', build: png8(perPixel(BITS, [255, 255, 255, 255], [255, 255, 255, 0]), 4), opts: { maskThreshold: 0.5 }, want: BITS },
  { name: '8-bit grey+alpha, alpha constant', file: 'm.png', build: fastPng(Uint8Array.from(perPixel(BITS, [255, 255], [0, 255])), 8, 2), want: BITS },
  { name: '16-bit grey+alpha, alpha varies', file: 'm.png', build: fastPng(Uint16Array.from(perPixel(BITS, [65535, 65535], [0, 9])), 16, 2), want: { error: /alpha channel varies/ } },
  { name: 'palette by index {0, 1} (index 0 white: colours would invert it)', file: 'm.png', build: palette(BITS, 8, [[255, 255, 255], [0, 0, 0]]), want: BITS },
  { name: '1-bit palette {0, 1}', file: 'm.png', build: palette(BITS, 1, [[0, 0, 0], [255, 0, 0]]), want: BITS },
  { name: '4-bit palette {0, 1, 2}', file: 'm.png', build: palette([0, 1, 2, 2, 1, 0], 4, [[0, 0, 0], [255, 0, 0], [0, 255, 0]]), want: { error: /4-bit palette indices, values 0 \(2 px\), 1 \(2 px\), 2 \(2 px\)/ } },
  { name: '4-bit palette {0, 1, 2} with --mask-threshold 0', file: 'm.png', build: palette([0, 1, 2, 2, 1, 0], 4, [[0, 0, 0], [255, 0, 0], [0, 255, 0]]), opts: { maskThreshold: 0 }, want: [0, 1, 1, 1, 1, 0] },
  { name: 'GIF {0, 255}', file: 'm.gif', build: async () => raw8(g(BITS, 255), 1).gif().toBuffer(), want: BITS },
  { name: 'TIFF {0, 255}', file: 'm.tif', build: async () => raw8(g(BITS, 255), 1).tiff({ compression: 'lzw' }).toBuffer(), want: BITS },
  { name: 'JPEG {0, 255} (lossy)', file: 'm.jpg', build: async () => raw8(g([1, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 1], 255), 1, 6, 2).jpeg({ quality: 70 }).toBuffer(), want: { error: /not a binary mask: 8-bit grey, values/ } },
];
for (const o of [6, 8] as const) {
  cases.push({ name: `8-bit grey {0, 255}, EXIF orientation ${o}`, file: 'm.png', build: png8(g(BITS, 255), 1, o), want: upright(BITS, o), size: [H, W] });
  cases.push({ name: `8-bit RGB red on black, JPEG-free PNG, EXIF orientation ${o}`, file: 'm.png', build: png8(perPixel(BITS, [255, 0, 0], [0, 0, 0]), 3, o), want: upright(BITS, o), size: [H, W] });
}

for (const c of cases) {
  test(`mask: ${c.name}`, async () => {
    const path = fresh(c.file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, await c.build(path));
    let got: number[];
    let size: [number, number];
    try {
      const d = await decodeFile(path, { indices: true });
      size = [d.width, d.height];
      got = [...toMask(d, c.opts).mask.data];
    } catch (e) {
      if (!(e instanceof DataErrors)) throw e;
      const err = e.errors[0];
      if (Array.isArray(c.want)) assert.unreachable(renderDataErrors(e.errors));
      else {
        assert.is(err.code, 'mask-values');
        assert.is(err.file, path, 'the error names the file');
        assert.match(err.message, c.want.error);
        assert.match(err.hint, /--mask-threshold T/);
      }
      return;
    }
    if (!Array.isArray(c.want)) assert.unreachable(`no error; decoded ${got}`);
    else {
      assert.equal(got, c.want);
      assert.equal(size, c.size ?? [W, H]);
    }
  });
}

// ---------- images: own precision, alpha dropped, orientation ----------

test('images keep their precision: 16-bit grey divides by 65535 (12-bit levels stay apart), 16-bit RGB too', async () => {
  const path = fresh('g16.png');
  mkdirSync(dirname(path), { recursive: true });
  const v = [0, 1, 4094, 4095, 40000, 65535];
  writeFileSync(path, await fastPng(Uint16Array.from(v), 16, 1)(path));
  const img = toImage(await decodeFile(path), 1);
  assert.equal([...img.data], v.map((x) => Math.fround(x / 65535)));
  assert.ok(img.data[2] !== img.data[3], '4094 and 4095 stay two levels');
  const rgb = fresh('rgb16.png');
  mkdirSync(dirname(rgb), { recursive: true });
  const vs = Array.from({ length: 18 }, (_, i) => i * 3000 + 7);
  writeFileSync(rgb, await fastPng(Uint16Array.from(vs), 16, 3)(rgb));
  assert.equal([...toImage(await decodeFile(rgb), 3).data], vs.map((x) => Math.fround(x / 65535)));
});

test('images: RGBA drops alpha; a palette image is read as its colours; 8-bit grey is v / 255 as before', async () => {
  const a = fresh('a.png');
  mkdirSync(dirname(a), { recursive: true });
  writeFileSync(a, await png8([10, 20, 30, 0, 40, 50, 60, 255, 70, 80, 90, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], 4)(a));
  assert.equal([...toImage(await decodeFile(a), 3).data], [10, 20, 30, 40, 50, 60, 70, 80, 90, 1, 2, 3, 5, 6, 7, 9, 10, 11].map((x) => Math.fround(x / 255)));
  const p = fresh('p.png');
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, await palette(BITS, 8, [[255, 255, 255], [0, 0, 0]])(p));
  assert.equal([...toImage(await decodeFile(p), 1).data], BITS.map((b) => (b ? 0 : 1)));
  const grey = fresh('g.png');
  mkdirSync(dirname(grey), { recursive: true });
  writeFileSync(grey, await png8([0, 1, 127, 128, 254, 255])(grey));
  assert.equal([...toImage(await decodeFile(grey), 1).data], [0, 1, 127, 128, 254, 255].map((x) => Math.fround(x / 255)));
});

test('EXIF orientation is applied to images everywhere: decode, loadImageFile (predict, overlays), PNG and JPEG', async () => {
  const values = [10, 20, 30, 40, 50, 60];
  for (const o of [6, 8] as const) {
    const path = fresh(`o${o}.png`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, await png8(values, 1, o)(path));
    const img = await loadImageFile(path, 1);
    assert.equal([img.width, img.height], [H, W]);
    assert.equal([...img.data], upright(values, o).map((x) => Math.fround(x / 255)));
    const jpg = fresh(`o${o}.jpg`);
    mkdirSync(dirname(jpg), { recursive: true });
    writeFileSync(jpg, await raw8(values, 1).jpeg({ quality: 100 }).withMetadata({ orientation: o }).toBuffer());
    const j = await loadImageFile(jpg, 1);
    assert.equal([j.width, j.height], [H, W]);
  }
});

// ---------- datasets ----------

/** Writes files (relative path -> PNG bytes builder) into a fresh dataset folder. */
async function make(files: Record<string, Builder | string>): Promise<string> {
  const dir = join(root, `ds${counter++}`);
  for (const [rel, f] of Object.entries(files)) {
    const path = join(dir, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, typeof f === 'string' ? f : await f(path));
  }
  return dir;
}
const IMG = png8([10, 20, 30, 40, 50, 60]);
const setOf = (n: number, mask: (i: number) => Builder, prefix = '') =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [[`images/${prefix}${i}.png`, IMG], [`masks/${prefix}${i}.png`, mask(i)]]).flat());

test('0/1 masks are train-ready: the scan finds foreground and loadTrainingData loads it (an empty prediction scores IoU 0, not 1)', async () => {
  const dir = await make(setOf(10, () => png8(g(BITS, 1))));
  const r = await scanDataset(dir, { need: ['train', 'val'] });
  assert.ok(r.dataset, renderDataErrors(r.errors));
  assert.equal(r.warnings, []);
  for (const s of r.dataset!.samples) assert.is(s.foreground, 0.5);
  const data = await loadTrainingData(r.dataset!.samples, { channels: 1, normalize: 'none' });
  for (const s of [...data.train, ...data.val]) assert.equal([...s.mask.data], BITS);
  const nothing = imageMetrics(new Float32Array(6), data.val[0].mask.data);
  assert.is(nothing.iou, 0);
});

test('no foreground pixel in train: a no-foreground error naming the split (data check: not trainable); in val only a warning', async () => {
  const dir = await make(setOf(10, () => png8(g(BITS, 0))));
  const r = await scanDataset(dir, { need: ['train', 'val'] });
  assert.is(r.dataset, undefined);
  assert.equal(r.errors.map((e) => e.code), ['no-foreground']);
  assert.match(r.errors[0].message, /the train split has no foreground pixel/);
  assert.match(r.errors[0].hint, /--invert-mask/);
  assert.is((await checkDataset(dir)).trainable, false);
  const valOnly = await make({ ...setOf(3, () => png8(g(BITS, 255))), ...setOf(1, () => png8(g(BITS, 0)), 'v'), 'split.json': '{"train": ["0", "1"], "val": ["v0"], "test": ["2"]}' });
  const v = await scanDataset(valOnly);
  assert.ok(v.dataset, renderDataErrors(v.errors));
  assert.equal(v.warnings.map((w) => [w.code, w.message.slice(0, 36)]), [['no-foreground', 'the val split has no foreground pixe']]);
});

test('masks all foreground across the set: a warning (all-foreground) with the counts, not an error', async () => {
  const dir = await make(setOf(3, () => png8(g(BITS, 255, 255))));
  const r = await scanDataset(dir);
  assert.ok(r.dataset);
  assert.equal(r.warnings.map((w) => w.code), ['all-foreground']);
  assert.match(r.warnings[0].message, /all 3 masks/);
});

test('size mismatch after orientation: the EXIF orientation is named, and the advice is not to resize', async () => {
  const dir = await make({ ...setOf(3, () => png8(g(BITS, 255))), 'images/turned.png': png8([1, 2, 3, 4, 5, 6], 1, 6), 'masks/turned.png': png8(g(BITS, 255)) });
  const r = await scanDataset(dir);
  assert.equal(r.errors.map((e) => [e.code, e.file.slice(dir.length + 1)]), [['size-mismatch', 'masks/turned.png']]);
  assert.match(r.errors[0].message, /EXIF orientation 6/);
  assert.match(r.errors[0].hint, /do not resize/);
  assert.not.match(r.errors[0].hint, /resize both/);
  // a mask drawn on the upright view matches, and loads upright
  const ok = await make({ ...setOf(3, () => png8(g(BITS, 255))), 'images/turned.png': png8([1, 2, 3, 4, 5, 6], 1, 6), 'masks/turned.png': async () => raw8(upright(g(BITS, 255), 6), 1, H, W).png().toBuffer() });
  const d = await scanDataset(ok, { need: [] });
  assert.ok(d.dataset, renderDataErrors(d.errors));
  const s = d.dataset!.samples.find((x) => x.id === 'turned')!;
  assert.equal([s.width, s.height], [H, W]);
  const l = await loadSample(s, { channels: 1 });
  assert.equal([...l.image.data], upright([1, 2, 3, 4, 5, 6], 6).map((x) => Math.fround(x / 255)));
  assert.equal([...l.mask.data], upright(BITS, 6));
});

test('duplicate ids across split folders are an error naming both files', async () => {
  const dir = await make({ 'train/images/a.png': IMG, 'train/masks/a.png': png8(g(BITS, 255)), 'train/images/b.png': IMG, 'train/masks/b.png': png8(g(BITS, 255)), 'test/images/a.png': IMG, 'test/masks/a.png': png8(g(BITS, 255)) });
  const r = await scanDataset(dir);
  assert.equal(r.errors.map((e) => e.code), ['duplicate-id']);
  assert.match(r.errors[0].message, /train\/images\/a\.png and .*test\/images\/a\.png/);
});

test('a mask that is not binary fails the scan naming file and values (and the flag); --mask-threshold accepts it', async () => {
  const dir = await make({ ...setOf(3, () => png8(g(BITS, 255))), 'images/x.png': IMG, 'masks/x.png': png8([0, 1, 2, 2, 1, 0]) });
  const r = await scanDataset(dir);
  assert.equal(r.errors.map((e) => [e.code, e.file.slice(dir.length + 1)]), [['mask-values', 'masks/x.png']]);
  assert.match(r.errors[0].message, /values 0 \(2 px\), 1 \(2 px\), 2 \(2 px\)/);
  assert.ok((await scanDataset(dir, { maskThreshold: 0 })).dataset);
});

// ---------- alcli data check ----------

const BIN = join(fileURLToPath(new URL('..', import.meta.url)), 'bin', 'run.js');
const alcli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', DEBUG: '' } });

test('alcli data check: exit 0 and the report for 0/1 masks; exit 4 naming the split when train has no foreground; --json', async () => {
  const good = await make(setOf(10, () => png8(g(BITS, 1))));
  const ok = alcli(['data', 'check', good]);
  assert.is(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /10 samples \(train 5, val 2, test 3; split seeded 5:2:3\), foreground train 50\.0 %/);
  assert.match(ok.stdout, /masks +png 8-bit grey \(10\)/);
  const bad = await make(setOf(10, () => png8(g(BITS, 0))));
  const no = alcli(['data', 'check', bad]);
  assert.is(no.status, 4, no.stderr);
  assert.match(no.stderr, /error\[no-foreground\]: the train split has no foreground pixel/);
  const json = alcli(['data', 'check', bad, '--json']);
  assert.is(json.status, 4);
  const report = JSON.parse(json.stdout);
  assert.is(report.ok, false);
  assert.equal(report.counts, { train: 5, val: 2, test: 3 });
  assert.equal(report.errors.map((e: { code: string }) => e.code), ['no-foreground']);
  const usage = alcli(['data', 'check', good, '--mask-threshold', '2']);
  assert.is(usage.status, 2);
});

test.run();
