// A compiler pass: a named pure rewrite of the IR (and, when given, its weights) that keeps one
// stated invariant (STYLE.md 3, 4).
import type { IrGraph, IrNode } from '../ir/graph.js';
import type { Tensor32, WeightStore } from '../ir/weights.js';

export interface PassResult {
  graph: IrGraph;
  /** the rewritten weights; present when weights were passed in */
  weights?: WeightStore;
  /** how many rewrites the pass made; 0 means the graph came back unchanged */
  rewrites: number;
}

export interface Pass {
  /** as on the command line and in the file name */
  name: string;
  /** what the pass preserves, in one line */
  invariant: string;
  /** without weights a pass rewrites the structure alone (what `alcli summary` counts) */
  run(g: IrGraph, weights?: WeightStore): PassResult;
}

/** Removes nodes by id and points every reader of a removed node at its replacement. */
export function rewire(g: IrGraph, removed: Set<string>, replacement: Map<string, string>): IrGraph {
  const to = (id: string) => replacement.get(id) ?? id;
  return {
    ...g,
    output: { ...g.output, node: to(g.output.node) },
    nodes: g.nodes
      .filter((n) => !removed.has(n.id))
      .map((n): IrNode => {
        const attrs = typeof n.attrs.like === 'string' ? { ...n.attrs, like: to(n.attrs.like) } : n.attrs;
        return { ...n, inputs: n.inputs.map(to), attrs };
      }),
  };
}

/** The weights of the nodes still in the graph, with `changed` node ids' tensors replaced. */
export function keepWeights(weights: WeightStore | undefined, g: IrGraph, changed: Map<string, Record<string, Tensor32>>): WeightStore | undefined {
  if (!weights) return undefined;
  const live = new Set(g.nodes.map((n) => n.id));
  const out: WeightStore = new Map();
  for (const [k, t] of weights) {
    const id = k.slice(0, k.lastIndexOf(':'));
    if (live.has(id) && !changed.has(id)) out.set(k, t);
  }
  for (const [id, tensors] of changed) for (const [name, t] of Object.entries(tensors)) out.set(`${id}:${name}`, t);
  return out;
}
