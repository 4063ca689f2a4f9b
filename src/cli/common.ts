// Helpers every command shares. This file loads fast: the library (yaml, ajv, the compiler) is
// imported lazily inside the functions that need it, so `alcli --help` stays quick.
import { fileURLToPath } from 'node:url';
import { Flags } from '@oclif/core';
import { maskThresholdError, TTA_MODES, type TtaMode } from '../train/choices.js';
import type { Compiled, CompileOptions, CompileResult } from '../frontend/compile.js';
import type { Diagnostic } from '../ir/diagnostics.js';

export const EXIT = { ok: 0, internal: 1, usage: 2, spec: 3, data: 4, diverged: 5, verify: 6, io: 7 } as const;

/**
 * What each exit code means, as README.md's exit-code table says it (a test compares the two: every
 * code here is in the table with these words, and the table has no other code).
 */
export const EXIT_MEANING: Record<keyof typeof EXIT, string> = {
  ok: 'ok',
  internal: 'internal error',
  usage: 'usage error',
  spec: 'spec error',
  data: 'data error',
  diverged: 'training diverged',
  verify: 'failed export check',
  io: 'cannot read or write a file',
};

/** A numeric check of an export failed (already reported): exit 6, nothing left in the output. */
export class VerifyFailure extends Error {
  constructor() {
    super('verification failed');
  }
}

/** Errors in a dataset, already printed (each naming its file): exit 4, nothing written. */
export class DataFailure extends Error {
  constructor() {
    super('data error');
  }
}

/** A mistake in the command line (flags, arguments): exit 2, message only. */
export class UsageError extends Error {}

/** Errors in a spec, already printed: exit 3. */
export class SpecFailure extends Error {
  constructor() {
    super('spec error');
  }
}

/** The package root, from dist/cli or src/cli alike: templates/, schemas/, architectures/ live there. */
export const packagePath = (...parts: string[]): string => fileURLToPath(new URL(['../..', ...parts].join('/'), import.meta.url));

/** `--size 512x384` or `--size 512` (square). */
export function parseSize(text: string): [number, number] {
  const m = /^\s*(\d+)\s*(?:[xX*,]\s*(\d+))?\s*$/.exec(text);
  const h = m ? Number(m[1]) : NaN;
  const w = m ? Number(m[2] ?? m[1]) : NaN;
  if (!(h >= 1 && w >= 1 && h <= 1 << 16 && w <= 1 << 16))
    throw new UsageError(`--size '${text}': expected HxW with positive integers, e.g. --size 512x512`);
  return [h, w];
}

const SUFFIX: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9 };

/** `--max-params 500M`, `3.5m`, `2e6`, `1000000`, `1_000_000`. */
export function parseCount(text: string, flag: string): number {
  const m = /^\s*([\d_,]*\.?\d+(?:e\d+)?)\s*([kmg]?)\s*$/i.exec(text);
  const n = m ? Number(m[1].replace(/[_,]/g, '')) * SUFFIX[m[2].toLowerCase()] : NaN;
  if (!(Number.isFinite(n) && n > 0)) throw new UsageError(`${flag} '${text}': expected a positive count such as 500M, 2.5M or 1000000`);
  return Math.round(n);
}

const BYTE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** `--max-memory 8G`, `512M`, `1.5GB`, `2GiB`, or a byte count. */
export function parseBytes(text: string, flag: string): number {
  const m = /^\s*(\d*\.?\d+)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  const n = m ? Number(m[1]) * BYTE_UNITS[m[2].toLowerCase()] : NaN;
  if (!(Number.isFinite(n) && n >= 1)) throw new UsageError(`${flag} '${text}': expected a size such as 8G, 512M or 1.5GB`);
  return Math.round(n);
}

export const specFlags = {
  size: Flags.string({ char: 's', summary: 'input size HxW (default: the spec\'s input.size)', helpValue: 'HxW' }),
  set: Flags.string({
    summary: 'override a train setting, e.g. train.epochs=40 (repeatable)',
    helpValue: 'train.KEY=VALUE',
    multiple: true,
    // greedy multiple flags would swallow the SPEC arguments that follow
    multipleNonGreedy: true,
  }),
  'max-params': Flags.string({ summary: 'refuse networks with more trainable parameters than this', default: '500M', helpValue: 'N' }),
  'max-memory': Flags.string({ summary: 'refuse networks whose estimated activation memory (a training step, or inference) is over this (default: half the RAM)', helpValue: 'BYTES' }),
  'allow-outside-imports': Flags.boolean({ summary: "read imports outside the spec's folder tree" }),
};

/** --mask-threshold T: foreground = mask values above T x the depth's max (255, 65535, the largest palette index). */
export const maskThresholdFlag = {
  'mask-threshold': Flags.string({
    summary: "read masks that are not binary: foreground = values above T x the mask's max (255, 65535, or the largest palette index), T in [0, 1); colour masks take their largest channel, alpha must pass too (evaluate: default the run's)",
    helpValue: 'T',
  }),
};

/** The value of --mask-threshold: a fraction in [0, 1) (the library's rule, maskThresholdError). */
export function parseMaskThreshold(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim() === '' ? NaN : Number(text);
  if (maskThresholdError(t)) throw new UsageError(`--mask-threshold '${text}': expected a fraction in [0, 1) of the mask's largest value, e.g. 0.5 (values > 127.5 of 255 are foreground)`);
  return t;
}

/** --tta and the post-processing flags of `alcli predict` and `alcli evaluate`. */
export const decisionFlags = {
  tta: Flags.option({ summary: 'test-time augmentation: the mean probability over the image and its mirror images (flips: 4 passes) or all 8 symmetries of the square (dihedral: 8 passes); N passes take N x the time', options: TTA_MODES, default: 'none' as const })(),
  'keep-largest': Flags.boolean({ summary: 'keep only the largest connected component of the mask (of each class of a multi-class run; 8-connected)' }),
  'min-size': Flags.string({ summary: 'remove connected components of fewer than N pixels (8-connected; the removed pixels become background)', helpValue: 'N' }),
  'fill-holes': Flags.boolean({ summary: 'fill background regions enclosed by the mask (by one class; 4-connected, not touching the image border)' }),
};

/** The flags of decisionFlags as the library's options; --min-size must be a whole number >= 0. */
export function parseDecisions(flags: { tta: TtaMode; 'keep-largest': boolean; 'min-size'?: string; 'fill-holes': boolean }): { tta: TtaMode; postProcess?: { keepLargest: boolean; minSize?: number; fillHoles: boolean } } {
  const text = flags['min-size'];
  const minSize = text === undefined ? undefined : text.trim() === '' ? NaN : Number(text);
  if (minSize !== undefined && !(Number.isInteger(minSize) && minSize >= 0)) throw new UsageError(`--min-size '${text}': expected a whole number of pixels >= 0, e.g. 20`);
  const any = flags['keep-largest'] || flags['fill-holes'] || minSize !== undefined;
  return { tta: flags.tta, ...(any ? { postProcess: { keepLargest: flags['keep-largest'], minSize, fillHoles: flags['fill-holes'] } } : {}) };
}

export const jsonFlag = { json: Flags.boolean({ summary: 'print the result as JSON on stdout' }) };

export interface SpecFlagValues {
  size?: string;
  set?: string[];
  'max-params'?: string;
  'max-memory'?: string;
  'allow-outside-imports'?: boolean;
}

export function compileOptions(flags: SpecFlagValues): CompileOptions {
  return {
    size: flags.size === undefined ? undefined : parseSize(flags.size),
    overrides: flags.set ?? [],
    maxParams: flags['max-params'] === undefined ? undefined : parseCount(flags['max-params'], '--max-params'),
    maxMemory: flags['max-memory'] === undefined ? undefined : parseBytes(flags['max-memory'], '--max-memory'),
    allowOutsideImports: flags['allow-outside-imports'] || undefined,
  };
}

const useColor = () => Boolean(process.stderr.isTTY) && !('NO_COLOR' in process.env);

/** Diagnostics as text on stderr (coloured only on a terminal). */
export async function printDiagnostics(ds: Diagnostic[], sources: ReadonlyMap<string, string>): Promise<void> {
  const { renderDiagnostics } = await import('../frontend/diagnostics.js');
  process.stderr.write(`${renderDiagnostics(ds, sources, useColor())}\n`);
}

export interface DiagnosticJson {
  code: string;
  message: string;
  file?: string;
  line?: number;
  col?: number;
  endLine?: number;
  endCol?: number;
  hint?: string;
  notes?: { message: string; file?: string; line?: number; col?: number }[];
}

export function diagnosticJson(d: Diagnostic): DiagnosticJson {
  return {
    code: d.code,
    message: d.message,
    ...(d.at ? { file: d.at.file, line: d.at.line, col: d.at.col, endLine: d.at.endLine, endCol: d.at.endCol } : {}),
    ...(d.hint ? { hint: d.hint } : {}),
    ...(d.notes?.length ? { notes: d.notes.map((n) => ({ message: n.message, ...(n.at ? { file: n.at.file, line: n.at.line, col: n.at.col } : {}) })) } : {}),
  };
}

export const printJson = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
};

/** Compiles one spec; bad --set values are usage errors (exit 2), spec errors come back as diagnostics. */
export async function compileSpec(path: string, opts: CompileOptions): Promise<CompileResult> {
  const [{ compile }, { fileSpecHost }] = await Promise.all([import('../frontend/compile.js'), import('../frontend/load.js')]);
  const result = compile(path, fileSpecHost, opts);
  if (result.usageErrors.length) throw new UsageError(result.usageErrors.join('\n'));
  return result;
}

/** Compiles one spec for a command that needs it whole: the library's compileFile, whose errors base.ts reports (exit 2 or 3). */
export async function compileOrFail(path: string, opts: CompileOptions): Promise<Compiled> {
  const { compileFile } = await import('../train/session.js');
  return compileFile(path, opts);
}
