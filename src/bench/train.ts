// Training benchmark: one engine's optimizer step on a seeded batch (random images, masks of half
// the pixels), warm-up steps first, then the median of `runs`. FLOP/s count the step as three
// forward passes of the training form (forward, input and weight gradients), the usual estimate.
import { graphStats } from '../ir/stats.js';
import type { IrGraph } from '../ir/graph.js';
import { randomInput } from '../runtime/verify.js';
import type { TrainEngine } from '../train/engine.js';
import { measure, type Measured } from './infer.js';

export interface TrainTiming extends Measured {
  engine: string;
  size: [number, number];
  batch: number;
}

/** `g` at the batch's size (resizeGraph); the engine was built for it. */
export async function benchTrain(engine: TrainEngine, g: IrGraph, o: { batch: number; warmup: number; runs: number }): Promise<TrainTiming> {
  const [h, w] = g.input.size;
  const shape: [number, number, number, number] = [o.batch, h, w, g.input.channels];
  const x = randomInput(shape, 1);
  // a mask that follows the image (half the pixels), so the loss has something to learn
  const y = Float32Array.from({ length: o.batch * h * w }, (_, i) => (x[i * g.input.channels] > 0 ? 1 : 0));
  const m = await measure(async () => void (await engine.step({ x, y, shape }, 1e-3)), o.warmup, o.runs);
  return {
    engine: engine.name,
    size: [h, w],
    batch: o.batch,
    median_ms: m.median,
    min_ms: m.min,
    max_ms: m.max,
    runs: o.runs,
    images_per_s: (o.batch * 1000) / m.median,
    gflop_per_s: (3 * graphStats(g).flops * o.batch) / 1e9 / (m.median / 1000),
  };
}
