import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Args, Flags } from '@oclif/core';
import type { Compiled } from '../frontend/compile.js';
import type { ModelCardInput } from '../render/model-card.js';
import type { WeightStore } from '../ir/weights.js';
import { AlcliCommand } from './base.js';
import { openRun } from './runs.js';
import { checkOutputDir, compileOptions, compileOrFail, jsonFlag, printJson, specFlags, UsageError, VerifyFailure } from './common.js';

const FORMATS = ['tfjs', 'onnx', 'ts', 'triton'] as const;

export default class Export extends AlcliCommand {
  static override summary = 'Export the deploy form as TF.js graph model, ONNX, TypeScript (and Triton), verified';
  static override description =
    'Folds BatchNorm and fuses RepVGG branches, then writes each artifact, reloads it from disk, runs it with its own runtime on seeded inputs and compares it with the training-form graph (verify.json). A failed check exits 6 and leaves nothing in DIR. From a spec, the weights are random (seeded), with BatchNorm statistics calibrated so the check is meaningful.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> runs/demo/run -o out/demo-export',
    '<%= config.bin %> <%= command.id %> architectures/alnet.yaml -o out/alnet-export',
    '<%= config.bin %> <%= command.id %> architectures/alnet.yaml -o out/small --size 128x128 --format onnx,triton --json',
  ];
  static override args = { source: Args.string({ description: 'a trained run directory (alcli train --out), or a spec file (seeded random weights)', required: true }) };
  static override flags = {
    size: specFlags.size,
    'max-params': specFlags['max-params'],
    ...jsonFlag,
    output: Flags.string({ char: 'o', summary: 'output directory', required: true, helpValue: 'DIR' }),
    format: Flags.string({ summary: `formats, comma-separated: ${FORMATS.join(', ')}`, default: 'tfjs,onnx,ts', helpValue: 'LIST' }),
    opset: Flags.integer({ summary: 'ONNX opset', default: 17, min: 13, max: 21 }),
    seed: Flags.integer({ summary: 'seed of the random weights and the verification inputs', default: 0 }),
    backend: Flags.string({ summary: 'TF.js backend for the executor', options: ['auto', 'tensorflow', 'wasm', 'cpu'], default: 'auto' }),
    'verify-each': Flags.boolean({ summary: 'run the IR verifier after every pass' }),
    tolerance: Flags.string({ summary: 'pass when max abs diff <= T x max(1, max |logit|)', default: '1e-4', helpValue: 'T' }),
    force: Flags.boolean({ summary: 'replace a non-empty DIR' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Export);
    const formats = parseFormats(flags.format);
    const tolerance = Number(flags.tolerance);
    if (!(tolerance >= 0)) throw new UsageError(`--tolerance '${flags.tolerance}': expected a number >= 0, e.g. 1e-4`);
    checkOutputDir(flags.output, flags.force);
    const log = (line: string) => flags.json || process.stderr.write(`${line}\n`);
    const [{ loadTf }, lib, { modelCard }] = await Promise.all([import('../runtime/backend.js'), import('../export/export.js'), import('../render/model-card.js')]);
    const { tf, backend, notice } = await loadTf(flags.backend as 'auto');
    if (notice) log(notice);
    const batch = 2;
    // a run directory brings its trained weights (BN statistics included), normalization and metrics
    const fromRun = existsSync(args.source) && statSync(args.source).isDirectory();
    let c: Compiled;
    let weights: WeightStore;
    let normalize: { mean: number[]; std: number[] } | null = null;
    let source: ModelCardInput['source'];
    if (fromRun) {
      const opened = await openRun(args.source, 'best', flags.json, compileOptions(flags));
      c = opened.compiled;
      weights = opened.checkpoint.weights;
      normalize = opened.info.normalize && { mean: opened.info.normalize.mean, std: opened.info.normalize.std };
      source = { kind: 'run', dir: args.source, data: opened.info.data.dir, epoch: opened.checkpoint.state.epoch, metrics: opened.checkpoint.state.val, engine: opened.info.engine };
      log(`export ${args.source} (best checkpoint, epoch ${opened.checkpoint.state.epoch}): ${c.graph.input.size.join('x')}, backend ${backend}`);
    } else {
      c = await compileOrFail(args.source, compileOptions(flags), flags.json);
      weights = await lib.exportWeightsFromSpec(tf, c, flags.seed, batch);
      source = { kind: 'spec', seed: flags.seed };
      log(`export ${args.source}: ${c.graph.input.size.join('x')}, backend ${backend}; seeded random weights (seed ${flags.seed})`);
    }
    const threshold = typeof c.resolved.train?.threshold === 'number' ? c.resolved.train.threshold : 0.5;
    const opts = { formats, opset: flags.opset, seed: flags.seed, batch, verifyEach: flags['verify-each'], normalize, threshold, tolerance };
    const build = await lib.buildExport(tf, c, weights, opts);
    const tmp = tempSibling(flags.output);
    let done = false;
    try {
      for (const [path, data] of build.files) {
        mkdirSync(dirname(join(tmp, path)), { recursive: true });
        writeFileSync(join(tmp, path), data);
      }
      const checks = [...build.checks, ...(await lib.checkArtifacts(tf, build, opts, (p) => readFileSync(join(tmp, p))))];
      for (const k of checks) log(`  ${k.pass ? 'ok  ' : 'FAIL'} ${k.stage}: max abs diff ${k.maxAbs.toExponential(2)} (max |logit| ${k.maxRef.toFixed(3)})`);
      const verify = {
        tolerance,
        rule: 'max abs diff <= tolerance * max(1, max |reference logit|)',
        inputs: { shape: build.reference.shape, seed: flags.seed + 1, layout: 'NHWC' },
        checks,
      };
      writeFileSync(join(tmp, 'verify.json'), `${JSON.stringify(verify, null, 2)}\n`);
      const failed = checks.filter((k) => !k.pass);
      if (failed.length) {
        if (flags.json) printJson({ ok: false, verify });
        process.stderr.write(`alcli export: ${failed.length} check(s) failed (${failed.map((f) => f.stage).join(', ')}); nothing was written to ${flags.output}\n`);
        throw new VerifyFailure();
      }
      writeFileSync(join(tmp, 'MODEL_CARD.md'), modelCard({ compiled: c, source, formats, verify: checks, tolerance, threshold: opts.threshold, normalize }));
      replaceDir(tmp, flags.output);
      done = true;
      const files = listFiles(flags.output);
      if (flags.json) printJson({ ok: true, output: flags.output, files, verify });
      else process.stdout.write(`exported ${args.source} -> ${flags.output}/ (${files.join(', ')})\n`);
    } finally {
      if (!done) rmSync(tmp, { recursive: true, force: true });
    }
  }
}

function parseFormats(text: string): (typeof FORMATS)[number][] {
  const out = text.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = out.filter((f) => !(FORMATS as readonly string[]).includes(f));
  if (bad.length || !out.length) throw new UsageError(`--format '${text}': choose from ${FORMATS.join(', ')}`);
  return [...new Set(out)] as (typeof FORMATS)[number][];
}


const tempSibling = (dir: string) => {
  const abs = resolve(dir);
  mkdirSync(dirname(abs), { recursive: true });
  const tmp = join(dirname(abs), `.${basename(abs)}.tmp-${process.pid}-${Date.now().toString(36)}`);
  mkdirSync(tmp);
  return tmp;
};

/** The new export appears whole: the old DIR (with --force) moves aside first and goes last. */
function replaceDir(tmp: string, dir: string): void {
  const abs = resolve(dir);
  const old = existsSync(abs) ? `${tmp}.old` : undefined;
  if (old) renameSync(abs, old);
  renameSync(tmp, abs);
  if (old) rmSync(old, { recursive: true, force: true });
}

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]));
}
