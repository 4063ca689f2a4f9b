// A compiler pass: a named pure rewrite of the IR that keeps one stated invariant (STYLE.md 3, 4).
import type { IrGraph, IrNode } from '../ir/graph.js';

export interface PassResult {
  graph: IrGraph;
  /** how many rewrites the pass made; 0 means the graph came back unchanged */
  rewrites: number;
}

export interface Pass {
  /** as on the command line and in the file name */
  name: string;
  /** what the pass preserves, in one line */
  invariant: string;
  run(g: IrGraph): PassResult;
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
