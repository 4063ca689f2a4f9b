// Runs an emitted ONNX model in ONNX Runtime (onnxruntime-node, CPU), NHWC in and out like the
// TF.js executor, so the two compare element by element. onnxruntime-node is imported on first use.
import type { InferenceSession } from 'onnxruntime-node';
import { ONNX_INPUT, ONNX_OUTPUT } from '../emit/onnx.js';
import { nchwToNhwc, nhwcToNchw } from '../ir/layout.js';
import { measureInterleaved } from './timing.js';

type Ort = typeof import('onnxruntime-node');

export interface OrtOptions {
  /** intra-op threads; default: ONNX Runtime's (every core) */
  threads?: number;
}

let ort: Promise<Ort> | undefined;

/**
 * onnxruntime-node, loaded once with its telemetry off. ONNX Runtime 1.30's native library reads
 * ORT_DISABLE_TELEMETRY when it starts; without it every process writes a device id and an event
 * database to ~/.cache/Microsoft/DeveloperTools/.onnxruntime/ and a mat-debug-PID.log (and .ses)
 * to the temp folder (its 1DS telemetry SDK). Every import of onnxruntime-node goes through here.
 */
export function importOrt(): Promise<Ort> {
  process.env.ORT_DISABLE_TELEMETRY = '1';
  return (ort ??= import('onnxruntime-node'));
}
const loadOrt = importOrt;

// one session per model bytes and thread count: building one re-reads and optimizes the whole model
const sessions = new WeakMap<Uint8Array, Map<number, Promise<InferenceSession>>>();

/** The (cached) session for a model; it lives as long as the caller keeps `model`. */
export function ortSession(model: Uint8Array, opts: OrtOptions = {}): Promise<InferenceSession> {
  const threads = opts.threads ?? 0;
  let byThreads = sessions.get(model);
  if (!byThreads) sessions.set(model, (byThreads = new Map()));
  let s = byThreads.get(threads);
  if (!s) {
    s = loadOrt().then(({ InferenceSession }) =>
      InferenceSession.create(model, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3 }),
    );
    // a failed create must not stay cached
    s.catch(() => byThreads!.delete(threads));
    byThreads.set(threads, s);
  }
  return s;
}

/** A session of its own (not cached): the caller releases it. */
export async function newOrtSession(model: Uint8Array, opts: OrtOptions = {}): Promise<InferenceSession> {
  const { InferenceSession } = await loadOrt();
  return InferenceSession.create(model, { intraOpNumThreads: opts.threads ?? 0, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3 });
}

/** Runs the model on an NHWC batch [n, h, w, c] and returns the logits as a flat NHWC array. */
export async function runOnnx(model: Uint8Array, input: Float32Array, shape: readonly [number, number, number, number], opts: OrtOptions = {}): Promise<Float32Array> {
  return runSession(await ortSession(model, opts), input, shape);
}

/** runOnnx on a session of the caller's (one it creates and releases itself, e.g. with newOrtSession). */
export async function runSession(session: InferenceSession, input: Float32Array, shape: readonly [number, number, number, number]): Promise<Float32Array> {
  const [n, h, w, c] = shape;
  if (input.length !== n * h * w * c) throw new Error(`input has ${input.length} values, shape ${shape.join('x')} needs ${n * h * w * c}`);
  const { Tensor } = await loadOrt();
  const x = new Tensor('float32', nhwcToNchw(input, shape), [n, c, h, w]);
  const result = await session.run({ [ONNX_INPUT]: x });
  const y = result[ONNX_OUTPUT];
  try {
    if (y.type !== 'float32' || y.dims.length !== 4) throw new Error(`'${ONNX_OUTPUT}' is ${y.type} [${y.dims.join(', ')}], expected float32 NCHW`);
    return nchwToNhwc(y.data as Float32Array, y.dims as number[]);
  } finally {
    x.dispose();
    for (const t of Object.values(result)) t.dispose();
  }
}

/**
 * Runs an `--io image` model (emit/onnx-image.ts) on one 8-bit image, HWC [h, w, c]: its
 * probabilities (float32, class-major [K, h, w], or [h, w] for one class) and its uint8 mask.
 */
export async function runImageOnnx(model: Uint8Array, pixels: Uint8Array, shape: readonly [number, number, number], opts: OrtOptions = {}): Promise<{ probabilities: Float32Array; mask: Uint8Array }> {
  const [h, w, c] = shape;
  if (pixels.length !== h * w * c) throw new Error(`image has ${pixels.length} values, shape ${shape.join('x')} needs ${h * w * c}`);
  const { IMAGE_INPUT, MASK_OUTPUT, PROBABILITIES_OUTPUT } = await import('../emit/onnx-image.js');
  const [{ Tensor }, session] = await Promise.all([loadOrt(), ortSession(model, opts)]);
  const x = new Tensor('uint8', pixels, [h, w, c]);
  const result = await session.run({ [IMAGE_INPUT]: x });
  try {
    const p = result[PROBABILITIES_OUTPUT];
    const m = result[MASK_OUTPUT];
    if (p.type !== 'float32' || m.type !== 'uint8') throw new Error(`'${PROBABILITIES_OUTPUT}' is ${p.type}, '${MASK_OUTPUT}' ${m.type}: expected float32 and uint8`);
    return { probabilities: Float32Array.from(p.data as Float32Array), mask: Uint8Array.from(m.data as Uint8Array) };
  } finally {
    x.dispose();
    for (const t of Object.values(result)) t.dispose();
  }
}

/** One model to time: its bytes, and the value fed to its (only) input. */
export interface OnnxTimingCase {
  model: Uint8Array;
  input: { name: string; dtype: 'float32' | 'uint8'; shape: number[]; data: Float32Array | Uint8Array };
}

/**
 * Wall-clock ms per run of every model, their runs interleaved (measureInterleaved: a change of
 * machine load touches all alike, so their ratios hold); every session is created (all graph
 * optimizations, `threads` intra-op threads) before the first timed run and released after.
 */
export async function timeOnnxInterleaved(cases: OnnxTimingCase[], o: { threads: number; warmup: number; runs: number }): Promise<{ median: number; min: number; max: number }[]> {
  const { Tensor } = await loadOrt();
  const prepared: { session: InferenceSession; feeds: Record<string, InstanceType<typeof Tensor>> }[] = [];
  try {
    for (const c of cases) {
      const session = await newOrtSession(c.model, { threads: o.threads });
      const x = c.input.dtype === 'float32' ? new Tensor('float32', c.input.data as Float32Array, c.input.shape) : new Tensor('uint8', c.input.data as Uint8Array, c.input.shape);
      prepared.push({ session, feeds: { [c.input.name]: x } });
    }
    return await measureInterleaved(
      prepared.map(({ session, feeds }) => async () => {
        const r = await session.run(feeds);
        for (const t of Object.values(r)) t.dispose();
      }),
      o.warmup,
      o.runs,
    );
  } finally {
    for (const p of prepared) await p.session.release();
  }
}
