// src/frontend/: the spec language: YAML with positions, schema, modules, expansion to the IR.
// May import: ir, passes.
// The front end as one pure function: spec path -> checked IR in both forms, or diagnostics.
import { createRequire } from 'node:module';
import { totalmem } from 'node:os';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { parse as parseYamlValue } from 'yaml';
import { diag, normalizeDiagnostics, type Diagnostic, type SourcePos } from '../ir/diagnostics.js';
import { suggestion } from './diagnostics.js';
import { yaml11Message, yaml11Truth } from './booleans.js';
import { expandSpec } from './expand.js';
import { loadSpec, type LoadedSpec, type SpecDoc, type SpecHost } from './load.js';
import { architectureSchema } from './schema.js';
import type { IrGraph } from '../ir/graph.js';
import { activationMemory, graphStats, type GraphStats, type MemoryEstimate } from '../ir/stats.js';
import { networkStride } from '../ir/stride.js';
import { deployForm, type PassReport } from '../passes/pipeline.js';

export interface CompileOptions {
  /** input size [h, w]; default: the spec's input.size */
  size?: [number, number];
  /** refuse specs with more trainable parameters than this (default 500 M) */
  maxParams?: number;
  /** `--set train.KEY=VALUE` overrides */
  overrides?: string[];
  /** run the IR verifier after every pass */
  verifyEach?: boolean;
  /** accept a file of modules with no graph (`alcli validate architectures/lib/x.yaml`) */
  allowLibrary?: boolean;
  /** refuse specs whose estimated activation memory (training step or inference) is over this many bytes; default: half the RAM */
  maxMemory?: number;
  /** the training batch for the memory estimate; default: the resolved train.batch (4) */
  batch?: number;
  /** read imports outside the spec's folder tree */
  allowOutsideImports?: boolean;
}

export interface Compiled {
  spec: LoadedSpec;
  /** the spec document with overrides applied */
  resolved: SpecDoc;
  graph: IrGraph;
  stats: GraphStats;
  deploy: IrGraph;
  deployStats: GraphStats;
  passes: PassReport[];
  stride: [number, number];
}

export interface CompileResult {
  compiled?: Compiled;
  diagnostics: Diagnostic[];
  /** errors in command-line values (--set), which exit 2, not 3 */
  usageErrors: string[];
  sources: Map<string, string>;
  /** set for a valid module library (a file with modules and no graph) when allowLibrary is on */
  library?: { modules: string[] };
}

export const DEFAULT_MAX_PARAMS = 500_000_000;
/** The default --max-memory: this fraction of the machine's RAM. */
export const DEFAULT_MEMORY_FRACTION = 0.5;
/** train.batch and train.crop when the spec does not set them (as src/train/loop.ts trainSettings). */
const DEFAULT_BATCH = 4;
const DEFAULT_CROP = 256;

export function compile(path: string, host: SpecHost, opts: CompileOptions = {}): CompileResult {
  const loaded = loadSpec(path, host, { allowOutsideImports: opts.allowOutsideImports });
  const base = { sources: loaded.sources, usageErrors: [] as string[] };
  if (!loaded.spec) return { ...base, diagnostics: normalizeDiagnostics(loaded.diagnostics) };
  if (!loaded.spec.doc.graph) {
    const own = [...loaded.spec.modules.values()].filter((m) => m.body.file.path === path).map((m) => m.name);
    if (opts.allowLibrary && !loaded.diagnostics.length) return { ...base, diagnostics: [], library: { modules: own } };
    const missing = diag('missing-key', `'${path}' has no graph: it holds only modules`, firstLine(path), { hint: 'add a `graph:` section, or import this file from a spec' });
    return { ...base, diagnostics: normalizeDiagnostics([...loaded.diagnostics, missing]) };
  }
  const { doc: resolved, errors } = applyOverrides(loaded.spec.doc, opts.overrides ?? []);
  if (errors.length) return { ...base, diagnostics: [], usageErrors: errors };
  const spec = { ...loaded.spec, doc: resolved };
  const expanded = expandSpec(spec, { size: opts.size });
  // node-level schema errors do not stop expansion, so every other node's errors show up too
  const diagnostics = normalizeDiagnostics([...loaded.diagnostics, ...expanded.diagnostics]);
  if (!expanded.graph || diagnostics.length) return { ...base, diagnostics };
  const graph = expanded.graph;
  const stats = graphStats(graph);
  const maxParams = opts.maxParams ?? DEFAULT_MAX_PARAMS;
  if (stats.params > maxParams) {
    const d = diag('too-large', `the network has ${stats.params.toLocaleString('en-US')} parameters, over the limit of ${maxParams.toLocaleString('en-US')}`, firstLine(path), {
      hint: 'check the channel counts; raise the limit with --max-params if this is intended',
    });
    return { ...base, diagnostics: [d] };
  }
  const memory = memoryError(graph, resolved, opts, path);
  if (memory) return { ...base, diagnostics: [memory] };
  const { graph: deploy, report } = deployForm(graph, { verifyEach: opts.verifyEach });
  return {
    ...base,
    diagnostics: [],
    compiled: { spec, resolved, graph, stats, deploy, deployStats: graphStats(deploy), passes: report, stride: networkStride(graph) },
  };
}

const GB = 1024 ** 3;
export const formatBytes = (b: number): string => (b >= GB ? `${(b / GB).toFixed(1)} GB` : `${(b / 1024 ** 2).toFixed(1)} MB`);

/**
 * The memory check: a training step at train.batch x train.crop (activations x3, see
 * activationMemory) and inference at the compiled size (batch 1), against --max-memory.
 */
function memoryError(graph: IrGraph, doc: SpecDoc, opts: CompileOptions, path: string): Diagnostic | undefined {
  const limit = opts.maxMemory ?? Math.floor(totalmem() * DEFAULT_MEMORY_FRACTION);
  const train = (doc.train ?? {}) as { batch?: unknown; crop?: unknown };
  const batch = opts.batch ?? (typeof train.batch === 'number' ? train.batch : DEFAULT_BATCH);
  const crop = typeof train.crop === 'number' ? [train.crop, train.crop] : Array.isArray(train.crop) ? train.crop.map(Number) : [DEFAULT_CROP, DEFAULT_CROP];
  const step = activationMemory(graph, batch, [crop[0], crop[1]]);
  const infer = activationMemory(graph, 1, graph.input.size, 1);
  const [what, est]: [string, MemoryEstimate] =
    step.total >= infer.total ? [`a training step (batch ${batch}, crop ${crop[0]}x${crop[1]})`, step] : [`inference at ${graph.input.size.join('x')}`, infer];
  if (est.total <= limit) return undefined;
  const node = graph.nodes.find((n) => n.id === est.largest.id);
  const shape = node ? ` (${node.shape.h}x${node.shape.w}x${node.shape.c} at the compiled size)` : '';
  return diag('too-large', `${what} needs about ${formatBytes(est.total)} of activations, over the limit of ${formatBytes(limit)}; the largest is '${est.largest.id}'${shape} with ${formatBytes(est.largest.bytes)}`, node?.origin.at(-1) ?? firstLine(path), {
    hint: 'check resize scales and sizes, or lower train.batch / train.crop; raise the limit with --max-memory if this is intended',
  });
}

/** A whole-file error points at the file's first line. */
const firstLine = (file: string): SourcePos => ({ file, line: 1, col: 1, endLine: 1, endCol: 2 });

/** Train keys of which a spec gives at most one (the schema's `not` rules). */
const EXCLUSIVE_TRAIN_KEYS = [['samples_per_image', 'samples_per_epoch']];

/**
 * Applies `train.KEY=VALUE` overrides; values are read as YAML scalars and the result is checked
 * against the schema. A --set of samples_per_image drops the spec's samples_per_epoch, and the
 * other way round.
 */
export function applyOverrides(doc: SpecDoc, sets: string[]): { doc: SpecDoc; errors: string[] } {
  const trainSchema = (architectureSchema().$defs as Record<string, { properties: Record<string, unknown> }>).train;
  const keys = Object.keys(trainSchema.properties);
  const errors: string[] = [];
  const train: Record<string, unknown> = structuredClone(doc.train ?? {});
  const applied: string[] = [];
  for (const s of sets) {
    const m = /^train\.([A-Za-z_][\w.]*)=(.*)$/.exec(s);
    if (!m) {
      errors.push(`--set '${s}': expected train.KEY=VALUE, e.g. --set train.epochs=40`);
      continue;
    }
    const [head, ...rest] = m[1].split('.');
    if (!keys.includes(head)) {
      errors.push(`--set '${s}': train has no key '${head}'${((h) => (h ? `; ${h}` : ''))(suggestion(head, keys))} (keys: ${keys.join(', ')})`);
      continue;
    }
    let value: unknown;
    try {
      value = parseYamlValue(m[2]);
    } catch {
      errors.push(`--set '${s}': cannot read the value '${m[2]}'`);
      continue;
    }
    let target = train;
    for (const k of [head, ...rest].slice(0, -1)) target = (target[k] ??= {}) as Record<string, unknown>;
    target[[head, ...rest].at(-1)!] = value;
    applied.push(s);
  }
  // of keys a spec gives at most one of, a --set of one replaces the spec's other
  const setKeys = new Set(applied.map((s) => s.slice('train.'.length).split(/[.=]/)[0]));
  for (const pair of EXCLUSIVE_TRAIN_KEYS)
    for (const key of pair) if (setKeys.has(key)) for (const other of pair) if (!setKeys.has(other)) delete train[other];
  if (!errors.length && applied.length) errors.push(...trainErrors(train, applied));
  return { doc: { ...doc, train }, errors };
}

let trainValidator: ValidateFunction | undefined;

/** Schema errors of an overridden train section, each blamed on the --set that caused it. */
function trainErrors(train: Record<string, unknown>, sets: string[]): string[] {
  // ajv is loaded only when --set is used: every other run takes the precompiled validator
  const { Ajv2020 } = createRequire(import.meta.url)('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js');
  trainValidator ??= new Ajv2020({ allErrors: true, strict: false, strictNumbers: true, verbose: true }).compile({ $defs: architectureSchema().$defs, $ref: '#/$defs/train' });
  if (trainValidator(train)) return [];
  const problems = new Map<string, string>();
  // the deepest error first: of alternatives (true or a map), the one a value failed inside says why
  const depth = (e: { instancePath: string }) => e.instancePath.split('/').length;
  for (const e of [...(trainValidator.errors ?? [])].sort((a, b) => depth(b) - depth(a))) {
    let extra = e.keyword === 'additionalProperties' ? `: '${(e.params as { additionalProperty: string }).additionalProperty}'` : '';
    const key = `train${e.instancePath.replaceAll('/', '.')}`;
    // a value failing an anyOf reports every alternative: one message per --set is enough
    const culprit = sets.find((s) => ((k) => k === key || k.startsWith(`${key}.`) || key.startsWith(`${k}.`))(s.split('=')[0])) ?? key;
    const word = culprit.slice(culprit.indexOf('=') + 1);
    const truth = e.keyword === 'type' && (e.params as { type: string }).type === 'boolean' ? yaml11Truth(word) : undefined;
    if (truth !== undefined) extra += `: ${yaml11Message(word, truth)}`;
    const value = e.instancePath.split('/').slice(1).reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], train);
    const message = typeof value === 'number' && !Number.isFinite(value) ? `must be a finite number, got ${value}` : e.keyword === 'not' ? ((e.parentSchema as { description?: string } | undefined)?.description ?? e.message) : e.message;
    if (!problems.has(culprit)) problems.set(culprit, `--set '${culprit}': ${key} ${message}${extra}`);
  }
  return [...problems.values()];
}
