// src/ir/: the graph IR every stage reads, the op registry, shapes, stride and accounting, diagnostics, the plain weight store.
// May import: nothing of src/.
// The IR: a DAG of primitive ops in NHWC, batch implicit. Produced by expanding a spec's modules;
// every later stage (summary, passes, executor, emitters) reads this and nothing else.
import type { SourcePos } from './diagnostics.js';
import type { OpKind } from './ops.js';
import type { Attrs, Shape } from './shape.js';

export type { AttrValue, Attrs, Shape } from './shape.js';

export interface IrNode {
  /** hierarchical name: module calls nest with '/', repeat instances get '.k' (e.g. `e3/blocks.2/dense`) */
  id: string;
  op: OpKind;
  /** data inputs, by node id; 'input' is the network input */
  inputs: string[];
  /** every attribute resolved, defaults included */
  attrs: Attrs;
  /** inferred output shape */
  shape: Shape;
  /** YAML positions of what this node came from, outermost call first; a fused node keeps all of its parts' */
  origin: SourcePos[];
}

export interface IrGraph {
  name: string;
  input: { channels: number; size: [number, number] };
  output: { node: string; classes: number; activation: 'sigmoid' | 'softmax' | 'none' };
  /** topological order */
  nodes: IrNode[];
}

export const INPUT_ID = 'input';

export function nodeMap(g: IrGraph): Map<string, IrNode> {
  return new Map(g.nodes.map((n) => [n.id, n]));
}

export function inputShape(g: IrGraph): Shape {
  return { h: g.input.size[0], w: g.input.size[1], c: g.input.channels };
}

/** Ids read by a node: its data inputs and any node named by a reference attribute (resize `like`). */
export function readsOf(n: IrNode): string[] {
  return typeof n.attrs.like === 'string' && n.attrs.like !== '' ? [...n.inputs, n.attrs.like] : n.inputs;
}

/** Consumers of each node id. */
export function consumers(g: IrGraph): Map<string, IrNode[]> {
  const m = new Map<string, IrNode[]>();
  for (const n of g.nodes) for (const i of readsOf(n)) m.set(i, [...(m.get(i) ?? []), n]);
  return m;
}
