// Metrics of a multi-class (softmax) segmentation, K >= 2 classes with label 0 the background, per
// image and over a set of images. Conventions (the binary ones of metrics.ts, applied per class):
// - the predicted label of a pixel is the argmax of its class probabilities (ties: the lowest index);
//   there is no threshold;
// - per foreground class k = 1..K-1, one-vs-rest: IoU, Dice, sensitivity and specificity from the
//   confusion of (truth == k) against (prediction == k); AUC with p_k as the score (metrics.ts auc:
//   the exact Mann-Whitney statistic, ties half). So IoU and Dice are 1 where class k is neither true
//   nor predicted, sensitivity is NaN where no pixel is truly k, AUC NaN where every pixel or none is;
// - the headline (val_iou, val_dice, evaluate's summary): `accuracy` is the pixel accuracy over all K
//   classes; every other metric is the mean over the foreground classes where it is defined (NaNs
//   left out; NaN when no class has a value);
// - over a set of images each value is averaged per image (mean ± population std, NaNs left out),
//   as the binary metrics are; so the headline IoU and Dice equal the mean of the class rows, and
//   the headline sensitivity, specificity and AUC can differ from it where classes are absent;
// - counts only inside the FOV when there is one;
// - a pixel with a NaN probability (a diverged network) is predicted wrong: as class (truth + 1) mod K
//   (for K = 2 the class opposite to the truth, as the binary metrics count it), the worst rank in AUC.
import { auc, imageMetrics, metricsFromConfusion, summarizeBy, type ImageMetrics, type MeanStd, type Metric } from './metrics.js';

/** The per-class metrics (pixel accuracy is over all classes, so it is only in the headline). */
export const CLASS_METRICS = ['iou', 'dice', 'sensitivity', 'specificity', 'auc'] as const satisfies readonly Metric[];
export type ClassMetric = (typeof CLASS_METRICS)[number];
export type ClassMetrics = Record<ClassMetric, number>;

export interface ClassImageMetrics {
  /** pixel accuracy, and the mean over foreground classes of every other metric */
  metrics: ImageMetrics;
  /** perClass[k - 1]: foreground class k against the rest */
  perClass: ClassMetrics[];
}

/**
 * The argmax label of each pixel from class-major probabilities (class k of pixel i at k * pixels + i,
 * as infer.ts's activate gives them); ties go to the lowest class; -1 where a probability is NaN.
 */
export function argmaxLabels(probs: ArrayLike<number>, classes: number, pixels: number): Int32Array {
  if (probs.length !== classes * pixels) throw new Error(`argmaxLabels: ${probs.length} probabilities for ${classes} classes of ${pixels} pixels`);
  const out = new Int32Array(pixels);
  for (let i = 0; i < pixels; i++) {
    let best = 0;
    let max = probs[i];
    let nan = Number.isNaN(max);
    for (let k = 1; k < classes; k++) {
      const p = probs[k * pixels + i];
      if (Number.isNaN(p)) nan = true;
      else if (p > max) [best, max] = [k, p];
    }
    out[i] = nan ? -1 : best;
  }
  return out;
}

/**
 * The K x K confusion matrix inside the FOV: m[t * K + p] counts pixels of true class t predicted p.
 * A prediction of -1 (NaN) counts as (t + 1) mod K. A truth value that is not a class index is a bug
 * upstream (the mask decoder refuses such masks), so it throws.
 */
export function confusionMatrix(pred: ArrayLike<number>, truth: ArrayLike<number>, classes: number, fov?: ArrayLike<number>): Float64Array {
  if (pred.length !== truth.length || (fov && fov.length !== truth.length)) throw new Error(`confusionMatrix: ${pred.length} predictions, ${truth.length} truth, ${fov?.length} fov`);
  const m = new Float64Array(classes * classes);
  for (let i = 0; i < truth.length; i++) {
    if (fov && !(fov[i] > 0.5)) continue;
    const t = truth[i];
    if (!(Number.isInteger(t) && t >= 0 && t < classes)) throw new Error(`confusionMatrix: label ${t} at pixel ${i} is not in 0..${classes - 1}`);
    const p = pred[i] < 0 ? (t + 1) % classes : pred[i];
    m[t * classes + p]++;
  }
  return m;
}

/** Mean of the values that are not NaN; NaN when none is. */
const definedMean = (xs: number[]): number => {
  const ok = xs.filter((x) => !Number.isNaN(x));
  return ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : NaN;
};

/**
 * Every metric of one image: `probs` class-major [K, H*W] (activate's softmax output), `truth` the
 * label map [H*W] of class indices 0..K-1, `fov` 1 inside the field of view. The predicted
 * label map `decided` (-1 for NaN) defaults to the argmax of `probs`; a post-processed one changes every
 * metric but AUC, which is always of the probabilities.
 */
export function classImageMetrics(probs: Float32Array, truth: ArrayLike<number>, classes: number, fov?: ArrayLike<number>, decided?: ArrayLike<number>): ClassImageMetrics {
  if (classes < 2) throw new Error(`classImageMetrics: ${classes} class; a 1-class (sigmoid) network is measured by metrics.ts imageMetrics`);
  const pixels = truth.length;
  const pred = decided ?? argmaxLabels(probs, classes, pixels);
  const m = confusionMatrix(pred, truth, classes, fov);
  let total = 0;
  let correct = 0;
  for (let t = 0; t < classes; t++)
    for (let p = 0; p < classes; p++) {
      total += m[t * classes + p];
      if (t === p) correct += m[t * classes + p];
    }
  const perClass: ClassMetrics[] = [];
  const isK = new Float32Array(pixels);
  for (let k = 1; k < classes; k++) {
    let trueK = 0;
    let predK = 0;
    for (let j = 0; j < classes; j++) {
      trueK += m[k * classes + j];
      predK += m[j * classes + k];
    }
    const tp = m[k * classes + k];
    const { iou, dice, sensitivity, specificity } = metricsFromConfusion({ tp, fn: trueK - tp, fp: predK - tp, tn: total - trueK - predK + tp });
    for (let i = 0; i < pixels; i++) isK[i] = truth[i] === k ? 1 : 0;
    perClass.push({ iou, dice, sensitivity, specificity, auc: auc(probs.subarray(k * pixels, (k + 1) * pixels), isK, fov) });
  }
  const metrics = { accuracy: total ? correct / total : NaN } as ImageMetrics;
  for (const key of CLASS_METRICS) metrics[key] = definedMean(perClass.map((c) => c[key]));
  return { metrics, perClass };
}

/** Mean ± std over images of each foreground class's metrics: out[k - 1] for class k. */
export function summarizeClasses(perImage: ClassImageMetrics[], classes: number): Record<ClassMetric, MeanStd>[] {
  return Array.from({ length: classes - 1 }, (_, j) => summarizeBy(perImage.map((r) => r.perClass[j]), CLASS_METRICS));
}

/**
 * The headline metrics of one image for either kind of network: a 1-class (sigmoid) network's
 * `probs` [H*W] against a 0/1 mask at `threshold` (metrics.ts imageMetrics); a K-class (softmax)
 * one's class-major `probs` [K, H*W] against a label map by argmax (classImageMetrics; no threshold).
 */
export function headlineMetrics(probs: Float32Array, truth: ArrayLike<number>, classes: number, fov: ArrayLike<number> | undefined, threshold: number): ImageMetrics {
  return classes === 1 ? imageMetrics(probs, truth, fov, threshold) : classImageMetrics(probs, truth, classes, fov).metrics;
}
