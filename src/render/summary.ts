// src/render/: pure views of a compiled spec: tables, drawings, graph JSON, model card.
// May import: ir, frontend.
// The summary view of a compiled spec: one data object (what `--json` prints) and its text form.
import type { Compiled } from '../frontend/compile.js';
import type { IrGraph } from '../ir/graph.js';
import type { GraphStats } from '../ir/stats.js';
import { formatCount, formatGflop, formatInt, formatPair, formatShape } from './format.js';
import { aggregateRows, type GroupRow, type NodeRow } from './groups.js';
import { renderTable } from './table.js';

export interface FormTotals {
  params: number;
  /** BatchNorm running statistics: stored with the weights, not trained */
  state: number;
  flops: number;
  nodeCount: number;
}

export interface SummaryData {
  name: string;
  input: { channels: number; size: [number, number] };
  stride: [number, number];
  train: FormTotals;
  deploy: FormTotals;
  passes: { pass: string; rewrites: number; nodesBefore: number; nodesAfter: number }[];
  /** which form `nodes` lists */
  form: 'train' | 'deploy';
  /** the --depth the rows are aggregated to; null: one row per IR node */
  depth: number | null;
  nodes: GroupRow[];
}

export interface SummaryOptions {
  deploy?: boolean;
  depth?: number;
}

export function nodeRows(g: IrGraph, stats: GraphStats): NodeRow[] {
  return g.nodes.map((n) => {
    const s = stats.perNode.get(n.id) ?? { params: 0, state: 0, flops: 0 };
    return { id: n.id, op: n.op, shape: n.shape, params: s.params, state: s.state, flops: s.flops };
  });
}

const totals = (g: IrGraph, s: GraphStats): FormTotals => ({ params: s.params, state: s.state, flops: s.flops, nodeCount: g.nodes.length });

export function summaryData(c: Compiled, opts: SummaryOptions = {}): SummaryData {
  const form = opts.deploy ? 'deploy' : 'train';
  const [g, s] = opts.deploy ? [c.deploy, c.deployStats] : [c.graph, c.stats];
  return {
    name: c.graph.name,
    input: { channels: c.graph.input.channels, size: [...c.graph.input.size] },
    stride: [...c.stride],
    train: totals(c.graph, c.stats),
    deploy: totals(c.deploy, c.deployStats),
    passes: c.passes.map((p) => ({ ...p })),
    form,
    depth: opts.depth ?? null,
    nodes: aggregateRows(nodeRows(g, s), opts.depth),
  };
}

/** The node table alone: one line per row of `nodes`. */
export function nodeTable(rows: readonly GroupRow[]): string {
  return renderTable(
    [{ title: 'name' }, { title: 'op' }, { title: 'output', align: 'right' }, { title: 'params', align: 'right' }, { title: 'FLOPs', align: 'right' }],
    rows.map((r) => [r.id, r.op, formatShape(r.shape), formatCount(r.params), formatCount(r.flops)]),
  );
}

export function summaryText(d: SummaryData): string {
  const [h, w] = d.input.size;
  const stride = d.stride[0] === d.stride[1] ? String(d.stride[0]) : formatPair(d.stride);
  const formName = d.form === 'train' ? 'training form' : 'deploy form';
  const rowsNote = d.depth === null ? `${d.nodes.length} nodes` : `${d.nodes.length} groups at depth ${d.depth}`;
  const totalsTable = renderTable(
    [{ title: '' }, { title: 'params', align: 'right' }, { title: '', align: 'right' }, { title: 'BN state', align: 'right' }, { title: 'GFLOP', align: 'right' }, { title: 'nodes', align: 'right' }],
    (['train', 'deploy'] as const).map((f) => {
      const t = d[f];
      return [f === 'train' ? 'training' : 'deploy', formatInt(t.params), `(${formatCount(t.params)})`, formatInt(t.state), formatGflop(t.flops), String(t.nodeCount)];
    }),
  );
  return [
    `${d.name}: input ${h}x${w}x${d.input.channels}, network stride ${stride}; ${formName}, ${rowsNote}`,
    '',
    nodeTable(d.nodes),
    '',
    totalsTable,
    '',
    `passes: ${d.passes.map((p) => `${p.pass} ${p.rewrites}`).join(', ')} (rewrites)`,
  ].join('\n');
}
