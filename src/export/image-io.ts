// `alcli export --io image`: model.image.onnx (emit/onnx-image.ts withImageIo over the fp32 ONNX
// model) and its check: the file, read back from disk, run by ONNX Runtime on an odd-sized 8-bit
// image, against `alcli predict`'s predictor (train/infer.ts, TF.js engine) on the same pixels.
import type { Compiled } from '../frontend/compile.js';
import type { IrGraph } from '../ir/graph.js';
import { fixedSizeReason, networkStride } from '../ir/stride.js';
import { rng, type WeightStore } from '../ir/weights.js';
import type { TF } from '../runtime/backend.js';

/** What `alcli export --io` writes: `tensor`, the models as they are; `image`, model.image.onnx beside them. */
export const EXPORT_IO = ['tensor', 'image'] as const;
export type ExportIo = (typeof EXPORT_IO)[number];

export const IMAGE_ONNX_FILE = 'model.image.onnx';

export interface ImageIoExport {
  opset: number;
  /** per-channel mean and std of the [0, 1] image (the run's); null: none */
  normalize: { mean: number[]; std: number[] } | null;
  /** the mask's probability cut (a 1-class network) */
  threshold: number;
}

/** model.image.onnx's bytes for the deploy form `graph` (symbolic H and W where the network allows). */
export async function imageOnnxBytes(c: Compiled, graph: IrGraph, weights: WeightStore, opts: ImageIoExport): Promise<Uint8Array> {
  const [{ onnxModel }, { withImageIo }, { encodeModel }] = await Promise.all([import('../emit/onnx.js'), import('../emit/onnx-image.js'), import('../emit/onnx-proto.js')]);
  const io = { normalize: opts.normalize, stride: c.stride, activation: graph.output.activation, threshold: opts.threshold, classes: graph.output.classes, channels: graph.input.channels };
  return encodeModel(withImageIo(onnxModel(graph, weights, { opset: opts.opset }), io));
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

/**
 * model.image.onnx (bytes read back) on seeded 8-bit pixels vs the predictor of the training form:
 * both probability maps, class-major, and the image size.
 */
export async function runImageCheck(tf: TF, training: { graph: IrGraph; weights: WeightStore }, model: Uint8Array, normalize: ImageIoExport['normalize'], seed: number): Promise<{ stage: string; reference: Float32Array; probabilities: Float32Array }> {
  const [{ runImageOnnx }, { createPredictor }, { hwc }] = await Promise.all([import('../runtime/ort.js'), import('../train/infer.js'), import('../train/image.js')]);
  const [h, w] = imageCheckSize(training.graph);
  const c = training.graph.input.channels;
  const r = rng(seed);
  const pixels = Uint8Array.from({ length: h * w * c }, () => Math.floor(r.uniform() * 256));
  const predictor = await createPredictor({ tf, graph: training.graph, weights: training.weights, normalize, engine: 'tfjs' });
  try {
    // alcli predict reads an 8-bit image as pixel / 255 (train/decode.ts toImage)
    const reference = await predictor.predict(hwc(h, w, c, Float32Array.from(pixels, (v) => v / 255)));
    const { probabilities } = await runImageOnnx(model, pixels, [h, w, c], { threads: 2 });
    return { stage: `ONNX image IO (${IMAGE_ONNX_FILE}, onnxruntime-node) on a ${h}x${w} uint8 image vs alcli predict's probabilities`, reference, probabilities };
  } finally {
    predictor.dispose();
  }
}
