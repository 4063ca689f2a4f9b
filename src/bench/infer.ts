// src/bench/: the benchmarks behind `alcli bench`: inference of every form and engine, a training step.
// May import: ir, passes, frontend, emit, runtime, train, export.
// Inference benchmark: one network, four engines, one sitting. Medians after warm-up; each engine
// gets its inputs prepared outside the timed region so only the model's own work is measured.
import type { Tensor, Tensor4D } from '@tensorflow/tfjs';
import { measure } from '../runtime/timing.js';

export { measure, measureInterleaved } from '../runtime/timing.js';
import type { Compiled } from '../frontend/compile.js';
import { emitOnnx } from '../emit/onnx.js';
import { emitTfjsGraphModel, tfjsGraphFiles } from '../emit/tfjs-graph.js';
import { deployForm } from '../passes/pipeline.js';
import type { TF } from '../runtime/backend.js';
import { forward, toTensors } from '../runtime/executor.js';
import { graphModelHandler } from '../runtime/tfjs-graph-io.js';
import { randomInput } from '../runtime/verify.js';
import { nhwcToNchw } from '../ir/layout.js';
import type { WeightStore } from '../ir/weights.js';

/** Medians and spread of a timed run, and the throughput they make. */
export interface Measured {
  median_ms: number;
  min_ms: number;
  max_ms: number;
  runs: number;
  images_per_s: number;
  gflop_per_s: number;
}

export interface Timing extends Measured {
  engine: string;
  form: 'train' | 'deploy';
}

export interface InferBenchOptions {
  batch: number;
  warmup: number;
  runs: number;
  /** ONNX Runtime intra-op threads */
  threads: number;
}


export async function benchInfer(tf: TF, c: Compiled, weights: WeightStore, backend: string, o: InferBenchOptions): Promise<Timing[]> {
  const { graph: deploy, weights: deployWeights } = deployForm(c.graph, { weights });
  const shape: [number, number, number, number] = [o.batch, c.graph.input.size[0], c.graph.input.size[1], c.graph.input.channels];
  const data = randomInput(shape, 0);
  const x = tf.tensor4d(data, shape) as Tensor4D;
  const timing = (engine: string, form: 'train' | 'deploy', flops: number, m: { median: number; min: number; max: number }): Timing => ({
    engine,
    form,
    median_ms: m.median,
    min_ms: m.min,
    max_ms: m.max,
    runs: o.runs,
    images_per_s: (o.batch * 1000) / m.median,
    gflop_per_s: (flops * o.batch) / 1e9 / (m.median / 1000),
  });
  const out: Timing[] = [];

  for (const [form, g, w, flops] of [
    ['train', c.graph, weights, c.stats.flops],
    ['deploy', deploy, deployWeights!, c.deployStats.flops],
  ] as const) {
    const tw = toTensors(tf, w);
    const m = await measure(async () => {
      const y = forward(tf, g, tw, x);
      await y.data();
      y.dispose();
    }, o.warmup, o.runs);
    for (const t of tw.values()) t.dispose();
    out.push(timing(`TF.js executor (${backend})`, form, flops, m));
  }

  const files = tfjsGraphFiles(emitTfjsGraphModel(deploy, deployWeights!));
  const model = await tf.loadGraphModel(graphModelHandler((p) => files.get(p)!));
  out.push(
    timing(`TF.js graph model (${backend})`, 'deploy', c.deployStats.flops, await measure(async () => {
      const y = model.execute(x) as Tensor;
      await y.data();
      y.dispose();
    }, o.warmup, o.runs)),
  );
  model.dispose();

  const ort = await (await import('../runtime/ort.js')).importOrt();
  const session = await ort.InferenceSession.create(emitOnnx(deploy, deployWeights!, { size: 'fixed' }), { intraOpNumThreads: o.threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const nchw = new ort.Tensor('float32', nhwcToNchw(data, shape), [shape[0], shape[3], shape[1], shape[2]]);
  out.push(timing(`ONNX Runtime (${o.threads} thread${o.threads === 1 ? '' : 's'})`, 'deploy', c.deployStats.flops, await measure(async () => {
    const r = await session.run({ input: nchw });
    for (const t of Object.values(r)) t.dispose();
  }, o.warmup, o.runs)));
  await session.release();
  x.dispose();
  return out;
}

/** Times any ONNX file (e.g. the PyTorch twin's export) the same way, NCHW input named `input`. */
export async function benchOnnxFile(bytes: Uint8Array, shapeNchw: [number, number, number, number], o: InferBenchOptions): Promise<{ median: number; min: number; max: number }> {
  const ort = await (await import('../runtime/ort.js')).importOrt();
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: o.threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const x = new ort.Tensor('float32', randomInput([shapeNchw[0], shapeNchw[2], shapeNchw[3], shapeNchw[1]], 0), shapeNchw);
  const name = session.inputNames[0];
  const m = await measure(async () => {
    const r = await session.run({ [name]: x });
    for (const t of Object.values(r)) t.dispose();
  }, o.warmup, o.runs);
  await session.release();
  return m;
}
