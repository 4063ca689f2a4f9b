// The graph as boxes and edges, ready for any drawing syntax (dot, mermaid). With a depth, every
// module instance deeper than it becomes one box, and edges between boxes are deduplicated.
import { INPUT_ID, inputShape, type IrGraph, type Shape } from '../ir/graph.js';
import { groupKey, opSummary } from './groups.js';

export interface Box {
  id: string;
  /** the op, or for a collapsed module the summary of its ops */
  op: string;
  /** the output shape (a collapsed module's last node) */
  shape: Shape;
  /** IR nodes inside; 0 for the network input */
  nodes: number;
  collapsed: boolean;
  output: boolean;
}

export interface Edge {
  from: string;
  to: string;
  /** 'like': the reader takes only the spatial size (resize like:), drawn dashed */
  kind: 'data' | 'like';
}

export interface Drawing {
  name: string;
  boxes: Box[];
  edges: Edge[];
}

export function drawing(g: IrGraph, depth?: number): Drawing {
  const boxes = new Map<string, Box & { ops: string[] }>();
  boxes.set(INPUT_ID, { id: INPUT_ID, op: 'input', shape: inputShape(g), nodes: 0, collapsed: false, output: false, ops: [] });
  const key = (id: string) => (id === INPUT_ID ? INPUT_ID : groupKey(id, depth));
  const edges = new Map<string, Edge>();
  const addEdge = (from: string, to: string, kind: Edge['kind']) => {
    if (from === to) return;
    const k = `${from}\u0000${to}`;
    // a data edge wins over a size-only edge between the same two boxes
    if (!edges.has(k) || kind === 'data') edges.set(k, { from, to, kind });
  };
  for (const n of g.nodes) {
    const k = key(n.id);
    const b = boxes.get(k);
    if (b) {
      b.ops.push(n.op);
      b.shape = n.shape;
      b.nodes++;
    } else boxes.set(k, { id: k, op: n.op, shape: n.shape, nodes: 1, collapsed: k !== n.id, output: false, ops: [n.op] });
    for (const i of n.inputs) addEdge(key(i), k, 'data');
    if (typeof n.attrs.like === 'string' && n.attrs.like !== '') addEdge(key(n.attrs.like), k, 'like');
  }
  const out = boxes.get(key(g.output.node));
  if (out) out.output = true;
  return {
    name: g.name,
    boxes: [...boxes.values()].map(({ ops, ...b }) => ({ ...b, op: b.collapsed ? opSummary(ops) : b.op })),
    edges: [...edges.values()],
  };
}
