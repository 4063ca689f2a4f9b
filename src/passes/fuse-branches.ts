// fuse-branches: add(conv_a(x), conv_b(x), ..., [bn(x) | x])  ==>  one conv(x).
// Precondition: every branch reads the same x and only the add reads it; the convs share stride,
// dilation, groups and out, use centred padding, and each kernel embeds centred in the largest; an
// identity branch (x or bn(x)) needs out == cin and stride 1. Covers RepVGG (3x3 + 1x1 + identity),
// ACNet (3x3 + 1x3 + 3x1) and 5x5 + 3x3. Algebra: convolution is linear in its kernel, so the sum
// of the zero-padded kernels (an identity is a centre tap, scaled by its BN) and the sum of the
// biases give one conv. Run after fold-bn, so each conv branch carries its BN as a bias.
// Invariant: the graph's function in inference mode.
import { consumers, type IrNode } from '../ir/graph.js';
import { padOf } from '../ir/ops.js';
import type { Tensor32, WeightStore } from '../ir/weights.js';
import { keepWeights, rewire, type Pass } from './pass.js';
import { addInto, bnAffine, embedKernel, identityKernel } from './weight-math.js';

const same = (a: readonly number[], b: readonly number[]) => a[0] === b[0] && a[1] === b[1];
const pair = (v: unknown) => v as readonly number[];

export const fuseBranches: Pass = {
  name: 'fuse-branches',
  invariant: 'inference-mode output unchanged; each sum of parallel linear branches over one input becomes one conv',
  run(g, weights) {
    const readers = consumers(g);
    const byId = new Map(g.nodes.map((n) => [n.id, n]));
    const removed = new Set<string>();
    const changed = new Map<string, IrNode>();
    const newWeights = new Map<string, Record<string, Tensor32>>();
    for (const add of g.nodes) {
      if (add.op !== 'add') continue;
      const match = matchBranches(add, byId, (id) => (readers.get(id) ?? []).length === 1 && id !== g.output.node);
      if (!match) continue;
      match.branches.forEach((b) => removed.add(b.id));
      changed.set(add.id, match.conv);
      if (weights) newWeights.set(add.id, fusedWeights(match, weights));
    }
    if (!changed.size) return { graph: g, weights, rewrites: 0 };
    const graph = rewire({ ...g, nodes: g.nodes.map((n) => changed.get(n.id) ?? n) }, removed, new Map());
    return { graph, weights: keepWeights(weights, graph, newWeights), rewrites: changed.size };
  },
};

interface Match {
  conv: IrNode;
  /** nodes the fused conv replaces: conv and bn branches */
  branches: IrNode[];
  /** identity branches: a bn over x, or x itself (undefined) */
  identities: (IrNode | undefined)[];
}

function matchBranches(add: IrNode, byId: Map<string, IrNode>, onlyReadByAdd: (id: string) => boolean): Match | undefined {
  const branches = add.inputs.map((id) => byId.get(id));
  // the source each branch reads: a conv's or bn's input, or the add's input itself (identity)
  const sources = add.inputs.map((id, i) => {
    const b = branches[i];
    return b && (b.op === 'conv' || b.op === 'bn') ? b.inputs[0] : id;
  });
  const x = sources[0];
  if (!sources.every((s) => s === x)) return undefined;
  const convs = branches.filter((b): b is IrNode => !!b && b.op === 'conv');
  const bns = branches.filter((b): b is IrNode => !!b && b.op === 'bn');
  if (!convs.length || [...convs, ...bns].some((c) => !onlyReadByAdd(c.id))) return undefined;
  const big = convs.reduce((a, c) => (kernelArea(c) > kernelArea(a) ? c : a));
  const k = pair(big.attrs.kernel);
  for (const c of convs) {
    const ck = pair(c.attrs.kernel);
    const d = pair(c.attrs.dilation);
    const fits = ck[0] <= k[0] && ck[1] <= k[1] && (k[0] - ck[0]) % 2 === 0 && (k[1] - ck[1]) % 2 === 0;
    const centred = same(padOf(c.attrs), [(d[0] * (ck[0] - 1)) / 2, (d[1] * (ck[1] - 1)) / 2]);
    if (!fits || !centred || !same(pair(c.attrs.stride), pair(big.attrs.stride)) || !same(d, pair(big.attrs.dilation)) || c.attrs.groups !== big.attrs.groups || c.attrs.out !== big.attrs.out) return undefined;
  }
  // what is not a conv is an identity branch: a bn over x, or x itself
  const identities = branches.filter((b) => b?.op !== 'conv').map((b) => (b?.op === 'bn' ? b : undefined));
  if (identities.length && !(same(pair(big.attrs.stride), [1, 1]) && add.shape.c === big.attrs.out)) return undefined;
  const conv: IrNode = {
    ...big,
    id: add.id,
    attrs: { ...big.attrs, bias: true },
    shape: add.shape,
    origin: [...convs, ...bns].flatMap((b) => b.origin).concat(add.origin),
  };
  return { conv, branches: [...convs, ...bns], identities };
}

function fusedWeights(m: Match, weights: WeightStore): Record<string, Tensor32> {
  const [KH, KW] = pair(m.conv.attrs.kernel);
  const out = m.conv.attrs.out as number;
  const groups = m.conv.attrs.groups as number;
  const cin = weights.get(`${m.branches[0].id}:kernel`)!.shape[2];
  const kernel: Tensor32 = { shape: [KH, KW, cin, out], data: new Float32Array(KH * KW * cin * out) };
  const bias = new Float32Array(out);
  for (const c of m.branches.filter((b) => b.op === 'conv')) {
    addInto(kernel.data, embedKernel(weights.get(`${c.id}:kernel`)!, KH, KW).data);
    const b = weights.get(`${c.id}:bias`);
    if (b) addInto(bias, b.data);
  }
  for (const bn of m.identities) {
    if (!bn) {
      addInto(kernel.data, identityKernel(KH, KW, out, groups).data);
      continue;
    }
    const w = (name: string) => weights.get(`${bn.id}:${name}`)!;
    const { scale, shift } = bnAffine(w('gamma'), w('beta'), w('mean'), w('variance'), bn.attrs.eps as number);
    addInto(kernel.data, identityKernel(KH, KW, out, groups, scale).data);
    addInto(bias, shift);
  }
  return { kernel, bias: { shape: [out], data: bias } };
}

const kernelArea = (c: IrNode) => pair(c.attrs.kernel)[0] * pair(c.attrs.kernel)[1];
