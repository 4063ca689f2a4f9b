// The training loss: BCE on logits plus Dice on sigmoid probabilities, weighted by train.loss
// (default 1 and 1), as the PyTorch twin's bce_dice (../shared/peers/alnet_torch.py):
//   bce  = mean over every pixel of max(x, 0) - x y + log(1 + exp(-|x|))   (stable for any logit)
//   dice = mean over images of 1 - (2 sum(p y) + 1) / (sum p + sum y + 1),  p = sigmoid(x), smooth 1
// Two forms: TF.js ops (the training step differentiates it) and plain arrays (validation, tests).
import type { Scalar, Tensor } from '@tensorflow/tfjs';
import type { TF } from '../runtime/backend.js';

export interface LossWeights {
  bce: number;
  dice: number;
}

export const DEFAULT_LOSS: LossWeights = { bce: 1, dice: 1 };
export const DICE_SMOOTH = 1;

/** The loss of a batch of logits [n, h, w, 1] against 0/1 masks of the same shape. */
export function bceDiceLoss(tf: TF, logits: Tensor, y: Tensor, w: LossWeights = DEFAULT_LOSS): Scalar {
  return tf.tidy(() => {
    const parts: Tensor[] = [];
    if (w.bce) {
      const bce = tf.mean(tf.add(tf.sub(tf.relu(logits), tf.mul(logits, y)), tf.log1p(tf.exp(tf.neg(tf.abs(logits))))));
      parts.push(w.bce === 1 ? bce : tf.mul(bce, w.bce));
    }
    if (w.dice) {
      const axes = [1, 2, 3];
      const p = tf.sigmoid(logits);
      const inter = tf.sum(tf.mul(p, y), axes);
      const dice = tf.sub(1, tf.div(tf.add(tf.mul(inter, 2), DICE_SMOOTH), tf.add(tf.add(tf.sum(p, axes), tf.sum(y, axes)), DICE_SMOOTH)));
      parts.push(tf.mul(tf.mean(dice), w.dice));
    }
    return (parts.length ? (parts.length === 1 ? parts[0] : tf.add(parts[0], parts[1])) : tf.scalar(0)) as Scalar;
  });
}

/** The same loss on plain arrays, in float64: `images` images of `logits.length / images` pixels each. */
export function bceDiceValue(logits: ArrayLike<number>, y: ArrayLike<number>, w: LossWeights = DEFAULT_LOSS, images = 1): number {
  if (logits.length !== y.length || logits.length % images) throw new Error(`bceDiceValue: ${logits.length} logits, ${y.length} targets, ${images} images`);
  const per = logits.length / images;
  let bce = 0;
  let dice = 0;
  for (let i = 0; i < images; i++) {
    let inter = 0;
    let sp = 0;
    let sy = 0;
    for (let j = i * per; j < (i + 1) * per; j++) {
      const x = logits[j];
      const t = y[j];
      bce += Math.max(x, 0) - x * t + Math.log1p(Math.exp(-Math.abs(x)));
      const p = 1 / (1 + Math.exp(-x));
      inter += p * t;
      sp += p;
      sy += t;
    }
    dice += 1 - (2 * inter + DICE_SMOOTH) / (sp + sy + DICE_SMOOTH);
  }
  return w.bce * (bce / logits.length) + w.dice * (dice / images);
}
