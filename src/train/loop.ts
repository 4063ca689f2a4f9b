// The training loop, engine-agnostic (DESIGN.md, Runtime): data, schedule, validation, checkpoints and
// metrics; the engine only steps. An epoch is n samples (samples_per_image x the train images, or
// samples_per_epoch); sample i is train image i % images. Every random choice is a pure function of
// (seed, epoch, index): the order of an epoch's samples from (seed, epoch), each sample's augmentation
// from (seed, epoch, sample index). With checkpoints at epoch boundaries (weights, BN statistics,
// optimizer state, step count), a resumed run takes exactly the steps the uninterrupted run would
// have. Validation runs every val_every epochs and at the last; best and early stopping follow it.
import { rng, type WeightStore } from '../ir/weights.js';
import { activate } from './infer.js';
import { applyAugment, chanceOptions, cropTo, drawAugment, padToMultiple, sampleSeed, type AugmentOptions, type ChanceTransform } from './augment.js';
import type { Sample } from './dataset.js';
import type { Batch, TrainEngine } from './engine.js';
import { BadOptionsError, DataErrors, DivergedError, type DataError } from './errors.js';
import { TRAIN_LIMITS, type Limit } from '../frontend/schema.js';
import type { HwcImage } from './image.js';
import { defaultClassTable, type ClassTable } from './classes.js';
import type { Labels } from './labels.js';
import { datasetStats, loadSample, normalize, type LoadedSample } from './load.js';
import { BINARY_OUTPUT, OPTIMIZERS, lossValue, lossWeightsOf, oneHot, thresholdOf, type LossOutput, type LossWeights, type OptimizerOptions } from './objective.js';
import { summarize } from './metrics.js';
import { headlineMetrics } from './class-metrics.js';
import type { CheckpointState, MetricsRow, Normalization, RunDir } from './run.js';

/** train: from the spec, with the paper's defaults. */
export interface TrainSettings {
  epochs: number;
  batch: number;
  crop: [number, number];
  lr: number;
  /** exp's factor per epoch */
  lrDecay: number;
  /** how the learning rate moves per epoch after the warm-up (lrAt) */
  schedule: Schedule;
  /** epochs of linear warm-up (lrAt), 0: none */
  warmup: number;
  optimizer: OptimizerOptions;
  loss: LossWeights;
  /** dihedral and translate as before; the transforms with a probability only when named (augment.ts chanceOptions) */
  augment: { dihedral: boolean; translate: number } & Pick<AugmentOptions, ChanceTransform>;
  /** samples per train image per epoch (train.samples_per_image, default 8: the paper's expanded epoch) */
  samplesPerImage: number;
  /** a fixed number of samples per epoch instead (train.samples_per_epoch) */
  samplesPerEpoch?: number;
  /** validate every this many epochs, and at the last (train.val_every, default 1) */
  valEvery: number;
  /** stop after this many validations without a better val IoU */
  earlyStop?: number;
  seed: number;
  threshold: number;
  /** train.init: initial weights from a file (paths as written in the spec) */
  init?: { from: string; map: string; slice?: boolean };
  /** train.freeze: node-id globs frozen the whole run (freeze.ts) */
  freeze: string[];
  /** train.freeze_bn: frozen BatchNorm nodes keep their running statistics too */
  freezeBn: boolean;
  /** train.init.freeze_epochs: the first N epochs train only the weights the init did not load (0: none) */
  freezeEpochs: number;
}

export function trainSettings(train: Record<string, unknown> | undefined): TrainSettings {
  const t = (train ?? {}) as {
    epochs?: number; batch?: number; crop?: number | [number, number]; lr?: number; lr_decay?: number; schedule?: Schedule; warmup?: number;
    optimizer?: OptimizerOptions['kind']; weight_decay?: number; momentum?: number; nesterov?: boolean; betas?: [number, number];
    loss?: { bce?: number; ce?: number; dice?: number; class_weights?: number[] }; augment?: { dihedral?: boolean; translate?: number } & Record<string, unknown>; early_stop?: number; seed?: number; threshold?: number;
    samples_per_image?: number; samples_per_epoch?: number; val_every?: number; init?: { from: string; map: string; slice?: boolean; freeze_epochs?: number };
    freeze?: string[]; freeze_bn?: boolean;
  };
  checkTrainSection(t as Record<string, unknown>);
  if (t.samples_per_image !== undefined && t.samples_per_epoch !== undefined)
    throw new BadOptionsError(`train.samples_per_image (${t.samples_per_image}) and train.samples_per_epoch (${t.samples_per_epoch}) both set: give one (samples per train image, or a fixed number per epoch)`);
  const chances = chanceOptions(t.augment);
  if (chances.errors.length) throw new BadOptionsError(chances.errors.join('\n'));
  const crop = t.crop ?? 256;
  const epochs = t.epochs ?? 40;
  const schedule = t.schedule ?? 'exp';
  if (!(SCHEDULES as readonly string[]).includes(schedule)) throw new BadOptionsError(`train.schedule is ${JSON.stringify(schedule)}: choose ${SCHEDULES.join(', ')}`);
  const warmup = t.warmup ?? 0;
  if (warmup >= epochs) throw new BadOptionsError(`train.warmup is ${warmup} epochs but train.epochs is ${epochs}: the warm-up must end before the last epoch (e.g. --set train.warmup=${Math.max(0, Math.min(5, epochs - 1))})`);
  const kind = t.optimizer ?? 'adam';
  if (!(OPTIMIZERS as readonly string[]).includes(kind)) throw new BadOptionsError(`train.optimizer is ${JSON.stringify(kind)}: choose ${OPTIMIZERS.join(', ')}`);
  if (kind !== 'sgd' && (t.nesterov !== undefined || t.momentum !== undefined))
    throw new BadOptionsError(`train.${t.nesterov !== undefined ? 'nesterov' : 'momentum'} is an SGD setting; train.optimizer is ${kind}: remove it, or set train.optimizer=sgd`);
  if (kind === 'sgd' && t.betas !== undefined) throw new BadOptionsError('train.betas is an Adam/AdamW setting; train.optimizer is sgd: remove it, or use train.momentum');
  if (t.nesterov && (t.momentum ?? 0.9) === 0) throw new BadOptionsError('train.nesterov needs a momentum above 0 (as torch.optim.SGD): set train.momentum, e.g. 0.9, or drop nesterov');
  const optimizer: OptimizerOptions = { kind };
  if (t.weight_decay !== undefined) optimizer.weightDecay = t.weight_decay;
  if (t.momentum !== undefined) optimizer.momentum = t.momentum;
  if (t.nesterov !== undefined) optimizer.nesterov = t.nesterov;
  if (t.betas !== undefined) optimizer.betas = [t.betas[0], t.betas[1]];
  const loss = lossWeightsOf(t.loss);
  if (typeof loss === 'string') throw new BadOptionsError(loss);
  return {
    // the twin's protocol (train_peer.py --epochs 40): 40 epochs of 8 samples per image, not the paper's 150 of one
    epochs,
    batch: t.batch ?? 4,
    crop: typeof crop === 'number' ? [crop, crop] : [crop[0], crop[1]],
    lr: t.lr ?? 5e-3,
    lrDecay: t.lr_decay ?? 0.95,
    schedule,
    warmup,
    optimizer,
    loss,
    augment: { dihedral: t.augment?.dihedral ?? true, translate: t.augment?.translate ?? 0.1, ...chances.options },
    samplesPerImage: t.samples_per_image ?? DEFAULT_SAMPLES_PER_IMAGE,
    samplesPerEpoch: t.samples_per_epoch,
    valEvery: t.val_every ?? 1,
    earlyStop: t.early_stop,
    seed: t.seed ?? 0,
    threshold: thresholdOf(t),
    ...(t.init ? { init: { from: t.init.from, map: t.init.map, ...(t.init.slice !== undefined ? { slice: t.init.slice } : {}) } } : {}),
    freeze: t.freeze ?? [],
    freezeBn: t.freeze_bn ?? false,
    freezeEpochs: t.init?.freeze_epochs ?? 0,
  };
}

/** The paper's expanded epoch: each training image 8 times (its 8 flips/rotations), as the PyTorch reference's default steps. */
export const DEFAULT_SAMPLES_PER_IMAGE = 8;

const INTEGER_SETTINGS = new Set(['epochs', 'batch', 'crop', 'early_stop', 'seed', 'samples_per_image', 'samples_per_epoch', 'val_every', 'warmup', 'init.freeze_epochs']);

/** Samples in one epoch: samples_per_epoch, else samples_per_image x the train images. */
export const epochSamples = (s: Pick<TrainSettings, 'samplesPerImage' | 'samplesPerEpoch'>, trainImages: number): number => s.samplesPerEpoch ?? s.samplesPerImage * trainImages;

/** Whether epoch e (0-based) ends with a validation: every valEvery epochs, and always the last. */
export const validatesAt = (s: Pick<TrainSettings, 'valEvery' | 'epochs'>, epoch: number): boolean => (epoch + 1) % s.valEvery === 0 || epoch + 1 === s.epochs;

/**
 * Every numeric train setting present is a finite number in its range (TRAIN_LIMITS, the schema's
 * own): a BadOptionsError naming the setting otherwise. Compiled specs have passed the schema
 * already; this guards the library's other callers, so no run starts on garbage numbers.
 */
export function checkTrainSection(train: Record<string, unknown>): void {
  for (const [key, limit] of Object.entries(TRAIN_LIMITS) as [string, Limit][]) {
    const raw = key.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], train);
    if (raw === undefined) continue;
    for (const v of Array.isArray(raw) ? raw : [raw]) {
      const lo = limit.open === 'min' ? `(${limit.min}` : `[${limit.min}`;
      const hi = limit.open === 'max' ? `${limit.max})` : `${limit.max}]`;
      const fits = typeof v === 'number' && Number.isFinite(v) && (limit.open === 'min' ? v > limit.min : v >= limit.min) && (limit.open === 'max' ? v < limit.max : v <= limit.max);
      const integer = !INTEGER_SETTINGS.has(key) || Number.isInteger(v);
      if (!fits || !integer)
        throw new BadOptionsError(`train.${key} is ${typeof raw === 'number' ? raw : JSON.stringify(raw)}: it must be a finite ${INTEGER_SETTINGS.has(key) ? 'integer' : 'number'} in ${lo}, ${hi}`);
    }
  }
}

/**
 * Why train.crop cannot be the training graph's input size (it is not a multiple of the network's
 * stride), with the nearest crop that is; undefined when it can.
 */
export function cropStrideError(crop: [number, number], stride: [number, number]): string | undefined {
  const [h, w] = crop;
  if (h % stride[0] === 0 && w % stride[1] === 0) return undefined;
  return `train.crop ${h}x${w} is not a multiple of the network's stride ${stride.join('x')}; e.g. --set train.crop=${Math.max(1, Math.round(h / stride[0])) * stride[0]}`;
}

export const SCHEDULES = ['exp', 'poly', 'cosine'] as const;
export type Schedule = (typeof SCHEDULES)[number];

/** nnU-Net's poly exponent (nnunetv2 PolyLRScheduler). */
export const POLY_POWER = 0.9;

/**
 * The learning rate of epoch e (0-based; constant within the epoch). With W = warmup epochs and
 * E = epochs, the warm-up is linear: lr x (e + 1) / (W + 1) for e < W (epoch 0 at lr / (W + 1), the
 * first epoch after it at lr). Then, with e' = e - W and E' = E - W epochs left:
 *   exp:    lr x lr_decay^e'                      (today's rule: lr x lr_decay^e when W = 0)
 *   poly:   lr x (1 - e' / E')^0.9                (nnU-Net's PolyLRScheduler, stepped per epoch)
 *   cosine: lr x 0.5 (1 + cos(pi e' / E'))        (torch CosineAnnealingLR, T_max = E', eta_min 0)
 * poly and cosine never reach 0 inside the run: the last epoch has e' = E' - 1.
 */
export function lrAt(s: Pick<TrainSettings, 'lr' | 'lrDecay' | 'epochs'> & Partial<Pick<TrainSettings, 'schedule' | 'warmup'>>, epoch: number): number {
  const w = s.warmup ?? 0;
  if (epoch < w) return (s.lr * (epoch + 1)) / (w + 1);
  const e = epoch - w;
  const span = s.epochs - w;
  switch (s.schedule ?? 'exp') {
    case 'exp':
      return s.lr * s.lrDecay ** e;
    case 'poly':
      return s.lr * Math.max(0, 1 - e / span) ** POLY_POWER;
    case 'cosine':
      return s.lr * 0.5 * (1 + Math.cos((Math.PI * Math.min(e, span)) / span));
  }
}

/** The optimizer and schedule in a few words, for the log: `adamw, lr 0.005 cosine after 2 warm-up epochs`. */
export function describeOptimization(s: TrainSettings): string {
  const o = s.optimizer;
  const opt = o.kind === 'sgd' && o.nesterov ? 'sgd (nesterov)' : o.kind;
  const sched = s.schedule === 'exp' ? `x${s.lrDecay} per epoch` : s.schedule;
  return `${opt}, lr ${s.lr} ${sched}${s.warmup ? ` after ${s.warmup} warm-up epoch${s.warmup === 1 ? '' : 's'}` : ''}`;
}

/** The order of an epoch's train samples: a seeded Fisher-Yates shuffle, a pure function of (seed, epoch). */
export function epochOrder(seed: number, epoch: number, n: number): number[] {
  const r = rng(sampleSeed(seed ^ 0x5bd1e995, epoch, 0x7fffffff));
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r.uniform() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

export interface TrainingData {
  train: LoadedSample[];
  val: LoadedSample[];
  normalize: Normalization;
  /** the task's class table (run.json records it): the Labels' table, else defaultClassTable(1) */
  classes: ClassTable;
}

export type NormalizeSpec = 'dataset' | 'none' | { mean: number[]; std: number[] } | undefined;

/**
 * Loads the train and val splits into memory (small datasets), normalized; masks as `classes`' labels
 * (scanDataset's Dataset.labels; unset: binary 0/1). Data errors are thrown as DataErrors.
 */
export async function loadTrainingData(samples: Sample[], opts: { channels: number; invertMask?: boolean; maskThreshold?: number; classes?: Labels; normalize: NormalizeSpec | Normalization }): Promise<TrainingData> {
  const load = { channels: opts.channels, invertMask: opts.invertMask, maskThreshold: opts.maskThreshold, classes: opts.classes };
  let norm: Normalization;
  const n = opts.normalize;
  if (n === 'none' || n === null) norm = null;
  else if (n === undefined || n === 'dataset') {
    const s = await datasetStats(samples, load);
    norm = { mean: s.mean, std: s.std, from: 'dataset' };
  } else {
    const pick = (v: number[]) => (v.length === 1 ? new Array(opts.channels).fill(v[0]) : v);
    norm = { mean: pick(n.mean), std: pick(n.std), from: 'from' in n ? n.from : 'spec' };
    if (norm.mean.length !== opts.channels || norm.std.length !== opts.channels)
      throw new Error(`input.normalize has ${n.mean.length} means and ${n.std.length} stds for ${opts.channels} channels`);
  }
  const errors: DataError[] = [];
  const loadAll = async (split: string) => {
    const out: LoadedSample[] = [];
    for (const s of samples.filter((x) => x.split === split)) {
      try {
        const l = await loadSample(s, load);
        out.push(norm ? { ...l, image: normalize(l.image, norm) } : l);
      } catch (e) {
        if (e instanceof DataErrors) errors.push(...e.errors);
        else throw e;
      }
    }
    return out;
  };
  const train = await loadAll('train');
  const val = await loadAll('val');
  if (errors.length) throw new DataErrors(errors);
  return { train, val, normalize: norm, classes: opts.classes?.table ?? defaultClassTable(1) };
}

/**
 * One step's batch: the epoch's samples at `indices`, sample i being train image i % data.length
 * with its own seeded augmentation (sampleSeed(seed, epoch, i)); with one sample per image, sample i
 * is image i. y: the masks as they are for `classes` = 1 (0/1), one-hot over `classes` for a softmax
 * network (label maps 0..classes-1 -> NHWK).
 */
export function makeBatch(data: LoadedSample[], indices: number[], s: TrainSettings, epoch: number, classes = 1): Batch {
  const [h, w] = s.crop;
  const c = data[0].image.channels;
  const x = new Float32Array(indices.length * h * w * c);
  const labels = new Float32Array(indices.length * h * w);
  const opts: AugmentOptions = { crop: s.crop, ...s.augment };
  indices.forEach((i, b) => {
    const { image, mask } = data[i % data.length];
    const d = drawAugment(image.height, image.width, opts, rng(sampleSeed(s.seed, epoch, i)).uniform);
    const v = applyAugment({ image, mask }, d, opts);
    x.set(v.image.data, b * h * w * c);
    labels.set(v.mask.data, b * h * w);
  });
  return { x, y: classes > 1 ? oneHot(labels, classes) : labels, shape: [indices.length, h, w, c] };
}

export interface ValResult {
  loss: number;
  iou: number;
  dice: number;
  accuracy: number;
  images: number;
}

/**
 * Whole validation images, one at a time: reflect-padded to the stride, inference mode, cropped
 * back; the training loss of each image (lossValue: softmax networks against one-hot label maps),
 * metrics inside the FOV: a softmax network's IoU and Dice are the means over the foreground
 * classes (class-metrics.ts). `output`: the network's classes and activation (default binary).
 */
export async function validate(engine: TrainEngine, val: LoadedSample[], stride: [number, number], s: TrainSettings, output: LossOutput = BINARY_OUTPUT): Promise<ValResult> {
  const K = output.classes;
  const per = [];
  let loss = 0;
  for (const v of val) {
    const { image, box } = padToMultiple(v.image, stride);
    const logits = await engine.infer(image.data, [1, image.height, image.width, image.channels]);
    const out: HwcImage = cropTo({ data: logits, height: image.height, width: image.width, channels: K }, box);
    loss += lossValue(out.data, K > 1 ? oneHot(v.mask.data, K) : v.mask.data, output, s.loss);
    per.push(headlineMetrics(activate(out, K === 1 ? 'sigmoid' : 'softmax'), v.mask.data, K, v.fov?.data, s.threshold));
  }
  const m = summarize(per);
  return { loss: loss / val.length, iou: m.iou.mean, dice: m.dice.mean, accuracy: m.accuracy.mean, images: val.length };
}

export interface StepProgress {
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  /** mean loss of the epoch so far */
  loss: number;
  imagesPerS: number;
}

export interface EpochReport {
  row: MetricsRow;
  best: boolean;
  state: CheckpointState;
}

export interface LoopOptions {
  engine: TrainEngine;
  data: TrainingData;
  settings: TrainSettings;
  stride: [number, number];
  run: RunDir;
  /** from a checkpoint: continue after it */
  resume?: CheckpointState;
  onStep?: (p: StepProgress) => void;
  onEpoch?: (e: EpochReport) => void;
  /** stop after this many epochs of this call (tests: a run cut short) */
  stopAfter?: number;
  /** the network's classes and activation (the graph's output): default binary */
  output?: LossOutput;
  /**
   * the weight keys epoch e (0-based) freezes (freeze.ts frozenAt), set on the engine at each epoch's
   * start with the steps each key sat out frozen before it (recomputed from epoch 0 on resume); default none
   */
  frozen?: (epoch: number) => ReadonlySet<string>;
}

export interface LoopResult {
  epochs: number;
  steps: number;
  best: { epoch: number; val_iou: number };
  stopped: 'done' | 'early_stop' | 'stopAfter';
  last?: MetricsRow;
}

/** The first weight with a NaN or infinite value, else undefined. */
function nonFinite(weights: WeightStore): string | undefined {
  for (const [name, t] of weights) for (let i = 0; i < t.data.length; i++) if (!Number.isFinite(t.data[i])) return name;
  return undefined;
}

/** Stops a run whose numbers went non-finite: an event in the run, then a DivergedError. */
function diverged(run: RunDir, what: string, epoch: number, step: number, loss: number): never {
  const e = new DivergedError(what, epoch, step);
  run.event('diverged', { epoch, step, loss: String(loss), message: e.message });
  throw e;
}

/**
 * The loop. A non-finite loss, weight or validation loss stops it with a DivergedError (epoch and
 * step 1-based, the step within the epoch); checkpoints/last and best keep the last finite epoch.
 */
export async function trainLoop(o: LoopOptions): Promise<LoopResult> {
  const { engine, data, settings: s, run } = o;
  const output = o.output ?? BINARY_OUTPUT;
  if (!data.train.length) throw new Error('the train split is empty');
  if (!data.val.length) throw new Error('the val split is empty');
  let st: CheckpointState = o.resume ?? { epoch: 0, step: 0, lr: s.lr, best_val_iou: -Infinity, best_epoch: 0, epochs_without_improvement: 0, saved: '' };
  // a checkpoint written before the first validation holds -Infinity, which JSON stores as null
  if (typeof st.best_val_iou !== 'number') st = { ...st, best_val_iou: -Infinity };
  const samples = epochSamples(s, data.train.length);
  const rows = run.readMetrics().filter((r) => r.epoch <= st.epoch);
  // steps each weight sat out frozen (every epoch has the same step count): Adam's per-weight step
  const stepsPerEpoch = Math.ceil(samples / s.batch);
  const skipped = new Map<string, number>();
  const sitOut = (keys: ReadonlySet<string>) => keys.forEach((k) => skipped.set(k, (skipped.get(k) ?? 0) + stepsPerEpoch));
  if (o.frozen) for (let e = 0; e < st.epoch; e++) sitOut(o.frozen(e));
  let stopped: LoopResult['stopped'] = 'done';
  let ran = 0;
  // a run that stopped early stays stopped when resumed
  if (s.earlyStop !== undefined && st.epochs_without_improvement >= s.earlyStop) stopped = 'early_stop';
  for (let epoch = st.epoch; epoch < s.epochs && stopped === 'done'; epoch++) {
    if (o.stopAfter !== undefined && ran >= o.stopAfter) {
      stopped = 'stopAfter';
      break;
    }
    const lr = lrAt(s, epoch);
    const frozen = o.frozen?.(epoch);
    if (frozen) {
      if (!engine.setFrozen) throw new Error(`engine ${engine.name} cannot freeze weights`);
      engine.setFrozen(frozen, new Map(skipped));
    }
    const order = epochOrder(s.seed, epoch, samples);
    const steps = Math.ceil(order.length / s.batch);
    const t0 = performance.now();
    let sum = 0;
    for (let k = 0; k < steps; k++) {
      const batch = makeBatch(data.train, order.slice(k * s.batch, (k + 1) * s.batch), s, epoch, output.classes);
      const loss = await engine.step(batch, lr);
      // the checkpoints stay at the last finite epoch: nothing of this epoch is written
      if (!Number.isFinite(loss)) diverged(run, `loss is ${loss}`, epoch + 1, k + 1, loss);
      sum += loss * batch.shape[0];
      st = { ...st, step: st.step + 1 };
      const seen = Math.min((k + 1) * s.batch, order.length);
      o.onStep?.({ epoch: epoch + 1, epochs: s.epochs, step: k + 1, steps, loss: sum / seen, imagesPerS: (seen * 1000) / (performance.now() - t0) });
    }
    const trainMs = performance.now() - t0;
    if (frozen) sitOut(frozen);
    // the last step's update may have made a weight non-finite (an overflowing gradient) with a
    // finite loss; validation and the checkpoints would then compute on NaN
    const weights = engine.weights();
    const bad = nonFinite(weights);
    if (bad) diverged(run, `weight ${bad} is not finite`, epoch + 1, steps, NaN);
    // an epoch without validation has NaN val columns (empty cells in metrics.csv) and leaves best alone
    const validated = validatesAt(s, epoch);
    const v = validated ? await validate(engine, data.val, o.stride, s, output) : undefined;
    if (v && !Number.isFinite(v.loss)) diverged(run, `validation loss is ${v.loss}`, epoch + 1, steps, v.loss);
    const seconds = (performance.now() - t0) / 1000;
    const best = v !== undefined && v.iou > st.best_val_iou;
    st = {
      ...st,
      epoch: epoch + 1,
      lr,
      best_val_iou: best ? v.iou : st.best_val_iou,
      best_epoch: best ? epoch + 1 : st.best_epoch,
      // early_stop counts validations
      epochs_without_improvement: !v ? st.epochs_without_improvement : best ? 0 : st.epochs_without_improvement + 1,
      ...(v ? { val: { loss: v.loss, iou: v.iou, dice: v.dice, accuracy: v.accuracy } } : {}),
      saved: new Date().toISOString(),
    };
    const row: MetricsRow = {
      epoch: epoch + 1,
      lr,
      train_loss: sum / order.length,
      val_loss: v?.loss ?? NaN,
      val_iou: v?.iou ?? NaN,
      val_dice: v?.dice ?? NaN,
      val_accuracy: v?.accuracy ?? NaN,
      seconds,
      images_per_s: (order.length * 1000) / trainMs,
    };
    rows.push(row);
    // order: metrics, then best, then last. A kill in between leaves last at the previous epoch;
    // the resumed run repeats this epoch exactly and rewrites the same files.
    run.writeMetrics(rows);
    run.event('epoch', { ...row });
    const ckpt = { weights, optimizer: engine.optimizerState(), state: st };
    if (best) {
      run.writeCheckpoint('best', ckpt);
      run.event('best', { epoch: epoch + 1, val_iou: v.iou });
    }
    run.writeCheckpoint('last', ckpt);
    run.event('checkpoint', { name: 'last', epoch: epoch + 1, step: st.step });
    ran++;
    o.onEpoch?.({ row, best, state: st });
    if (v && s.earlyStop !== undefined && st.epochs_without_improvement >= s.earlyStop && epoch + 1 < s.epochs) {
      run.event('early_stop', { epoch: epoch + 1, best_epoch: st.best_epoch, best_val_iou: st.best_val_iou, patience: s.earlyStop });
      stopped = 'early_stop';
      break;
    }
  }
  return { epochs: st.epoch, steps: st.step, best: { epoch: st.best_epoch, val_iou: st.best_val_iou }, stopped, last: rows.at(-1) };
}
