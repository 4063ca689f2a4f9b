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
import { datasetStats, loadSample, normalize, type LoadedSample } from './load.js';
import { DEFAULT_LOSS, bceDiceValue, thresholdOf, type LossWeights, type OptimizerOptions } from './objective.js';
import { imageMetrics, summarize } from './metrics.js';
import type { CheckpointState, MetricsRow, Normalization, RunDir } from './run.js';

/** train: from the spec, with the paper's defaults. */
export interface TrainSettings {
  epochs: number;
  batch: number;
  crop: [number, number];
  lr: number;
  lrDecay: number;
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
}

export function trainSettings(train: Record<string, unknown> | undefined): TrainSettings {
  const t = (train ?? {}) as {
    epochs?: number; batch?: number; crop?: number | [number, number]; lr?: number; lr_decay?: number; optimizer?: 'adam' | 'sgd'; weight_decay?: number;
    loss?: Partial<LossWeights>; augment?: { dihedral?: boolean; translate?: number } & Record<string, unknown>; early_stop?: number; seed?: number; threshold?: number;
    samples_per_image?: number; samples_per_epoch?: number; val_every?: number;
  };
  checkTrainSection(t as Record<string, unknown>);
  if (t.samples_per_image !== undefined && t.samples_per_epoch !== undefined)
    throw new BadOptionsError(`train.samples_per_image (${t.samples_per_image}) and train.samples_per_epoch (${t.samples_per_epoch}) both set: give one (samples per train image, or a fixed number per epoch)`);
  const chances = chanceOptions(t.augment);
  if (chances.errors.length) throw new BadOptionsError(chances.errors.join('\n'));
  const crop = t.crop ?? 256;
  return {
    // the twin's protocol (train_peer.py --epochs 40): 40 epochs of 8 samples per image, not the paper's 150 of one
    epochs: t.epochs ?? 40,
    batch: t.batch ?? 4,
    crop: typeof crop === 'number' ? [crop, crop] : [crop[0], crop[1]],
    lr: t.lr ?? 5e-3,
    lrDecay: t.lr_decay ?? 0.95,
    optimizer: { kind: t.optimizer ?? 'adam', weightDecay: t.weight_decay ?? 0 },
    loss: { ...DEFAULT_LOSS, ...(t.loss ?? {}) },
    augment: { dihedral: t.augment?.dihedral ?? true, translate: t.augment?.translate ?? 0.1, ...chances.options },
    samplesPerImage: t.samples_per_image ?? DEFAULT_SAMPLES_PER_IMAGE,
    samplesPerEpoch: t.samples_per_epoch,
    valEvery: t.val_every ?? 1,
    earlyStop: t.early_stop,
    seed: t.seed ?? 0,
    threshold: thresholdOf(t),
  };
}

/** The paper's expanded epoch: each training image 8 times (its 8 flips/rotations), as the PyTorch reference's default steps. */
export const DEFAULT_SAMPLES_PER_IMAGE = 8;

const INTEGER_SETTINGS = new Set(['epochs', 'batch', 'crop', 'early_stop', 'seed', 'samples_per_image', 'samples_per_epoch', 'val_every']);

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
      const fits = typeof v === 'number' && Number.isFinite(v) && (limit.open === 'min' ? v > limit.min : v >= limit.min) && v <= limit.max;
      const integer = !INTEGER_SETTINGS.has(key) || Number.isInteger(v);
      if (!fits || !integer)
        throw new BadOptionsError(`train.${key} is ${typeof raw === 'number' ? raw : JSON.stringify(raw)}: it must be a finite ${INTEGER_SETTINGS.has(key) ? 'integer' : 'number'} in ${lo}, ${limit.max}]`);
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

/** The learning rate of epoch e (0-based): lr x decay^e. */
export const lrAt = (s: TrainSettings, epoch: number) => s.lr * s.lrDecay ** epoch;

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
}

export type NormalizeSpec = 'dataset' | 'none' | { mean: number[]; std: number[] } | undefined;

/** Loads the train and val splits into memory (small datasets), normalized; data errors are thrown as DataErrors. */
export async function loadTrainingData(samples: Sample[], opts: { channels: number; invertMask?: boolean; maskThreshold?: number; normalize: NormalizeSpec | Normalization }): Promise<TrainingData> {
  const load = { channels: opts.channels, invertMask: opts.invertMask, maskThreshold: opts.maskThreshold };
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
  return { train, val, normalize: norm };
}

/**
 * One step's batch: the epoch's samples at `indices`, sample i being train image i % data.length
 * with its own seeded augmentation (sampleSeed(seed, epoch, i)). With one sample per image, sample i
 * is image i.
 */
export function makeBatch(data: LoadedSample[], indices: number[], s: TrainSettings, epoch: number): Batch {
  const [h, w] = s.crop;
  const c = data[0].image.channels;
  const x = new Float32Array(indices.length * h * w * c);
  const y = new Float32Array(indices.length * h * w);
  const opts: AugmentOptions = { crop: s.crop, ...s.augment };
  indices.forEach((i, b) => {
    const { image, mask } = data[i % data.length];
    const d = drawAugment(image.height, image.width, opts, rng(sampleSeed(s.seed, epoch, i)).uniform);
    const v = applyAugment({ image, mask }, d, opts);
    x.set(v.image.data, b * h * w * c);
    y.set(v.mask.data, b * h * w);
  });
  return { x, y, shape: [indices.length, h, w, c] };
}

export interface ValResult {
  loss: number;
  iou: number;
  dice: number;
  accuracy: number;
  images: number;
}

/** Whole validation images, one at a time: reflect-padded to the stride, inference mode, cropped back; metrics inside the FOV. */
export async function validate(engine: TrainEngine, val: LoadedSample[], stride: [number, number], s: TrainSettings): Promise<ValResult> {
  const per = [];
  let loss = 0;
  for (const v of val) {
    const { image, box } = padToMultiple(v.image, stride);
    const logits = await engine.infer(image.data, [1, image.height, image.width, image.channels]);
    const out: HwcImage = cropTo({ data: logits, height: image.height, width: image.width, channels: 1 }, box);
    loss += bceDiceValue(out.data, v.mask.data, s.loss);
    per.push(imageMetrics(activate(out, 'sigmoid'), v.mask.data, v.fov?.data, s.threshold));
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
  if (!data.train.length) throw new Error('the train split is empty');
  if (!data.val.length) throw new Error('the val split is empty');
  let st: CheckpointState = o.resume ?? { epoch: 0, step: 0, lr: s.lr, best_val_iou: -Infinity, best_epoch: 0, epochs_without_improvement: 0, saved: '' };
  // a checkpoint written before the first validation holds -Infinity, which JSON stores as null
  if (typeof st.best_val_iou !== 'number') st = { ...st, best_val_iou: -Infinity };
  const samples = epochSamples(s, data.train.length);
  const rows = run.readMetrics().filter((r) => r.epoch <= st.epoch);
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
    const order = epochOrder(s.seed, epoch, samples);
    const steps = Math.ceil(order.length / s.batch);
    const t0 = performance.now();
    let sum = 0;
    for (let k = 0; k < steps; k++) {
      const batch = makeBatch(data.train, order.slice(k * s.batch, (k + 1) * s.batch), s, epoch);
      const loss = await engine.step(batch, lr);
      // the checkpoints stay at the last finite epoch: nothing of this epoch is written
      if (!Number.isFinite(loss)) diverged(run, `loss is ${loss}`, epoch + 1, k + 1, loss);
      sum += loss * batch.shape[0];
      st = { ...st, step: st.step + 1 };
      const seen = Math.min((k + 1) * s.batch, order.length);
      o.onStep?.({ epoch: epoch + 1, epochs: s.epochs, step: k + 1, steps, loss: sum / seen, imagesPerS: (seen * 1000) / (performance.now() - t0) });
    }
    const trainMs = performance.now() - t0;
    // the last step's update may have made a weight non-finite (an overflowing gradient) with a
    // finite loss; validation and the checkpoints would then compute on NaN
    const weights = engine.weights();
    const bad = nonFinite(weights);
    if (bad) diverged(run, `weight ${bad} is not finite`, epoch + 1, steps, NaN);
    // an epoch without validation has NaN val columns (empty cells in metrics.csv) and leaves best alone
    const validated = validatesAt(s, epoch);
    const v = validated ? await validate(engine, data.val, o.stride, s) : undefined;
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
