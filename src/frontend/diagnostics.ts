// Diagnostics at the edge: `file:line:col: error[code]: message` with a caret snippet of the
// source text, and did-you-mean hints for misspelt names.
import type { Diagnostic, SourcePos } from '../ir/diagnostics.js';

const fmtPos = (p: SourcePos) => `${p.file}:${p.line}:${p.col}`;

/** Renders one diagnostic as text: header, caret snippet, notes, hint. `sources` maps file to text. */
export function renderDiagnostic(d: Diagnostic, sources: ReadonlyMap<string, string>, color = false): string {
  const red = (s: string) => (color ? `\x1b[31;1m${s}\x1b[0m` : s);
  const cyan = (s: string) => (color ? `\x1b[36m${s}\x1b[0m` : s);
  const bold = (s: string) => (color ? `\x1b[1m${s}\x1b[0m` : s);
  const lines: string[] = [];
  const where = d.at ? `${fmtPos(d.at)}: ` : '';
  lines.push(bold(`${where}${red(`error[${d.code}]`)}: ${d.message}`));
  if (d.at) lines.push(...snippet(d.at, sources, red));
  for (const n of d.notes ?? []) {
    lines.push(`${n.at ? `${fmtPos(n.at)}: ` : '  '}${cyan('note')}: ${n.message}`);
  }
  if (d.hint) lines.push(`  ${cyan('hint')}: ${d.hint}`);
  return lines.join('\n');
}

/** The longest source line shown under an error. */
export const MAX_SNIPPET = 160;

function snippet(at: SourcePos, sources: ReadonlyMap<string, string>, mark: (s: string) => string): string[] {
  const text = sources.get(at.file);
  if (text === undefined) return [];
  const full = text.split(/\r?\n/, at.line)[at.line - 1];
  if (full === undefined) return [];
  // a long line is cut, never printed whole (a minified or binary file would flood the terminal)
  const line = full.length > MAX_SNIPPET ? `${full.slice(0, MAX_SNIPPET)}...` : full;
  if (at.col > MAX_SNIPPET) return [];
  const gutter = String(at.line).length;
  const end = at.endLine === at.line ? Math.max(at.endCol, at.col + 1) : line.length + 1;
  const carets = '^'.repeat(Math.max(1, Math.min(end, line.length + 1) - at.col));
  return [
    `${' '.repeat(gutter)} |`,
    `${at.line} | ${line}`,
    `${' '.repeat(gutter)} | ${' '.repeat(at.col - 1)}${mark(carets)}`,
  ];
}

export function renderDiagnostics(ds: Diagnostic[], sources: ReadonlyMap<string, string>, color = false): string {
  const body = ds.map((d) => renderDiagnostic(d, sources, color)).join('\n\n');
  const n = ds.length;
  return `${body}\n\n${n} error${n === 1 ? '' : 's'}`;
}

/** Edit distance counting a swap of neighbours as one edit (optimal string alignment), for did-you-mean. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The closest candidate within a third of the word's length, or undefined. */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

export const suggestion = (word: string, candidates: Iterable<string>): string | undefined => {
  const m = didYouMean(word, candidates);
  return m ? `did you mean '${m}'?` : undefined;
};
