// YAML text to plain values, keeping a way back from any value path to its line and column.
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, Parser, visit, type Document, type Node as YamlNode, type Pair, type YAMLMap } from 'yaml';
import { diag, type Diagnostic, type SourcePos } from '../ir/diagnostics.js';

export type ValuePath = readonly (string | number)[];

export interface SourceFile {
  /** the path as the user gave it (relative paths stay relative, so messages read naturally) */
  path: string;
  text: string;
  doc: Document.Parsed;
  lines: LineCounter;
}

/** Aliases a document may expand before it is refused: real specs use none or a few. */
export const MAX_ALIAS_COUNT = 100;

export interface ParsedSource {
  file: SourceFile;
  value: unknown;
  diagnostics: Diagnostic[];
}

/** How deep maps and lists may nest: real specs nest about 6 deep; thousands overflow the parser's stack. */
export const MAX_NESTING = 64;

export function parseSource(path: string, text: string): ParsedSource {
  const deep = nestingDepth(text);
  if (deep) {
    const lines = new LineCounter();
    const doc = parseDocument('', { lineCounter: lines });
    return {
      file: { path, text, doc, lines },
      value: undefined,
      diagnostics: [
        diag('too-large', `maps and lists nest more than ${MAX_NESTING} deep here`, { file: path, line: deep.line, col: deep.col, endLine: deep.line, endCol: deep.col + 1 }, {
          hint: 'a spec nests a few levels: graph, node, attribute',
        }),
      ],
    };
  }
  try {
    return parseChecked(path, text);
  } catch (e) {
    // a last guard: whatever the limits above miss must still be a located error, not a crash
    if (!(e instanceof RangeError)) throw e;
    const lines = new LineCounter();
    return {
      file: { path, text, doc: parseDocument('', { lineCounter: lines }), lines },
      value: undefined,
      diagnostics: [diag('too-large', `the file is too deeply nested or too large to read (${e.message})`, { file: path, line: 1, col: 1, endLine: 1, endCol: 2 })],
    };
  }
}

/**
 * Where the text first nests deeper than MAX_NESTING, counted before parsing: open flow brackets
 * plus block levels (indentation steps and `- ` entries). Quoted strings and comments are skipped.
 */
export function nestingDepth(text: string): { line: number; col: number } | undefined {
  const indents: number[] = [];
  let flow = 0;
  let quote = '';
  const lines = text.split('\n');
  for (let ln = 0; ln < lines.length; ln++) {
    const line = lines[ln];
    let i = 0;
    if (!flow && !quote) {
      while (line[i] === ' ') i++;
      if (i === line.length || line[i] === '#') continue;
      while (indents.length && indents[indents.length - 1] >= i) indents.pop();
      indents.push(i);
      // `- - - x` opens a list per dash on one line
      while (line[i] === '-' && line[i + 1] === ' ') {
        indents.push(i + 1);
        i += 2;
        while (line[i] === ' ') i++;
      }
    }
    for (; i < line.length; i++) {
      const c = line[i];
      if (quote) {
        if (c === quote) quote = '';
        else if (c === '\\' && quote === '"') i++;
        continue;
      }
      if (c === '#' && (i === 0 || line[i - 1] === ' ' || line[i - 1] === '\t')) break;
      if ((c === '"' || c === "'") && (i === 0 || /[\s,[{:]/.test(line[i - 1]))) quote = c;
      else if (c === '[' || c === '{') flow++;
      else if (c === ']' || c === '}') flow = Math.max(0, flow - 1);
      if (flow + indents.length > MAX_NESTING) return { line: ln + 1, col: i + 1 };
    }
    if (flow + indents.length > MAX_NESTING) return { line: ln + 1, col: 1 };
    if (quote === "'" || quote === '"') {
      // quoted scalars may span lines; a stray quote in plain text must not hide the rest
      if (!flow) quote = '';
    }
  }
  return undefined;
}

function parseChecked(path: string, text: string): ParsedSource {
  const lines = new LineCounter();
  // `merge: true`: YAML merge keys (`<<: *base`) are read as the expanded map; posAt follows them,
  // so an error in merged content points at the line that wrote it
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false, merge: true, logLevel: 'error' });
  const file: SourceFile = { path, text, doc, lines };
  const diagnostics: Diagnostic[] = doc.errors.slice(0, 1).map((e) => syntaxError(file, e.message.split('\n')[0], e.pos[0], e.pos[1]));
  if (diagnostics.length) return { file, value: undefined, diagnostics };
  diagnostics.push(...duplicateKeys(file));
  const badMerges = mergeErrors(file);
  if (badMerges.length) return { file, value: undefined, diagnostics: [...diagnostics, ...badMerges] };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    if (/alias/i.test(String((e as Error).message))) {
      diagnostics.push(
        diag('alias-bomb', `the YAML aliases in this file expand to too many nodes (limit ${MAX_ALIAS_COUNT} per alias)`, firstAlias(file), {
          hint: 'write the repeated part once as a module and call it, instead of nesting aliases',
        }),
      );
    } else {
      diagnostics.push(diag('yaml-syntax', String((e as Error).message), spanAt(file, 0, 0)));
    }
    return { file, value: undefined, diagnostics };
  }
  return { file, value, diagnostics };
}

/**
 * The parser notices an unclosed `{`, `[` or quote only where a later line starts; the mistake is
 * on the line that opened it, so point there (and say where the parser gave up).
 */
function syntaxError(file: SourceFile, message: string, start: number, end: number): Diagnostic {
  const hint = 'check indentation, and that every `key: value` pair, quote and bracket is closed';
  const open = unclosedBefore(file.text, start);
  const here = spanAt(file, start, end);
  if (open === undefined || spanAt(file, open, open + 1).line >= here.line) return diag('yaml-syntax', message, here, { hint });
  const c = file.text[open];
  const closer = c === '{' ? '}' : c === '[' ? ']' : c;
  return diag('yaml-syntax', `this ${c === '"' || c === "'" ? 'quote' : `'${c}'`} is never closed`, spanAt(file, open, open + 1), {
    hint: `add the missing ${closer} on this line`,
    notes: [{ message: `the parser gave up here: ${message}`, at: here }],
  });
}

/** The innermost flow collection or quoted scalar the parser left unclosed before `pos` (from yaml's CST). */
function unclosedBefore(text: string, pos: number): number | undefined {
  let found: number | undefined;
  const visitToken = (t: unknown): void => {
    if (!t || typeof t !== 'object') return;
    const tok = t as { type?: string; offset?: number; source?: string; start?: unknown; end?: { source: string }[] };
    if (tok.type === 'flow-collection') {
      const open = (tok.start as { offset: number; source: string }) ?? undefined;
      const closer = open?.source === '{' ? '}' : ']';
      if (open && open.offset < pos && !(tok.end ?? []).some((e) => e.source === closer)) found = Math.max(found ?? -1, open.offset);
    }
    if ((tok.type === 'double-quoted-scalar' || tok.type === 'single-quoted-scalar') && tok.source && tok.offset! < pos) {
      const q = tok.source[0];
      if (tok.source.length < 2 || !tok.source.endsWith(q)) found = Math.max(found ?? -1, tok.offset!);
    }
    for (const v of Object.values(tok)) {
      if (Array.isArray(v)) v.forEach(visitToken);
      else if (v && typeof v === 'object') visitToken(v);
    }
  };
  for (const t of new Parser().parse(text)) visitToken(t);
  return found;
}

export function spanAt(file: SourceFile, start: number, end: number): SourcePos {
  const a = file.lines.linePos(start);
  const b = file.lines.linePos(Math.max(end, start + 1));
  return { file: file.path, line: a.line, col: a.col, endLine: b.line, endCol: b.col };
}

function rangeOf(file: SourceFile, n: YamlNode | null | undefined): SourcePos | undefined {
  const r = n && (n as { range?: [number, number, number] }).range;
  return r ? spanAt(file, r[0], r[1]) : undefined;
}

/** Finds the YAML node at a value path: `part` picks the map key or the value of the last step. */
export function posAt(file: SourceFile, path: ValuePath, part: 'key' | 'value' = 'value'): SourcePos | undefined {
  const { node, keyNode, missingKey } = lookup(file, path);
  if (missingKey) return rangeOf(file, node);
  if (part === 'key' && keyNode) return rangeOf(file, keyNode);
  return rangeOf(file, node) ?? rangeOf(file, keyNode);
}

/** The YAML node at a value path (aliases resolved, merge keys followed), or undefined when absent. */
export function nodeAt(file: SourceFile, path: ValuePath): YamlNode | undefined {
  const r = lookup(file, path);
  return r.complete ? resolved(file, r.node) : undefined;
}

/**
 * Walks a value path through the YAML nodes. Where a step is missing, `node` is the deepest node
 * found (so an error about a missing key points at the map that lacks it) and `complete` is false.
 */
function lookup(file: SourceFile, path: ValuePath): { node?: YamlNode; keyNode?: YamlNode; complete: boolean; missingKey?: boolean } {
  let node = file.doc.contents as YamlNode | null | undefined;
  let keyNode: YamlNode | undefined;
  for (const step of path) {
    node = resolved(file, node);
    if (isMap(node)) {
      const pair = pairIn(file, node as YAMLMap, String(step), 0);
      if (!pair) return { node, keyNode, complete: false, missingKey: true };
      keyNode = pair.key as YamlNode;
      node = pair.value as YamlNode;
    } else if (isSeq(node) && typeof step === 'number') {
      keyNode = undefined;
      node = node.items[step] as YamlNode;
    } else {
      return { node: node ?? undefined, keyNode, complete: false };
    }
  }
  return { node: node ?? undefined, keyNode, complete: true };
}

const resolved = (file: SourceFile, n: unknown): YamlNode | undefined => (isAlias(n) ? (n.resolve(file.doc) as YamlNode | undefined) : (n as YamlNode | undefined));

const isMergeKey = (k: unknown) => isScalar(k) && typeof k.value === 'symbol' && k.value.description === '<<';

/**
 * The pair for `key` in a map: its own pairs first, then the maps merged in with `<<`, in order
 * (the first one holding the key wins, as when the value is built).
 */
function pairIn(file: SourceFile, map: YAMLMap, key: string, depth: number): Pair | undefined {
  const own = ownPairs(map).get(key);
  if (own || depth > MAX_ALIAS_COUNT) return own;
  for (const p of map.items) {
    if (!isMergeKey(p.key)) continue;
    const v = resolved(file, p.value);
    for (const src of isSeq(v) ? v.items.map((i) => resolved(file, i)) : [v]) {
      const found = isMap(src) ? pairIn(file, src as YAMLMap, key, depth + 1) : undefined;
      if (found) return found;
    }
  }
  return undefined;
}

/** Each map's own pairs by key (the first of duplicates), built once: posAt stays O(depth) per lookup. */
const pairIndex = new WeakMap<YAMLMap, Map<string, Pair>>();
function ownPairs(map: YAMLMap): Map<string, Pair> {
  let index = pairIndex.get(map);
  if (!index) {
    index = new Map();
    for (const p of map.items) {
      if (isScalar(p.key) && !isMergeKey(p.key) && !index.has(String(p.key.value))) index.set(String(p.key.value), p as Pair);
    }
    pairIndex.set(map, index);
  }
  return index;
}

/** A merge key takes a map, an alias of one, or a list of those; anything else would stop toJS. */
function mergeErrors(file: SourceFile): Diagnostic[] {
  const out: Diagnostic[] = [];
  visit(file.doc, {
    Pair(_, pair) {
      if (!isMergeKey(pair.key)) return;
      const v = resolved(file, pair.value);
      const sources = isSeq(v) ? v.items.map((i) => resolved(file, i)) : [v];
      if (sources.every((src) => isMap(src))) return;
      out.push(
        diag('bad-value', 'a merge key (<<) takes a map, an alias of one, or a list of them', rangeOf(file, (pair.value ?? pair.key) as YamlNode), {
          hint: 'mark the shared map with an anchor (c0: &base {op: conv, ...}) and write `<<: *base`',
        }),
      );
    },
  });
  return out;
}

/** `uniqueKeys: false` lets the parse go on; duplicates are reported here, naming the key. */
function duplicateKeys(file: SourceFile): Diagnostic[] {
  const out: Diagnostic[] = [];
  visit(file.doc, {
    Map(_, map) {
      const seen = new Map<string, YamlNode>();
      for (const p of map.items) {
        if (!isPair(p) || !isScalar(p.key)) continue;
        const k = String(p.key.value);
        const first = seen.get(k);
        if (first) {
          out.push(
            diag('duplicate-name', `'${k}' is defined twice in the same map`, rangeOf(file, p.key as YamlNode), {
              notes: [{ message: `first definition of '${k}'`, at: rangeOf(file, first) }],
              hint: 'rename one of them: names must be unique within a graph or map',
            }),
          );
        } else seen.set(k, p.key as YamlNode);
      }
    },
  });
  return out;
}

function firstAlias(file: SourceFile): SourcePos | undefined {
  let at: SourcePos | undefined;
  visit(file.doc, {
    Alias(_, node) {
      at = rangeOf(file, node as YamlNode);
      return visit.BREAK;
    },
  });
  return at;
}
