// Module expansion: a loaded spec becomes the IR graph of primitives, with shapes inferred on the
// way (a module may read the shapes flowing into it, e.g. `when: x.channels == out`). Every IR node
// keeps the YAML positions of the calls it came from.
import { diag, normalizeDiagnostics, type Diagnostic, type Note, type SourcePos } from '../ir/diagnostics.js';
import { suggestion } from './diagnostics.js';
import { evaluate, ExprError, type Value } from './expr.js';
import { brokenNodeKey, type GraphBody, type LoadedSpec, type ModuleDef, type ParamDef } from './load.js';
import { CALL_KEYS } from './schema.js';
import { posAt } from './source.js';
import { INPUT_ID, type Attrs, type AttrValue, type IrGraph, type IrNode, type Shape } from '../ir/graph.js';
import { isOpKind, isShapeFailure, OP_KINDS, opDef, type AttrSpec, type OpKind } from '../ir/ops.js';
import { checkInputStride } from '../ir/stride.js';

export interface ExpandOptions {
  /** input size [h, w]; default: the spec's `input.size` */
  size?: [number, number];
  /** refuse graphs with more primitive nodes than this (guards `repeat` against typos like 1e9) */
  maxNodes?: number;
}

export interface ExpandResult {
  graph?: IrGraph;
  diagnostics: Diagnostic[];
}

export const DEFAULT_INPUT_SIZE: [number, number] = [256, 256];
export const DEFAULT_MAX_NODES = 100_000;
/** How deep module calls may nest (real specs: 2 or 3); thousands would overflow the stack. */
export const MAX_MODULE_DEPTH = 32;

/** What a name in a graph body stands for once expanded. */
type Bound = { id: string; shape: Shape; at?: SourcePos; /** the name the user wrote */ label: string } | 'excluded' | 'failed';
type Built = Exclude<Bound, 'excluded' | 'failed'>;

interface Frame {
  body: GraphBody;
  prefix: string;
  vars: Map<string, Value>;
  /** the body's inputs: module inputs, or `input` at the top level */
  bindings: Map<string, Bound>;
  /** positions of the module calls that led here, outermost first */
  chain: SourcePos[];
  modules: string[];
}

interface Ref {
  name: string;
  optional: boolean;
  at?: SourcePos;
}

class Expander {
  readonly nodes: IrNode[] = [];
  readonly diagnostics: Diagnostic[] = [];
  private readonly ids = new Set<string>([INPUT_ID]);
  private tooLarge = false;

  constructor(
    private readonly spec: LoadedSpec,
    private readonly maxNodes: number,
  ) {}

  error(code: Diagnostic['code'], message: string, at: SourcePos | undefined, frame: Frame, extra: { hint?: string; notes?: Note[] } = {}) {
    const calls: Note[] = [...frame.chain].reverse().map((p, i) => ({ message: `in module '${frame.modules[frame.modules.length - 1 - i]}', called here`, at: p }));
    this.diagnostics.push(diag(code, message, at, { hint: extra.hint, notes: [...(extra.notes ?? []), ...calls] }));
  }

  /** Expands one graph body; returns what each of its names stands for. */
  expandBody(frame: Frame): Map<string, Bound> {
    const { body } = frame;
    const names = Object.keys(body.nodes);
    const nameSet = new Set(names);
    const results = new Map<string, Bound>();
    const refs = new Map<string, Ref[]>();
    const firstInput = [...frame.bindings.keys()][0];

    for (const [i, name] of names.entries()) {
      if (this.spec.brokenNodes.has(brokenNodeKey(body.file.path, body.path, name))) {
        // the schema already reported this node: its references are not worth a second error
        results.set(name, 'failed');
        refs.set(name, []);
        continue;
      }
      const call = body.nodes[name];
      const rs = this.refsOf(frame, name, call, i === 0 ? firstInput : names[i - 1]);
      for (const r of rs) {
        if (!nameSet.has(r.name) && !frame.bindings.has(r.name)) {
          const known = [...names, ...frame.bindings.keys()];
          this.error('undefined-ref', `node '${name}' reads '${r.name}', which is not defined here`, r.at, frame, {
            hint: suggestion(r.name, known) ?? `defined here: ${known.length > 20 ? `${known.slice(0, 20).join(', ')}, ...` : known.join(', ')}`,
          });
          results.set(name, 'failed');
        }
        if (frame.bindings.has(r.name) && nameSet.has(r.name)) {
          this.error('duplicate-name', `node '${r.name}' has the name of an input of this graph`, posAt(body.file, [...body.path, r.name], 'key'), frame, { hint: 'rename the node' });
        }
      }
      refs.set(name, rs);
    }

    for (const name of this.order(frame, names, refs, results)) {
      if (results.get(name) === 'failed' || this.tooLarge) continue;
      results.set(name, this.expandCall(frame, name, refs.get(name)!, (n) => results.get(n) ?? frame.bindings.get(n) ?? 'failed', results));
    }
    return results;
  }

  private refsOf(frame: Frame, name: string, call: Record<string, unknown>, previous: string | undefined): Ref[] {
    const { file, path } = frame.body;
    const parse = (s: string, at: SourcePos | undefined): Ref => ({ name: s.replace(/\?$/, ''), optional: s.endsWith('?'), at });
    const out: Ref[] = [];
    if (call.in === undefined) {
      if (previous !== undefined) out.push({ name: previous, optional: false, at: posAt(file, [...path, name], 'key') });
    } else if (Array.isArray(call.in)) call.in.forEach((s, i) => out.push(parse(String(s), posAt(file, [...path, name, 'in', i]))));
    else out.push(parse(String(call.in), posAt(file, [...path, name, 'in'])));
    if (typeof call.like === 'string') out.push(parse(call.like, posAt(file, [...path, name, 'like'])));
    return out;
  }

  /**
   * YAML order where it can; a node waits for the nodes it reads. Cycles are reported and skipped.
   * Kahn's algorithm with the lowest YAML index first: linear in nodes and references (up to a log).
   */
  private order(frame: Frame, names: string[], refs: Map<string, Ref[]>, results: Map<string, Bound>): string[] {
    const index = new Map(names.map((n, i) => [n, i]));
    const local = (n: string) => [...new Set((refs.get(n) ?? []).map((r) => r.name).filter((r) => index.has(r)))];
    const waiting = names.map((n) => local(n).length);
    const readers: number[][] = names.map(() => []);
    names.forEach((n, i) => local(n).forEach((d) => readers[index.get(d)!].push(i)));
    const done = new Array<boolean>(names.length).fill(false);
    const ready = new MinHeap();
    waiting.forEach((w, i) => w === 0 && ready.push(i));
    const out: string[] = [];
    const finish = (i: number) => {
      done[i] = true;
      out.push(names[i]);
      for (const r of readers[i]) if (--waiting[r] === 0 && !done[r]) ready.push(r);
    };
    while (out.length < names.length) {
      if (ready.size) {
        const i = ready.pop();
        if (!done[i]) finish(i);
        continue;
      }
      const remaining = names.filter((_, i) => !done[i]);
      const cycle = findCycle(remaining, local);
      const at = (n: string) => posAt(frame.body.file, [...frame.body.path, n], 'key');
      this.error('cycle', `nodes depend on each other in a loop: ${[...cycle, cycle[0]].join(' -> ')}`, at(cycle[0]), frame, {
        notes: cycle.slice(1).map((n) => ({ message: `'${n}' is part of the loop`, at: at(n) })),
        hint: 'a graph must flow one way: remove one of these references',
      });
      for (const n of cycle) results.set(n, 'failed');
      for (const n of cycle) finish(index.get(n)!);
    }
    return out;
  }

  private expandCall(frame: Frame, name: string, refs: Ref[], lookup: (n: string) => Bound, results: Map<string, Bound>): Bound {
    const { file, path } = frame.body;
    const call = frame.body.nodes[name];
    const at = posAt(file, [...path, name], 'key');
    const scope = this.scope(frame, results);

    if (call.when !== undefined) {
      const keep = this.value(frame, call.when, 'bool', [...path, name, 'when'], scope);
      if (keep === undefined) return 'failed';
      if (keep === false) return 'excluded';
    }

    const inputs: Built[] = [];
    const like = typeof call.like === 'string' ? call.like.replace(/\?$/, '') : undefined;
    let likeBound: Built | undefined;
    for (const r of refs) {
      const b = lookup(r.name);
      if (b === 'failed') return 'failed';
      if (b === 'excluded') {
        if (r.optional) continue;
        this.error('undefined-ref', `node '${name}' reads '${r.name}', which is not built here (its \`when\` condition is false)`, r.at, frame, {
          hint: `write '${r.name}?' to read it only when it exists`,
        });
        return 'failed';
      }
      if (r.name === like && r === refs[refs.length - 1]) likeBound = b;
      else inputs.push(b);
    }

    const op = String(call.op);
    const mod = this.spec.modules.get(op);
    if (!isOpKind(op) && !mod) {
      this.error('unknown-op', `unknown op or module '${op}'`, posAt(file, [...path, name, 'op']), frame, {
        hint: suggestion(op, [...OP_KINDS, ...this.spec.modules.keys()]) ?? `primitives: ${OP_KINDS.join(', ')}; modules: ${[...this.spec.modules.keys()].join(', ') || 'none (add imports)'}`,
      });
      return 'failed';
    }

    let count = 1;
    if (call.repeat !== undefined) {
      const n = this.value(frame, call.repeat, 'int', [...path, name, 'repeat'], scope, { min: 0 });
      if (n === undefined) return 'failed';
      if (inputs.length !== 1) {
        this.error('bad-value', `'${name}' has repeat but ${inputs.length} inputs: a repeated call chains one input through each instance`, at, frame);
        return 'failed';
      }
      count = n as number;
      if (count === 0) return inputs[0];
    }

    let current = inputs;
    let result: Bound = 'failed';
    for (let k = 0; k < count; k++) {
      const id = `${frame.prefix}${name}${call.repeat !== undefined ? `.${k}` : ''}`;
      const iterScope = call.repeat !== undefined ? withVar(scope, 'i', k) : scope;
      result = isOpKind(op)
        ? this.primitive(frame, name, op, current, likeBound, id, iterScope, at)
        : this.module(frame, name, mod!, current, id, iterScope, at);
      if (typeof result === 'string') return result;
      current = [result];
    }
    return result;
  }

  private primitive(frame: Frame, name: string, op: OpKind, inputs: Built[], like: Built | undefined, id: string, scope: ScopeFn, at?: SourcePos): Bound {
    const def = opDef(op);
    const { file, path } = frame.body;
    if (inputs.length < def.arity.min || inputs.length > def.arity.max) {
      const want = def.arity.min === def.arity.max ? `${def.arity.min}` : `${def.arity.min} to ${def.arity.max}`;
      this.error('bad-value', `${op} takes ${want} input${def.arity.max === 1 ? '' : 's'}, '${name}' gives ${inputs.length}`, posAt(file, [...path, name, 'in']) ?? at, frame);
      return 'failed';
    }
    const attrs: Attrs = {};
    for (const [key, spec] of Object.entries(def.attrs) as [string, AttrSpec][]) {
      const raw = frame.body.nodes[name][key];
      if (spec.type === 'ref') {
        if (like) attrs[key] = like.id;
        continue;
      }
      if (raw === undefined) {
        if (spec.default !== undefined) attrs[key] = spec.default;
        continue;
      }
      const v = this.attr(frame, raw, spec, [...path, name, key], scope);
      if (v === undefined) return 'failed';
      attrs[key] = v;
    }
    const complete = def.complete?.(attrs) ?? attrs;
    const ctx = { inputs: inputs.map((b) => b.shape), names: inputs.map((b) => b.label), attrs: complete, ref: like?.shape };
    const shape = def.shape(ctx);
    if (isShapeFailure(shape)) {
      const notes = inputs.map((b) => ({ message: `'${b.label}' is ${b.shape.h}x${b.shape.w} with ${b.shape.c} channels`, at: b.at }));
      this.error(shape.code, `${name}: ${shape.message}`, at, frame, { hint: shape.hint, notes });
      return 'failed';
    }
    if (this.ids.has(id)) {
      this.error('duplicate-name', `two nodes expand to the same id '${id}'`, at, frame);
      return 'failed';
    }
    if (this.nodes.length >= this.maxNodes) {
      this.tooLarge = true;
      this.error('too-large', `the graph expands to more than ${this.maxNodes} primitive nodes`, at, frame, { hint: 'check `repeat` counts' });
      return 'failed';
    }
    this.ids.add(id);
    this.nodes.push({ id, op, inputs: inputs.map((b) => b.id), attrs: complete, shape, origin: [...frame.chain, ...(at ? [at] : [])] });
    return { id, shape, at, label: name };
  }

  private module(frame: Frame, name: string, mod: ModuleDef, inputs: Built[], id: string, scope: ScopeFn, at?: SourcePos): Bound {
    const { file, path } = frame.body;
    const call = frame.body.nodes[name];
    if (frame.modules.length >= MAX_MODULE_DEPTH) {
      this.error('too-large', `module calls nest more than ${MAX_MODULE_DEPTH} deep ('${name}' calls '${mod.name}')`, at, { ...frame, chain: frame.chain.slice(-3), modules: frame.modules.slice(-3) }, {
        hint: 'a module may call others, but not in a chain this long: use `repeat` for repeated blocks',
      });
      return 'failed';
    }
    if (frame.modules.includes(mod.name)) {
      this.error('cycle', `module '${mod.name}' calls itself (${[...frame.modules, mod.name].join(' -> ')})`, at, frame);
      return 'failed';
    }
    if (inputs.length !== mod.inputs.length) {
      this.error('bad-value', `module '${mod.name}' takes ${mod.inputs.length} input${mod.inputs.length === 1 ? '' : 's'} (${mod.inputs.join(', ')}), '${name}' gives ${inputs.length}`, posAt(file, [...path, name, 'in']) ?? at, frame);
      return 'failed';
    }
    let ok = true;
    for (const key of Object.keys(call)) {
      if (key in CALL_KEYS || key in mod.params) continue;
      ok = false;
      this.error('unknown-key', `module '${mod.name}' has no parameter '${key}'`, posAt(file, [...path, name, key], 'key'), frame, {
        hint: suggestion(key, Object.keys(mod.params)) ?? `its parameters: ${Object.keys(mod.params).join(', ') || 'none'}`,
      });
    }
    const bindings = new Map<string, Bound>(mod.inputs.map((n, i) => [n, inputs[i]]));
    const vars = new Map<string, Value>();
    const inner: Frame = { body: mod.body, prefix: `${id}/`, vars, bindings, chain: [...frame.chain, ...(at ? [at] : [])], modules: [...frame.modules, mod.name] };
    const innerScope = this.scope(inner, new Map());
    for (const [key, p] of Object.entries(mod.params)) {
      let v: Value | undefined;
      if (call[key] !== undefined) v = this.value(frame, call[key], p.type, [...path, name, key], scope, p);
      else if (p.default !== undefined) v = this.value({ ...inner, chain: frame.chain, modules: frame.modules }, p.default, p.type, ['modules', mod.name, 'params', key], innerScope, p, mod.body.file);
      else {
        this.error('missing-param', `'${name}' calls module '${mod.name}' without its required parameter '${key}'`, at, frame, {
          hint: `add '${key}: <${p.type}>' to '${name}'`,
          notes: [{ message: `'${key}' is declared here`, at: p.at }],
        });
        ok = false;
        continue;
      }
      if (v === undefined) ok = false;
      else vars.set(key, v);
    }
    if (!ok) return 'failed';
    const results = this.expandBody(inner);
    const names = Object.keys(mod.body.nodes);
    const outName = mod.output ?? names[names.length - 1];
    const out = results.get(outName) ?? 'failed';
    if (out === 'excluded') this.error('undefined-ref', `module '${mod.name}' returns '${outName}', which was not built (its \`when\` condition is false)`, mod.at, frame);
    if (typeof out === 'string') return 'failed';
    return { id: out.id, shape: out.shape, at, label: name };
  }

  private scope(frame: Frame, results: Map<string, Bound>): ScopeFn {
    return (p) => {
      if (p.length === 1) return frame.vars.get(p[0]);
      if (p.length === 2) {
        const b = results.get(p[0]) ?? frame.bindings.get(p[0]);
        if (b === undefined || typeof b === 'string') return undefined;
        return ({ channels: b.shape.c, height: b.shape.h, width: b.shape.w } as Record<string, number>)[p[1]];
      }
      return undefined;
    };
  }

  /** Resolves an attribute: literal or expression, pairs broadcast, bounds checked. */
  private attr(frame: Frame, raw: unknown, spec: AttrSpec, vpath: (string | number)[], scope: ScopeFn): AttrValue | undefined {
    if (spec.type === 'enum') return raw as string;
    if (spec.type === 'pair') {
      const parts = Array.isArray(raw) ? raw : [raw, raw];
      const vs = parts.map((r, i) => this.value(frame, r, 'int', Array.isArray(raw) ? [...vpath, i] : vpath, scope, spec));
      return vs.every((v) => v !== undefined) ? (vs as number[]) : undefined;
    }
    return this.value(frame, raw, spec.type === 'float' ? 'float' : spec.type === 'bool' ? 'bool' : 'int', vpath, scope, spec);
  }

  /** A literal or an expression, type- and bounds-checked; undefined (with an error recorded) when wrong. */
  private value(frame: Frame, raw: unknown, type: 'int' | 'float' | 'bool', vpath: (string | number)[], scope: ScopeFn, bounds: { min?: number; max?: number } = {}, file = frame.body.file): Value | undefined {
    const at = posAt(file, vpath);
    let v: unknown = raw;
    if (typeof raw === 'string') {
      try {
        v = evaluate(raw, scope);
      } catch (e) {
        if (!(e instanceof ExprError)) throw e;
        const col = at ? { ...at, col: at.col + e.offset + (quoted(file.text, at) ? 1 : 0), endCol: at.col + e.offset + 1 + (quoted(file.text, at) ? 1 : 0) } : at;
        const names = [...frame.vars.keys(), ...[...frame.bindings.keys()].map((b) => `${b}.channels`)];
        this.error('bad-expression', `in '${raw.length > 60 ? `${raw.slice(0, 57)}...` : raw}': ${e.message}`, col, frame, {
          hint: e.message.startsWith('unknown name') ? suggestion(e.message.split("'")[1], names) ?? `names in scope: ${names.join(', ') || 'none'}` : undefined,
        });
        return undefined;
      }
    }
    const what = `'${vpath[vpath.length - 1]}'`;
    if (type === 'bool') {
      if (typeof v !== 'boolean') return this.bad(frame, 'bad-type', `${what} should be true/false or a condition, got ${JSON.stringify(v)}`, at);
      return v;
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) return this.bad(frame, 'bad-type', `${what} should be a number, got ${JSON.stringify(v)}`, at);
    if (type === 'int' && !Number.isInteger(v)) return this.bad(frame, 'bad-type', `${what} should be an integer, got ${v}`, at);
    if (bounds.min !== undefined && v < bounds.min) return this.bad(frame, 'bad-value', `${what} is ${v}, below its minimum ${bounds.min}`, at);
    if (bounds.max !== undefined && v > bounds.max) return this.bad(frame, 'bad-value', `${what} is ${v}, above its maximum ${bounds.max}`, at);
    return v;
  }

  private bad(frame: Frame, code: Diagnostic['code'], message: string, at?: SourcePos): undefined {
    this.error(code, message, at, frame);
    return undefined;
  }
}

type ScopeFn = (p: readonly string[]) => Value | undefined;
const withVar = (s: ScopeFn, name: string, v: Value): ScopeFn => (p) => (p.length === 1 && p[0] === name ? v : s(p));
const quoted = (text: string, at: SourcePos) => /["']/.test(text.split(/\r?\n/)[at.line - 1]?.[at.col - 1] ?? '');

function findCycle(nodes: string[], deps: (n: string) => string[]): string[] {
  // every remaining node waits on another remaining node, so walking deps must revisit one
  const remaining = new Set(nodes);
  const path: string[] = [];
  const seen = new Set<string>();
  let n = nodes[0];
  while (!seen.has(n)) {
    path.push(n);
    seen.add(n);
    n = deps(n).find((d) => remaining.has(d))!;
  }
  return path.slice(path.indexOf(n));
}

/** A binary min-heap of indices: the ready node first in YAML order. */
class MinHeap {
  private readonly a: number[] = [];
  get size() {
    return this.a.length;
  }
  push(v: number) {
    const a = this.a;
    a.push(v);
    for (let i = a.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (a[p] <= a[i]) break;
      [a[p], a[i]] = [a[i], a[p]];
      i = p;
    }
  }
  pop(): number {
    const a = this.a;
    const top = a[0];
    const last = a.pop()!;
    if (a.length) {
      a[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l] < a[m]) m = l;
        if (r < a.length && a[r] < a[m]) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i], a[m]];
        i = m;
      }
    }
    return top;
  }
}

/** Expands a loaded spec into the IR at one input size. `graph` is set only when there are no errors. */
export function expandSpec(spec: LoadedSpec, opts: ExpandOptions = {}): ExpandResult {
  const { doc, file } = spec;
  const size = opts.size ?? sizeOf(doc.input?.size) ?? DEFAULT_INPUT_SIZE;
  const channels = doc.input?.channels ?? 3;
  const classes = doc.output?.classes ?? 1;
  const ex = new Expander(spec, opts.maxNodes ?? DEFAULT_MAX_NODES);
  const body: GraphBody = { file, path: ['graph'], nodes: doc.graph ?? {} };
  const inputBound: Bound = { id: INPUT_ID, label: INPUT_ID, shape: { h: size[0], w: size[1], c: channels }, at: doc.input ? posAt(file, ['input'], 'key') : undefined };
  const frame: Frame = { body, prefix: '', vars: new Map([['classes', classes]]), bindings: new Map([[INPUT_ID, inputBound]]), chain: [], modules: [] };
  const results = ex.expandBody(frame);

  const names = Object.keys(body.nodes);
  const outName = doc.output?.from ?? names[names.length - 1];
  const out = results.get(outName);
  if (out === undefined && doc.output?.from) {
    ex.error('undefined-ref', `output.from names '${outName}', which is not a node of the graph`, posAt(file, ['output', 'from']), frame, { hint: suggestion(outName, names) });
  } else if (out === 'excluded') {
    ex.error('undefined-ref', `the output node '${outName}' is not built (its \`when\` condition is false)`, posAt(file, ['graph', outName], 'key'), frame);
  } else if (out && typeof out !== 'string' && out.shape.c !== classes) {
    // blame the node that set the channel count, not the resize or activation after it
    const source = channelSource(ex.nodes, out.id);
    const at = source?.origin[0] ?? posAt(file, ['graph', outName], 'key');
    ex.error('channel-mismatch', `the output has ${out.shape.c} channels (set by '${source?.id ?? outName}') but output.classes is ${classes}`, at, frame, {
      hint: `give it out: ${classes} (or out: classes)`,
      notes: [
        { message: `'${outName}' is the output`, at: posAt(file, ['graph', outName], 'key') },
        { message: 'classes declared here', at: doc.output?.classes !== undefined ? posAt(file, ['output', 'classes']) : undefined },
      ],
    });
  }

  const graph: IrGraph = {
    name: doc.name ?? file.path.replace(/^.*\//, '').replace(/\.ya?ml$/, ''),
    input: { channels, size },
    output: { node: out && typeof out !== 'string' ? out.id : outName, classes, activation: doc.output?.activation ?? 'sigmoid' },
    nodes: ex.nodes,
  };

  let diagnostics = ex.diagnostics;
  const strideError = checkInputStride(graph, opts.size ? undefined : posAt(file, ['input', 'size']), opts.size !== undefined);
  if (strideError) {
    // mismatched skip connections are what an indivisible size causes: report the cause alone
    diagnostics = [strideError, ...diagnostics.filter((d) => d.code !== 'spatial-mismatch')];
  }
  diagnostics = normalizeDiagnostics(diagnostics);
  return diagnostics.length ? { diagnostics } : { graph, diagnostics };
}

/** The node that set `id`'s channel count: walks back through ops the registry marks `keepsChannels`. */
function channelSource(nodes: IrNode[], id: string): IrNode | undefined {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  let n = byId.get(id);
  while (n && opDef(n.op).keepsChannels && byId.has(n.inputs[0])) n = byId.get(n.inputs[0]);
  return n;
}

export function sizeOf(s: number | readonly number[] | undefined): [number, number] | undefined {
  if (s === undefined) return undefined;
  return typeof s === 'number' ? [s, s] : [s[0], s[1]];
}

export type { ParamDef };
