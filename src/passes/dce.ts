// dce: removes every node the output does not depend on, and its weights.
// Invariant: the output and its ancestors, in order; nothing else.
import { readsOf } from '../ir/graph.js';
import { keepWeights, type Pass } from './pass.js';

export const dce: Pass = {
  name: 'dce',
  invariant: 'the output node and everything it reads are kept, in order; nothing else is',
  run(g, weights) {
    const live = new Set<string>([g.output.node]);
    for (const n of [...g.nodes].reverse()) if (live.has(n.id)) readsOf(n).forEach((i) => live.add(i));
    const nodes = g.nodes.filter((n) => live.has(n.id));
    const graph = { ...g, nodes };
    return { graph, weights: keepWeights(weights, graph, new Map()), rewrites: g.nodes.length - nodes.length };
  },
};
