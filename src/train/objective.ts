// What training optimizes, defined once for both engines (TF.js in engine-tfjs.ts, the compiled
// ONNX step in ort/training-model.ts) and for validation: the loss, the optimizer's settings with
// their defaults, and the checkpoint names of the optimizer's state.
// A binary network (output {classes: 1}, sigmoid) trains on BCE on logits plus Dice on sigmoid
// probabilities, weighted by train.loss (default 1 and 1), as the PyTorch twin's bce_dice
// (../shared/peers/alnet_torch.py):
//   bce  = mean over every pixel of max(x, 0) - x y + log(1 + exp(-|x|))   (stable for any logit)
//   dice = mean over images of 1 - (2 sum(p y) + 1) / (sum p + sum y + 1),  p = sigmoid(x), smooth 1
// A multi-class network (output {classes: K, activation: softmax}, K >= 2) on softmax cross-entropy
// plus multi-class soft Dice over the foreground classes, y one-hot, p = softmax(z) over the classes:
//   ce   = sum_i w_{y_i} (-log p_{i,y_i}) / sum_i w_{y_i}     (torch.nn.CrossEntropyLoss, weight=w;
//          without class weights w = 1: the mean over pixels)
//   dice = mean over images n and classes k = 1..K-1 of 1 - (2 sum(p_k y_k) + 1) / (sum p_k + sum y_k + 1)
// train.loss.ce is an alias of train.loss.bce: both weigh the cross-entropy term of either kind.

export interface LossWeights {
  /** weight of the cross-entropy term: BCE (sigmoid) or softmax CE (spec: train.loss.bce or .ce) */
  bce: number;
  dice: number;
  /** softmax only: the CE's class weights w_0..w_{K-1}, each > 0 (spec: train.loss.class_weights) */
  classWeights?: number[];
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

/** The spec's train.loss (bce, its alias ce, dice, class_weights) as LossWeights, defaults filled in; an error message where bce and ce disagree. */
export function lossWeightsOf(loss: { bce?: number; ce?: number; dice?: number; class_weights?: number[] } | undefined): LossWeights | string {
  const l = loss ?? {};
  if (l.bce !== undefined && l.ce !== undefined && l.bce !== l.ce) return `train.loss.ce (${l.ce}) and train.loss.bce (${l.bce}) are the same weight (ce is bce's alias): give one of them`;
  return { bce: l.ce ?? l.bce ?? DEFAULT_LOSS.bce, dice: l.dice ?? DEFAULT_LOSS.dice, ...(l.class_weights ? { classWeights: [...l.class_weights] } : {}) };
}

/** What a network's output must be for training: the parts of the graph the loss reads. */
export interface LossOutput {
  classes: number;
  activation: 'sigmoid' | 'softmax' | 'none';
}

/** A binary network's output: one class, sigmoid. */
export const BINARY_OUTPUT: LossOutput = { classes: 1, activation: 'sigmoid' };

/** The softmax loss applies: output {classes: K >= 2, activation: softmax}. */
export const isSoftmax = (o: LossOutput) => o.activation === 'softmax';

/**
 * Why a network's output and its train.loss cannot train (message for a BadOptionsError), or
 * undefined: binary is {classes: 1} with a sigmoid (or no activation: the logits are read as a
 * sigmoid's), multi-class is {classes: K >= 2, activation: softmax}; class weights are softmax's, one per class.
 */
export function lossOutputError(o: LossOutput, w: LossWeights): string | undefined {
  const K = o.classes;
  if (isSoftmax(o) && K < 2) return `output: {classes: 1, activation: softmax} is a constant 1 and cannot train: write output: {classes: 1} for binary segmentation (sigmoid), or {classes: 2, activation: softmax}`;
  if (!isSoftmax(o) && K > 1) return `output has ${K} classes with ${o.activation === 'none' ? 'no activation' : 'a sigmoid'}: a multi-class network trains with softmax; write output: {classes: ${K}, activation: softmax}`;
  if (w.classWeights && !isSoftmax(o)) return `train.loss.class_weights weigh the classes of a softmax network; this one is binary (sigmoid): train it as output: {classes: 2, activation: softmax} to weigh its classes, or remove class_weights`;
  if (w.classWeights && w.classWeights.length !== K) return `train.loss.class_weights has ${w.classWeights.length} weight${w.classWeights.length === 1 ? '' : 's'}, the network has ${K} classes: give one weight per class, w_0 (background) .. w_${K - 1}`;
  if (w.classWeights && !w.classWeights.every((v) => Number.isFinite(v) && v > 0)) return `train.loss.class_weights must all be finite numbers > 0; got [${w.classWeights.join(', ')}]`;
  return undefined;
}

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
 * The softmax loss on plain arrays, in float64: logits and one-hot targets NHWK (pixel-major,
 * `classes` values per pixel), `images` images. CE with optional class weights plus the mean
 * foreground soft Dice, as in this file's header.
 */
export function softmaxDiceValue(logits: ArrayLike<number>, y: ArrayLike<number>, classes: number, w: LossWeights = DEFAULT_LOSS, images = 1): number {
  const K = classes;
  if (K < 2 || logits.length !== y.length || logits.length % (images * K)) throw new Error(`softmaxDiceValue: ${logits.length} logits, ${y.length} targets, ${K} classes, ${images} images`);
  if (w.classWeights && w.classWeights.length !== K) throw new Error(`softmaxDiceValue: ${w.classWeights.length} class weights for ${K} classes`);
  const pixels = logits.length / K;
  const per = pixels / images;
  const p = new Float64Array(K);
  let ce = 0;
  let weightSum = 0;
  let dice = 0;
  for (let n = 0; n < images; n++) {
    const inter = new Float64Array(K);
    const sp = new Float64Array(K);
    const sy = new Float64Array(K);
    for (let i = n * per; i < (n + 1) * per; i++) {
      const o = i * K;
      let max = -Infinity;
      for (let k = 0; k < K; k++) max = Math.max(max, logits[o + k]);
      let z = 0;
      for (let k = 0; k < K; k++) z += Math.exp(logits[o + k] - max);
      const lse = max + Math.log(z);
      for (let k = 0; k < K; k++) {
        const t = y[o + k];
        p[k] = Math.exp(logits[o + k] - lse);
        const wk = t * (w.classWeights?.[k] ?? 1);
        ce += wk * (lse - logits[o + k]);
        weightSum += wk;
        inter[k] += p[k] * t;
        sp[k] += p[k];
        sy[k] += t;
      }
    }
    for (let k = 1; k < K; k++) dice += 1 - (2 * inter[k] + DICE_SMOOTH) / (sp[k] + sy[k] + DICE_SMOOTH);
  }
  return w.bce * (ce / weightSum) + w.dice * (dice / (images * (K - 1)));
}

/**
 * The training loss of a network's logits, in float64, whichever its output: sigmoid (K = 1,
 * bceDiceValue: targets 0/1) or softmax (softmaxDiceValue: targets one-hot, see oneHot). Both
 * arrays NHWK, `images` images.
 */
export function lossValue(logits: ArrayLike<number>, y: ArrayLike<number>, output: LossOutput, w: LossWeights = DEFAULT_LOSS, images = 1): number {
  return isSoftmax(output) ? softmaxDiceValue(logits, y, output.classes, w, images) : bceDiceValue(logits, y, w, images);
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
