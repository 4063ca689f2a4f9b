// fold-bn: conv -> bn  ==>  conv with bias.
// Precondition: the bn reads only the conv, and nothing else reads the conv.
// Algebra (inference mode): bn(W*x + b) = (gamma/sigma) W * x + (gamma/sigma)(b - mean) + beta,
// sigma = sqrt(var + eps), eps taken from the bn node. Invariant: the graph's function in
// inference mode. Weights are rewritten with the same match (issue #4); this is the structure.
import { consumers } from '../ir/graph.js';
import { rewire, type Pass } from './pass.js';

export const foldBn: Pass = {
  name: 'fold-bn',
  invariant: 'inference-mode output unchanged; every conv followed only by a BatchNorm absorbs it',
  run(g) {
    const readers = consumers(g);
    const byId = new Map(g.nodes.map((n) => [n.id, n]));
    const removed = new Set<string>();
    const replacement = new Map<string, string>();
    const changed = new Map<string, typeof g.nodes[number]>();
    for (const bn of g.nodes) {
      if (bn.op !== 'bn') continue;
      const conv = byId.get(bn.inputs[0]);
      if (!conv || conv.op !== 'conv' || (readers.get(conv.id) ?? []).length !== 1 || conv.id === g.output.node) continue;
      changed.set(conv.id, { ...conv, attrs: { ...conv.attrs, bias: true }, shape: bn.shape, origin: [...conv.origin, ...bn.origin] });
      removed.add(bn.id);
      replacement.set(bn.id, conv.id);
    }
    if (!removed.size) return { graph: g, rewrites: 0 };
    const graph = rewire({ ...g, nodes: g.nodes.map((n) => changed.get(n.id) ?? n) }, removed, replacement);
    return { graph, rewrites: removed.size };
  },
};
