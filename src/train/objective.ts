// What training optimizes, defined once for both engines (TF.js in engine-tfjs.ts, the compiled
// ONNX step in ort/training-model.ts) and for validation: the loss, the optimizer's settings with
// their defaults, and the checkpoint names of the optimizer's state.
// The loss is BCE on logits plus Dice on sigmoid probabilities, weighted by train.loss (default 1
// and 1), as the PyTorch twin's bce_dice (../shared/peers/alnet_torch.py):
//   bce  = mean over every pixel of max(x, 0) - x y + log(1 + exp(-|x|))   (stable for any logit)
//   dice = mean over images of 1 - (2 sum(p y) + 1) / (sum p + sum y + 1),  p = sigmoid(x), smooth 1

export interface LossWeights {
  bce: number;
  dice: number;
}

export const DEFAULT_LOSS: LossWeights = { bce: 1, dice: 1 };
export const DICE_SMOOTH = 1;

/** The probability cut of the binary masks when the spec's train.threshold does not set one. */
export const DEFAULT_THRESHOLD = 0.5;

/** The spec's train.threshold, else DEFAULT_THRESHOLD: validation, evaluate, predict and export cut here. */
export const thresholdOf = (train: { threshold?: unknown } | undefined): number => (typeof train?.threshold === 'number' ? train.threshold : DEFAULT_THRESHOLD);

/**
 * The optimizer, as PyTorch defines it (torch.optim.Adam, AdamW, SGD); both engines implement
 * optimizerStep's arithmetic (engine-tfjs.ts update(), ort/training-model.ts's optimizer section):
 * - adam:  g += wd p (L2); m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
 *          p -= (lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * - adamw: p *= 1 - lr wd (decoupled decay, before the step), then adam's step without the L2 term
 * - sgd:   g += wd p (L2); buf = mu buf + g (buf = g at the first step: zero-initialized slots give
 *          the same); p -= lr buf; nesterov: p -= lr (g + mu buf)
 */
export interface OptimizerOptions {
  kind: 'adam' | 'adamw' | 'sgd';
  /** Adam, AdamW: PyTorch's defaults 0.9, 0.999 */
  betas?: [number, number];
  /** Adam, AdamW: 1e-8 */
  eps?: number;
  /** adam, sgd: L2 added to the gradient (PyTorch's weight_decay), default 0; adamw: the decoupled decay, default 0.01 as torch.optim.AdamW */
  weightDecay?: number;
  /** SGD momentum (PyTorch convention: buf = momentum buf + g; p -= lr buf); default 0.9 */
  momentum?: number;
  /** SGD: Nesterov momentum (torch.optim.SGD nesterov=True: p -= lr (g + momentum buf)); default false */
  nesterov?: boolean;
}

export const OPTIMIZERS = ['adam', 'adamw', 'sgd'] as const;

/** AdamW's default decoupled weight decay (torch.optim.AdamW). */
export const ADAMW_WEIGHT_DECAY = 0.01;

/** The optimizer's settings with PyTorch's defaults filled in (torch.optim.Adam, AdamW, SGD). */
export const optimizerSettings = (o: OptimizerOptions) => ({
  betas: o.betas ?? ([0.9, 0.999] as [number, number]),
  eps: o.eps ?? 1e-8,
  weightDecay: o.weightDecay ?? (o.kind === 'adamw' ? ADAMW_WEIGHT_DECAY : 0),
  momentum: o.momentum ?? 0.9,
  nesterov: o.nesterov ?? false,
});

/** True for the optimizers with Adam's moments (adam, adamw). */
export const isAdamLike = (o: OptimizerOptions): boolean => o.kind === 'adam' || o.kind === 'adamw';

/**
 * Checkpoint names of the optimizer's state: per trainable weight `NODE:NAME`, Adam and AdamW keep
 * `adam/m/NODE:NAME` and `adam/v/NODE:NAME`, SGD (with or without Nesterov) `sgd/momentum/NODE:NAME`;
 * and one [1] tensor `adam/step` or `sgd/step` counts the updates made. AdamW shares Adam's names:
 * its moments and step count mean the same (only the decay differs), so a run may resume under
 * either; likewise SGD's buffer is the same with and without Nesterov.
 */
export const optimizerSlots = (o: OptimizerOptions, key: string): string[] => (isAdamLike(o) ? [`adam/m/${key}`, `adam/v/${key}`] : [`sgd/momentum/${key}`]);
export const optimizerStepKey = (o: OptimizerOptions): string => `${isAdamLike(o) ? 'adam' : 'sgd'}/step`;

/** The loss on plain arrays, in float64: `images` images of `logits.length / images` pixels each. */
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

/**
 * Label maps to one-hot targets: labels [pixels] holding class indices 0..K-1 -> [pixels, K]
 * (pixel-major, i.e. NHWK for an NHW label batch). A value outside 0..K-1 is a bug upstream (the
 * decoder refuses such masks), so it throws.
 */
export function oneHot(labels: ArrayLike<number>, classes: number): Float32Array {
  const out = new Float32Array(labels.length * classes);
  for (let i = 0; i < labels.length; i++) {
    const k = labels[i];
    if (!(Number.isInteger(k) && k >= 0 && k < classes)) throw new Error(`oneHot: label ${k} at pixel ${i} is not in 0..${classes - 1}`);
    out[i * classes + k] = 1;
  }
  return out;
}
