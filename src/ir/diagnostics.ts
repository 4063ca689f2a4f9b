// One error type for every user-facing problem (STYLE.md 5): collected, never thrown past the
// library boundary. It lives in the IR so shape and stride checks can point at source positions
// without knowing YAML; src/frontend/diagnostics.ts renders it as `file:line:col` at the edge.

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
  'too-large': 'the spec file, its nesting, or the network exceeds a size limit (bytes, depth, nodes, parameters, memory)',
  'file-not-found': 'the spec file does not exist, cannot be read, or is not a regular file',
  encoding: 'the file is not UTF-8 text (UTF-16, Latin-1, binary)',
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
