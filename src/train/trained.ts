// Using a trained run, as `alcli evaluate` and `alcli predict` do: open it (run.json, the resolved
// spec, a checkpoint), measure a split of its data, or segment image files into probability maps,
// masks and overlays. Errors a caller can act on are typed (errors.ts).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Compiled, CompileOptions } from '../frontend/compile.js';
import { checkOutputDir, cleanStaleFiles, guardFs, PathError, writeFileAtomic, type AtomicFileOps } from '../io/dir.js';
import { BadDataError, BadOptionsError, DataErrors, dataError, type DataError } from './errors.js';
import type { CheckpointName, InferEngineChoice, Split } from './choices.js';
import type { ImageMetrics, MeanStd, Metric } from './metrics.js';
import type { Checkpoint, RunDir, RunInfo } from './run.js';
import { maskThresholdError } from './choices.js';
import { compileFile } from './session.js';

export interface OpenRun {
  /** the run directory as given */
  dir: string;
  run: RunDir;
  info: RunInfo;
  compiled: Compiled;
  /** which checkpoint `checkpoint` is */
  name: CheckpointName;
  checkpoint: Checkpoint;
}

/** A run directory with its spec compiled and a checkpoint read. */
export async function openRun(dir: string, name: CheckpointName = 'best', opts: CompileOptions = {}): Promise<OpenRun> {
  const { RunDir, fsRunHost } = await import('./run.js');
  const run = new RunDir(fsRunHost(dir));
  const info = run.readInfo();
  if (!info) throw new BadOptionsError(`'${dir}' is not a training run (no run.json): make one with \`alcli train SPEC --data DIR --out ${dir}\``);
  if (!run.hasCheckpoint(name)) throw new BadOptionsError(`'${dir}' has no ${name} checkpoint yet: the run stopped before its first epoch ended${name === 'best' ? ' (or, with train.val_every, before its first validation: --checkpoint last has the weights)' : ''}; \`alcli train --resume ${dir}\``);
  const compiled = compileFile(join(dir, 'spec.resolved.yaml'), opts);
  return { dir, run, info, compiled, name, checkpoint: run.readCheckpoint(name) };
}

/** The probability cut of a run's masks when none is given: its spec's train.threshold (default 0.5). */
export async function runThreshold(opened: OpenRun): Promise<number> {
  const { trainSettings } = await import('./loop.js');
  return trainSettings(opened.compiled.resolved.train as Record<string, unknown> | undefined).threshold;
}

export interface EvaluateRunOptions {
  /** default test */
  split?: Split;
  /** dataset folder; default: the run's */
  data?: string;
  engine?: InferEngineChoice;
  /** default: runThreshold */
  threshold?: number;
  /** how mask values are read (--mask-threshold); default: the run's */
  maskThreshold?: number;
  /** the masks mark the foreground with 0 (--invert-mask); default: the run's */
  invertMask?: boolean;
}

export interface EvaluateRunResult {
  run: string;
  checkpoint: CheckpointName;
  epoch: number;
  data: string;
  split: Split;
  images: number;
  threshold: number;
  engine: 'ort' | 'tfjs';
  summary: Record<Metric, MeanStd>;
  perImage: { id: string; metrics: ImageMetrics }[];
}

/** Metrics of a run's checkpoint on a split of its data (or another dataset), per image and as mean ± std (`alcli evaluate`). */
export async function evaluateRun(run: OpenRun | string, opts: EvaluateRunOptions = {}): Promise<EvaluateRunResult> {
  const opened = typeof run === 'string' ? await openRun(run) : run;
  const { info, compiled, checkpoint } = opened;
  const threshold = opts.threshold ?? (await runThreshold(opened));
  const [{ scanDataset }, { createPredictor, evaluateSplit }] = await Promise.all([import('./dataset.js'), import('./infer.js')]);
  const split = opts.split ?? 'test';
  const dataDir = opts.data ?? info.data.dir;
  const maskThreshold = opts.maskThreshold ?? info.data.mask_threshold;
  const mt = maskThresholdError(maskThreshold);
  if (mt) throw new BadOptionsError(mt);
  const mask = { invertMask: opts.invertMask ?? info.data.invert_mask, maskThreshold };
  const scan = await scanDataset(dataDir, { seed: info.data.split_seed, need: [split], ...mask });
  if (!scan.dataset) throw new BadDataError(scan.errors);
  const samples = scan.dataset.samples.filter((s) => s.split === split);
  const predictor = await createPredictor({ graph: compiled.graph, weights: checkpoint.weights, normalize: info.normalize, engine: opts.engine ?? 'auto' });
  try {
    const res = await evaluateSplit(predictor, samples, { channels: info.input_channels, ...mask }, threshold);
    return { run: opened.dir, checkpoint: opened.name, epoch: checkpoint.state.epoch, data: dataDir, split, images: samples.length, threshold, engine: predictor.engine, summary: res.summary, perImage: res.perImage };
  } finally {
    predictor.dispose();
  }
}

export interface PredictOptions {
  /** image files; a multi-page one (TIFF stack, animated GIF) gives a prediction per page */
  images: string[];
  /** output folder (created; existing files of the same names are replaced, never an input) */
  out: string;
  engine?: InferEngineChoice;
  /** default: runThreshold */
  threshold?: number;
  /** how each file is written (tests inject faults; default the disk) */
  fileOps?: AtomicFileOps;
}

export interface PredictedImage {
  image: string;
  /** the page of a multi-page input (from 0); absent for a single-page one */
  page?: number;
  /** the output name (predict-names.ts): the stem, told apart by folder, extension and page where needed */
  name: string;
  prob: string;
  mask: string;
  overlay: string;
  foreground_fraction: number;
}

export interface PredictHooks {
  /** after each image's files are written: its size and the time it took */
  onImage?: (p: PredictedImage & { width: number; height: number; ms: number }) => void;
}

export interface PredictResult {
  run: string;
  checkpoint: CheckpointName;
  engine: 'ort' | 'tfjs';
  threshold: number;
  images: PredictedImage[];
}

/**
 * NAME.prob.png (probability x 255), NAME.mask.png (0/255 at the threshold) and NAME.overlay.png
 * per image and per page of a multi-page image, each at its own size (`alcli predict`). Before
 * anything is written: every unreadable image is named (BadDataError), and the output names are
 * decided (planPredictionNames: inputs that share a stem are told apart by folder and extension);
 * names that would still collide are refused (BadOptionsError), as is an output folder that is or
 * contains the run, is, contains or lies inside the run's dataset, or holds an input (PathError:
 * predictions beside a dataset's images would make it untrainable). Each file is
 * written whole or not at all (io's writeFileAtomic: temp, fsync, rename); temporaries a killed
 * predict left in the output folder are removed first.
 */
export async function predictImages(run: OpenRun | string, opts: PredictOptions, hooks: PredictHooks = {}): Promise<PredictResult> {
  if (!opts.images.length) throw new BadOptionsError('give at least one image file after the run directory');
  const opened = typeof run === 'string' ? await openRun(run) : run;
  const missing = opts.images.filter((p) => !existsSync(p));
  if (missing.length) throw new PathError(`no such image file: ${missing.map((p) => `'${p}'`).join(', ')}`);
  // existing files of the same names are replaced (force), but never the run itself, its dataset, or
  // a folder holding an input (predictions beside a dataset's images make it untrainable)
  checkOutputDir(opts.out, true, undefined, {
    protect: [
      { path: opened.dir, what: 'the run folder', allowInside: true },
      { path: opened.info.data.dir, what: "the run's dataset" },
      ...opts.images.map((path) => ({ path, what: 'an input image' })),
    ],
  });
  cleanStaleFiles(opts.out);
  const { info, compiled, checkpoint } = opened;
  const threshold = opts.threshold ?? (await runThreshold(opened));
  const [{ loadImageFile }, { createPredictor, foreground }, { writePredictionPngs }, { planPredictionNames, predictionFile, PREDICTION_FILES }, { default: sharp }] = await Promise.all([
    import('./load.js'),
    import('./infer.js'),
    import('./overlay.js'),
    import('./predict-names.js'),
    import('sharp'),
  ]);
  const errors: DataError[] = [];
  const inputs = [];
  for (const path of opts.images) {
    try {
      inputs.push({ path, pages: Math.max(1, (await sharp(path).metadata()).pages ?? 1) });
    } catch (e) {
      errors.push(dataError('unreadable', path, `cannot decode this image: ${(e as Error).message}`, 'give a PNG, JPEG, TIFF or GIF'));
    }
  }
  // every unreadable file is named before anything is written
  if (errors.length) throw new BadDataError(errors);
  const planned = planPredictionNames(inputs, opts.out);
  const loaded = [];
  for (const p of planned) {
    try {
      loaded.push({ plan: p, pixels: await loadImageFile(p.image, info.input_channels, p.page ?? 0) });
    } catch (e) {
      if (!(e instanceof DataErrors)) throw e;
      errors.push(...e.errors);
    }
  }
  if (errors.length) throw new BadDataError(errors);
  const predictor = await createPredictor({ graph: compiled.graph, weights: checkpoint.weights, normalize: info.normalize, engine: opts.engine ?? 'auto' });
  const written: PredictedImage[] = [];
  try {
    guardFs(opts.out, () => mkdirSync(opts.out, { recursive: true }));
    for (const { plan, pixels: image } of loaded) {
      const t = performance.now();
      const probs = foreground(await predictor.predict(image), predictor.classes, image.height * image.width);
      const pngs = await writePredictionPngs(image, probs, threshold);
      const [prob, mask, overlay] = PREDICTION_FILES.map((kind) => join(opts.out, predictionFile(plan.name, kind)));
      const files = { prob, mask, overlay };
      for (const kind of ['prob', 'mask', 'overlay'] as const) writeFileAtomic(files[kind], pngs[kind], opts.fileOps);
      const fraction = probs.reduce((s, p) => s + (p >= threshold ? 1 : 0), 0) / probs.length;
      const done: PredictedImage = { image: plan.image, ...(plan.page === undefined ? {} : { page: plan.page }), name: plan.name, ...files, foreground_fraction: fraction };
      written.push(done);
      hooks.onImage?.({ ...done, width: image.width, height: image.height, ms: performance.now() - t });
    }
  } finally {
    predictor.dispose();
  }
  return { run: opened.dir, checkpoint: opened.name, engine: predictor.engine, threshold, images: written };
}
