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

// The kernel layouts (HWIO here, OIHW in PyTorch) are layout.ts's: isKernel, HWIO_TO_OIHW, OIHW_TO_HWIO.
export { isKernel, HWIO_TO_OIHW, OIHW_TO_HWIO } from './layout.js';

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
