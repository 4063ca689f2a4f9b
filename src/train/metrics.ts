// Segmentation metrics per image, counted only inside the FOV mask when there is one, and their
// mean ± std over a set of images. Conventions:
// - a pixel is predicted foreground when its probability is >= the threshold (DEFAULT_THRESHOLD, 0.5);
// - IoU and Dice of an image where truth and prediction are both empty are 1 (perfect agreement);
// - sensitivity needs a foreground pixel and specificity a background one, AUC both: otherwise NaN,
//   and summarize() leaves the NaNs out (its `n` says how many images counted);
// - AUC is exact: the Mann-Whitney statistic, P(p_fg > p_bg) + 1/2 P(p_fg = p_bg), ties counted half;
// - std is the population std (numpy's default);
// - a NaN probability (a diverged network) counts as a wrong prediction everywhere: the class
//   opposite to the truth in the confusion counts, the worst rank in AUC (below every negative
//   for a foreground pixel, above every positive for a background one). Never a hang, never perfect.
import { DEFAULT_THRESHOLD } from './objective.js';

export const METRICS = ['accuracy', 'iou', 'dice', 'sensitivity', 'specificity', 'auc'] as const;
export type Metric = (typeof METRICS)[number];
export type ImageMetrics = Record<Metric, number>;

export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

export function confusion(prob: ArrayLike<number>, truth: ArrayLike<number>, fov?: ArrayLike<number>, threshold = DEFAULT_THRESHOLD): Confusion {
  if (prob.length !== truth.length || (fov && fov.length !== truth.length)) throw new Error(`metrics: ${prob.length} probabilities, ${truth.length} truth, ${fov?.length} fov`);
  const c = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < prob.length; i++) {
    if (fov && !(fov[i] > 0.5)) continue;
    const p = Number.isNaN(prob[i]) ? !(truth[i] > 0.5) : prob[i] >= threshold;
    if (truth[i] > 0.5) p ? c.tp++ : c.fn++;
    else p ? c.fp++ : c.tn++;
  }
  return c;
}

/** Area under the ROC curve from the probabilities: sort each class once, then one merge walk. */
export function auc(prob: ArrayLike<number>, truth: ArrayLike<number>, fov?: ArrayLike<number>): number {
  const pos: number[] = [];
  const neg: number[] = [];
  for (let i = 0; i < prob.length; i++) {
    if (fov && !(fov[i] > 0.5)) continue;
    const fg = truth[i] > 0.5;
    const v = prob[i];
    (fg ? pos : neg).push(Number.isNaN(v) ? (fg ? -Infinity : Infinity) : v);
  }
  if (!pos.length || !neg.length) return NaN;
  const p = Float64Array.from(pos).sort();
  const n = Float64Array.from(neg).sort();
  // for each positive: the negatives below it count 1, those equal to it 1/2
  let below = 0;
  let wins = 0;
  for (let i = 0; i < p.length; ) {
    const v = p[i];
    // j > i: the walk always moves on (no value is NaN here, but never rely on === for progress)
    let j = i + 1;
    while (j < p.length && p[j] === v) j++;
    while (below < n.length && n[below] < v) below++;
    let equal = 0;
    while (below + equal < n.length && n[below + equal] === v) equal++;
    wins += (j - i) * (below + equal / 2);
    i = j;
  }
  return wins / (p.length * n.length);
}

const ratio = (a: number, b: number, empty: number) => (b === 0 ? empty : a / b);

export function metricsFromConfusion({ tp, fp, tn, fn }: Confusion): Omit<ImageMetrics, 'auc'> {
  return {
    accuracy: ratio(tp + tn, tp + fp + tn + fn, NaN),
    iou: ratio(tp, tp + fp + fn, 1),
    dice: ratio(2 * tp, 2 * tp + fp + fn, 1),
    sensitivity: ratio(tp, tp + fn, NaN),
    specificity: ratio(tn, tn + fp, NaN),
  };
}

/** All six metrics of one image; `fov` restricts every count to where it is 1. */
export function imageMetrics(prob: ArrayLike<number>, truth: ArrayLike<number>, fov?: ArrayLike<number>, threshold = 0.5): ImageMetrics {
  return { ...metricsFromConfusion(confusion(prob, truth, fov, threshold)), auc: auc(prob, truth, fov) };
}

export interface MeanStd {
  mean: number;
  std: number;
  /** images that had a value (not NaN) */
  n: number;
}

export function summarize(perImage: ImageMetrics[]): Record<Metric, MeanStd> {
  return summarizeBy(perImage, METRICS);
}

/** Mean ± population std over the rows of each key in `keys`, NaNs left out (`n` counts the rest). */
export function summarizeBy<K extends string>(rows: Record<K, number>[], keys: readonly K[]): Record<K, MeanStd> {
  const out = {} as Record<K, MeanStd>;
  for (const m of keys) {
    const xs = rows.map((r) => r[m]).filter((x) => !Number.isNaN(x));
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
    out[m] = xs.length ? { mean, std, n: xs.length } : { mean: NaN, std: NaN, n: 0 };
  }
  return out;
}

/** `0.8963 ± 0.0123` */
export const formatMeanStd = ({ mean, std }: MeanStd, digits = 4) => `${mean.toFixed(digits)} ± ${std.toFixed(digits)}`;
