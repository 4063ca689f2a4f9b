// JSON Schema validation of one parsed file, with every ajv error mapped back to the YAML line it
// came from and phrased in the user's words.
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { diag, type Diagnostic } from '../ir/diagnostics.js';
import { suggestion } from './diagnostics.js';
import { posAt, type SourceFile } from './source.js';
import { OP_KINDS } from '../ir/ops.js';

/** Precompiled by `npm run schema` (src/frontend/schema-build.ts): compiling the schema at start costs ~100 ms. */
let compiled: ValidateFunction | undefined;
function validator(): ValidateFunction {
  compiled ??= createRequire(import.meta.url)('../../schemas/architecture.validate.cjs') as ValidateFunction;
  return compiled;
}

const pathOf = (instancePath: string): (string | number)[] =>
  instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));

const describe = (path: (string | number)[]) => (path.length ? `'${path.join('.')}'` : 'the file');

export interface SchemaError {
  diagnostic: Diagnostic;
  /** the value path the error is about */
  path: (string | number)[];
}

/** Validates a parsed value against the architecture schema (or `validate`, another file kind's); returns errors in YAML positions (empty when valid). */
export function validateDocument(file: SourceFile, value: unknown, validate: ValidateFunction = validator()): SchemaError[] {
  if (validate(value)) return [];
  return mapErrors(file, value, validate.errors ?? []);
}

function mapErrors(file: SourceFile, value: unknown, errors: ErrorObject[]): SchemaError[] {
  // anyOf reports each failed branch too; keep one message per place, the most specific first
  const byPath = new Map<string, ErrorObject[]>();
  for (const e of errors) {
    if (e.keyword === 'if') continue;
    byPath.set(e.instancePath, [...(byPath.get(e.instancePath) ?? []), e]);
  }
  const out: SchemaError[] = [];
  const paths = [...byPath.keys()];
  for (const [instancePath, es] of byPath) {
    const path = pathOf(instancePath);
    const structural = es.filter((e) => ['additionalProperties', 'required', 'propertyNames', 'minProperties'].includes(e.keyword));
    for (const e of structural) out.push({ diagnostic: structuralError(file, value, path, e), path });
    if (structural.length) continue;
    // alternatives (true or a map; n or [h, w]) of which one failed deeper: that deeper error is the one to show
    if (es.some((e) => e.keyword === 'anyOf') && paths.some((p) => p.startsWith(`${instancePath}/`))) continue;
    const e = es.find((x) => ['enum', 'const'].includes(x.keyword)) ?? es.find((x) => x.keyword === 'anyOf') ?? es[0];
    out.push({ diagnostic: valueError(file, value, path, e, es), path });
  }
  return out;
}

function structuralError(file: SourceFile, value: unknown, path: (string | number)[], e: ErrorObject): Diagnostic {
  if (e.keyword === 'additionalProperties') {
    const key = (e.params as { additionalProperty: string }).additionalProperty;
    const allowed = Object.keys((e.parentSchema as { properties?: object })?.properties ?? {});
    const isNode = path.length >= 2 && (path[path.length - 2] === 'graph');
    const what = isNode ? `op '${(nodeOp(value, path) ?? '?')}' has no attribute '${key}'` : `unknown key '${key}' in ${describe(path)}`;
    // at the top level, an anchor section is the likely intent
    const anchors = path.length === 0 ? `; shared anchors go in a key starting with x- (x-${key}: &${key} {...}, then <<: *${key})` : '';
    return diag('unknown-key', what, posAt(file, [...path, key], 'key'), {
      hint: (suggestion(key, allowed) ?? `allowed here: ${allowed.join(', ')}`) + anchors,
    });
  }
  if (e.keyword === 'required') {
    const key = (e.params as { missingProperty: string }).missingProperty;
    return diag('missing-key', `${describe(path)} needs '${key}'`, posAt(file, path, 'key'), {
      hint: key === 'op' ? `add op: one of ${OP_KINDS.join(', ')}, or a module name` : `add '${key}: ...'`,
    });
  }
  if (e.keyword === 'propertyNames') {
    const bad = (e.params as { propertyName: string }).propertyName;
    return diag('bad-value', `'${bad}' is not a valid name: use letters, digits and _, starting with a letter`, posAt(file, [...path, bad], 'key'));
  }
  return diag('bad-value', `${describe(path)} ${e.message}`, posAt(file, path));
}

/** The value at a path of the parsed value (merge keys already applied, unlike the YAML nodes). */
function valueAt(value: unknown, path: (string | number)[]): unknown {
  return path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined), value);
}

function nodeOp(value: unknown, path: (string | number)[]): string | undefined {
  const op = valueAt(value, [...path, 'op']);
  return typeof op === 'string' ? op : undefined;
}

function valueError(file: SourceFile, value: unknown, path: (string | number)[], e: ErrorObject, all: ErrorObject[]): Diagnostic {
  const at = posAt(file, path);
  const v = valueAt(value, path);
  const kind = v === null ? 'nothing' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'a map' : typeof v === 'string' ? 'text' : `a ${typeof v}`;
  // the whole file's value is never echoed (it may be a file that is no spec at all); others are cut short
  const shown = JSON.stringify(v) ?? 'nothing';
  const got = path.length === 0 ? kind : shown.length > 60 ? `${shown.slice(0, 57)}...` : shown;
  if (e.keyword === 'enum' || e.keyword === 'const') {
    const allowed = e.keyword === 'enum' ? ((e.params as { allowedValues: unknown[] }).allowedValues) : [(e.params as { allowedValue: unknown }).allowedValue];
    const word = String(valueAt(value, path));
    return diag('bad-value', `${describe(path)} is ${got}; allowed: ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, at, {
      hint: suggestion(word, allowed.map(String)),
    });
  }
  // a rule between keys (`not`): its schema's description says it in the user's words
  if (e.keyword === 'not' || all.some((x) => x.keyword === 'not')) {
    const rule = all.find((x) => x.keyword === 'not')!;
    // at the last key the rule names (`not: {required: [a, b]}`: at b)
    const keys = (rule.schema as { required?: string[] } | undefined)?.required;
    const where = keys?.length ? posAt(file, [...path, keys.at(-1)!], 'key') : at;
    return diag('bad-value', `${describe(path)} ${(rule.parentSchema as { description?: string } | undefined)?.description ?? rule.message}`, where);
  }
  const types = [...new Set(all.filter((x) => x.keyword === 'type').map((x) => (x.params as { type: string }).type))];
  const bounds = all.find((x) => ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minItems', 'maxItems', 'minLength', 'pattern'].includes(x.keyword));
  // a bound failed at this very value: some alternative took its type, so the bound is the problem
  // (`size: 100000` is too large, not "should be a list")
  if (bounds) {
    return diag('bad-value', `${describe(path)} is ${got}: it ${bounds.message}`, at);
  }
  if (types.length) {
    const want = types.map((t) => (t === 'string' ? 'an expression' : t === 'integer' ? 'an integer' : t === 'object' ? 'a map (key: value lines)' : t === 'array' ? 'a list' : `a ${t}`)).join(' or ');
    return diag('bad-type', `${describe(path)} should be ${want}, got ${got}`, at);
  }
  return diag('bad-value', `${describe(path)} is ${got}: it ${e.message}`, at);
}
