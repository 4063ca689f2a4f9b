// Loading a spec: the file, its imports (recursively), schema validation of each. The file system
// is passed in (SpecHost), so this stage stays a pure function of what it reads.
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { diag, type Diagnostic, type SourcePos } from '../ir/diagnostics.js';
import { parseSource, posAt, type SourceFile, type ValuePath } from './source.js';
import { validateDocument, type SchemaError } from './validate.js';
import { yaml11Booleans, type ParamTypeOf } from './booleans.js';

export interface SpecHost {
  /** the file's text, or undefined when it cannot be read */
  read(path: string): string | undefined;
}

/** Spec files (and the modules they import) read from disk; tests give hosts of their own. */
export const fileSpecHost: SpecHost = {
  read(path) {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  },
};

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
export function loadSpec(path: string, host: SpecHost): LoadResult {
  const sources = new Map<string, string>();
  const files = new Map<string, SourceFile>();
  const modules = new Map<string, ModuleDef>();
  const diagnostics: Diagnostic[] = [];
  const brokenNodes = new Set<string>();
  /** errors that stop loading; node-level schema errors do not */
  let fatal = 0;

  const loadFile = (p: string, stack: string[], from?: SourcePos): { file: SourceFile; doc: SpecDoc } | undefined => {
    const text = host.read(p);
    if (text === undefined) {
      fatal++;
      diagnostics.push(
        from
          ? diag('import-not-found', `cannot read imported file '${p}'`, from, { hint: 'import paths are relative to the importing file' })
          : diag('file-not-found', `cannot read spec file '${p}'`, undefined, { hint: 'check the path; `alcli init NAME` scaffolds a new spec' }),
      );
      return undefined;
    }
    sources.set(p, text);
    const parsed = parseSource(p, text);
    files.set(p, parsed.file);
    diagnostics.push(...parsed.diagnostics);
    if (parsed.value === undefined) return undefined;
    if (parsed.diagnostics.length) fatal++;
    const doc = parsed.value as SpecDoc;
    // schema errors are reported once every module is known (below): a yes/no where a module
    // call expects a bool replaces the schema's or the expression's error about the same value
    checked.push({ file: parsed.file, value: parsed.value, slot: diagnostics.length, errors: validateDocument(parsed.file, parsed.value) });
    if (typeof doc !== 'object' || doc === null) return undefined;
    for (const [i, rel] of (doc.imports ?? []).entries()) {
      if (typeof rel !== 'string') continue;
      const target = posix.normalize(posix.join(posix.dirname(p), rel));
      const at = posAt(parsed.file, ['imports', i]);
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
    for (const [name, m] of Object.entries(doc.modules ?? {})) {
      if (typeof m !== 'object' || m === null) continue;
      const at = posAt(file, ['modules', name], 'key');
      const first = modules.get(name);
      if (first) {
        fatal++;
        diagnostics.push(diag('duplicate-name', `module '${name}' is defined twice`, at, { notes: [{ message: 'first definition', at: first.at }] }));
        continue;
      }
      modules.set(name, {
        name,
        doc: m.doc,
        inputs: m.inputs ?? ['x'],
        params: Object.fromEntries(Object.entries(m.params ?? {}).map(([k, v]) => [k, paramDef(v, posAt(file, ['modules', name, 'params', k], 'key'))])),
        body: { file, path: ['modules', name, 'graph'], nodes: m.graph ?? {} },
        output: m.output,
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
  const o = v as { type: ParamType; default?: number | boolean | string; min?: number; max?: number };
  return { type: o.type, default: o.default, min: o.min, max: o.max, at };
}

/** The node an error path lies in (`graph.NAME...` or `modules.M.graph.NAME...`), as a brokenNodes key. */
function nodeKey(file: string, path: ValuePath): string | undefined {
  if (path[0] === 'graph' && path.length >= 2) return `${file}|graph|${path[1]}`;
  if (path[0] === 'modules' && path[2] === 'graph' && path.length >= 4) return `${file}|modules,${path[1]},graph|${path[3]}`;
  return undefined;
}

export const brokenNodeKey = (file: string, bodyPath: readonly (string | number)[], name: string) => `${file}|${bodyPath.join(',')}|${name}`;
