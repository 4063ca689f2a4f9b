// A real-style label-map dataset end to end (what the issue promises a chest X-ray set with lungs,
// heart and clavicles will do): grey PNG label maps with values 0..5, DATA/classes.json, a split.json
// whose val is empty. Only the spec's output changes; train carves val from train and says so,
// evaluate reports every class by its name, predict writes the label map, and a label outside the
// table is refused naming the file and the value.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fsRunHost, RunDir } from '../src/train/run.js';
import { trainRun } from '../src/train/session.js';
import { evaluateRun, predictImages } from '../src/train/trained.js';
import { BadDataError } from '../src/train/errors.js';
import { encodeLabelPng, encodePng } from '../src/train/synthetic.js';
import { tinySpec } from './helpers.js';

const scratch = mkdtempSync(join(tmpdir(), 'alcli-mc-e2e-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));

const NAMES = ['background', 'left_lung', 'right_lung', 'heart', 'left_clavicle', 'right_clavicle'];
const S = 32;

/** Image i: five horizontal bands whose grey level encodes the class of the band (0 at the borders). */
function sample(i: number) {
  const image = new Float32Array(S * S);
  const mask = new Float32Array(S * S);
  for (let y = 0; y < S; y++)
    for (let x = 0; x < S; x++) {
      const band = Math.floor(((y + i) % S) / (S / 8));
      const k = band >= 1 && band <= 5 && x > 3 && x < S - 4 ? band : 0;
      mask[y * S + x] = k;
      image[y * S + x] = (k * 40 + ((x * 7 + y * 3 + i) % 11)) / 255;
    }
  return { image: { data: image, height: S, width: S, channels: 1 }, mask: { data: mask, height: S, width: S, channels: 1 } };
}

async function writeSet(dir: string, badLabel?: number) {
  mkdirSync(join(dir, 'images'), { recursive: true });
  mkdirSync(join(dir, 'masks'), { recursive: true });
  const ids = Array.from({ length: 8 }, (_, i) => `cxr${i}`);
  for (const [i, id] of ids.entries()) {
    const s = sample(i);
    if (badLabel !== undefined && i === 2) s.mask.data[5] = badLabel;
    writeFileSync(join(dir, 'images', `${id}.png`), await encodePng(s.image));
    writeFileSync(join(dir, 'masks', `${id}.png`), await encodeLabelPng(s.mask));
  }
  writeFileSync(join(dir, 'classes.json'), JSON.stringify(Object.fromEntries(NAMES.map((n, k) => [String(k), n]))));
  writeFileSync(join(dir, 'split.json'), JSON.stringify({ train: ids.slice(0, 6), val: [], test: ids.slice(6) }));
  return ids;
}

const spec = join(scratch, 'cxr.yaml');
writeFileSync(spec, tinySpec({ epochs: 2, deep: false }).replace('output: {classes: 1}', 'output: {classes: 6, activation: softmax}').replace('head: {op: conv, out: 1,', 'head: {op: conv, out: classes,'));

test('a 6-class label-map set with classes.json and an empty val trains, evaluates by class name and predicts label maps', async () => {
  const data = join(scratch, 'cxr');
  const ids = await writeSet(data);
  const out = join(scratch, 'run');
  const log: string[] = [];
  const r = await trainRun({ spec, data, out, engine: 'ort' }, { log: (l: string) => void log.push(l) });
  assert.is(r.epochs, 2);
  assert.match(log.join('\n'), /val: the split has none; \d+ of the train images carved out/);
  const info = new RunDir(fsRunHost(out)).readInfo()!;
  assert.equal(info.classes!.names, NAMES);
  assert.ok((info.data as { val_carved?: string[] }).val_carved!.length >= 1);
  const ev = await evaluateRun(out, { split: 'test' });
  assert.is(ev.threshold, null);
  assert.equal(ev.classes!.map((c) => c.name), NAMES.slice(1));
  for (const c of ev.classes!) assert.ok(c.summary.iou.mean >= 0 && c.summary.iou.mean <= 1, `${c.name}: ${c.summary.iou.mean}`);
  const pred = join(scratch, 'pred');
  await predictImages(out, { images: [join(data, 'images', `${ids[7]}.png`)], out: pred });
  assert.ok(existsSync(join(pred, `${ids[7]}.label.png`)), 'label map written');
  assert.ok(existsSync(join(pred, `${ids[7]}.prob.heart.png`)), 'probability map per class, named');
});

test('a label outside classes.json is refused before anything is written, naming the file and the value', async () => {
  const data = join(scratch, 'bad');
  await writeSet(data, 9);
  const out = join(scratch, 'bad-run');
  try {
    await trainRun({ spec, data, out, engine: 'ort' });
    assert.unreachable('trained on label 9');
  } catch (e) {
    assert.instance(e, BadDataError);
    const text = (e as BadDataError).errors.map((d) => `${d.file}: ${d.message}`).join('\n');
    assert.match(text, /cxr2\.png/);
    assert.match(text, /\b9\b/);
  }
  assert.not.ok(existsSync(join(out, 'run.json')), 'nothing written');
  assert.ok(readFileSync(join(data, 'classes.json'), 'utf8').includes('heart'));
});

test.run();
