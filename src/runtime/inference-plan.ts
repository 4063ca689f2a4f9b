// How the executor runs a graph: the IR stays as it is (the ONNX and TF.js graph emitters see
// every node), but a few neighbouring nodes run as one TF.js call.
//  - conv -> relu/relu6: one fused kernel (bias and clamp applied while writing the output;
//    inference only: TF.js's fused conv has no wasm gradient);
//  - conv(concat(...)): one conv per part, summed, so the concat is never built;
//  - a part that is a `resize` (by scale or size) of a 1x1 conv's input: the conv runs first, at
//    the low resolution, and only its output is resized (both are linear per pixel).
// Each rewrite needs the intermediate value to have no other reader and not to be the output.
// Training runs the concat and resize rewrites too: they are exact, and they spare the backward
// pass wasm's slow SplitV (~65 ms on 4x128x128x160) and AL-Net's x16 resize gradient of 128
// channels (~170 ms), which becomes a 1-channel one.
import { consumers, type IrGraph, type IrNode } from '../ir/graph.js';

export interface ConvStep {
  conv: IrNode;
  /** the relu/relu6 node absorbed into the conv; its id names the result */
  activation?: IrNode;
  /** the concat the conv reads, run part by part; resized parts are listed with their resize */
  concatParts?: { source: string; resize?: IrNode }[];
}

export interface InferencePlan {
  /** nodes not run on their own: absorbed activations, split concats, commuted resizes */
  skipped: Set<string>;
  convs: Map<string, ConvStep>;
}

const plans = { inference: new WeakMap<IrGraph, InferencePlan>(), training: new WeakMap<IrGraph, InferencePlan>() };

export function executionPlan(g: IrGraph, mode: 'inference' | 'training'): InferencePlan {
  const cached = plans[mode].get(g);
  if (cached) return cached;
  const readers = consumers(g);
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  const soleReader = (id: string) => {
    const r = readers.get(id) ?? [];
    return r.length === 1 && id !== g.output.node ? r[0] : undefined;
  };
  const skipped = new Set<string>();
  const convs = new Map<string, ConvStep>();
  for (const conv of g.nodes) {
    if (conv.op !== 'conv') continue;
    const step: ConvStep = { conv };
    const next = soleReader(conv.id);
    if (mode === 'inference' && next && (next.op === 'relu' || next.op === 'relu6')) {
      step.activation = next;
      skipped.add(next.id);
    }
    const cat = byId.get(conv.inputs[0]);
    if (cat?.op === 'concat' && conv.attrs.groups === 1 && soleReader(cat.id) === conv) {
      const pointwise = [...(conv.attrs.kernel as number[]), ...(conv.attrs.stride as number[]), ...(conv.attrs.dilation as number[])].every((v) => v === 1) && !conv.attrs.pad;
      step.concatParts = cat.inputs.map((source) => {
        const r = byId.get(source);
        if (pointwise && r?.op === 'resize' && r.attrs.like === undefined && soleReader(r.id) === cat) {
          skipped.add(r.id);
          return { source: r.inputs[0], resize: r };
        }
        return { source };
      });
      skipped.add(cat.id);
    }
    if (step.activation || step.concatParts) convs.set(conv.id, step);
  }
  const plan = { skipped, convs };
  plans[mode].set(g, plan);
  return plan;
}

/** The ids a node's run reads under the plan (a split conv reads the concat's parts). */
export function planReads(plan: InferencePlan, n: IrNode): string[] {
  const parts = plan.convs.get(n.id)?.concatParts;
  const likes = typeof n.attrs.like === 'string' ? [n.attrs.like] : [];
  return [...(parts ? parts.map((p) => p.source) : n.inputs), ...likes];
}
