// A study file (`alcli study STUDY.yaml`): which specs, on which datasets, under which protocol,
// deployed at which precisions. Parsed like a spec (src/frontend/source.ts), checked against its own
// JSON Schema (schemas/study.schema.json, written by `npm run schema`), errors at file:line:col.
// Paths are relative to the study file's folder; `${NAME}` and `${NAME:-default}` read the
// environment (a clone has no ../shared, so the paper study reads ALCLI_DATASETS).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { stringify } from 'yaml';
import { diag, type Diagnostic } from '../ir/diagnostics.js';
import { parseSource, posAt, type SourceFile } from '../frontend/source.js';
import { validateDocument } from '../frontend/validate.js';
import { DEFAULT_MAX_IOU_DROP, PRECISIONS, type Precision } from '../export/formats.js';

/** `train:` overrides as the study file gives them (key -> YAML value). */
export type TrainOverrides = Record<string, unknown>;

export interface StudySpec {
  /** absolute path of the spec */
  path: string;
  /** display name (default: the spec file's stem) */
  name: string;
  train: TrainOverrides;
}

export interface StudyDataset {
  path: string;
  name: string;
  train: TrainOverrides;
  invertMask?: boolean;
  maskThreshold?: number;
}

export interface Study {
  /** the study file, absolute */
  file: string;
  name: string;
  specs: StudySpec[];
  datasets: StudyDataset[];
  protocol: { train: TrainOverrides; seeds: number[]; folds: number };
  deploy: { precisions: Precision[]; runs: number; overlays: number; maxIouDrop: number };
}

/** The study file's JSON Schema (draft 2020-12). */
export const studySchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://alcli.dev/schemas/study.schema.json',
  title: 'alcli study',
  description: 'Several specs trained and compared on several datasets under one protocol (alcli study).',
  type: 'object',
  additionalProperties: false,
  required: ['specs', 'datasets'],
  $defs: {
    train: { type: 'object', description: "train keys of a spec (epochs, crop, lr...), applied as `--set train.KEY=VALUE`" },
    entry: {
      anyOf: [
        { type: 'string', minLength: 1 },
        {
          type: 'object',
          additionalProperties: false,
          required: ['path'],
          properties: { path: { type: 'string', minLength: 1 }, name: { type: 'string', minLength: 1 }, train: { $ref: '#/$defs/train' } },
        },
      ],
    },
    dataset: {
      anyOf: [
        { type: 'string', minLength: 1 },
        {
          type: 'object',
          additionalProperties: false,
          required: ['path'],
          properties: {
            path: { type: 'string', minLength: 1 },
            name: { type: 'string', minLength: 1 },
            train: { $ref: '#/$defs/train' },
            invert_mask: { type: 'boolean' },
            mask_threshold: { type: 'number', minimum: 0, exclusiveMaximum: 1 },
          },
        },
      ],
    },
  },
  properties: {
    name: { type: 'string', minLength: 1 },
    specs: { type: 'array', minItems: 1, items: { $ref: '#/$defs/entry' } },
    datasets: { type: 'array', minItems: 1, items: { $ref: '#/$defs/dataset' } },
    protocol: {
      type: 'object',
      additionalProperties: false,
      properties: {
        train: { $ref: '#/$defs/train' },
        seeds: { type: 'array', minItems: 1, items: { type: 'integer', minimum: 0 } },
        folds: { type: 'integer', minimum: 1, maximum: 20, description: 'K-fold cross-validation on the train+val pool (1: the dataset\'s own split)' },
      },
    },
    deploy: {
      type: 'object',
      additionalProperties: false,
      properties: {
        precisions: { type: 'array', minItems: 1, items: { enum: [...PRECISIONS] } },
        runs: { type: 'integer', minimum: 1, maximum: 200 },
        overlays: { type: 'integer', minimum: 0, maximum: 16 },
        max_iou_drop: { type: 'number', minimum: 0, maximum: 1, description: "the export gate: a precision whose val IoU falls more than this below fp32's is refused (not timed, marked in the report)" },
      },
    },
  },
} as const;

let compiled: ValidateFunction | undefined;
function validator(): ValidateFunction {
  if (!compiled) {
    const Ajv = (createRequire(import.meta.url)('ajv/dist/2020.js') as { default: new (o: object) => { compile(s: object): ValidateFunction } }).default;
    compiled = new Ajv({ allErrors: true, strict: false }).compile(studySchema);
  }
  return compiled;
}

export interface LoadStudyResult {
  study?: Study;
  diagnostics: Diagnostic[];
  /** file path -> text, for renderDiagnostics */
  sources: Map<string, string>;
}

/** `${NAME}` / `${NAME:-default}` from `env`; an unset NAME without a default is an error (its name returned). */
export function expandEnv(text: string, env: Record<string, string | undefined>): { value: string; missing?: string } {
  let missing: string | undefined;
  const value = text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_, name: string, fallback?: string) => {
    const v = env[name];
    if (v !== undefined && v !== '') return v;
    if (fallback !== undefined) return fallback;
    missing ??= name;
    return '';
  });
  return { value, missing };
}

const stem = (p: string) => p.replace(/\\/g, '/').split('/').pop()!.replace(/\.[^.]*$/, '');

/**
 * Reads and checks a study file. Errors (never thrown for a bad file): YAML, schema, an unset
 * environment variable, duplicate display names. Paths are resolved but not opened here
 * (planStudy checks specs and datasets).
 */
export function loadStudy(path: string, env: Record<string, string | undefined> = process.env): LoadStudyResult {
  const sources = new Map<string, string>();
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return { diagnostics: [diag('file-not-found', `cannot read the study file '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, undefined)], sources };
  }
  sources.set(path, text);
  const parsed = parseSource(path, text);
  if (parsed.diagnostics.length) return { diagnostics: parsed.diagnostics, sources };
  const errors = validateDocument(parsed.file, parsed.value, validator()).map((e) => e.diagnostic);
  if (errors.length) return { diagnostics: errors, sources };
  const v = parsed.value as Record<string, any>;
  const diagnostics: Diagnostic[] = [];
  const base = dirname(resolve(path));
  const place = (file: SourceFile, at: (string | number)[], p: string): string => {
    const { value, missing } = expandEnv(p, env);
    if (missing) diagnostics.push(diag('bad-value', `environment variable ${missing} is not set`, posAt(file, at), { hint: `set it (export ${missing}=...) or write \${${missing}:-default}` }));
    return isAbsolute(value) ? value : resolve(base, value);
  };
  const entries = (key: 'specs' | 'datasets') =>
    (v[key] as unknown[]).map((e, i) => {
      const o = typeof e === 'string' ? { path: e } : (e as Record<string, any>);
      const at = typeof e === 'string' ? [key, i] : [key, i, 'path'];
      const abs = place(parsed.file, at, o.path);
      return { path: abs, name: (o.name as string | undefined) ?? stem(abs), train: (o.train as TrainOverrides | undefined) ?? {}, o, i };
    });
  const specs = entries('specs');
  const datasets = entries('datasets');
  for (const [key, list] of [['specs', specs], ['datasets', datasets]] as const) {
    const seen = new Map<string, number>();
    for (const e of list) {
      const first = seen.get(e.name.toLowerCase());
      if (first !== undefined) diagnostics.push(diag('duplicate-name', `${key}[${e.i}] has the same name as ${key}[${first}] ('${e.name}')`, posAt(parsed.file, [key, e.i]), { hint: 'give one of them `name: ...` (names label the report\'s rows and the run folders)' }));
      else seen.set(e.name.toLowerCase(), e.i);
    }
  }
  if (diagnostics.length) return { diagnostics, sources };
  const protocol = (v.protocol ?? {}) as Record<string, any>;
  const deploy = (v.deploy ?? {}) as Record<string, any>;
  const study: Study = {
    file: resolve(path),
    name: (v.name as string | undefined) ?? stem(path),
    specs: specs.map(({ path: p, name, train }) => ({ path: p, name, train })),
    datasets: datasets.map(({ path: p, name, train, o }) => ({ path: p, name, train, ...(o.invert_mask !== undefined ? { invertMask: o.invert_mask as boolean } : {}), ...(o.mask_threshold !== undefined ? { maskThreshold: o.mask_threshold as number } : {}) })),
    protocol: { train: (protocol.train as TrainOverrides | undefined) ?? {}, seeds: (protocol.seeds as number[] | undefined) ?? [0], folds: (protocol.folds as number | undefined) ?? 1 },
    deploy: { precisions: (deploy.precisions as Precision[] | undefined) ?? ['fp32'], runs: (deploy.runs as number | undefined) ?? 15, overlays: (deploy.overlays as number | undefined) ?? 4, maxIouDrop: (deploy.max_iou_drop as number | undefined) ?? DEFAULT_MAX_IOU_DROP },
  };
  return { study, diagnostics: [], sources };
}

/** `train:` overrides as `--set` strings (`train.KEY=VALUE`, the value as YAML flow), in order: protocol, dataset, spec, then the seed. */
export function trainSets(study: Study, spec: StudySpec, dataset: StudyDataset, seed: number): string[] {
  const sets = (o: TrainOverrides) => Object.entries(o).map(([k, val]) => `train.${k}=${stringify(val, { collectionStyle: 'flow' }).trim()}`);
  return [...sets(study.protocol.train), ...sets(dataset.train), ...sets(spec.train), `train.seed=${seed}`];
}
