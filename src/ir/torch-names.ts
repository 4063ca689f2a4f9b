// alcli's PyTorch naming: one name per weight, as a generated nn.Module would hold it. The node id's
// module path with '.' for '/' (`e3/blocks.2/dense` -> `e3.blocks.2.dense`), then the parameter as
// PyTorch calls it: conv kernel -> weight (OIHW), conv bias -> bias, BatchNorm gamma -> weight,
// beta -> bias, mean -> running_mean, variance -> running_var. Export (safetensors) and import
// (the `alcli` map) both use it.
import type { IrGraph } from './graph.js';
import type { OpKind } from './ops.js';
import { weightKey, weightSpecs } from './weights.js';

/** alcli parameter name -> PyTorch's, per op. */
const TORCH_PARAM: Partial<Record<OpKind, Record<string, string>>> = {
  conv: { kernel: 'weight', bias: 'bias' },
  conv_transpose: { kernel: 'weight', bias: 'bias' },
  bn: { gamma: 'weight', beta: 'bias', mean: 'running_mean', variance: 'running_var' },
};

/** PyTorch's name of a parameter of a node of this op: kernel -> weight, mean -> running_mean, ... */
export const torchParam = (op: OpKind, param: string) => TORCH_PARAM[op]?.[param] ?? param;

/** The PyTorch name of one weight of a node (op `op`), e.g. ('e1/down/dense_bn', 'bn', 'mean') -> 'e1.down.dense_bn.running_mean'. */
export function torchName(node: string, op: OpKind, param: string): string {
  return `${node.replaceAll('/', '.')}.${torchParam(op, param)}`;
}

/** The alcli parameter a PyTorch parameter name stands for on a node of this op (`weight` of a bn -> gamma); the name itself when it is already alcli's. */
export function alcliParam(op: OpKind, torchParam: string): string {
  const table = TORCH_PARAM[op] ?? {};
  return Object.entries(table).find(([, t]) => t === torchParam)?.[0] ?? torchParam;
}

/** Whether a weight is a conv kernel, stored HWIO by alcli and OIHW by PyTorch. */
export const isKernel = (op: OpKind, param: string) => (op === 'conv' || op === 'conv_transpose') && param === 'kernel';

/** HWIO (alcli; conv_transpose: kh, kw, out, in) -> OIHW (PyTorch; conv_transpose: in, out, kh, kw). */
export const HWIO_TO_OIHW = [3, 2, 0, 1] as const;
/** OIHW -> HWIO, the inverse of HWIO_TO_OIHW. */
export const OIHW_TO_HWIO = [2, 3, 1, 0] as const;

/**
 * Every weight key of a graph (`NODE:NAME`) -> its PyTorch name, in the graph's order. Two keys
 * with one name (node ids `a/b.c` and `a.b/c`) throw: the naming would not round-trip.
 */
export function torchNames(g: IrGraph): Map<string, string> {
  const out = new Map<string, string>();
  const seen = new Map<string, string>();
  for (const { node, spec } of weightSpecs(g)) {
    const key = weightKey(node.id, spec.name);
    const name = torchName(node.id, node.op, spec.name);
    const other = seen.get(name);
    if (other) throw new Error(`'${key}' and '${other}' both have the PyTorch name '${name}': rename one of the nodes`);
    seen.set(name, key);
    out.set(key, name);
  }
  return out;
}
