// Using a trained run, as `alcli evaluate` and `alcli predict` do: open it (run.json, the resolved
// spec, a checkpoint), measure a split of its data, or segment image files into probability maps,
// masks and overlays. Errors a caller can act on are typed (errors.ts).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Compiled, CompileOptions } from '../frontend/compile.js';
import { checkOutputDir, cleanStaleFiles, guardFs, PathError, writeFileAtomic, type AtomicFileOps } from '../io/dir.js';
import { BadDataError, BadOptionsError, DataErrors, dataError, type DataError } from './errors.js';
import type { CheckpointName, InferEngineChoice, Split, TtaMode } from './choices.js';
import type { Predictor } from './infer.js';
import type { PostProcessOptions } from './postprocess.js';
import type { ImageMetrics, MeanStd, Metric } from './metrics.js';
import type { ClassMetric, ClassMetrics } from './class-metrics.js';
import { defaultClassTable, type ClassTable } from './classes.js';
import type { Checkpoint, RunDir, RunInfo } from './run.js';
import { maskThresholdError } from './choices.js';
import { compileFile } from './session.js';
import { DEFAULT_THRESHOLD } from './objective.js';
import type { TunedThreshold } from './operating-point.js';

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

/** Where a threshold came from: the caller's option (--threshold), the run's tuned one, the spec's train.threshold, or 0.5. */
export type ThresholdFrom = 'option' | 'tuned' | 'spec' | 'default';

export interface OperatingPoint {
  value: number;
  from: Exclude<ThresholdFrom, 'option'>;
  /** why run.json's tuned threshold was not used (it belongs to other weights) */
  note?: string;
}

/** The spec's train.threshold, else 0.5: the cut before any tuning. */
function specThreshold(opened: OpenRun): OperatingPoint {
  const t = (opened.compiled.resolved.train as { threshold?: unknown } | undefined)?.threshold;
  return typeof t === 'number' ? { value: t, from: 'spec' } : { value: DEFAULT_THRESHOLD, from: 'default' };
}

/**
 * The probability cut of a run's masks when none is given: the threshold `alcli evaluate
 * --tune-threshold` recorded in run.json when it was tuned on this checkpoint's weights (same
 * epoch), else the spec's train.threshold, else 0.5. A tuned threshold of another epoch (the run
 * was resumed and found a new best since) is not used, and `note` says so. A recorded value
 * outside [0, 1] is a damaged run.json (DamagedRunError).
 */
export async function runOperatingPoint(opened: OpenRun): Promise<OperatingPoint> {
  const fallback = specThreshold(opened);
  const tuned = opened.info.threshold;
  if (!tuned) return fallback;
  if (!(typeof tuned.value === 'number' && tuned.value >= 0 && tuned.value <= 1)) {
    const { DamagedRunError } = await import('./run.js');
    throw new DamagedRunError(opened.run.where('run.json'), `is damaged: its threshold.value ${JSON.stringify(tuned.value)} is not a probability in [0, 1]`, `tune it again: alcli evaluate ${opened.dir} --tune-threshold`);
  }
  const epoch = opened.checkpoint.state.epoch;
  if (tuned.epoch !== epoch)
    return { ...fallback, note: `the threshold ${tuned.value} tuned on epoch ${tuned.epoch}'s weights is not used for the ${opened.name} checkpoint (epoch ${epoch}); \`alcli evaluate ${opened.dir} --checkpoint ${opened.name} --tune-threshold\` tunes it again` };
  return { value: tuned.value, from: 'tuned' };
}

/** The caller's threshold when given (checked: a probability), else the run's (runOperatingPoint). */
async function chosenThreshold(opened: OpenRun, given: number | undefined): Promise<{ value: number; from: ThresholdFrom; note?: string }> {
  if (given === undefined) return runOperatingPoint(opened);
  if (!(given >= 0 && given <= 1)) throw new BadOptionsError(`threshold ${given}: expected a probability in [0, 1]`);
  return { value: given, from: 'option' };
}

/** runOperatingPoint's value. */
export async function runThreshold(opened: OpenRun): Promise<number> {
  return (await runOperatingPoint(opened)).value;
}

/** How a threshold's origin reads after its value: ` (tuned on val)`, ` (train.threshold)`, ''. */
export const thresholdOrigin = (from: ThresholdFrom): string => ({ option: ' (--threshold)', tuned: ' (tuned on val)', spec: ' (train.threshold)', default: '' })[from];

export interface TuneThresholdOptions {
  engine?: InferEngineChoice;
}

export interface TuneThresholdResult {
  /** what run.json now records */
  tuned: TunedThreshold;
  /** mean Dice at every threshold swept */
  curve: { threshold: number; dice: number }[];
}

/**
 * `alcli evaluate RUN --tune-threshold`: runs the checkpoint on the validation split of the run's
 * own dataset (its mask rules), sweeps THRESHOLD_GRID (operating-point.ts) for the highest mean
 * Dice, and records the choice in run.json as `threshold` (TunedThreshold), from then on the
 * default of evaluate, predict and export for this checkpoint's weights. The run folder is locked
 * meanwhile (a training on it is refused). A softmax network is refused (BadOptionsError: argmax
 * has no threshold); an empty validation split is a BadDataError from the dataset scan.
 */
export async function tuneThreshold(opened: OpenRun, opts: TuneThresholdOptions = {}): Promise<TuneThresholdResult> {
  const out = opened.compiled.graph.output;
  if (out.classes !== 1 || out.activation === 'softmax')
    throw new BadOptionsError(`--tune-threshold is for binary networks (1 class, sigmoid); this one has ${out.classes} classes with ${out.activation}: each pixel takes its most probable class (argmax), which has no threshold`);
  const [{ lockDir }, { scanDataset }, { createPredictor, foreground }, { loadSample }, { sweepThreshold, GRID_TEXT }] = await Promise.all([
    import('../io/lock.js'),
    import('./dataset.js'),
    import('./infer.js'),
    import('./load.js'),
    import('./operating-point.js'),
  ]);
  const lock = lockDir(opened.dir);
  try {
    const { info, checkpoint } = opened;
    const mask = { invertMask: info.data.invert_mask, maskThreshold: info.data.mask_threshold };
    const scan = await scanDataset(info.data.dir, { seed: info.data.split_seed, need: ['val'], ...mask });
    if (!scan.dataset) throw new BadDataError(scan.errors);
    const samples = scan.dataset.samples.filter((s) => s.split === 'val');
    const predictor = await createPredictor({ graph: opened.compiled.graph, weights: checkpoint.weights, normalize: info.normalize, engine: opts.engine ?? 'auto' });
    const images = [];
    try {
      for (const s of samples) {
        const loaded = await loadSample(s, { channels: info.input_channels, ...mask });
        const pixels = loaded.image.height * loaded.image.width;
        images.push({ prob: foreground(await predictor.predict(loaded.image), predictor.classes, pixels), truth: loaded.mask.data, fov: loaded.fov?.data });
      }
    } finally {
      predictor.dispose();
    }
    const reference = specThreshold(opened).value;
    const sweep = sweepThreshold(images, reference);
    const tuned: TunedThreshold = {
      value: sweep.value,
      tuned_on: 'val',
      images: images.length,
      dice: sweep.dice,
      default: reference,
      default_dice: sweep.reference.dice,
      checkpoint: opened.name,
      epoch: checkpoint.state.epoch,
      grid: GRID_TEXT,
      at: new Date().toISOString(),
    };
    // re-read: nothing else of run.json changes under the lock
    const now = opened.run.readInfo() ?? info;
    opened.run.writeInfo({ ...now, threshold: tuned });
    opened.run.event('threshold', { ...tuned });
    opened.info = { ...now, threshold: tuned };
    return { tuned, curve: sweep.curve };
  } finally {
    lock.release();
  }
}

export interface EvaluateRunOptions {
  /** default test */
  split?: Split;
  /** dataset folder; default: the run's */
  data?: string;
  engine?: InferEngineChoice;
  /** default: runOperatingPoint (tuned, else the spec's, else 0.5) */
  threshold?: number;
  /** how mask values are read (--mask-threshold); default: the run's */
  maskThreshold?: number;
  /** the masks mark the foreground with 0 (--invert-mask); default: the run's */
  invertMask?: boolean;
  /**
   * an exported file scored instead of the checkpoint (`evaluate --artifact`): an ONNX model's bytes,
   * or a TF.js graph model's files by path relative to its model.json (createPredictor's onnx, tfjsModel)
   */
  artifact?: { path: string; bytes: Uint8Array } | { path: string; read: (path: string) => Uint8Array };
  /** test-time augmentation (--tta; tta.ts): the metrics, AUC included, are of the mean probabilities; default none */
  tta?: TtaMode;
  /** post-processing of each mask or label map before its metrics (postprocess.ts); AUC stays on the probabilities */
  postProcess?: PostProcessOptions;
}

export interface EvaluateRunResult extends DecisionRecord {
  run: string;
  checkpoint: CheckpointName;
  epoch: number;
  data: string;
  split: Split;
  images: number;
  /** the probability cut of a 1-class network; null for a softmax one (the argmax decides) */
  threshold: number | null;
  /** where a 1-class network's threshold came from */
  threshold_from?: ThresholdFrom;
  /** why run.json's tuned threshold was not used, when it was not */
  threshold_note?: string;
  engine: 'ort' | 'tfjs';
  /** the ONNX file scored, when not the checkpoint */
  artifact?: string;
  /** binary: each metric at the threshold; softmax: pixel accuracy and the means over the foreground classes */
  summary: Record<Metric, MeanStd>;
  /** softmax runs: each foreground class 1..K-1 with its mean ± std over the images */
  classes?: { index: number; name: string; summary: Record<ClassMetric, MeanStd> }[];
  perImage: { id: string; metrics: ImageMetrics; classes?: { index: number; name: string; metrics: ClassMetrics }[] }[];
}

/**
 * The class table of an opened run: run.json's when it has one row per output class, else
 * defaultClassTable (runs made before multi-class training: background, foreground).
 */
export function runClassTable(opened: OpenRun): ClassTable {
  const k = opened.compiled.graph.output.classes;
  const t = opened.info.classes;
  return t && t.names.length === Math.max(2, k) && t.colors.length === t.names.length ? t : defaultClassTable(k);
}

/** How the JSON of evaluate and predict records the post-processing: each step, off when not asked. */
export interface PostProcessRecord {
  keep_largest: boolean;
  /** 0: none removed */
  min_size: number;
  fill_holes: boolean;
}

/** What evaluate and predict record of their test-time augmentation and post-processing. */
export interface DecisionRecord {
  /** test-time augmentation: none, flips (4 passes) or dihedral (8) */
  tta: TtaMode;
  post_process: PostProcessRecord;
}

/**
 * The predictor wrapped for test-time augmentation (tta.ts withTta), the post-processing module
 * when any step is asked (postprocess.ts, loaded only then: it brings image-js) with the checked
 * options, and what the JSON records. A bad --min-size is a BadOptionsError before any work.
 */
async function decisions(tta: TtaMode | undefined, post: PostProcessOptions | undefined) {
  const mode = tta ?? 'none';
  const pp = post && (post.keepLargest || post.fillHoles || post.minSize !== undefined) ? await import('./postprocess.js') : undefined;
  if (pp) pp.checkPostProcess(post!);
  const active = pp?.hasPostProcess(post) ? { module: pp, options: post! } : undefined;
  const record: DecisionRecord = { tta: mode, post_process: { keep_largest: !!post?.keepLargest, min_size: post?.minSize ?? 0, fill_holes: !!post?.fillHoles } };
  const wrap = async (p: Predictor): Promise<Predictor> => (mode === 'none' ? p : (await import('./tta.js')).withTta(p, mode));
  return { wrap, post: active, record };
}

/** `tta flips (4 passes), min-size 20, keep-largest`: the line evaluate and predict print of a DecisionRecord; '' when neither is used. */
export function describeDecisions(r: DecisionRecord): string {
  const passes = { none: 1, flips: 4, dihedral: 8 }[r.tta];
  const p = r.post_process;
  const steps = [p.min_size > 1 ? `min-size ${p.min_size}` : '', p.keep_largest ? 'keep-largest' : '', p.fill_holes ? 'fill-holes' : ''].filter(Boolean);
  return [r.tta === 'none' ? '' : `tta ${r.tta} (${passes} passes)`, steps.length ? `post-processing ${steps.join(', ')}` : ''].filter(Boolean).join(', ');
}

/** A softmax run has no threshold: an explicit one is a mistake worth saying (exit 2). */
function refuseThreshold(opened: OpenRun, threshold: number | undefined): void {
  const { classes, activation } = opened.compiled.graph.output;
  if (classes > 1 && threshold !== undefined)
    throw new BadOptionsError(`--threshold ${threshold}: this run's network has ${classes} ${activation} classes, and each pixel takes the most probable one (argmax); a threshold applies to 1-class (sigmoid) networks`);
}

/** Metrics of a run's checkpoint on a split of its data (or another dataset), per image and as mean ± std (`alcli evaluate`). */
export async function evaluateRun(run: OpenRun | string, opts: EvaluateRunOptions = {}): Promise<EvaluateRunResult> {
  const opened = typeof run === 'string' ? await openRun(run) : run;
  const { info, compiled, checkpoint } = opened;
  refuseThreshold(opened, opts.threshold);
  const point = await chosenThreshold(opened, opts.threshold);
  const threshold = point.value;
  const [{ scanDataset }, { createPredictor, evaluateSplit }] = await Promise.all([import('./dataset.js'), import('./infer.js')]);
  const split = opts.split ?? 'test';
  const dataDir = opts.data ?? info.data.dir;
  const maskThreshold = opts.maskThreshold ?? info.data.mask_threshold;
  const mt = maskThresholdError(maskThreshold);
  if (mt) throw new BadOptionsError(mt);
  const mask = { invertMask: opts.invertMask ?? info.data.invert_mask, maskThreshold };
  const scan = await scanDataset(dataDir, { seed: info.data.split_seed, need: [split], classes: compiled.graph.output.classes, ...mask });
  if (!scan.dataset) throw new BadDataError(scan.errors);
  const samples = scan.dataset.samples.filter((s) => s.split === split);
  const how = await decisions(opts.tta, opts.postProcess);
  const predictor = await how.wrap(await createPredictor({ graph: compiled.graph, weights: checkpoint.weights, normalize: info.normalize, engine: opts.engine ?? 'auto', ...(opts.artifact && ('bytes' in opts.artifact ? { onnx: opts.artifact.bytes } : { tfjsModel: opts.artifact.read })) }));
  try {
    const res = await evaluateSplit(predictor, samples, { channels: info.input_channels, classes: scan.dataset.labels, ...mask }, threshold, { postProcess: how.post?.options });
    const base = { run: opened.dir, checkpoint: opened.name, epoch: checkpoint.state.epoch, data: dataDir, split, images: samples.length, ...how.record, ...(opts.artifact ? { artifact: opts.artifact.path } : {}) };
    if (!res.classes) return { ...base, threshold, threshold_from: point.from, ...(point.note ? { threshold_note: point.note } : {}), engine: predictor.engine, summary: res.summary, perImage: res.perImage.map(({ id, metrics }) => ({ id, metrics })) };
    const { names } = runClassTable(opened);
    const named = <T>(values: T[]) => values.map((v, j) => ({ index: j + 1, name: names[j + 1], v }));
    return {
      ...base,
      threshold: null,
      engine: predictor.engine,
      summary: res.summary,
      classes: named(res.classes).map(({ index, name, v }) => ({ index, name, summary: v })),
      perImage: res.perImage.map((r) => ({ id: r.id, metrics: r.metrics, classes: named(r.classes!).map(({ index, name, v }) => ({ index, name, metrics: v })) })),
    };
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
  /** default: runOperatingPoint (tuned, else the spec's, else 0.5) */
  threshold?: number;
  /** how each file is written (tests inject faults; default the disk) */
  fileOps?: AtomicFileOps;
  /** test-time augmentation (--tta; tta.ts): the probability maps are the mean over the copies; default none */
  tta?: TtaMode;
  /** post-processing of each mask or label map (postprocess.ts); the probability maps are left as they are */
  postProcess?: PostProcessOptions;
}

export interface PredictedImage {
  image: string;
  /** the page of a multi-page input; absent for a single-page one */
  page?: number;
  /** the output name (predict-names.ts): the stem, told apart by folder, extension and page where needed */
  name: string;
  /** 1-class networks: the probability map */
  prob?: string;
  /** 1-class networks: the mask at the threshold */
  mask?: string;
  overlay: string;
  /** softmax networks: the label map (each pixel its class index) */
  label?: string;
  /** softmax networks: every class k = 0..K-1, its probability map and its share of the pixels */
  classes?: { index: number; name: string; prob: string; fraction: number }[];
  /** the share of the pixels predicted foreground: at or over the threshold; softmax, a class other than 0 */
  foreground_fraction: number;
}

export interface PredictHooks {
  /** after each image's files are written: its size and the time it took */
  onImage?: (p: PredictedImage & { width: number; height: number; ms: number }) => void;
}

export interface PredictResult extends DecisionRecord {
  run: string;
  checkpoint: CheckpointName;
  engine: 'ort' | 'tfjs';
  /** the probability cut of a 1-class network; null for a softmax one (the argmax decides) */
  threshold: number | null;
  /** where a 1-class network's threshold came from */
  threshold_from?: ThresholdFrom;
  /** why run.json's tuned threshold was not used, when it was not */
  threshold_note?: string;
  images: PredictedImage[];
}

/**
 * NAME.prob.png (probability x 255), NAME.mask.png (0/255 at the threshold) and NAME.overlay.png
 * per image and per page of a multi-page image, each at its own size (`alcli predict`); for a
 * softmax network NAME.label.png (class indices), NAME.overlay.png (class colours from the run's
 * class table) and NAME.prob.CLASS.png per class (overlay.ts writeClassPredictionPngs). Before
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
  refuseThreshold(opened, opts.threshold);
  const k = compiled.graph.output.classes;
  if (k > 256) throw new BadOptionsError(`this run's network has ${k} classes: predict writes 8-bit label maps, for at most 256`);
  const point = await chosenThreshold(opened, opts.threshold);
  const threshold = point.value;
  const [{ loadImageFile }, { createPredictor, foreground }, { writePredictionPngs, writeClassPredictionPngs }, { classPredictionKinds, planPredictionNames, predictionFile, PREDICTION_FILES }, { default: sharp }] = await Promise.all([
    import('./load.js'),
    import('./infer.js'),
    import('./overlay.js'),
    import('./predict-names.js'),
    import('sharp'),
  ]);
  const table = k > 1 ? runClassTable(opened) : undefined;
  const kinds = table ? classPredictionKinds(table.names) : PREDICTION_FILES;
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
  const planned = planPredictionNames(inputs, opts.out, kinds);
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
  const how = await decisions(opts.tta, opts.postProcess);
  const predictor = await how.wrap(await createPredictor({ graph: compiled.graph, weights: checkpoint.weights, normalize: info.normalize, engine: opts.engine ?? 'auto' }));
  const written: PredictedImage[] = [];
  try {
    guardFs(opts.out, () => mkdirSync(opts.out, { recursive: true }));
    for (const { plan, pixels: image } of loaded) {
      const t = performance.now();
      const all = await predictor.predict(image);
      const at = { image: plan.image, ...(plan.page === undefined ? {} : { page: plan.page }), name: plan.name };
      const path = (kind: string) => join(opts.out, predictionFile(plan.name, kind));
      let done: PredictedImage;
      if (!table) {
        const probs = foreground(all, 1, image.height * image.width);
        const mask = how.post && how.post.module.postProcessLabels(how.post.module.thresholdLabels(probs, threshold), image.height, image.width, 2, how.post.options);
        const pngs = await writePredictionPngs(image, probs, threshold, mask ? { mask } : {});
        const files = { prob: path('prob'), mask: path('mask'), overlay: path('overlay') };
        for (const kind of PREDICTION_FILES) writeFileAtomic(files[kind], pngs[kind], opts.fileOps);
        const on = mask ? mask.reduce((s, v) => s + (v === 1 ? 1 : 0), 0) : probs.reduce((s, p) => s + (p >= threshold ? 1 : 0), 0);
        done = { ...at, ...files, foreground_fraction: on / probs.length };
      } else {
        const labels = how.post && (await import('./class-metrics.js')).argmaxLabels(all, k, image.height * image.width);
        const pngs = await writeClassPredictionPngs(image, all, table.colors, labels && how.post!.module.postProcessLabels(labels, image.height, image.width, k, how.post!.options));
        const label = path('label');
        const overlay = path('overlay');
        const probFiles = kinds.slice(2).map(path);
        writeFileAtomic(label, pngs.label, opts.fileOps);
        writeFileAtomic(overlay, pngs.overlay, opts.fileOps);
        probFiles.forEach((f, c) => writeFileAtomic(f, pngs.probs[c], opts.fileOps));
        const counts = new Array<number>(k).fill(0);
        for (const l of pngs.labels) counts[l]++;
        const classes = table.names.map((name, index) => ({ index, name, prob: probFiles[index], fraction: counts[index] / pngs.labels.length }));
        done = { ...at, label, overlay, classes, foreground_fraction: 1 - classes[0].fraction };
      }
      written.push(done);
      hooks.onImage?.({ ...done, width: image.width, height: image.height, ms: performance.now() - t });
    }
  } finally {
    predictor.dispose();
  }
  return { run: opened.dir, checkpoint: opened.name, engine: predictor.engine, ...how.record, ...(table ? { threshold: null } : { threshold, threshold_from: point.from, ...(point.note ? { threshold_note: point.note } : {}) }), images: written };
}
