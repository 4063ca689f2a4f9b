// Loading a spec: the file, its imports (recursively), schema validation of each. The file system
// is passed in (SpecHost), so this stage stays a pure function of what it reads.
import { closeSync, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { posix, relative, resolve, isAbsolute } from 'node:path';
import { diag, type Diagnostic, type SourcePos } from '../ir/diagnostics.js';
import { parseSource, posAt, type SourceFile, type ValuePath } from './source.js';
import { validateDocument, type SchemaError } from './validate.js';
import { yaml11Booleans, type ParamTypeOf } from './booleans.js';
import { suggestion } from './diagnostics.js';

/** Why a file was refused before it was parsed: not a regular file, too large, not UTF-8 text. */
export interface ReadRefusal {
  code: 'file-not-found' | 'too-large' | 'encoding';
  message: string;
  /** 1-based line of the first bad byte, for encoding errors */
  line?: number;
  hint?: string;
}

export interface SpecHost {
  /** the file's text, undefined when it cannot be read, or why it was refused */
  read(path: string): string | undefined | ReadRefusal;
  /** the path with every link resolved, where the host has links (a link inside the spec's folder may point outside it) */
  realpath?(path: string): string | undefined;
}

/** Spec files are small: a few hundred lines. Larger files are refused before they are read. */
export const MAX_SPEC_BYTES = 4 * 1024 * 1024;

/** Spec files (and the modules they import) read from disk; tests give hosts of their own. */
export const fileSpecHost: SpecHost = {
  read(path) {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      return undefined;
    }
    try {
      // stat the open file (not the path): what is checked is what is read
      const st = fstatSync(fd);
      if (!st.isFile()) {
        return { code: 'file-not-found', message: `'${path}' is not a regular file${st.isDirectory() ? ' (it is a folder)' : ''}`, hint: 'give the path of a .yaml spec file' };
      }
      if (st.size > MAX_SPEC_BYTES) return tooBig(path, st.size);
      const buf = Buffer.alloc(st.size);
      let n = 0;
      while (n < st.size) {
        const k = readSync(fd, buf, n, st.size - n, n);
        if (k === 0) break;
        n += k;
      }
      return decodeSpecText(path, buf.subarray(0, n));
    } catch {
      return undefined;
    } finally {
      closeSync(fd);
    }
  },
  realpath(path) {
    try {
      return realpathSync(path);
    } catch {
      return undefined;
    }
  },
};

const tooBig = (path: string, bytes: number): ReadRefusal => ({
  code: 'too-large',
  message: `'${path}' is ${(bytes / 1024 / 1024).toFixed(1)} MB: spec files are limited to ${MAX_SPEC_BYTES / 1024 / 1024} MB`,
  hint: 'a spec is a few hundred lines: write repeated parts as modules with `repeat`',
});

/**
 * Spec bytes to text: UTF-8 only (a UTF-8 byte-order mark is dropped). UTF-16 (a BOM or NUL bytes)
 * and invalid UTF-8 (a Latin-1 file) are refused at the line of the first bad byte.
 */
export function decodeSpecText(path: string, bytes: Uint8Array): string | ReadRefusal {
  if (bytes.length > MAX_SPEC_BYTES) return tooBig(path, bytes.length);
  const hint = 'save the file as UTF-8 (most editors: "Save with encoding")';
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    return { code: 'encoding', message: `'${path}' is UTF-16 text (it starts with a UTF-16 byte-order mark): specs are UTF-8`, line: 1, hint };
  }
  const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const bad = firstInvalidUtf8(bytes, start);
  const lineOf = (at: number) => 1 + bytes.subarray(0, at).reduce((n, b) => n + (b === 0x0a ? 1 : 0), 0);
  if (bad !== undefined) {
    return { code: 'encoding', message: `'${path}' is not UTF-8 text: byte 0x${bytes[bad].toString(16).padStart(2, '0')} at offset ${bad} is not valid UTF-8 (a Latin-1 or other legacy encoding?)`, line: lineOf(bad), hint };
  }
  const nul = bytes.indexOf(0, start);
  if (nul >= 0) return { code: 'encoding', message: `'${path}' contains NUL bytes: it is binary or UTF-16 text, not UTF-8`, line: lineOf(nul), hint };
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, bytes.length - start).toString('utf8');
}

/** Offset of the first byte that breaks UTF-8 (overlong forms and surrogates included), or undefined. */
function firstInvalidUtf8(b: Uint8Array, from: number): number | undefined {
  for (let i = from; i < b.length; ) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    const [n, min] = c >= 0xc2 && c <= 0xdf ? [1, 0x80] : c >= 0xe0 && c <= 0xef ? [2, 0x800] : c >= 0xf0 && c <= 0xf4 ? [3, 0x10000] : [0, 0];
    if (n === 0 || i + n >= b.length) return i;
    let cp = c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      if ((b[i + k] & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (b[i + k] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return undefined;
}

export type ParamType = 'int' | 'float' | 'bool';
export interface ParamDef {
  type: ParamType;
  /** a value or an expression over earlier parameters and the inputs' shapes */
  default?: number | boolean | string;
  min?: number;
  max?: number;
  at?: SourcePos;
}

/** A body of named node calls: the top-level graph or a module's. */
export interface GraphBody {
  file: SourceFile;
  /** where `graph` sits in its file, e.g. ['graph'] or ['modules', 'block', 'graph'] */
  path: ValuePath;
  nodes: Record<string, Record<string, unknown>>;
}

export interface ModuleDef {
  name: string;
  doc?: string;
  inputs: string[];
  params: Record<string, ParamDef>;
  body: GraphBody;
  output?: string;
  at?: SourcePos;
}

export interface SpecDoc {
  alcli: 1;
  name?: string;
  description?: string;
  imports?: string[];
  input?: { channels: number; size?: number | [number, number]; normalize?: 'dataset' | 'none' | { mean: number[]; std: number[] } };
  output?: { classes?: number; activation?: 'sigmoid' | 'softmax' | 'none'; from?: string };
  modules?: Record<string, { doc?: string; inputs?: string[]; params?: Record<string, unknown>; graph: Record<string, Record<string, unknown>>; output?: string }>;
  graph?: Record<string, Record<string, unknown>>;
  train?: Record<string, unknown>;
}

export interface LoadedSpec {
  file: SourceFile;
  /**
   * Nodes the schema rejected, as `file|graph path|name`: expansion skips them (and what reads
   * them) so the errors of every other node are still found in the same run.
   */
  brokenNodes: Set<string>;
  doc: SpecDoc;
  modules: Map<string, ModuleDef>;
  /** every file read, main file first, by path */
  files: Map<string, SourceFile>;
}

export interface LoadResult {
  spec?: LoadedSpec;
  diagnostics: Diagnostic[];
  /** text of each file read, for rendering snippets */
  sources: Map<string, string>;
}

/** Reads and validates a spec and everything it imports. `spec` is set only when there are no errors. */
export interface LoadOptions {
  /** read imports outside the main spec's folder tree (`--allow-outside-imports`) */
  allowOutsideImports?: boolean;
}

/** Whether `target` lies in `root`'s folder tree (both as given, resolved against the working folder). */
export function insideTree(root: string, target: string): boolean {
  const rel = relative(resolve(root), resolve(target));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

const wholeFile = (file: string, line = 1): SourcePos => ({ file, line, col: 1, endLine: line, endCol: 2 });

export function loadSpec(path: string, host: SpecHost, opts: LoadOptions = {}): LoadResult {
  const root = posix.dirname(path);
  const sources = new Map<string, string>();
  const files = new Map<string, SourceFile>();
  const modules = new Map<string, ModuleDef>();
  const diagnostics: Diagnostic[] = [];
  const brokenNodes = new Set<string>();
  /** errors that stop loading; node-level schema errors do not */
  let fatal = 0;

  const loadFile = (p: string, stack: string[], from?: SourcePos): { file: SourceFile; doc: SpecDoc } | undefined => {
    const text = host.read(p);
    if (typeof text === 'object') {
      fatal++;
      diagnostics.push(diag(text.code, text.message, text.line ? wholeFile(p, text.line) : from ?? wholeFile(p), { hint: text.hint, notes: from && text.line ? [{ message: 'imported here', at: from }] : [] }));
      return undefined;
    }
    if (text === undefined) {
      fatal++;
      diagnostics.push(
        from
          ? diag('import-not-found', `cannot read imported file '${p}'`, from, { hint: 'import paths are relative to the importing file' })
          : diag('file-not-found', `cannot read spec file '${p}'`, undefined, { hint: 'check the path; `alcli init NAME` scaffolds a new spec' }),
      );
      return undefined;
    }
    const parsed = parseSource(p, text);
    files.set(p, parsed.file);
    diagnostics.push(...parsed.diagnostics);
    // source lines are shown under errors, but never those of an imported file that is not a spec
    // (an `/etc/passwd` import must not print the file) nor of one outside the spec's folder tree
    const isSpecLike = parsed.value !== null && typeof parsed.value === 'object' && !Array.isArray(parsed.value);
    if ((!from || (isSpecLike && insideTree(root, p))) && (parsed.value !== undefined || !from)) sources.set(p, text);
    if (parsed.value === undefined) {
      fatal++;
      return undefined;
    }
    if (parsed.diagnostics.length) fatal++;
    if (parsed.value === null) {
      fatal++;
      diagnostics.push(diag('missing-key', `'${p}' is empty${text.trim() ? ' (only comments)' : ''}: a spec needs at least \`alcli: 1\``, from ?? wholeFile(p), { hint: '`alcli init NAME` scaffolds a new spec' }));
      return undefined;
    }
    const doc = parsed.value as SpecDoc;
    // schema errors are reported once every module is known (below): a yes/no where a module
    // call expects a bool replaces the schema's or the expression's error about the same value
    checked.push({ file: parsed.file, value: parsed.value, slot: diagnostics.length, errors: validateDocument(parsed.file, parsed.value) });
    if (typeof doc !== 'object' || doc === null) return undefined;
    // a non-list `imports` is a schema error, reported below
    for (const [i, rel] of (Array.isArray(doc.imports) ? doc.imports : []).entries()) {
      if (typeof rel !== 'string' || !rel) continue;
      const target = posix.normalize(posix.isAbsolute(rel) ? rel : posix.join(posix.dirname(p), rel));
      const at = posAt(parsed.file, ['imports', i]);
      const real = (q: string) => host.realpath?.(q) ?? q;
      if (!opts.allowOutsideImports && !insideTree(real(root), real(target))) {
        fatal++;
        diagnostics.push(
          diag('bad-value', `import '${rel}' lies outside the spec's folder '${root}': it was not read`, at, {
            hint: 'copy the modules next to the spec, or pass --allow-outside-imports',
          }),
        );
        continue;
      }
      if (stack.includes(target)) {
        fatal++;
        diagnostics.push(
          diag('import-cycle', `importing '${rel}' closes a cycle: ${[...stack.slice(stack.indexOf(target)), target].join(' -> ')}`, at, {
            hint: 'move the shared modules into a file that imports neither',
          }),
        );
        continue;
      }
      if (files.has(target)) continue;
      const imported = loadFile(target, [...stack, target], at);
      if (imported) collectModules(imported.file, imported.doc);
    }
    return { file: parsed.file, doc };
  };

  const collectModules = (file: SourceFile, doc: SpecDoc) => {
    const mods = doc.modules;
    if (typeof mods !== 'object' || mods === null || Array.isArray(mods)) return;
    for (const [name, m] of Object.entries(mods)) {
      // malformed modules are schema errors (reported below); only well-formed parts are kept
      if (typeof m !== 'object' || m === null || Array.isArray(m)) continue;
      const at = posAt(file, ['modules', name], 'key');
      const first = modules.get(name);
      if (first) {
        fatal++;
        diagnostics.push(diag('duplicate-name', `module '${name}' is defined twice`, at, { notes: [{ message: 'first definition', at: first.at }] }));
        continue;
      }
      const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
      const graph = isMap(m.graph) ? (m.graph as Record<string, Record<string, unknown>>) : {};
      const output = typeof m.output === 'string' ? m.output.replace(/\?$/, '') : undefined;
      if (output !== undefined && !(output in graph) && isMap(m.graph)) {
        fatal++;
        const names = Object.keys(graph);
        diagnostics.push(
          diag('undefined-ref', `module '${name}' returns '${output}', which is not a node of its graph`, posAt(file, ['modules', name, 'output']), {
            hint: suggestion(output, names) ?? `its nodes: ${names.slice(0, 20).join(', ')}${names.length > 20 ? ', ...' : ''}`,
          }),
        );
      }
      modules.set(name, {
        name,
        doc: typeof m.doc === 'string' ? m.doc : undefined,
        inputs: Array.isArray(m.inputs) && m.inputs.length && m.inputs.every((x) => typeof x === 'string') ? m.inputs : ['x'],
        params: Object.fromEntries(Object.entries(isMap(m.params) ? m.params : {}).map(([k, v]) => [k, paramDef(v, posAt(file, ['modules', name, 'params', k], 'key'))])),
        body: { file, path: ['modules', name, 'graph'], nodes: graph },
        output,
        at,
      });
    }
  };

  const checked: { file: SourceFile; value: unknown; slot: number; errors: SchemaError[] }[] = [];
  const main = loadFile(path, [path]);
  if (main) collectModules(main.file, main.doc);
  // each file's errors go where its loading put them (before the errors of the files it imports)
  for (const c of [...checked].reverse()) {
    const flagged = new Set<string>();
    const found: Diagnostic[] = [];
    const paramType: ParamTypeOf = (m, k) => modules.get(m)?.params[k]?.type;
    for (const b of yaml11Booleans(c.file, c.value, paramType)) {
      found.push(b.diagnostic);
      for (const vp of b.paths) {
        flagged.add(JSON.stringify(vp));
        const node = nodeKey(c.file.path, vp);
        if (node) brokenNodes.add(node);
        else fatal++;
      }
    }
    for (const e of c.errors) {
      if (flagged.has(JSON.stringify(e.path))) continue;
      found.push(e.diagnostic);
      const node = nodeKey(c.file.path, e.path);
      if (node) brokenNodes.add(node);
      else fatal++;
    }
    diagnostics.splice(c.slot, 0, ...found);
  }
  if (!main || fatal) return { diagnostics, sources };
  return { spec: { file: main.file, doc: main.doc, modules, files, brokenNodes }, diagnostics, sources };
}

function paramDef(v: unknown, at?: SourcePos): ParamDef {
  if (typeof v === 'string') return { type: v as ParamType, at };
  if (typeof v === 'number') return { type: Number.isInteger(v) ? 'int' : 'float', default: v, at };
  if (typeof v === 'boolean') return { type: 'bool', default: v, at };
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { type: 'int', at }; // a schema error, reported
  const o = v as { type: ParamType; default?: number | boolean | string; min?: number; max?: number };
  const num = (x: unknown) => (typeof x === 'number' ? x : undefined);
  const def = typeof o.default === 'number' || typeof o.default === 'boolean' || typeof o.default === 'string' ? o.default : undefined;
  return { type: o.type, default: def, min: num(o.min), max: num(o.max), at };
}

/** The node an error path lies in (`graph.NAME...` or `modules.M.graph.NAME...`), as a brokenNodes key. */
function nodeKey(file: string, path: ValuePath): string | undefined {
  if (path[0] === 'graph' && path.length >= 2) return `${file}|graph|${path[1]}`;
  if (path[0] === 'modules' && path[2] === 'graph' && path.length >= 4) return `${file}|modules,${path[1]},graph|${path[3]}`;
  return undefined;
}

export const brokenNodeKey = (file: string, bodyPath: readonly (string | number)[], name: string) => `${file}|${bodyPath.join(',')}|${name}`;
