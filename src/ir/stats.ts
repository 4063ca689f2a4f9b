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
