// fold-bn: conv -> bn  ==>  conv with bias; conv_transpose -> bn  ==>  conv_transpose with bias.
// Precondition: the bn reads only the conv, and nothing else reads the conv.
// Algebra (inference mode): bn(W*x + b) = s W * x + s (b - mean) + beta, with
// s = gamma / sqrt(var + eps) per output channel and eps read from the bn node. A transposed
// conv is linear in W the same way; its kernel's output axis is 2 ([kh, kw, out, cin]), not 3.
// Invariant: the graph's function in inference mode.
import { consumers, type IrNode } from '../ir/graph.js';
import type { Tensor32 } from '../ir/weights.js';
import { keepWeights, rewire, type Pass } from './pass.js';
import { bnAffine, foldAffine } from './weight-math.js';

export const foldBn: Pass = {
  name: 'fold-bn',
  invariant: 'inference-mode output unchanged; every conv or conv_transpose followed only by a BatchNorm absorbs it',
  run(g, weights) {
    const readers = consumers(g);
    const byId = new Map(g.nodes.map((n) => [n.id, n]));
    const removed = new Set<string>();
    const replacement = new Map<string, string>();
    const changed = new Map<string, IrNode>();
    const newWeights = new Map<string, Record<string, Tensor32>>();
    for (const bn of g.nodes) {
      if (bn.op !== 'bn') continue;
      const conv = byId.get(bn.inputs[0]);
      if (!conv || (conv.op !== 'conv' && conv.op !== 'conv_transpose') || (readers.get(conv.id) ?? []).length !== 1 || conv.id === g.output.node) continue;
      changed.set(conv.id, { ...conv, attrs: { ...conv.attrs, bias: true }, shape: bn.shape, origin: [...conv.origin, ...bn.origin] });
      removed.add(bn.id);
      replacement.set(bn.id, conv.id);
      if (weights) {
        const w = (node: string, name: string) => weights.get(`${node}:${name}`)!;
        const { scale, shift } = bnAffine(w(bn.id, 'gamma'), w(bn.id, 'beta'), w(bn.id, 'mean'), w(bn.id, 'variance'), bn.attrs.eps as number);
        newWeights.set(conv.id, foldAffine(w(conv.id, 'kernel'), weights.get(`${conv.id}:bias`), scale, shift, conv.op === 'conv' ? 3 : 2));
      }
    }
    if (!removed.size) return { graph: g, weights, rewrites: 0 };
    const graph = rewire({ ...g, nodes: g.nodes.map((n) => changed.get(n.id) ?? n) }, removed, replacement);
    return { graph, weights: keepWeights(weights, graph, newWeights), rewrites: removed.size };
  },
};
