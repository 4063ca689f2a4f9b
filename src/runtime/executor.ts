// The forward executor: IR + weights -> TF.js computation, NHWC. Inference mode uses BatchNorm's
// running statistics; training mode uses batch statistics (the training loop updates the averages).
import type { Tensor, Tensor4D } from '@tensorflow/tfjs';
import { INPUT_ID, type IrGraph } from '../ir/graph.js';
import type { TF } from './backend.js';
import { TFJS_KERNELS, type Kernel } from './kernels.js';
import type { WeightStore } from './weights.js';

export type TensorWeights = Map<string, Tensor>;

/** Uploads a weight store as TF.js tensors (the caller disposes them). */
export function toTensors(tf: TF, store: WeightStore): TensorWeights {
  return new Map([...store].map(([k, t]) => [k, tf.tensor(t.data, t.shape)]));
}

export interface ForwardOptions {
  training?: boolean;
  /** drop units in dropout nodes (default: in training mode) */
  dropout?: boolean;
  /** training mode: called with each BatchNorm's batch statistics */
  onBatchStats?: (node: string, mean: Tensor, variance: Tensor) => void;
}

/**
 * Runs the graph on an NHWC batch and returns the output logits. In inference mode each
 * activation is freed as soon as its last reader has run, so memory stays near the widest cut.
 */
export function forward(tf: TF, g: IrGraph, weights: TensorWeights, input: Tensor4D, opts: ForwardOptions = {}): Tensor4D {
  const training = opts.training ?? false;
  const values = new Map<string, Tensor4D>([[INPUT_ID, input]]);
  const readsLeft = new Map<string, number>();
  for (const n of g.nodes) for (const i of n.inputs) readsLeft.set(i, (readsLeft.get(i) ?? 0) + 1);
  for (const n of g.nodes) {
    const w: Record<string, Tensor> = {};
    const prefix = `${n.id}:`;
    for (const [k, t] of weights) if (k.startsWith(prefix)) w[k.slice(prefix.length)] = t;
    const kernel: Kernel = TFJS_KERNELS[n.op];
    const like = typeof n.attrs.like === 'string' ? values.get(n.attrs.like)?.shape : undefined;
    const y = kernel({
      tf,
      inputs: n.inputs.map((i) => values.get(i)!),
      attrs: n.attrs,
      w,
      like,
      training: n.op === 'dropout' ? (opts.dropout ?? training) : training,
      batchStats: opts.onBatchStats && ((m, v) => opts.onBatchStats!(n.id, m, v)),
    }) as Tensor4D;
    values.set(n.id, y);
    if (training) continue;
    for (const i of n.inputs) {
      const left = readsLeft.get(i)! - 1;
      readsLeft.set(i, left);
      const v = values.get(i)!;
      if (left === 0 && i !== INPUT_ID && i !== g.output.node && v !== y && !isLikeTarget(g, i)) v.dispose();
    }
  }
  return values.get(g.output.node)!;
}

const isLikeTarget = (g: IrGraph, id: string) => g.nodes.some((n) => n.attrs.like === id);
