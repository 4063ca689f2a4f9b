// Whole-image inference: any image size through a fully convolutional network, on ONNX Runtime
// (the fast one on a CPU) or the TF.js executor. The deploy form (BN folded, branches fused) is
// built once; each image is normalized, reflect-padded to a multiple of the network stride, run
// (in overlapping tiles when it is large), cropped back and passed through the output activation.
// ONNX Runtime runs one model with symbolic H and W (one session for every size) when the network
// allows it (ir/stride.ts fixedSizeReason); else the graph is re-shaped for each padded size
// (resizeGraph) and one session per size is kept, the least recently used dropped beyond `maxSessions`.
//
// Tiling: tiles are windows of the padded image whose corners lie on the stride grid, so each
// tile downsamples exactly as the whole image does. Neighbouring tiles overlap by 2 x `overlap`;
// each output pixel is taken from the tile where it lies farthest from a cut (a tile edge that is
// not an image edge), i.e. at least `overlap` pixels inside. Where the receptive field is within
// that margin, tiled equals untiled to rounding; a network with a global pool (LR-ASPP's attention)
// sees only its tile's statistics, so there the two differ slightly.
import type { Tensor4D } from '@tensorflow/tfjs';
import type { IrGraph } from '../ir/graph.js';
import { resizeGraph } from '../ir/resize-graph.js';
import { fixedSizeReason, networkStride } from '../ir/stride.js';
import { deployForm } from '../passes/pipeline.js';
import { loadTf, type TF } from '../runtime/backend.js';
import { forward, toTensors, type TensorWeights } from '../runtime/executor.js';
import type { WeightStore } from '../ir/weights.js';
import { crop, cropTo, padToMultiple } from './augment.js';
import type { InferEngineChoice } from './choices.js';
import type { Sample } from './dataset.js';
import { hwc, type HwcImage } from './image.js';
import { loadSample, normalize as normalizeImage, type LoadOptions } from './load.js';
import type { PostProcessOptions } from './postprocess.js';
import { auc, confusion, imageMetrics, metricsFromConfusion, summarize, type ImageMetrics, type MeanStd, type Metric } from './metrics.js';
import { argmaxLabels, classImageMetrics, summarizeClasses, type ClassImageMetrics, type ClassMetric, type ClassMetrics } from './class-metrics.js';

export { INFER_ENGINES, type InferEngineChoice } from './choices.js';

export interface PredictorOptions {
  /** TF.js for the tfjs engine; default loadTf('auto') */
  tf?: TF;
  /** the training form IR (at any size: it is re-shaped per image) */
  graph: IrGraph;
  /** every tensor of the training form, BatchNorm running statistics included */
  weights: WeightStore;
  /** per-channel mean and std applied to the [0, 1] image; null: the image as it is */
  normalize: { mean: number[]; std: number[] } | null;
  /** auto: ONNX Runtime when onnxruntime-node loads, else TF.js */
  engine?: InferEngineChoice;
  /** tile a padded image with more pixels than this (default 2048 x 2048) */
  maxPixels?: number;
  /** tile side before rounding down to the stride (default 1024) */
  tile?: number;
  /** least distance of a used output pixel from a tile cut, rounded up to the stride (default 64) */
  overlap?: number;
  /** ONNX Runtime intra-op threads (default: every core) */
  threads?: number;
  /** ONNX sessions kept, one per padded size (default 4) */
  maxSessions?: number;
  /**
   * an exported ONNX model to run instead of the graph (alcli export's model.onnx, model.int8.onnx,
   * ...: input NCHW normalized, output logits NCHW): a model with a fixed H x W runs in tiles of
   * exactly that size (an image smaller than it is a PredictError); `graph` still gives the stride,
   * classes and activation
   */
  onnx?: Uint8Array;
  /**
   * an exported TF.js graph model to run instead of the graph: its files by path relative to its
   * model.json (alcli export's tfjs/, tfjs.fp16/, tfjs.uint8/); it runs at `graph`'s input size, in tiles
   */
  tfjsModel?: (path: string) => Uint8Array;
}

export interface Predictor {
  /**
   * Probabilities at the image's own size, one HxW plane per class (class-major: class k is
   * `subarray(k*H*W, (k+1)*H*W)`); the image is HWC in [0, 1] with the network's channel count.
   */
  predict(image: HwcImage): Promise<Float32Array>;
  engine: 'ort' | 'tfjs';
  classes: number;
  stride: [number, number];
  dispose(): void;
}

export const DEFAULT_MAX_PIXELS = 2048 * 2048;
export const DEFAULT_TILE = 1024;
export const DEFAULT_OVERLAP = 64;

export class PredictError extends Error {}

/** Runs a padded image (H, W multiples of the stride) and returns NHWC logits at the same size. */
type RunLogits = (img: HwcImage) => Promise<Float32Array>;

interface Engine {
  run: RunLogits;
  dispose(): void;
}

export async function createPredictor(opts: PredictorOptions): Promise<Predictor> {
  const { graph, normalize } = opts;
  const classes = graph.output.classes;
  const stride = networkStride(graph);
  const { graph: deploy, weights } = deployForm(graph, { weights: opts.weights });
  const choice = opts.engine ?? 'auto';
  const kind: 'ort' | 'tfjs' = choice === 'auto' ? ((await ortLoads()) ? 'ort' : 'tfjs') : choice;
  const file = opts.onnx ? await onnxFileEngine(opts.onnx, opts) : opts.tfjsModel ? await tfjsFileEngine(opts.tf ?? (await loadTf('auto')).tf, opts.tfjsModel, graph.input.size) : undefined;
  const engine = file ? file : kind === 'ort' ? ortEngine(deploy, weights!, opts) : tfjsEngine(opts.tf ?? (await loadTf('auto')).tf, deploy, weights!);
  const fixed = file?.fixed;
  const tile = fixed ?? (stride.map((s) => Math.max(s, Math.floor((opts.tile ?? DEFAULT_TILE) / s) * s)) as [number, number]);
  const margin = stride.map((s) => Math.ceil((opts.overlap ?? DEFAULT_OVERLAP) / s) * s) as [number, number];
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;

  async function predict(image: HwcImage): Promise<Float32Array> {
    if (image.channels !== graph.input.channels)
      throw new PredictError(`the image has ${image.channels} channels, the network takes ${graph.input.channels}`);
    const x = normalize ? normalizeImage(image, normalize) : image;
    const { image: padded, box } = padToMultiple(x, stride);
    if (fixed && (padded.height < fixed[0] || padded.width < fixed[1]))
      throw new PredictError(`the image (${image.height}x${image.width}) is smaller than the ONNX model's fixed input ${fixed.join('x')}: export it at a smaller --size, or with symbolic size`);
    const whole = fixed ? padded.height === fixed[0] && padded.width === fixed[1] : padded.height * padded.width <= maxPixels;
    const logits = whole ? await engine.run(padded) : await tiled(engine.run, padded, tile, margin, stride, classes, !!fixed);
    const out = cropTo(hwc(padded.height, padded.width, classes, logits as Float32Array<ArrayBuffer>), box);
    return activate(out, graph.output.activation);
  }
  return { predict, engine: opts.tfjsModel ? 'tfjs' : file ? 'ort' : kind, classes, stride, dispose: () => engine.dispose() };
}

/** A TF.js graph model's files run as they are, at their fixed input size. */
async function tfjsFileEngine(tf: TF, read: (path: string) => Uint8Array, size: readonly [number, number]): Promise<Engine & { fixed: [number, number] }> {
  const { graphModelHandler } = await import('../runtime/tfjs-graph-io.js');
  const model = await tf.loadGraphModel(graphModelHandler(read));
  return {
    fixed: [size[0], size[1]],
    async run(img) {
      const x = tf.tensor4d(img.data, [1, img.height, img.width, img.channels]);
      const y = model.execute(x) as Tensor4D;
      try {
        return (await y.data()) as Float32Array;
      } finally {
        x.dispose();
        y.dispose();
      }
    },
    dispose: () => model.dispose(),
  };
}

/** An ONNX file run as it is; `fixed` is its input's H x W when those are numbers, not symbols. */
async function onnxFileEngine(model: Uint8Array, opts: PredictorOptions): Promise<Engine & { fixed?: [number, number] }> {
  const [{ decodeModel }, { runSession, newOrtSession }, { BadOptionsError }] = await Promise.all([import('../emit/onnx-proto.js'), import('../runtime/ort.js'), import('./errors.js')]);
  let session: Awaited<ReturnType<typeof newOrtSession>>;
  let dims: { dim_value?: number }[];
  try {
    dims = decodeModel(model).graph.input[0]?.type.tensor_type.shape.dim ?? [];
    session = await newOrtSession(model, { threads: opts.threads });
  } catch (e) {
    throw new BadOptionsError(`the ONNX file does not load in ONNX Runtime (${(e as Error).message.split('\n')[0]}): give a model \`alcli export\` wrote`);
  }
  if (dims.length !== 4 || (dims[1]?.dim_value && Number(dims[1].dim_value) !== opts.graph.input.channels))
    throw new BadOptionsError(`the ONNX file's input is not [N, ${opts.graph.input.channels}, H, W]: it was not exported from this run's network`);
  const [h, w] = [dims[2]?.dim_value, dims[3]?.dim_value];
  return {
    fixed: h && w ? [Number(h), Number(w)] : undefined,
    run: (img) => runSession(session, img.data, [1, img.height, img.width, img.channels]),
    dispose: () => void session.release().catch(() => {}),
  };
}

let ortProbe: Promise<boolean> | undefined;
/** Whether onnxruntime-node loads here (its native binding can be missing on some platforms). */
export const ortLoads = () =>
  (ortProbe ??= import('../runtime/ort.js').then((m) => m.importOrt()).then(
    () => true,
    () => false,
  ));

function ortEngine(deploy: IrGraph, weights: WeightStore, opts: PredictorOptions): Engine {
  // imported lazily with the emitter, so a tfjs-only predictor never loads ONNX Runtime
  const mods = Promise.all([import('../emit/onnx.js'), import('../runtime/ort.js')]);
  const maxSessions = Math.max(1, opts.maxSessions ?? 4);
  const models = new Map<string, Uint8Array>();
  const ortOpts = { threads: opts.threads };
  const symbolic = fixedSizeReason(deploy) === undefined;
  const release = (model: Uint8Array) => void mods.then(([, ort]) => ort.ortSession(model, ortOpts).then((s) => s.release())).catch(() => {});
  return {
    async run(img) {
      const [{ emitOnnx }, { runOnnx }] = await mods;
      const key = symbolic ? 'any' : `${img.height}x${img.width}`;
      let model = models.get(key);
      if (model) models.delete(key);
      else {
        model = emitOnnx(symbolic ? deploy : resizeGraph(deploy, [img.height, img.width]), weights, { size: symbolic ? 'symbolic' : 'fixed' });
        if (models.size >= maxSessions) {
          const [oldest, m] = models.entries().next().value!;
          models.delete(oldest);
          release(m);
        }
      }
      models.set(key, model); // most recently used last
      return runOnnx(model, img.data, [1, img.height, img.width, img.channels], ortOpts);
    },
    dispose() {
      for (const m of models.values()) release(m);
      models.clear();
    },
  };
}

function tfjsEngine(tf: TF, deploy: IrGraph, weights: WeightStore): Engine {
  let tensors: TensorWeights | undefined = toTensors(tf, weights);
  // the executor reads recorded shapes (a commuted resize's target), so each size gets its graph
  const graphs = new Map<string, IrGraph>();
  return {
    async run(img) {
      if (!tensors) throw new PredictError('the predictor was disposed');
      const key = `${img.height}x${img.width}`;
      let g = graphs.get(key);
      if (!g) graphs.set(key, (g = resizeGraph(deploy, [img.height, img.width])));
      const w = tensors;
      const y = tf.tidy(() => forward(tf, g, w, tf.tensor4d(img.data, [1, img.height, img.width, img.channels]) as Tensor4D));
      try {
        return (await y.data()) as Float32Array;
      } finally {
        y.dispose();
      }
    },
    dispose() {
      for (const t of tensors?.values() ?? []) t.dispose();
      tensors = undefined;
    },
  };
}

/**
 * The tile side along one axis: the fewest tiles of at most `tile` that cover n with the overlap,
 * then shrunk to share n evenly (1100 px in 1024-tiles: two of 608, not two of 1024).
 */
export function tileSide(n: number, tile: number, margin: number, stride: number): number {
  if (n <= tile) return n;
  const step = tile - 2 * margin;
  if (step < stride) return tile;
  const k = Math.ceil((n - tile) / step) + 1;
  return Math.min(tile, Math.ceil((n + 2 * margin * (k - 1)) / k / stride) * stride);
}

/** Tile origins along one axis: 0, step, 2 step, ... and the last flush with the end. */
export function tileStarts(n: number, tile: number, margin: number, stride: number): number[] {
  if (tile >= n) return [0];
  const step = Math.max(stride, tile - 2 * margin);
  const starts: number[] = [];
  for (let s = 0; s + tile < n; s += step) starts.push(s);
  starts.push(n - tile);
  return starts;
}

/** For each coordinate, the tile (index into starts) where it lies farthest from a cut. */
export function tileOwners(n: number, tile: number, starts: number[]): Int32Array {
  const owner = new Int32Array(n);
  for (let y = 0; y < n; y++) {
    let best = -1;
    for (let i = 0; i < starts.length; i++) {
      const s = starts[i];
      if (y < s || y >= s + tile) continue;
      const d = Math.min(s === 0 ? Infinity : y - s, s + tile === n ? Infinity : s + tile - 1 - y);
      if (best < 0 || d > best) [best, owner[y]] = [d, i];
    }
  }
  return owner;
}

/** `exact`: every tile is `tile` (a fixed-size model), else tileSide shares the image evenly. */
async function tiled(run: RunLogits, img: HwcImage, tile: [number, number], margin: [number, number], stride: [number, number], classes: number, exact = false): Promise<Float32Array> {
  const { height: h, width: w } = img;
  const [th, tw] = exact ? tile : [tileSide(h, tile[0], margin[0], stride[0]), tileSide(w, tile[1], margin[1], stride[1])];
  const ys = tileStarts(h, th, margin[0], stride[0]);
  const xs = tileStarts(w, tw, margin[1], stride[1]);
  const rowOwner = tileOwners(h, th, ys);
  const colOwner = tileOwners(w, tw, xs);
  const out = new Float32Array(h * w * classes);
  for (let i = 0; i < ys.length; i++)
    for (let j = 0; j < xs.length; j++) {
      const part = await run(crop(img, ys[i], xs[j], th, tw));
      for (let y = ys[i]; y < ys[i] + th; y++) {
        if (rowOwner[y] !== i) continue;
        for (let x = xs[j]; x < xs[j] + tw; x++) {
          if (colOwner[x] !== j) continue;
          const src = ((y - ys[i]) * tw + (x - xs[j])) * classes;
          out.set(part.subarray(src, src + classes), (y * w + x) * classes);
        }
      }
    }
  return out;
}

/** HWC logits -> class-major probabilities (sigmoid per value, softmax over classes per pixel). */
export function activate(logits: HwcImage, activation: IrGraph['output']['activation']): Float32Array {
  const { data, height, width, channels: c } = logits;
  const n = height * width;
  const out = new Float32Array(n * c);
  for (let i = 0; i < n; i++) {
    if (activation === 'softmax') {
      let max = -Infinity;
      for (let k = 0; k < c; k++) max = Math.max(max, data[i * c + k]);
      let sum = 0;
      for (let k = 0; k < c; k++) sum += out[k * n + i] = Math.exp(data[i * c + k] - max);
      for (let k = 0; k < c; k++) out[k * n + i] /= sum;
    } else for (let k = 0; k < c; k++) out[k * n + i] = activation === 'sigmoid' ? 1 / (1 + Math.exp(-data[i * c + k])) : data[i * c + k];
  }
  return out;
}

/**
 * The foreground probability per pixel: the one plane of a 1-class network; for more classes,
 * 1 - P(class 0), class 0 being the background.
 */
export function foreground(probs: Float32Array, classes: number, pixels: number): Float32Array {
  if (probs.length !== classes * pixels) throw new Error(`foreground: ${probs.length} values for ${classes} classes of ${pixels} pixels`);
  if (classes === 1) return probs;
  return Float32Array.from(probs.subarray(0, pixels), (p) => 1 - p);
}

export interface EvaluateResult {
  /** per image: the headline metrics; for a softmax network also classes[k - 1], class k one-vs-rest */
  perImage: { id: string; metrics: ImageMetrics; classes?: ClassMetrics[] }[];
  /** mean ± std over images: binary, the metrics at the threshold; softmax, the pixel accuracy and the foreground-class means (class-metrics.ts) */
  summary: Record<Metric, MeanStd>;
  /** softmax networks: classes[k - 1] is foreground class k's mean ± std over images */
  classes?: Record<ClassMetric, MeanStd>[];
}

export interface EvaluateOptions {
  /** called with each image's foreground probabilities (for overlays; softmax: 1 - P(class 0)), after its metrics */
  onImage?: (sample: Sample, prob: Float32Array, metrics: ImageMetrics) => void | Promise<void>;
  /**
   * post-processing of each decided mask or label map before its metrics (postprocess.ts; loads it
   * and image-js when given); AUC stays on the probabilities
   */
  postProcess?: PostProcessOptions;
}

/**
 * Metrics of every sample (inside its FOV where it has one) and their mean ± std. A 1-class network
 * is measured at `threshold` against 0/1 masks (metrics.ts); a K-class (softmax) one by argmax against
 * label maps, per foreground class and as their means (class-metrics.ts; `threshold` unused). With
 * `opts.postProcess` every metric but AUC is of the post-processed mask or label map.
 */
export async function evaluateSplit(predictor: Predictor, samples: Sample[], loadOpts: LoadOptions, threshold = 0.5, opts: EvaluateOptions = {}): Promise<EvaluateResult> {
  const perImage: EvaluateResult['perImage'] = [];
  const perClass: ClassImageMetrics[] = [];
  const k = predictor.classes;
  const post = opts.postProcess && (await import('./postprocess.js'));
  for (const s of samples) {
    const loaded = await loadSample(s, loadOpts);
    const { height: h, width: w } = loaded.image;
    const pixels = h * w;
    const probs = await predictor.predict(loaded.image);
    const prob = foreground(probs, k, pixels);
    const truth = loaded.mask.data;
    const fov = loaded.fov?.data;
    if (k === 1) {
      if (!post) perImage.push({ id: s.id, metrics: imageMetrics(prob, truth, fov, threshold) });
      else {
        // the post-processed mask, a NaN pixel (-1) kept NaN so that it still counts as wrong
        const mask = post.postProcessLabels(post.thresholdLabels(prob, threshold), h, w, 2, opts.postProcess!);
        const decided = Float32Array.from(mask, (v) => (v < 0 ? NaN : v));
        perImage.push({ id: s.id, metrics: { ...metricsFromConfusion(confusion(decided, truth, fov, 0.5)), auc: auc(prob, truth, fov) } });
      }
    } else {
      const labels = post ? post.postProcessLabels(argmaxLabels(probs, k, pixels), h, w, k, opts.postProcess!) : undefined;
      const m = classImageMetrics(probs, truth, k, fov, labels);
      perClass.push(m);
      perImage.push({ id: s.id, metrics: m.metrics, classes: m.perClass });
    }
    await opts.onImage?.(s, prob, perImage.at(-1)!.metrics);
  }
  const summary = summarize(perImage.map((r) => r.metrics));
  return k === 1 ? { perImage, summary } : { perImage, summary, classes: summarizeClasses(perClass, k) };
}
