// One error type for every user-facing problem (STYLE.md 5): collected, never thrown past the
// library boundary, rendered as `file:line:col: error[code]: message` only at the edge.

/** The closed list of error codes. Each has a test in test/errors.test.ts. */
export const ERROR_CODES = {
  'yaml-syntax': 'the file is not valid YAML',
  'alias-bomb': 'the file expands too many YAML aliases',
  'unknown-key': 'a key that this place does not accept',
  'missing-key': 'a required key is absent',
  'bad-type': 'a value of the wrong type',
  'bad-value': 'a value outside what is allowed',
  'bad-expression': 'an arithmetic expression that cannot be parsed or evaluated',
  'unknown-op': 'a node calls an op or module that does not exist',
  'missing-param': 'a module call lacks a required parameter',
  'undefined-ref': 'a reference to a node that does not exist',
  'duplicate-name': 'two nodes, modules or keys share a name',
  cycle: 'nodes that depend on each other in a loop',
  'channel-mismatch': 'inputs whose channel counts do not fit together',
  'spatial-mismatch': 'inputs whose spatial sizes do not fit together',
  'input-stride': 'the input size does not divide by the network stride',
  'shape-error': 'an op cannot produce a valid output shape from its inputs',
  'import-not-found': 'an imported file does not exist',
  'import-cycle': 'files that import each other in a loop',
  'too-large': 'the network exceeds a size limit',
  'file-not-found': 'the spec file does not exist or cannot be read',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface SourcePos {
  file: string;
  /** 1-based */
  line: number;
  /** 1-based */
  col: number;
  /** 1-based, exclusive; same line as `line` when the span is on one line */
  endLine: number;
  endCol: number;
}

export interface Note {
  message: string;
  at?: SourcePos;
}

export interface Diagnostic {
  code: ErrorCode;
  message: string;
  at?: SourcePos;
  hint?: string;
  notes?: Note[];
}

/** Thrown only inside the library to abort a stage; public functions return diagnostics. */
export class SpecError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map((d) => d.message).join('\n'));
  }
}

export function diag(code: ErrorCode, message: string, at?: SourcePos, extra: { hint?: string; notes?: Note[] } = {}): Diagnostic {
  return { code, message, at, ...extra };
}

/** Drops exact duplicates (the same error found twice) and sorts by position, files in order of first mention. */
export function normalizeDiagnostics(ds: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  const files: string[] = [];
  const out: Diagnostic[] = [];
  for (const d of ds) {
    const key = `${d.code}|${d.message}|${d.at?.file}:${d.at?.line}:${d.at?.col}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(d);
    if (d.at && !files.includes(d.at.file)) files.push(d.at.file);
  }
  const rank = (d: Diagnostic) => (d.at ? [files.indexOf(d.at.file), d.at.line, d.at.col] : [-1, 0, 0]);
  return out.sort((a, b) => {
    const [x, y] = [rank(a), rank(b)];
    return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
  });
}

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

function snippet(at: SourcePos, sources: ReadonlyMap<string, string>, mark: (s: string) => string): string[] {
  const text = sources.get(at.file);
  if (text === undefined) return [];
  const line = text.split(/\r?\n/)[at.line - 1];
  if (line === undefined) return [];
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
