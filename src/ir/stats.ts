// Parameter and FLOP accounting per node, read from the op registry.
import { INPUT_ID, inputShape, type IrGraph, type IrNode, type Shape } from './graph.js';
import { opDef } from './ops.js';

export interface NodeStats {
  params: number;
  /** non-trainable values stored with the weights (BatchNorm running statistics) */
  state: number;
  flops: number;
}

export interface GraphStats {
  perNode: Map<string, NodeStats>;
  params: number;
  state: number;
  flops: number;
}

/** The shape of every node id, the input included. */
export function shapesOf(g: IrGraph): Map<string, Shape> {
  return new Map<string, Shape>([[INPUT_ID, inputShape(g)], ...g.nodes.map((n): [string, Shape] => [n.id, n.shape])]);
}

export function opContext(n: IrNode, shapes: Map<string, Shape>) {
  return {
    inputs: n.inputs.map((i) => shapes.get(i)!),
    names: n.inputs,
    attrs: n.attrs,
    ref: typeof n.attrs.like === 'string' ? shapes.get(n.attrs.like) : undefined,
  };
}

export function graphStats(g: IrGraph): GraphStats {
  const shapes = shapesOf(g);
  const perNode = new Map<string, NodeStats>();
  let params = 0;
  let state = 0;
  let flops = 0;
  for (const n of g.nodes) {
    const def = opDef(n.op);
    const ctx = opContext(n, shapes);
    const ws = def.weights(ctx);
    const count = (role: string) => ws.filter((w) => w.role === role).reduce((t, w) => t + w.shape.reduce((a, b) => a * b, 1), 0);
    const s = { params: count('trainable'), state: count('state'), flops: def.flops(ctx, n.shape) };
    perNode.set(n.id, s);
    params += s.params;
    state += s.state;
    flops += s.flops;
  }
  return { perNode, params, state, flops };
}

export interface MemoryEstimate {
  /** bytes of all activations of one step */
  total: number;
  /** the node with the largest activation, and its bytes */
  largest: { id: string; bytes: number };
}

/** Bytes per activation value (float32). */
export const BYTES_PER_VALUE = 4;
/** Forward activations kept for the backward pass, their gradients, and optimizer/workspace slack. */
export const TRAIN_MEMORY_FACTOR = 3;

/**
 * Activation memory of one step, estimated from the IR's shapes:
 *   bytes(node) = batch x h x w x c x 4 (float32) x factor, with h, w rescaled from the graph's
 *   input size to `size` (the training crop), since every shape scales with the input;
 *   total = sum over the input and every node. factor = 3 for a training step (forward values
 *   kept for backward + their gradients + slack), 1 for inference.
 * An estimate (fused kernels use less, framework overheads more); it catches shapes that cannot fit.
 */
export function activationMemory(g: IrGraph, batch: number, size: [number, number] = g.input.size, factor = TRAIN_MEMORY_FACTOR): MemoryEstimate {
  const sy = size[0] / g.input.size[0];
  const sx = size[1] / g.input.size[1];
  const bytesOf = (s: Shape) => batch * Math.max(1, Math.round(s.h * sy)) * Math.max(1, Math.round(s.w * sx)) * s.c * BYTES_PER_VALUE * factor;
  let total = bytesOf(inputShape(g));
  let largest = { id: INPUT_ID, bytes: total };
  for (const n of g.nodes) {
    const b = bytesOf(n.shape);
    total += b;
    if (b > largest.bytes) largest = { id: n.id, bytes: b };
  }
  return { total, largest };
}
