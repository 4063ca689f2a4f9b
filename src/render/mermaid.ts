// Mermaid `flowchart TD`. Node ids hold '/' and '.', which mermaid ids cannot: boxes get n0, n1...
// and carry the real id in their label.
import { formatShape } from './format.js';
import type { Drawing } from './drawing.js';

/** Escapes label text inside ["..."]: mermaid reads entity codes there, and '"' would end the label. */
export const mermaidText = (s: string): string => s.replace(/[&"<>#]/g, (c) => `#${c.charCodeAt(0)};`);

export function renderMermaid(d: Drawing): string {
  const ids = new Map(d.boxes.map((b, i) => [b.id, `n${i}`]));
  const lines = ['flowchart TD'];
  for (const b of d.boxes) {
    const label = [b.id, b.op, formatShape(b.shape)].map(mermaidText).join('<br/>');
    // stadium shape for collapsed modules, a plain box for single ops
    lines.push(b.collapsed ? `  ${ids.get(b.id)}(["${label}"])` : `  ${ids.get(b.id)}["${label}"]`);
  }
  for (const e of d.edges) lines.push(`  ${ids.get(e.from)} ${e.kind === 'like' ? '-.->' : '-->'} ${ids.get(e.to)}`);
  const out = d.boxes.find((b) => b.output);
  if (out) lines.push(`  style ${ids.get(out.id)} stroke-width:3px`);
  return `${lines.join('\n')}\n`;
}
