// Multi-class metrics (class-metrics.ts) against values computed by hand on 3-class images: per
// class one-vs-rest IoU, Dice, sensitivity, specificity, AUC, their foreground means and the pixel
// accuracy, inside and outside an FOV, with absent classes, argmax ties and NaN probabilities; then
// against the binary metrics on seeded random data (2-class softmax = sigmoid at 0.5, and each
// class one-vs-rest), and the summaries over images.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { argmaxLabels, classImageMetrics, CLASS_METRICS, headlineMetrics, summarizeClasses, type ClassMetrics } from '../src/train/class-metrics.js';
import { auc, imageMetrics, METRICS, type ImageMetrics } from '../src/train/metrics.js';
import { rng } from '../src/ir/weights.js';

const close = (a: number, b: number, what: string, tol = 1e-7) => {
  if (Number.isNaN(b) ? !Number.isNaN(a) : !(Math.abs(a - b) <= tol)) assert.unreachable(`${what}: ${a}, expected ${b}`);
};

/** Pixel-major rows [p0, p1, p2] -> class-major Float32Array, as activate() gives them. */
const classMajor = (rows: number[][]) => Float32Array.from({ length: rows.length * rows[0].length }, (_, j) => rows[j % rows.length][Math.floor(j / rows.length)]);

// A: truth 0 0 1 1 2 2; argmax 0 1 1 2 2 2 (confusion (t,p): 00 01 11 12 22 22), 4 of 6 right.
// class 1: tp 1 (px2), fn 1 (px3), fp 1 (px1), tn 3. AUC on p1 .8 .3 vs .2 .5 .2 .1: 4 + 3 of 8.
// class 2: tp 2, fn 0, fp 1 (px3), tn 3. AUC on p2 .7 .7 vs .1 .2 .1 .5: 8 of 8.
const A = {
  probs: [[0.7, 0.2, 0.1], [0.3, 0.5, 0.2], [0.1, 0.8, 0.1], [0.2, 0.3, 0.5], [0.1, 0.2, 0.7], [0.2, 0.1, 0.7]],
  truth: [0, 0, 1, 1, 2, 2],
};
const aClasses: ClassMetrics[] = [
  { iou: 1 / 3, dice: 2 / 4, sensitivity: 1 / 2, specificity: 3 / 4, auc: 7 / 8 },
  { iou: 2 / 3, dice: 4 / 5, sensitivity: 1, specificity: 3 / 4, auc: 1 },
];
const aMeans: ImageMetrics = { accuracy: 4 / 6, iou: 1 / 2, dice: (1 / 2 + 4 / 5) / 2, sensitivity: 3 / 4, specificity: 3 / 4, auc: 15 / 16 };

/** [name, probs per pixel, truth, fov, argmax, per class k = 1.., headline] */
const cases: [string, number[][], number[], number[] | undefined, number[], ClassMetrics[], ImageMetrics][] = [
  ['hand example A', A.probs, A.truth, undefined, [0, 1, 1, 2, 2, 2], aClasses, aMeans],
  // outside the FOV: a class-1 pixel predicted 2 and a class-0 pixel predicted 1, each scoring high
  ['A plus two wrong pixels outside the FOV: unchanged', [...A.probs, [0.1, 0.1, 0.8], [0.05, 0.9, 0.05]], [...A.truth, 1, 0], [1, 1, 1, 1, 1, 1, 0, 0], [0, 1, 1, 2, 2, 2, 2, 1], aClasses, aMeans],
  // class 2 neither true nor predicted: IoU and Dice 1, specificity 1, sensitivity and AUC undefined
  // (left out of the means). class 1: tp px1, fn px2, fp px3, tn px0; AUC .7 .4 vs .3 .6: 2 + 1 of 4
  [
    'a class absent from truth and prediction',
    [[0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.5, 0.4, 0.1], [0.3, 0.6, 0.1]],
    [0, 1, 1, 0],
    undefined,
    [0, 1, 0, 1],
    [{ iou: 1 / 3, dice: 1 / 2, sensitivity: 1 / 2, specificity: 1 / 2, auc: 3 / 4 }, { iou: 1, dice: 1, sensitivity: NaN, specificity: 1, auc: NaN }],
    { accuracy: 2 / 4, iou: 2 / 3, dice: 3 / 4, sensitivity: 1 / 2, specificity: 3 / 4, auc: 3 / 4 },
  ],
  // px0 ties 0 and 1 (argmax 0: wrong for truth 1), px1 ties 1 and 2 (argmax 1: right).
  // class 1: tp px1, fn px0; AUC p1 .4 .4 vs .1 .2: 4 of 4. class 2: fn px3 (predicted 0), tn 3;
  // AUC p2 .3 vs .2 .4 .1: 2 of 3
  [
    'argmax ties go to the lowest class',
    [[0.4, 0.4, 0.2], [0.2, 0.4, 0.4], [0.8, 0.1, 0.1], [0.5, 0.2, 0.3]],
    [1, 1, 0, 2],
    undefined,
    [0, 1, 0, 0],
    [{ iou: 1 / 2, dice: 2 / 3, sensitivity: 1 / 2, specificity: 1, auc: 1 }, { iou: 0, dice: 0, sensitivity: 0, specificity: 1, auc: 2 / 3 }],
    { accuracy: 2 / 4, iou: 1 / 4, dice: 1 / 3, sensitivity: 1 / 4, specificity: 1, auc: 5 / 6 },
  ],
  // a NaN probability predicts (truth + 1) mod 3: px0 (truth 2) as 0, px1 (truth 1) as 2; a NaN
  // score ranks below every negative. class 1: tp px2, fn px1, tn px0 px3; AUC on p1 NaN .9 vs .1 .1:
  // 0 + 2 of 4. class 2: fn px0, fp px1, tn px2 px3; AUC on p2 NaN vs .8 .05 .1: 0 of 3
  [
    'a NaN probability is a wrong prediction',
    [[0.1, 0.1, NaN], [0.1, NaN, 0.8], [0.05, 0.9, 0.05], [0.8, 0.1, 0.1]],
    [2, 1, 1, 0],
    undefined,
    [-1, -1, 1, 0],
    [{ iou: 1 / 2, dice: 2 / 3, sensitivity: 1 / 2, specificity: 1, auc: 1 / 2 }, { iou: 0, dice: 0, sensitivity: 0, specificity: 2 / 3, auc: 0 }],
    { accuracy: 2 / 4, iou: 1 / 4, dice: 1 / 3, sensitivity: 1 / 4, specificity: 5 / 6, auc: 1 / 4 },
  ],
  ['nothing inside the FOV', A.probs, A.truth, [0, 0, 0, 0, 0, 0], [0, 1, 1, 2, 2, 2], [
    { iou: 1, dice: 1, sensitivity: NaN, specificity: NaN, auc: NaN },
    { iou: 1, dice: 1, sensitivity: NaN, specificity: NaN, auc: NaN },
  ], { accuracy: NaN, iou: 1, dice: 1, sensitivity: NaN, specificity: NaN, auc: NaN }],
];

for (const [name, rows, truth, fov, argmax, perClass, headline] of cases) {
  test(`3 classes: ${name}`, () => {
    const probs = classMajor(rows);
    assert.equal([...argmaxLabels(probs, 3, rows.length)], argmax);
    const got = classImageMetrics(probs, truth, 3, fov);
    assert.is(got.perClass.length, perClass.length);
    got.perClass.forEach((c, j) => {
      for (const m of CLASS_METRICS) close(c[m], perClass[j][m], `class ${j + 1} ${m}`);
    });
    for (const m of METRICS) close(got.metrics[m], headline[m], `headline ${m}`);
    assert.equal(headlineMetrics(probs, truth, 3, fov, 0.5), got.metrics, 'headlineMetrics picks the class metrics');
  });
}

test('a label outside 0..K-1 is a bug upstream: it throws', () => {
  assert.throws(() => classImageMetrics(classMajor(A.probs), [0, 0, 1, 1, 2, 3], 3), /label 3 at pixel 5 is not in 0\.\.2/);
  assert.throws(() => classImageMetrics(classMajor(A.probs), [0, 0, 1, 1, 2, 2], 1), /imageMetrics/);
});

/** Seeded class-major softmax probabilities and labels that mostly agree with them. */
function randomCase(seed: number, classes: number, pixels: number) {
  const r = rng(seed);
  const truth = Array.from({ length: pixels }, () => Math.floor(r.uniform() * classes));
  const probs = new Float32Array(classes * pixels);
  for (let i = 0; i < pixels; i++) {
    const z = Array.from({ length: classes }, (_, k) => r.normal() + (k === truth[i] ? 1.5 : 0));
    const e = z.map(Math.exp);
    const s = e.reduce((a, b) => a + b, 0);
    e.forEach((v, k) => (probs[k * pixels + i] = v / s));
  }
  const fov = Array.from({ length: pixels }, () => (r.uniform() < 0.8 ? 1 : 0));
  return { truth, probs, fov };
}

test('2-class softmax: the metrics of class 1 are the binary metrics of p1 at 0.5 (seeded, no ties)', () => {
  for (let seed = 0; seed < 5; seed++) {
    const { truth, probs, fov } = randomCase(seed, 2, 300);
    const p1 = probs.subarray(300);
    assert.ok(p1.every((p) => p !== 0.5));
    const want = imageMetrics(p1, truth, fov);
    const got = classImageMetrics(probs, truth, 2, fov);
    for (const m of METRICS) close(got.metrics[m], want[m], `seed ${seed} ${m}`, 1e-12);
  }
});

test('4 classes: each class is the binary metrics of (argmax == k) against (truth == k), AUC on p_k (seeded)', () => {
  for (let seed = 0; seed < 5; seed++) {
    const { truth, probs, fov } = randomCase(100 + seed, 4, 400);
    const pred = argmaxLabels(probs, 4, 400);
    const got = classImageMetrics(probs, truth, 4, fov);
    for (let k = 1; k < 4; k++) {
      const isK = truth.map((t) => (t === k ? 1 : 0));
      const want = imageMetrics(Float32Array.from(pred, (p) => (p === k ? 1 : 0)), isK, fov);
      for (const m of ['iou', 'dice', 'sensitivity', 'specificity'] as const) close(got.perClass[k - 1][m], want[m], `seed ${seed} class ${k} ${m}`, 1e-12);
      close(got.perClass[k - 1].auc, auc(probs.subarray(k * 400, (k + 1) * 400), isK, fov), `seed ${seed} class ${k} auc`, 1e-12);
    }
    const inside = truth.filter((_, i) => fov[i]).length;
    close(got.metrics.accuracy, truth.filter((t, i) => fov[i] && pred[i] === t).length / inside, 'pixel accuracy', 1e-12);
  }
});

test('summarizeClasses: per class mean and population std over images, NaNs left out', () => {
  const img1 = classImageMetrics(classMajor(A.probs), A.truth, 3);
  const img2 = classImageMetrics(classMajor(cases[2][1]), cases[2][2], 3);
  const [c1, c2] = summarizeClasses([img1, img2], 3);
  close(c1.iou.mean, 1 / 3, 'class 1 iou');
  close(c1.iou.std, 0, 'class 1 iou std');
  close(c2.iou.mean, (2 / 3 + 1) / 2, 'class 2 iou');
  close(c2.iou.std, 1 / 6, 'class 2 iou std');
  assert.equal([c2.sensitivity.n, c2.sensitivity.mean], [1, 1], 'the image without class 2 has no sensitivity for it');
  assert.is(summarizeClasses([], 3).length, 2);
});

test('headlineMetrics of a 1-class network: the binary metrics at the threshold, unchanged', () => {
  const prob = Float32Array.from([0.9, 0.8, 0.3, 0.2, 0.6, 0.1]);
  const truth = [1, 1, 1, 0, 0, 0];
  for (const t of [0.5, 0.25, 0.85]) assert.equal(headlineMetrics(prob, truth, 1, undefined, t), imageMetrics(prob, truth, undefined, t));
});

test.run();
