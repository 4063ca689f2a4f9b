// Post-processing of masks and label maps (postprocess.ts): each case a hand-drawn map, the options,
// and the map they must give. '.' is background 0, a digit its class, 'x' a NaN pixel (-1).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BadOptionsError } from '../src/train/errors.js';
import { checkPostProcess, components, describePostProcess, hasPostProcess, postProcessLabels, type PostProcessOptions } from '../src/train/postprocess.js';

const parse = (rows: string[]) => ({ h: rows.length, w: rows[0].length, labels: Int32Array.from(rows.join(''), (ch) => (ch === '.' ? 0 : ch === 'x' ? -1 : Number(ch))) });
const draw = (labels: ArrayLike<number>, w: number) => Array.from({ length: labels.length / w }, (_, y) => Array.from({ length: w }, (_, x) => { const v = labels[y * w + x]; return v === 0 ? '.' : v < 0 ? 'x' : String(v); }).join(''));

/** [case, classes, options, input, expected] */
const CASES: [string, number, PostProcessOptions, string[], string[]][] = [
  ['keep-largest: the 3-pixel blob stays, the 2-pixel one goes', 2, { keepLargest: true },
    ['11..1', '1...1', '.....'],
    ['11...', '1....', '.....']],
  ['keep-largest, a tie: the blob whose first pixel comes first in raster order stays', 2, { keepLargest: true },
    ['...11', '11...', '.....'],
    ['...11', '.....', '.....']],
  ['keep-largest, a tie on one row: the leftmost first pixel', 2, { keepLargest: true },
    ['.1..1', '.1..1'],
    ['.1...', '.1...']],
  ['8-connectivity: a diagonal chain of 3 is one component and beats a straight pair', 2, { keepLargest: true },
    ['1....', '.1..1', '..1.1'],
    ['1....', '.1...', '..1..']],
  ['min-size 3 keeps the 3-pixel component (N itself is kept), removes the 2-pixel one', 2, { minSize: 3 },
    ['11..1', '1...1'],
    ['11...', '1....']],
  ['min-size 4 removes both', 2, { minSize: 4 },
    ['11..1', '1...1'],
    ['.....', '.....']],
  ['min-size 2 keeps both, and a diagonal pair counts as 2', 2, { minSize: 2 },
    ['11..1', '1..1.'],
    ['11..1', '1..1.']],
  ['fill-holes: an enclosed background pixel', 2, { fillHoles: true },
    ['.....', '.111.', '.1.1.', '.111.', '.....'],
    ['.....', '.111.', '.111.', '.111.', '.....']],
  ['fill-holes: a hole open only at a corner is enclosed (background is 4-connected)', 2, { fillHoles: true },
    ['.....', '.111.', '.1.1.', '.11..', '.....'],
    ['.....', '.111.', '.111.', '.11..', '.....']],
  ['fill-holes: a hole touching the border is not filled', 2, { fillHoles: true },
    ['1.1', '1.1', '111'],
    ['1.1', '1.1', '111']],
  ['fill-holes: a 2-pixel hole, and an island in a hole (its background touches only class 1)', 2, { fillHoles: true },
    ['11111.', '1..1.1', '1111.1', '......', '111111', '1.1..1', '111111'],
    ['11111.', '1111.1', '1111.1', '......', '111111', '111111', '111111']],
  ['min-size then fill-holes: the speck in the hole goes, the hole is filled', 2, { minSize: 2, fillHoles: true },
    ['11111', '1...1', '1.1.1', '1...1', '11111'],
    ['11111', '11111', '11111', '11111', '11111']],
  ['keep-largest per class: each class keeps its own largest (class 2: 3 pixels, one by a corner), removed pixels become background', 3, { keepLargest: true },
    ['11.2.', '1..2.', '..1.2', '22...'],
    ['11.2.', '1..2.', '....2', '.....']],
  ['fill-holes, multi-class: a hole of class 2 takes 2; background between classes 1 and 2 stays', 3, { fillHoles: true },
    ['.222.', '.2.2.', '.222.', '.....', '.111.', '.1.2.', '.111.'],
    ['.222.', '.222.', '.222.', '.....', '.111.', '.1.2.', '.111.']],
  ['fill-holes: class 2 inside class 1 with background around it stays (two classes border it)', 3, { fillHoles: true },
    ['11111', '1...1', '1.2.1', '1...1', '11111'],
    ['11111', '1...1', '1.2.1', '1...1', '11111']],
  ['a NaN pixel (-1) is left alone and blocks a fill', 2, { fillHoles: true, keepLargest: true },
    ['111.x', '1.1..', '1x1..', '111..'],
    ['111.x', '1.1..', '1x1..', '111..']],
  ['nothing asked: the map as it is', 2, {},
    ['1.1', '.1.'],
    ['1.1', '.1.']],
];

test('postProcessLabels: hand-drawn cases', () => {
  for (const [name, classes, opts, input, want] of CASES) {
    const { h, w, labels } = parse(input);
    const out = postProcessLabels(labels, h, w, classes, opts);
    assert.equal(draw(out, w), want, name);
    assert.equal(draw(labels, w), input, `${name}: the input is not changed`);
  }
});

test('postProcessLabels keeps the array type (a Uint8Array mask stays one)', () => {
  const out = postProcessLabels(Uint8Array.from([1, 0, 1]), 1, 3, 2, { keepLargest: true });
  assert.instance(out, Uint8Array);
  assert.equal([...out], [1, 0, 0]);
});

test('components: 4- and 8-connectivity, numbered in raster order, border contact', () => {
  const { h, w, labels } = parse(['..1', '.1.', '1..', '...']);
  const c8 = components((i) => labels[i] === 1, h, w, 8);
  assert.equal([c8.sizes, c8.touchesBorder], [[0, 3], [false, true]]);
  const c4 = components((i) => labels[i] === 1, h, w, 4);
  assert.equal([...c4.labels], [0, 0, 1, 0, 2, 0, 3, 0, 0, 0, 0, 0]);
  assert.equal([c4.sizes, c4.touchesBorder], [[0, 1, 1, 1], [false, true, false, true]]);
});

test('options: --min-size a whole number >= 0; the description lists the steps in order', () => {
  for (const bad of [-1, 2.5, NaN]) assert.throws(() => checkPostProcess({ minSize: bad }), (e: Error) => e instanceof BadOptionsError && /--min-size .*whole number/.test(e.message));
  assert.equal([hasPostProcess({}), hasPostProcess({ minSize: 1 }), hasPostProcess({ minSize: 2 }), hasPostProcess({ fillHoles: true })], [false, false, true, true]);
  assert.is(describePostProcess({}), 'none');
  assert.is(describePostProcess({ fillHoles: true, keepLargest: true, minSize: 20 }), 'min-size 20, keep-largest, fill-holes');
});

test.run();
