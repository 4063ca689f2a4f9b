// src/runtime/: running the IR: TF.js backends, kernels and gradients, the executor, ONNX Runtime sessions, verification.
// May import: ir, passes, emit.
// The forward executor: IR + weights -> TF.js computation, NHWC. Inference mode uses BatchNorm's
// running statistics; training mode uses batch statistics (the training loop updates the averages).
// Both follow the execution plan (inference-plan.ts): some neighbouring nodes run as one call.
import type { Tensor, Tensor4D } from '@tensorflow/tfjs';
import { INPUT_ID, type IrGraph, type IrNode } from '../ir/graph.js';
import type { TF } from './backend.js';
import { releaseHeld } from './gradients.js';
import { concatConv, fusedConv, TFJS_KERNELS, type Kernel } from './kernels.js';
import { executionPlan, planReads } from './inference-plan.js';
import type { WeightStore } from '../ir/weights.js';

export type TensorWeights = Map<string, Tensor>;

/** Uploads a weight store as TF.js tensors (the caller disposes them). */
export function toTensors(tf: TF, store: WeightStore): TensorWeights {
  return new Map([...store].map(([k, t]) => [k, tf.tensor(t.data, t.shape)]));
}

export interface ForwardOptions {
  training?: boolean;
  /** drop units in dropout nodes (default: in training mode) */
  dropout?: boolean;
  /** training mode: compute the gradient w.r.t. the input (default true; training on data needs none) */
  inputGrad?: boolean;
  /** training mode: called with each BatchNorm's batch statistics */
  onBatchStats?: (node: string, mean: Tensor, variance: Tensor) => void;
}

/**
 * Runs the graph on an NHWC batch and returns the output logits. Inference mode follows the
 * inference plan (fused conv + activation, concats split into their conv) and frees each
 * activation as soon as its last reader has run, so memory stays near the widest cut.
 */
export function forward(tf: TF, g: IrGraph, weights: TensorWeights, input: Tensor4D, opts: ForwardOptions = {}): Tensor4D {
  const training = opts.training ?? false;
  if (training) releaseHeld();
  const plan = executionPlan(g, training ? 'training' : 'inference');
  const values = new Map<string, Tensor4D>([[INPUT_ID, input]]);
  const readsLeft = new Map<string, number>();
  const run = g.nodes.filter((n) => !plan.skipped.has(n.id));
  const readsOf = (n: IrNode) => planReads(plan, n);
  for (const n of run) for (const i of readsOf(n)) readsLeft.set(i, (readsLeft.get(i) ?? 0) + 1);
  for (const n of run) {
    const w: Record<string, Tensor> = {};
    const prefix = `${n.id}:`;
    for (const [k, t] of weights) if (k.startsWith(prefix)) w[k.slice(prefix.length)] = t;
    const like = typeof n.attrs.like === 'string' ? values.get(n.attrs.like)?.shape : undefined;
    const ctx = {
      tf,
      inputs: n.inputs.map((i) => values.get(i)!),
      attrs: n.attrs,
      w,
      like,
      training: n.op === 'dropout' ? (opts.dropout ?? training) : training,
      inputGrad: opts.inputGrad !== false || n.inputs[0] !== INPUT_ID,
      batchStats: opts.onBatchStats && ((m: Tensor, v: Tensor) => opts.onBatchStats!(n.id, m, v)),
    };
    const step = plan.convs.get(n.id);
    // a fused conv's value is stored under its activation's id, the node later nodes read
    const id = step?.activation?.id ?? n.id;
    const compute = (): Tensor4D => {
      if (!step) return (TFJS_KERNELS[n.op] as Kernel)(ctx) as Tensor4D;
      const act = (step.activation?.op ?? 'linear') as 'relu' | 'relu6' | 'linear';
      return (step.concatParts
        ? concatConv(ctx, step.concatParts.map((p) => ({ x: values.get(p.source)!, resize: p.resize && { size: resizedSize(p.resize, values.get(p.source)!), mode: p.resize.attrs.mode as string } })), act)
        : fusedConv(ctx, act)) as Tensor4D;
    };
    // inference frees each node's temporaries at once (a kernel of several TF.js ops would otherwise
    // leave them until the caller's tidy: ~1 GB per U-Net++ image at 512x512); training keeps them
    // for the gradient tape
    const y = training ? compute() : tf.tidy(compute);
    values.set(id, y);
    if (training) continue;
    for (const i of readsOf(n)) {
      const left = readsLeft.get(i)! - 1;
      readsLeft.set(i, left);
      const v = values.get(i)!;
      if (left === 0 && i !== INPUT_ID && i !== g.output.node && v !== y) v.dispose();
    }
  }
  return values.get(g.output.node)!;
}

/** A commuted resize's output size, from the tensor at run time (the graph may run at another size than it was compiled for). */
function resizedSize(r: IrNode, x: Tensor4D): [number, number] {
  const scale = r.attrs.scale;
  if (typeof scale === 'number') return [x.shape[1] * scale, x.shape[2] * scale];
  const size = r.attrs.size as readonly number[];
  return [size[0], size[1]];
}
