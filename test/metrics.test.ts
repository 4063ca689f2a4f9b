// Metrics against values computed by hand (confusion counts, AUC pair counts with ties as halves),
// inside and outside an FOV; AUC against the O(n^2) definition on seeded random data; summaries.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { auc, confusion, formatMeanStd, imageMetrics, summarize, METRICS, type ImageMetrics } from '../src/train/metrics.js';
import { rng } from '../src/ir/weights.js';

const close = (a: number, b: number, what: string, tol = 1e-12) => {
  if (Number.isNaN(b) ? !Number.isNaN(a) : !(Math.abs(a - b) <= tol)) assert.unreachable(`${what}: ${a}, expected ${b}`);
};

// A: prob >= .5 predicts [1 1 0 0 1 0]; tp 2 (0, 1), fn 1 (2), fp 1 (4), tn 2 (3, 5).
// AUC: positives .9 .8 .3 against negatives .2 .6 .1 win 3 + 3 + 2 of 9 pairs.
const A = { prob: [0.9, 0.8, 0.3, 0.2, 0.6, 0.1], truth: [1, 1, 1, 0, 0, 0] };
const aWant = { accuracy: 4 / 6, iou: 2 / 4, dice: 4 / 6, sensitivity: 2 / 3, specificity: 2 / 3, auc: 8 / 9 };

/** [name, prob, truth, fov, threshold, confusion [tp, fp, tn, fn], metrics] */
const cases: [string, number[], number[], number[] | undefined, number, [number, number, number, number], ImageMetrics][] = [
  ['hand example A', A.prob, A.truth, undefined, 0.5, [2, 1, 2, 1], aWant],
  ['A plus two pixels outside the FOV: unchanged', [...A.prob, 0.95, 0.05], [...A.truth, 0, 1], [1, 1, 1, 1, 1, 1, 0, 0], 0.5, [2, 1, 2, 1], aWant],
  // without the FOV those two pixels are one more false positive and one more false negative, and
  // the AUC gains a positive (.05, beats nothing) and a negative (.95, beats every positive)
  ['A plus the same two pixels, no FOV', [...A.prob, 0.95, 0.05], [...A.truth, 0, 1], undefined, 0.5, [2, 2, 2, 2], { accuracy: 4 / 8, iou: 2 / 6, dice: 4 / 8, sensitivity: 2 / 4, specificity: 2 / 4, auc: (3 + 3 + 2 + 0) / 16 }],
  ['A at threshold 0.85', A.prob, A.truth, undefined, 0.85, [1, 0, 3, 2], { accuracy: 4 / 6, iou: 1 / 3, dice: 2 / 4, sensitivity: 1 / 3, specificity: 1, auc: 8 / 9 }],
  ['the threshold itself counts as foreground; all tied: AUC 1/2', [0.5, 0.5, 0.5, 0.5], [1, 0, 1, 0], undefined, 0.5, [2, 2, 0, 0], { accuracy: 0.5, iou: 0.5, dice: 4 / 6, sensitivity: 1, specificity: 0, auc: 0.5 }],
  // AUC: .7 beats both negatives (2), .4 ties .4 (1/2) and beats .2 (1): 3.5 of 4
  ['a tie across the classes counts half', [0.7, 0.4, 0.4, 0.2], [1, 1, 0, 0], undefined, 0.5, [1, 0, 2, 1], { accuracy: 3 / 4, iou: 1 / 2, dice: 2 / 3, sensitivity: 1 / 2, specificity: 1, auc: 0.875 }],
  // positives .3 .3 .9, negatives .3 .1: .3 -> 1/2 + 1 twice, .9 -> 2: (1.5 + 1.5 + 2) / 6
  ['ties inside a class and across', [0.3, 0.3, 0.9, 0.3, 0.1], [1, 1, 1, 0, 0], undefined, 0.5, [1, 0, 2, 2], { accuracy: 3 / 5, iou: 1 / 3, dice: 2 / 4, sensitivity: 1 / 3, specificity: 1, auc: 5 / 6 }],
  ['perfect and perfectly ranked', [0.9, 0.6, 0.4, 0.1], [1, 1, 0, 0], undefined, 0.5, [2, 0, 2, 0], { accuracy: 1, iou: 1, dice: 1, sensitivity: 1, specificity: 1, auc: 1 }],
  ['inverted ranking', [0.1, 0.4, 0.6, 0.9], [1, 1, 0, 0], undefined, 0.5, [0, 2, 0, 2], { accuracy: 0, iou: 0, dice: 0, sensitivity: 0, specificity: 0, auc: 0 }],
  ['empty truth, empty prediction: IoU and Dice 1, sensitivity and AUC undefined', [0.1, 0.2, 0.3], [0, 0, 0], undefined, 0.5, [0, 0, 3, 0], { accuracy: 1, iou: 1, dice: 1, sensitivity: NaN, specificity: 1, auc: NaN }],
  ['empty truth, one false positive', [0.1, 0.7, 0.3], [0, 0, 0], undefined, 0.5, [0, 1, 2, 0], { accuracy: 2 / 3, iou: 0, dice: 0, sensitivity: NaN, specificity: 2 / 3, auc: NaN }],
  ['all foreground: specificity undefined', [0.8, 0.3], [1, 1], undefined, 0.5, [1, 0, 0, 1], { accuracy: 0.5, iou: 0.5, dice: 2 / 3, sensitivity: 0.5, specificity: NaN, auc: NaN }],
  ['nothing inside the FOV', [0.8, 0.3], [1, 0], [0, 0], 0.5, [0, 0, 0, 0], { accuracy: NaN, iou: 1, dice: 1, sensitivity: NaN, specificity: NaN, auc: NaN }],
  ['a FOV that hides the only error', [0.8, 0.3, 0.9, 0.2], [1, 0, 0, 0], [1, 1, 0, 1], 0.5, [1, 0, 2, 0], { accuracy: 1, iou: 1, dice: 1, sensitivity: 1, specificity: 1, auc: 1 }],
];

for (const [name, prob, truth, fov, threshold, [tp, fp, tn, fn], want] of cases) {
  test(`metrics: ${name}`, () => {
    assert.equal(confusion(prob, truth, fov, threshold), { tp, fp, tn, fn });
    const got = imageMetrics(Float32Array.from(prob), Float32Array.from(truth), fov && Float32Array.from(fov), threshold);
    for (const m of METRICS) close(got[m], want[m], m, 1e-7);
  });
}

/** AUC by definition: every (positive, negative) pair, ties counting half. */
function aucByPairs(prob: number[], truth: number[]): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < prob.length; i++)
    for (let j = 0; j < prob.length; j++)
      if (truth[i] && !truth[j]) {
        pairs++;
        wins += prob[i] > prob[j] ? 1 : prob[i] === prob[j] ? 0.5 : 0;
      }
  return wins / pairs;
}

for (const [levels, n] of [[5, 60], [11, 200], [1000, 300], [0, 400]]) {
  test(`AUC equals the pair count on seeded data (${levels ? `${levels} levels: many ties` : 'continuous'}, ${n} pixels)`, () => {
    for (let seed = 0; seed < 10; seed++) {
      const r = rng(seed);
      const truth = Array.from({ length: n }, () => (r.uniform() < 0.3 ? 1 : 0));
      const prob = truth.map((t) => {
        const p = Math.min(1, Math.max(0, 0.35 + 0.3 * t + 0.25 * r.normal()));
        return levels ? Math.round(p * (levels - 1)) / (levels - 1) : p;
      });
      const p32 = [...Float32Array.from(prob)]; // the values auc() sees
      close(auc(Float32Array.from(prob), truth), aucByPairs(p32, truth), `seed ${seed}`, 1e-12);
    }
  });
}

test('AUC of a 512x512 image takes well under a second', () => {
  const r = rng(1);
  const n = 512 * 512;
  const truth = Float32Array.from({ length: n }, () => (r.uniform() < 0.2 ? 1 : 0));
  const prob = Float32Array.from(truth, (t) => Math.min(1, Math.max(0, 0.4 + 0.2 * t + 0.2 * r.normal())));
  const t0 = performance.now();
  const a = auc(prob, truth);
  assert.ok(performance.now() - t0 < 1000, `${performance.now() - t0} ms`);
  assert.ok(a > 0.7 && a < 0.8, `auc ${a}`); // two normals 1 sigma apart: Phi(1 / sqrt 2) = 0.760, less a little for the clamping
});

const row = (values: Partial<ImageMetrics>): ImageMetrics => ({ accuracy: 1, iou: 1, dice: 1, sensitivity: 1, specificity: 1, auc: 1, ...values });

test('summarize: mean and population std per metric; undefined (NaN) values are left out and counted', () => {
  const s = summarize([row({ accuracy: 0.5, sensitivity: NaN, auc: NaN }), row({ accuracy: 1, sensitivity: 0.4, auc: NaN }), row({ accuracy: 0.75, sensitivity: 0.6, auc: NaN })]);
  close(s.accuracy.mean, 0.75, 'accuracy mean');
  close(s.accuracy.std, Math.sqrt((0.0625 + 0.0625 + 0) / 3), 'accuracy std');
  assert.is(s.accuracy.n, 3);
  close(s.sensitivity.mean, 0.5, 'sensitivity mean');
  close(s.sensitivity.std, 0.1, 'sensitivity std', 1e-12);
  assert.is(s.sensitivity.n, 2);
  assert.equal(s.iou, { mean: 1, std: 0, n: 3 });
  assert.ok(Number.isNaN(s.auc.mean) && s.auc.n === 0);
  assert.equal(Object.keys(summarize([])).sort(), [...METRICS].sort());
  assert.is(formatMeanStd({ mean: 0.89634, std: 0.01234, n: 3 }), '0.8963 ± 0.0123');
});

test.run();
