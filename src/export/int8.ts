// INT8 export of a trained run: the fp32 deploy-form ONNX model calibrated on crops of the run's
// training images, quantized in QDQ form (emit/onnx-qdq.ts), and gated on the validation split.
// When the fully quantized model loses more IoU than allowed, the nodes whose quantization costs the
// most are kept in float, a growing set at a time (1, 2, 4, ... of them), until the gate passes or
// half the quantizable nodes are float (then the gate fails). A node's cost is the mean squared
// error of the logits on the calibration crops with only that node quantized.
import { encodeModel } from '../emit/onnx-proto.js';
import { QDQ_OPS, quantizeQdq, type ModelObject, type QdqReport, type Range } from '../emit/onnx-qdq.js';
import { rng } from '../ir/weights.js';
import { runOnnx } from '../runtime/ort.js';
import type { OpenRun } from '../train/trained.js';
import { BadDataError } from '../train/errors.js';
import { calibrateRanges } from './calibrate.js';
import { ORT_ENGINE } from './gate.js';
import { PRECISION_ONNX_FILE, type Calibration } from './formats.js';
import { precisionRow, scoreArtifact, type PrecisionRow, type Scored } from './gate.js';

export interface Int8Options {
  /** calibration crops (default 16), drawn seeded from the training split */
  calib?: number;
  seed?: number;
  method?: Calibration;
  maxIouDrop: number;
  log?: (line: string) => void;
}

export interface Int8Result {
  bytes: Uint8Array;
  /** the quantized model as an object (bytes = encodeModel(model)), for wrapping, e.g. emit/onnx-image.ts withImageIo */
  model: ModelObject;
  report: QdqReport;
  /** nodes kept in float by the sensitivity search, most costly first */
  excluded: string[];
  row: PrecisionRow;
  calibration: { crops: number; method: Calibration; size: [number, number] };
}

export type CalibrationImage = { data: Float32Array; shape: [number, number, number, number] };

/**
 * `n` crops of the model's input size (NHWC [1, H, W, C], normalized as in training) from the run's
 * training images, seeded: image i mod count, at a random corner; an image smaller than the size is
 * reflect-padded up to it. A BadDataError when the training split is empty.
 */
export async function calibrationImages(opened: OpenRun, n: number, seed: number): Promise<CalibrationImage[]> {
  const [{ scanDataset }, { loadSample, normalize }, { crop, padToMultiple }] = await Promise.all([import('../train/dataset.js'), import('../train/load.js'), import('../train/augment.js')]);
  const { info, compiled } = opened;
  const [h, w] = compiled.graph.input.size;
  const mask = { invertMask: info.data.invert_mask, maskThreshold: info.data.mask_threshold };
  const scan = await scanDataset(info.data.dir, { seed: info.data.split_seed, need: ['train'], classes: compiled.graph.output.classes, ...mask });
  if (!scan.dataset) throw new BadDataError(scan.errors);
  const train = scan.dataset.samples.filter((s) => s.split === 'train');
  const r = rng(seed);
  const out: CalibrationImage[] = [];
  for (let i = 0; i < n; i++) {
    const loaded = await loadSample(train[i % train.length], { channels: info.input_channels, ...mask });
    let img = info.normalize ? normalize(loaded.image, info.normalize) : loaded.image;
    // padding to a multiple of the crop makes a smaller side exactly the crop's
    if (img.height < h || img.width < w) img = padToMultiple(img, [h, w]).image;
    const top = Math.floor(r.uniform() * (img.height - h + 1));
    const left = Math.floor(r.uniform() * (img.width - w + 1));
    out.push({ data: crop(img, top, left, h, w).data as Float32Array, shape: [1, h, w, img.channels] });
  }
  return out;
}

/**
 * The INT8 model of a run's fp32 deploy-form ONNX (`fp32`, already scored on val as `fp32Score`),
 * with the gate applied: `ok: false` when no tried exclusion set keeps the IoU drop within
 * `maxIouDrop` (the last try's row says by how much).
 */
export async function quantizeRun(opened: OpenRun, fp32: ModelObject, fp32Score: Scored, opts: Int8Options): Promise<{ ok: true; result: Int8Result } | { ok: false; row: PrecisionRow; excluded: string[] }> {
  const log = opts.log ?? (() => {});
  const method = opts.method ?? 'minmax';
  const images = await calibrationImages(opened, opts.calib ?? 16, opts.seed ?? 0);
  log(`int8: calibrating on ${images.length} crops (${method}) of the training split`);
  const ranges = await calibrateRanges(fp32, images, { method });
  const attempt = async (exclude: string[]) => {
    const { model, report } = quantizeQdq(fp32, ranges, { exclude: new Set(exclude) });
    const bytes = encodeModel(model);
    const score = await scoreArtifact(opened, { path: PRECISION_ONNX_FILE.int8, bytes });
    const row = precisionRow(PRECISION_ONNX_FILE.int8, 'int8', ORT_ENGINE, bytes.byteLength, null, score, fp32Score, opts.maxIouDrop);
    log(`int8: ${exclude.length ? `${exclude.length} node(s) in float` : 'every node quantized'}: val IoU ${score.iou.toFixed(4)} (fp32 ${fp32Score.iou.toFixed(4)}, drop ${row.drop.toFixed(4)})`);
    return { bytes, model, report, row };
  };
  let tried = await attempt([]);
  let excluded: string[] = [];
  if (!tried.row.pass) {
    const order = await sensitivity(fp32, ranges, images.slice(0, 4));
    log(`int8: most sensitive nodes: ${order.slice(0, 5).join(', ')}`);
    for (const k of exclusionSizes(order.length)) {
      excluded = order.slice(0, k);
      tried = await attempt(excluded);
      if (tried.row.pass) break;
    }
  }
  if (!tried.row.pass) return { ok: false, row: tried.row, excluded };
  return { ok: true, result: { bytes: tried.bytes, model: tried.model, report: tried.report, excluded, row: tried.row, calibration: { crops: images.length, method, size: [images[0].shape[1], images[0].shape[2]] } } };
}

/** How many of the most sensitive nodes each try keeps in float: 1, 2, 4, ... up to half of `n`. */
export function exclusionSizes(n: number): number[] {
  const half = Math.ceil(n / 2);
  const out: number[] = [];
  for (let k = 1; k < half; k *= 2) out.push(k);
  return half > 0 ? [...out, half] : out;
}

/** Quantizable node names, by the logits' mean squared error with only that node quantized, worst first. */
async function sensitivity(fp32: ModelObject, ranges: ReadonlyMap<string, Range>, images: readonly CalibrationImage[]): Promise<string[]> {
  const names = fp32.graph.node.filter((n) => QDQ_OPS.has(n.op_type)).map((n) => n.name);
  const reference = encodeModel(fp32);
  const ref = await Promise.all(images.map((x) => runOnnx(reference, x.data, x.shape, { threads: 2 })));
  const cost = new Map<string, number>();
  for (const name of names) {
    const bytes = encodeModel(quantizeQdq(fp32, ranges, { exclude: new Set(names.filter((m) => m !== name)) }).model);
    let se = 0;
    let count = 0;
    for (let i = 0; i < images.length; i++) {
      const y = await runOnnx(bytes, images[i].data, images[i].shape, { threads: 2 });
      for (let j = 0; j < y.length; j++) se += (y[j] - ref[i][j]) ** 2;
      count += y.length;
    }
    cost.set(name, se / count);
  }
  return names.sort((a, b) => cost.get(b)! - cost.get(a)!);
}
