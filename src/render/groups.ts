// Collapsing the IR by module depth. Node ids nest module calls with '/' (`e4/blocks.3/dense`),
// so the first N segments of an id name the module instance it belongs to at depth N.
import type { Shape } from '../ir/graph.js';

/** The first `depth` segments of an id; the id itself when it is no deeper, or depth is unset. */
export function groupKey(id: string, depth?: number): string {
  if (depth === undefined) return id;
  const parts = id.split('/');
  return parts.length <= depth ? id : parts.slice(0, depth).join('/');
}

/** Ops of a group in order of first use, with counts: 'conv x2, bn x3, add, relu'. */
export function opSummary(ops: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const op of ops) counts.set(op, (counts.get(op) ?? 0) + 1);
  return [...counts].map(([op, n]) => (n === 1 ? op : `${op} x${n}`)).join(', ');
}

export interface NodeRow {
  id: string;
  op: string;
  shape: Shape;
  params: number;
  state: number;
  flops: number;
}

export interface GroupRow extends NodeRow {
  /** how many IR nodes the row stands for; 1 for a node shown as itself */
  nodes: number;
}

/**
 * One row per group, in order of each group's first node. A group's shape is its last node's
 * (the module's output, since ids come in topological order); counts are summed.
 */
export function aggregateRows(rows: readonly NodeRow[], depth?: number): GroupRow[] {
  const groups = new Map<string, { rows: NodeRow[] }>();
  for (const r of rows) {
    const k = groupKey(r.id, depth);
    const g = groups.get(k);
    if (g) g.rows.push(r);
    else groups.set(k, { rows: [r] });
  }
  return [...groups].map(([id, { rows: rs }]) => {
    const single = rs.length === 1 && rs[0].id === id;
    return {
      id,
      op: single ? rs[0].op : opSummary(rs.map((r) => r.op)),
      shape: rs[rs.length - 1].shape,
      params: sum(rs, 'params'),
      state: sum(rs, 'state'),
      flops: sum(rs, 'flops'),
      nodes: rs.length,
    };
  });
}

const sum = (rs: readonly NodeRow[], k: 'params' | 'state' | 'flops') => rs.reduce((s, r) => s + r[k], 0);
