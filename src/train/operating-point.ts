// The operating point of a binary network: the probability cut that maximises mean Dice on a set of
// images (`alcli evaluate RUN --tune-threshold`, on the validation split), and the record run.json
// keeps of it. Pure: probabilities and masks in, the sweep out; trained.ts reads the images and
// writes run.json. Dice per image is metrics.ts's (confusion counts inside the FOV, a pixel is
// foreground when p >= t, Dice 1 when truth and prediction are both empty), so the Dice at a
// threshold here is what `alcli evaluate --threshold T` reports for the same images.
import { confusion, metricsFromConfusion } from './metrics.js';

/** The thresholds tried: 0.05, 0.06, ..., 0.95 (k / 100, so each is the nearest double to its decimal). */
export const THRESHOLD_GRID: readonly number[] = Array.from({ length: 91 }, (_, i) => (i + 5) / 100);

/** One image of the sweep: foreground probabilities, 0/1 truth, optional FOV (1 inside), all of one length. */
export interface SweepImage {
  prob: ArrayLike<number>;
  truth: ArrayLike<number>;
  fov?: ArrayLike<number>;
}

export interface ThresholdSweep {
  /** the threshold chosen */
  value: number;
  /** mean Dice over the images at `value` */
  dice: number;
  /** the threshold in use before (the reference) and its mean Dice */
  reference: { value: number; dice: number };
  /** mean Dice at every grid threshold, in grid order */
  curve: { threshold: number; dice: number }[];
}

/** Mean Dice of the images at threshold t. */
export function meanDice(images: readonly SweepImage[], t: number): number {
  if (!images.length) throw new Error('meanDice: no images');
  let sum = 0;
  for (const im of images) sum += metricsFromConfusion(confusion(im.prob, im.truth, im.fov, t)).dice;
  return sum / images.length;
}

/**
 * The threshold with the highest mean Dice over `images` (each image weighs the same, as in
 * evaluate's mean), among the grid and `reference` (the one in use, default 0.5). Ties (a plateau
 * of equal Dice) go to the threshold nearest the reference, then to the lower one, so an
 * indifferent sweep keeps what was there, and the chosen Dice is never below the reference's.
 * Throws on no images.
 */
export function sweepThreshold(images: readonly SweepImage[], reference = 0.5, grid: readonly number[] = THRESHOLD_GRID): ThresholdSweep {
  if (!images.length) throw new Error('sweepThreshold: no images to tune on');
  const curve = grid.map((threshold) => ({ threshold, dice: meanDice(images, threshold) }));
  const ref = { threshold: reference, dice: curve.find((c) => c.threshold === reference)?.dice ?? meanDice(images, reference) };
  let best = ref;
  for (const c of curve) {
    const closer = Math.abs(c.threshold - reference) < Math.abs(best.threshold - reference);
    const tieLower = Math.abs(c.threshold - reference) === Math.abs(best.threshold - reference) && c.threshold < best.threshold;
    if (c.dice > best.dice || (c.dice === best.dice && (closer || tieLower))) best = c;
  }
  return { value: best.threshold, dice: best.dice, reference: { value: reference, dice: ref.dice }, curve };
}

/** run.json's `threshold`: the operating point `alcli evaluate --tune-threshold` chose. */
export interface TunedThreshold {
  /** the probability cut evaluate, predict and export use from then on */
  value: number;
  tuned_on: 'val';
  /** images of the validation split it was tuned on */
  images: number;
  /** mean Dice on them at `value` */
  dice: number;
  /** the threshold before tuning (the spec's train.threshold, else 0.5) and its mean Dice there */
  default: number;
  default_dice: number;
  /** the checkpoint tuned and its epoch: the value applies to that epoch's weights only */
  checkpoint: string;
  epoch: number;
  /** the grid swept */
  grid: string;
  at: string;
}

export const GRID_TEXT = '0.05..0.95 step 0.01';
