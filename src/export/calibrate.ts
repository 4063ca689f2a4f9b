// Calibration of an ONNX model's activation ranges for static quantization: the float model, with
// every float activation tensor made a graph output, run on calibration images in ONNX Runtime.
//   minmax      the least and greatest value seen (ONNX Runtime's MinMax calibrator)
//   percentile  the values at the p-th and (100 - p)-th percentiles of everything seen (ONNX
//               Runtime's Percentile calibrator takes |x| at p; here each side has its own), so a few
//               outliers do not stretch the uint8 grid. Histogram of 2048 bins over the min/max range.
import { encodeModel } from '../emit/onnx-proto.js';
import { floatTensors, withTensorOutputs, type ModelObject, type Range } from '../emit/onnx-qdq.js';
import { nhwcToNchw } from '../ir/layout.js';
import { importOrt } from '../runtime/ort.js';
import type { Calibration } from './formats.js';


export interface CalibrateOptions {
  method?: Calibration;
  /** percentile kept on each side (default 99.999) */
  percentile?: number;
  threads?: number;
}

const BINS = 2048;

/**
 * Ranges of `model`'s float activation tensors over `images` (each NHWC [1, H, W, C], normalized as
 * the model reads them). Two passes over the images for `percentile`, one for `minmax`.
 */
export async function calibrateRanges(model: ModelObject, images: readonly { data: Float32Array; shape: [number, number, number, number] }[], opts: CalibrateOptions = {}): Promise<Map<string, Range>> {
  if (!images.length) throw new Error('calibration needs at least one image');
  const tensors = floatTensors(model);
  const ort = await importOrt();
  const session = await ort.InferenceSession.create(encodeModel(withTensorOutputs(model, tensors)), { intraOpNumThreads: opts.threads ?? 2, interOpNumThreads: 1, graphOptimizationLevel: 'disabled', logSeverityLevel: 3 });
  const inputName = model.graph.input[0].name;
  const each = async (visit: (name: string, v: Float32Array) => void) => {
    for (const img of images) {
      const [n, h, w, c] = img.shape;
      const x = new ort.Tensor('float32', nhwcToNchw(img.data, img.shape), [n, c, h, w]);
      const res = await session.run({ [inputName]: x }, tensors as string[]);
      for (const t of tensors) visit(t, t === inputName ? (x.data as Float32Array) : (res[t].data as Float32Array));
      x.dispose();
      for (const r of Object.values(res)) r.dispose();
    }
  };
  try {
    const ranges = new Map<string, Range>(tensors.map((t) => [t, { min: Infinity, max: -Infinity }]));
    await each((t, v) => {
      const r = ranges.get(t)!;
      for (let i = 0; i < v.length; i++) {
        if (v[i] < r.min) r.min = v[i];
        if (v[i] > r.max) r.max = v[i];
      }
    });
    if ((opts.method ?? 'minmax') === 'minmax') return ranges;
    const p = (opts.percentile ?? 99.999) / 100;
    const hist = new Map(tensors.map((t) => [t, new Float64Array(BINS)]));
    await each((t, v) => {
      const { min, max } = ranges.get(t)!;
      const h = hist.get(t)!;
      const k = max > min ? BINS / (max - min) : 0;
      for (let i = 0; i < v.length; i++) h[Math.min(BINS - 1, Math.floor((v[i] - min) * k))]++;
    });
    const out = new Map<string, Range>();
    for (const t of tensors) {
      const { min, max } = ranges.get(t)!;
      const h = hist.get(t)!;
      const total = h.reduce((a, b) => a + b, 0);
      const width = (max - min) / BINS;
      let acc = 0;
      let lo = 0;
      while (lo < BINS - 1 && (acc += h[lo]) < (1 - p) * total) lo++;
      acc = 0;
      let hi = BINS - 1;
      while (hi > 0 && (acc += h[hi]) < (1 - p) * total) hi--;
      out.set(t, { min: min + lo * width, max: min + (hi + 1) * width });
    }
    return out;
  } finally {
    await session.release();
  }
}
