// `alcli predict`'s outputs never collide (train/predict-names.ts, train/trained.ts predictImages):
// inputs that share a stem get names a user can map back, each holding its own input's prediction;
// every page of a multi-page input is predicted; an output that would replace an input is refused
// before anything is written. On a tiny run trained for one epoch on synthetic data.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BadOptionsError } from '../src/train/errors.js';
import { PathError } from '../src/io/dir.js';
import { planPredictionNames, type PredictInput } from '../src/train/predict-names.js';
import { trainRun } from '../src/train/session.js';
import { encodePng, syntheticDataset } from '../src/train/synthetic.js';
import { openRun, predictImages } from '../src/train/trained.js';
import { tinySpec, writeDataset } from './helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'alcli-predict-test-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));
const at = (...p: string[]) => join(scratch, ...p);
const alcli = (args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin', 'run.js'), ...args], { cwd: scratch, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

// ---- the naming rule, on paths alone

const names = (inputs: (string | PredictInput)[], out = at('P')) =>
  planPredictionNames(
    inputs.map((i) => (typeof i === 'string' ? { path: at(i), pages: 1 } : { ...i, path: at(i.path) })),
    out,
  ).map((p) => p.name);

const refused = (f: () => unknown, ...messages: RegExp[]) => {
  try {
    f();
  } catch (e) {
    assert.instance(e, BadOptionsError);
    for (const m of messages) assert.match((e as Error).message, m);
    return;
  }
  assert.unreachable('not refused');
};

test('names: the stem; shared stems add the folder and/or extension that differ; pages add .pN', () => {
  assert.equal(names(['a/1.png', 'a/2.png', 'b/3.tif']), ['1', '2', '3']);
  assert.equal(names(['a/21.png', 'b/21.png']), ['a_21', 'b_21']);
  assert.equal(names(['b/21.png', 'b/21.tif']), ['21.png', '21.tif']);
  assert.equal(names(['a/21.png', 'b/21.png', 'b/21.tif', 'b/7.png']), ['a_21.png', 'b_21.png', 'b_21.tif', '7']);
  // as many trailing folders as it takes
  assert.equal(names(['x/a/21.png', 'y/a/21.png', 'y/b/21.png']), ['x_a_21', 'y_a_21', 'y_b_21']);
  assert.equal(names([{ path: 's.tif', pages: 3 }, 's2.png']), ['s.p0', 's.p1', 's.p2', 's2']);
  assert.equal(names([{ path: 'a/s.tif', pages: 2 }, 'b/s.tif']), ['a_s.p0', 'a_s.p1', 'b_s']);
  // one file given twice (two spellings) is predicted once
  assert.equal(names(['a/21.png', 'a/../a/21.png']), ['21']);
});

test('names: clashes the rule leaves (also ignoring case) are refused, each listed', () => {
  refused(() => names(['a/21.png', 'b/21.png', 'a_21.png']), /nothing was written/, /a\/21\.png, .*a_21\.png would all be written as .*a_21\.mask\.png/);
  refused(() => names(['a/Img.png', 'A/img.png']), /a\/Img\.png, .*A\/img\.png would all be written as/);
  refused(() => names([{ path: 's.tif', pages: 2 }, 's.p1.png']), /s\.tif page 1, .*s\.p1\.png would all be written/);
});

test('names: an output that would replace an input is refused, naming both', () => {
  refused(() => names(['P/21.png', 'P/21.mask.png']), /the mask output of .*P\/21\.png, .*P\/21\.mask\.png, would overwrite the input .*P\/21\.mask\.png/);
  // not inside --out: no clash
  assert.equal(names(['Q/21.png', 'Q/21.mask.png']), ['21', '21.mask']);
});

// ---- a trained run

const TINY = tinySpec({ epochs: 1, deep: false });
writeFileSync(at('tiny.yaml'), TINY);
const samples = syntheticDataset(1, { count: 11, size: 40, channels: 1 });
await writeDataset(at('data'), samples.slice(0, 8));
await trainRun({ spec: at('tiny.yaml'), data: at('data'), out: at('run') }, { log: () => {} });
const run = await openRun(at('run'));

/** Three different gray images, each at its own size: sample k of the unseen ones. */
const gray = async (k: number, width: number, height: number) => sharp(await encodePng(samples[8 + k].image)).resize(width, height).grayscale();
const SIZES: [number, number][] = [
  [40, 40],
  [48, 36],
  [36, 52],
];
mkdirSync(at('in', 'a'), { recursive: true });
mkdirSync(at('in', 'b'), { recursive: true });
const INPUTS = [at('in', 'a', '21.png'), at('in', 'b', '21.png'), at('in', 'b', '21.tif')];
writeFileSync(INPUTS[0], await (await gray(0, ...SIZES[0])).png().toBuffer());
writeFileSync(INPUTS[1], await (await gray(1, ...SIZES[1])).png().toBuffer());
writeFileSync(INPUTS[2], await (await gray(2, ...SIZES[2])).tiff({ compression: 'lzw' }).toBuffer());

/** The prediction of one input alone, in a folder of its own. */
let solo = 0;
const alone = async (path: string) => (await predictImages(run, { images: [path], out: at(`solo${solo++}`) })).images;

test('a/21.png b/21.png b/21.tif: three distinct output sets, each its own input prediction', async () => {
  const r = await predictImages(run, { images: INPUTS, out: at('P') });
  assert.equal(
    r.images.map((i) => [i.image, i.name]),
    [
      [INPUTS[0], 'a_21.png'],
      [INPUTS[1], 'b_21.png'],
      [INPUTS[2], 'b_21.tif'],
    ],
  );
  assert.equal(readdirSync(at('P')).sort(), ['a_21.png', 'b_21.png', 'b_21.tif'].flatMap((n) => ['mask', 'overlay', 'prob'].map((k) => `${n}.${k}.png`)).sort());
  const probs = [];
  for (let k = 0; k < 3; k++) {
    const got = r.images[k];
    const [want] = await alone(INPUTS[k]);
    for (const f of ['prob', 'mask', 'overlay'] as const) {
      const bytes = readFileSync(got[f]!);
      assert.ok(bytes.equals(readFileSync(want[f]!)), `${got[f]} is not ${INPUTS[k]}'s ${f}`);
      const meta = await sharp(bytes).metadata();
      assert.equal([meta.width, meta.height], SIZES[k], got[f]);
    }
    probs.push(await sharp(got.prob).resize(32, 32, { fit: 'fill' }).raw().toBuffer());
  }
  // different images, different predictions (compared at one size)
  for (const [i, j] of [[0, 1], [0, 2], [1, 2]]) assert.not.ok(probs[i].equals(probs[j]), `outputs ${i} and ${j} hold the same prediction`);
});

test('a 3-page TIFF: one prediction per page, each the prediction of that page', async () => {
  const w = 44;
  const h = 40;
  const pages = await Promise.all([0, 1, 2].map(async (k) => (await gray(k, w, h)).raw().toBuffer()));
  const stack = at('in', 'stack.tif');
  writeFileSync(stack, await sharp(Buffer.concat(pages), { raw: { width: w, height: 3 * h, channels: 1, pageHeight: h } }).tiff({ compression: 'lzw' }).toBuffer());
  assert.is((await sharp(stack).metadata()).pages, 3);
  const r = await predictImages(run, { images: [stack], out: at('S') });
  assert.equal(
    r.images.map((i) => [i.page, i.name]),
    [
      [0, 'stack.p0'],
      [1, 'stack.p1'],
      [2, 'stack.p2'],
    ],
  );
  assert.is(readdirSync(at('S')).length, 9);
  for (let k = 0; k < 3; k++) {
    const page = at('in', `page${k}.png`);
    writeFileSync(page, await sharp(pages[k], { raw: { width: w, height: h, channels: 1 } }).png().toBuffer());
    const [want] = await alone(page);
    assert.ok(readFileSync(r.images[k].prob!).equals(readFileSync(want.prob!)), `page ${k}`);
  }
});

test('an output that would replace an input: refused, nothing written', async () => {
  const dir = at('Q');
  mkdirSync(dir);
  const image = join(dir, '21.png');
  const maskAsInput = join(dir, '21.mask.png');
  writeFileSync(image, readFileSync(INPUTS[0]));
  writeFileSync(maskAsInput, readFileSync(INPUTS[1]));
  const before = readFileSync(maskAsInput);
  try {
    await predictImages(run, { images: [image, maskAsInput], out: dir });
    assert.unreachable('not refused');
  } catch (e) {
    // a folder holding an input is refused as a whole: predictions beside a dataset's images break it
    assert.instance(e, PathError);
    assert.match((e as Error).message, /'.*Q' contains an input image '.*Q\/21\.png'/);
  }
  assert.equal(readdirSync(dir).sort(), ['21.mask.png', '21.png']);
  assert.ok(readFileSync(maskAsInput).equals(before));
});

test('alcli predict: the input -> output mapping in --json and per line; an input in the way exits 2, nothing written', () => {
  const r = alcli(['predict', 'run', 'in/a/21.png', 'in/b/21.png', 'in/b/21.tif', '--out', 'C', '--json']);
  assert.is(r.status, 0, r.stderr);
  assert.equal(
    JSON.parse(r.stdout).images.map((i: { image: string; overlay: string }) => [i.image, i.overlay]),
    [
      ['in/a/21.png', 'C/a_21.png.overlay.png'],
      ['in/b/21.png', 'C/b_21.png.overlay.png'],
      ['in/b/21.tif', 'C/b_21.tif.overlay.png'],
    ],
  );
  const text = alcli(['predict', 'run', 'in/a/21.png', 'in/b/21.png', '--out', 'D']);
  assert.is(text.status, 0, text.stderr);
  assert.match(text.stdout, /in\/a\/21\.png \(40x40\): .* -> D\/a_21\.overlay\.png\n/);
  assert.match(text.stdout, /in\/b\/21\.png \(48x36\): .* -> D\/b_21\.overlay\.png\n/);
  const bad = alcli(['predict', 'run', 'Q/21.png', 'Q/21.mask.png', '--out', 'Q']);
  assert.is(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /'Q' contains an input image 'Q\/21\.png'/);
  assert.not.ok(bad.stderr.includes('    at '), bad.stderr);
  assert.equal(readdirSync(at('Q')).sort(), ['21.mask.png', '21.png']);
});

test.run();
