// The same graph at another input size. Weights never depend on the spatial size (a conv kernel is
// [kh, kw, cin, out], a global pool ends in 1x1), so a fully convolutional network compiled at one
// size runs at any other that its shape rules accept: only the recorded shapes change. This is what
// compile(..., {size}) would produce, without the spec: every node's shape is re-inferred from the
// op registry, in topological order.
import { INPUT_ID, type IrGraph, type Shape } from './graph.js';
import { isShapeFailure, opDef } from './ops.js';
import { opContext } from './stats.js';

export class ResizeGraphError extends Error {}

export function resizeGraph(g: IrGraph, [h, w]: readonly [number, number]): IrGraph {
  if (!(Number.isInteger(h) && Number.isInteger(w) && h > 0 && w > 0)) throw new ResizeGraphError(`input size ${h}x${w} is not a positive integer size`);
  if (g.input.size[0] === h && g.input.size[1] === w) return g;
  const shapes = new Map<string, Shape>([[INPUT_ID, { h, w, c: g.input.channels }]]);
  const nodes = g.nodes.map((n) => {
    const s = opDef(n.op).shape(opContext(n, shapes));
    if (isShapeFailure(s)) throw new ResizeGraphError(`at input size ${h}x${w}, '${n.id}': ${s.message}`);
    shapes.set(n.id, s);
    return { ...n, shape: s };
  });
  return { ...g, input: { ...g.input, size: [h, w] }, nodes };
}
