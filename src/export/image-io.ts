// `alcli export --io image`: model.image.onnx (emit/onnx-image.ts withImageIo over the fp32 ONNX
// model) and its check: the file, read back from disk, run by ONNX Runtime on an odd-sized 8-bit
// image, against `alcli predict`'s predictor (train/infer.ts, TF.js engine) on the same pixels; with
// `--tta flips` the graph averages the 4 mirror images and the reference is `predict --tta flips`.
// With --precision int8 the gate (export.ts) also writes model.int8.image.onnx (the same wrapping of
// model.int8.onnx), checked against the predictor running model.int8.onnx.
import type { Compiled } from '../frontend/compile.js';
import type { IrGraph } from '../ir/graph.js';
import { fixedSizeReason, networkStride } from '../ir/stride.js';
import { rng, type WeightStore } from '../ir/weights.js';
import type { TF } from '../runtime/backend.js';
import type { ImageIoOptions, ImageTta } from '../emit/onnx-image.js';

/** What `alcli export --io` writes: `tensor`, the models as they are; `image`, model.image.onnx beside them. */
export const EXPORT_IO = ['tensor', 'image'] as const;
export type ExportIo = (typeof EXPORT_IO)[number];

export const IMAGE_ONNX_FILE = 'model.image.onnx';
export const INT8_IMAGE_ONNX_FILE = 'model.int8.image.onnx';

/** `alcli export --tta` choices: every predict mode, so that `dihedral` is refused with its reason, not a bare list. */
export const EXPORT_TTA = ['none', 'flips', 'dihedral'] as const;
export type ExportTta = (typeof EXPORT_TTA)[number];

export interface ImageIoExport {
  opset: number;
  /** per-channel mean and std of the [0, 1] image (the run's); null: none */
  normalize: { mean: number[]; std: number[] } | null;
  /** the mask's probability cut (a 1-class network) */
  threshold: number;
  /** test-time augmentation inside the graph (emit/onnx-image.ts): none (default) or flips */
  tta?: ImageTta;
}

/** The options of withImageIo for a compiled network (`graph` its deploy or training form: same IO). */
export function imageIoOptions(c: Compiled, graph: IrGraph, opts: Omit<ImageIoExport, 'opset'>): ImageIoOptions {
  return { normalize: opts.normalize, stride: c.stride, activation: graph.output.activation, threshold: opts.threshold, classes: graph.output.classes, channels: graph.input.channels, tta: opts.tta ?? 'none' };
}

/** model.image.onnx's bytes for the deploy form `graph` (symbolic H and W where the network allows). */
export async function imageOnnxBytes(c: Compiled, graph: IrGraph, weights: WeightStore, opts: ImageIoExport): Promise<Uint8Array> {
  const [{ onnxModel }, { withImageIo }, { encodeModel }] = await Promise.all([import('../emit/onnx.js'), import('../emit/onnx-image.js'), import('../emit/onnx-proto.js')]);
  return encodeModel(withImageIo(onnxModel(graph, weights, { opset: opts.opset }), imageIoOptions(c, graph, opts)));
}

/**
 * The size of the image the check runs: odd-sized below the compiled size (1 and 3 pixels short,
 * so the graph pads and crops), or the compiled size itself for a fixed-size network.
 */
export function imageCheckSize(graph: IrGraph): [number, number] {
  const [h, w] = graph.input.size;
  if (fixedSizeReason(graph) || networkStride(graph).every((s) => s === 1)) return [h, w];
  return [Math.max(1, h - 1), Math.max(1, w - 3)];
}

/** What runImageCheck compares: which image model, against which predictor. */
export interface ImageCheckOptions {
  /** the graph's TTA: the reference is then predict's withTta over the predictor */
  tta?: ImageTta;
  /** the ONNX model the reference predictor runs (model.int8.onnx's bytes) instead of the training form on TF.js */
  onnx?: { file: string; bytes: Uint8Array };
  /** the image model's file name, for the stage text (default model.image.onnx) */
  file?: string;
}

/**
 * An image model (bytes read back) on seeded 8-bit pixels vs `alcli predict`'s predictor: of the
 * training form (TF.js engine), or of `opts.onnx` (ONNX Runtime, e.g. model.int8.onnx beside
 * model.int8.image.onnx), wrapped in predict's --tta when the graph holds TTA. Both probability
 * maps class-major [K, h*w], and the stage text.
 */
export async function runImageCheck(tf: TF, training: { graph: IrGraph; weights: WeightStore }, model: Uint8Array, normalize: ImageIoExport['normalize'], seed: number, opts: ImageCheckOptions = {}): Promise<{ stage: string; reference: Float32Array; probabilities: Float32Array }> {
  const [{ runImageOnnx }, { createPredictor }, { hwc }, { withTta }] = await Promise.all([import('../runtime/ort.js'), import('../train/infer.js'), import('../train/image.js'), import('../train/tta.js')]);
  const [h, w] = imageCheckSize(training.graph);
  const c = training.graph.input.channels;
  const r = rng(seed);
  const pixels = Uint8Array.from({ length: h * w * c }, () => Math.floor(r.uniform() * 256));
  const tta = opts.tta ?? 'none';
  const base = opts.onnx
    ? await createPredictor({ graph: training.graph, weights: training.weights, normalize, onnx: opts.onnx.bytes, threads: 2 })
    : await createPredictor({ tf, graph: training.graph, weights: training.weights, normalize, engine: 'tfjs' });
  const predictor = withTta(base, tta);
  try {
    // alcli predict reads an 8-bit image as pixel / 255 (train/decode.ts toImage)
    const reference = await predictor.predict(hwc(h, w, c, Float32Array.from(pixels, (v) => v / 255)));
    const { probabilities } = await runImageOnnx(model, pixels, [h, w, c], { threads: 2 });
    const against = `alcli predict${tta !== 'none' ? ` --tta ${tta}` : ''}'s probabilities${opts.onnx ? ` (running ${opts.onnx.file})` : ''}`;
    return { stage: `ONNX image IO (${opts.file ?? IMAGE_ONNX_FILE}, onnxruntime-node${tta !== 'none' ? `, tta ${tta} inside` : ''}) on a ${h}x${w} uint8 image vs ${against}`, reference, probabilities };
  } finally {
    predictor.dispose();
  }
}
