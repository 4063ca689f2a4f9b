// fuse-branches: add(conv_a(x), conv_b(x), ..., [bn(x) | x])  ==>  one conv(x).
// Precondition: every branch reads the same x and only the add reads it; the convs share stride,
// dilation and groups, use centred padding, and each kernel embeds centred in the largest; an
// identity branch (x or bn(x)) needs out == cin and stride 1. Covers RepVGG (3x3 + 1x1 + identity)
// and ACNet-style (3x3 + 1x3 + 3x1). Algebra: convolution is linear in its kernel, so the sum of
// the zero-padded kernels (identity = a one-hot centre tap) and the sum of biases give one conv.
// Run after fold-bn, so each conv branch carries its BatchNorm as a bias. Invariant: inference output.
import { consumers, type IrNode } from '../ir/graph.js';
import { padOf } from '../ir/ops.js';
import { rewire, type Pass } from './pass.js';

const same = (a: readonly number[], b: readonly number[]) => a[0] === b[0] && a[1] === b[1];

export const fuseBranches: Pass = {
  name: 'fuse-branches',
  invariant: 'inference-mode output unchanged; each sum of parallel linear branches over one input becomes one conv',
  run(g) {
    const readers = consumers(g);
    const byId = new Map(g.nodes.map((n) => [n.id, n]));
    const removed = new Set<string>();
    const changed = new Map<string, IrNode>();
    for (const add of g.nodes) {
      if (add.op !== 'add') continue;
      const fused = fuse(add, byId, (id) => (readers.get(id) ?? []).length === 1 && id !== g.output.node);
      if (!fused) continue;
      fused.branches.forEach((b) => removed.add(b.id));
      changed.set(add.id, fused.conv);
    }
    if (!changed.size) return { graph: g, rewrites: 0 };
    return { graph: rewire({ ...g, nodes: g.nodes.map((n) => changed.get(n.id) ?? n) }, removed, new Map()), rewrites: changed.size };
  },
};

function fuse(add: IrNode, byId: Map<string, IrNode>, onlyReadByAdd: (id: string) => boolean): { conv: IrNode; branches: IrNode[] } | undefined {
  const branches = add.inputs.map((id) => byId.get(id));
  // the source each branch reads: a conv's or bn's input, or the add's input itself (identity)
  const sources = add.inputs.map((id, i) => {
    const b = branches[i];
    return b && (b.op === 'conv' || b.op === 'bn') ? b.inputs[0] : id;
  });
  const x = sources[0];
  if (!sources.every((s) => s === x)) return undefined;
  const convs = branches.filter((b): b is IrNode => !!b && b.op === 'conv' && b.inputs[0] === x);
  if (!convs.length || convs.some((c) => !onlyReadByAdd(c.id))) return undefined;
  const identities = add.inputs.length - convs.length;
  if (branches.some((b) => b && b.op === 'bn' && b.inputs[0] === x && !onlyReadByAdd(b.id))) return undefined;
  const big = convs.reduce((a, c) => (kernelArea(c) > kernelArea(a) ? c : a));
  const k = big.attrs.kernel as number[];
  for (const c of convs) {
    const ck = c.attrs.kernel as number[];
    const fits = ck[0] <= k[0] && ck[1] <= k[1] && (k[0] - ck[0]) % 2 === 0 && (k[1] - ck[1]) % 2 === 0;
    const centred = same(padOf(c.attrs), [((c.attrs.dilation as number[])[0] * (ck[0] - 1)) / 2, ((c.attrs.dilation as number[])[1] * (ck[1] - 1)) / 2]);
    if (!fits || !centred || !same(c.attrs.stride as number[], big.attrs.stride as number[]) || !same(c.attrs.dilation as number[], big.attrs.dilation as number[]) || c.attrs.groups !== big.attrs.groups || c.attrs.out !== big.attrs.out) return undefined;
  }
  if (identities && !(same(big.attrs.stride as number[], [1, 1]) && add.shape.c === big.attrs.out)) return undefined;
  const used = branches.filter((b): b is IrNode => !!b && (b.op === 'conv' || b.op === 'bn') && b.inputs[0] === x);
  const conv: IrNode = {
    ...big,
    id: add.id,
    attrs: { ...big.attrs, bias: true },
    shape: add.shape,
    origin: [...used.flatMap((b) => b.origin), ...add.origin],
  };
  return { conv, branches: used };
}

const kernelArea = (c: IrNode) => (c.attrs.kernel as number[])[0] * (c.attrs.kernel as number[])[1];
