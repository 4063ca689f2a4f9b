// Graphviz dot: one record per box (name | op | shape), top to bottom.
import { formatShape } from './format.js';
import type { Drawing } from './drawing.js';

/** Escapes text for a record label, where braces, bars, angle brackets and backslashes are syntax. */
export const dotRecordText = (s: string): string => s.replace(/[\\{}|<>]/g, (c) => `\\${c}`);
/** A dot quoted string: `\"` is its only escape, every other backslash reaches the record parser as is. */
const quote = (s: string) => `"${s.replace(/"/g, '\\"')}"`;

export function renderDot(d: Drawing): string {
  const lines = [`digraph ${quote(d.name)} {`, '  rankdir=TB;', '  node [shape=record, fontname="Helvetica", fontsize=10];', '  edge [arrowsize=0.6];'];
  for (const b of d.boxes) {
    const label = `{${[b.id, b.op, formatShape(b.shape)].map(dotRecordText).join('|')}}`;
    const style = [b.collapsed ? 'style="rounded,filled", fillcolor="#eef3fb"' : '', b.output ? 'penwidth=2' : ''].filter(Boolean);
    lines.push(`  ${quote(b.id)} [label=${quote(label)}${style.length ? `, ${style.join(', ')}` : ''}];`);
  }
  for (const e of d.edges) lines.push(`  ${quote(e.from)} -> ${quote(e.to)}${e.kind === 'like' ? ' [style=dashed]' : ''};`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
