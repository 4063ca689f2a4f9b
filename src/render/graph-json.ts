// graph.json: the IR of both forms as plain JSON (schemas/graph.schema.json describes it).
import type { Compiled } from '../frontend/compile.js';
import type { Attrs, IrGraph, Shape } from '../ir/graph.js';
import type { SourcePos } from '../ir/diagnostics.js';

export const GRAPH_FORMAT_VERSION = 1;

export interface GraphJsonNode {
  id: string;
  op: string;
  inputs: string[];
  attrs: Attrs;
  shape: Shape;
  origin: SourcePos[];
}

export interface GraphJsonForm {
  name: string;
  input: { channels: number; size: [number, number] };
  output: { node: string; classes: number; activation: string };
  nodes: GraphJsonNode[];
}

export interface GraphJson extends GraphJsonForm {
  version: number;
  /** the spec file it was compiled from, as given on the command line */
  source: string;
  stride: [number, number];
  deploy: GraphJsonForm;
}

/**
 * Fused nodes keep every part's origin chain, so the outer module calls repeat once per part;
 * each position is kept once, in first-seen order (outermost call first still holds).
 */
export function uniqueOrigins(origin: readonly SourcePos[]): SourcePos[] {
  const seen = new Set<string>();
  return origin.filter((p) => {
    const k = `${p.file}:${p.line}:${p.col}:${p.endLine}:${p.endCol}`;
    return seen.has(k) ? false : (seen.add(k), true);
  });
}

export function graphForm(g: IrGraph): GraphJsonForm {
  return {
    name: g.name,
    input: { channels: g.input.channels, size: [...g.input.size] },
    output: { ...g.output },
    nodes: g.nodes.map((n) => ({
      id: n.id,
      op: n.op,
      inputs: [...n.inputs],
      attrs: { ...n.attrs },
      shape: { ...n.shape },
      origin: uniqueOrigins(n.origin).map((p) => ({ ...p })),
    })),
  };
}

export function graphJson(c: Compiled, source: string): GraphJson {
  const { name, ...train } = graphForm(c.graph);
  return { version: GRAPH_FORMAT_VERSION, name, source, stride: [...c.stride], ...train, deploy: graphForm(c.deploy) };
}
