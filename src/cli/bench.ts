import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { AlcliCommand } from './base.js';
import { compileOptions, compileOrFail, jsonFlag, printJson, specFlags, UsageError } from './common.js';

export default class Bench extends AlcliCommand {
  static override summary = 'Time inference of a spec on every engine: TF.js executor (both forms), TF.js graph model, ONNX Runtime';
  static override description =
    'Seeded random weights (BatchNorm calibrated), one batch, warm-up runs, then the median of --runs. Reports ms per batch, images/s and GFLOP/s for each engine, and the deploy/training speed-up. Training throughput (--mode train) comes with `alcli train`.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> architectures/alnet.yaml --mode infer --size 512',
    '<%= config.bin %> <%= command.id %> architectures/alnet.yaml --size 256 --batch 4 --runs 20 --json',
  ];
  static override args = { spec: Args.string({ description: 'spec file, or an `alcli export` directory', required: true }) };
  static override flags = {
    size: specFlags.size,
    ...jsonFlag,
    mode: Flags.string({ summary: 'what to time', options: ['infer'], default: 'infer' }),
    batch: Flags.integer({ summary: 'images per batch', default: 1, min: 1 }),
    runs: Flags.integer({ summary: 'timed runs (the median is reported)', default: 10, min: 1 }),
    warmup: Flags.integer({ summary: 'untimed runs first', default: 3, min: 0 }),
    threads: Flags.integer({ summary: 'ONNX Runtime intra-op threads', default: 2, min: 1 }),
    backend: Flags.string({ summary: 'TF.js backend', options: ['auto', 'tensorflow', 'wasm', 'cpu'], default: 'auto' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Bench);
    if (existsSync(args.spec) && statSync(args.spec).isDirectory()) return this.benchExportDir(args.spec, flags);
    const c = await compileOrFail(args.spec, compileOptions(flags), flags.json);
    const [{ loadTf }, { exportWeightsFromSpec }, { benchInfer }, { cpus }] = await Promise.all([import('../runtime/backend.js'), import('../export.js'), import('../bench/infer.js'), import('node:os')]);
    const { tf, backend, notice } = await loadTf(flags.backend as 'auto');
    if (notice && !flags.json) process.stderr.write(`${notice}\n`);
    const weights = await exportWeightsFromSpec(tf, c, 0, 2);
    if (!flags.json) process.stderr.write(`timing ${args.spec} at ${c.graph.input.size.join('x')}, batch ${flags.batch}: ${flags.warmup} warm-up + ${flags.runs} runs per engine\n`);
    const timings = await benchInfer(tf, c, weights, backend, flags);
    const ms = (engine: string, form: string) => timings.find((t) => t.engine.startsWith(engine) && t.form === form)!.median_ms;
    const ratios = {
      deploy_vs_train_executor: ms('TF.js executor', 'train') / ms('TF.js executor', 'deploy'),
      graph_model_vs_executor_deploy: ms('TF.js graph model', 'deploy') / ms('TF.js executor', 'deploy'),
    };
    const result = { spec: args.spec, mode: flags.mode, size: c.graph.input.size, batch: flags.batch, backend, machine: `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}`, timings, ratios };
    if (flags.json) return printJson(result);
    const rows = timings.map((t) => `${`${t.engine}, ${t.form}`.padEnd(44)} ${t.median_ms.toFixed(1).padStart(9)} ms  ${t.images_per_s.toFixed(2).padStart(8)} img/s  ${t.gflop_per_s.toFixed(1).padStart(7)} GFLOP/s`);
    process.stdout.write(`${rows.join('\n')}\ndeploy form ${ratios.deploy_vs_train_executor.toFixed(2)}x faster than the training form (executor); graph model at ${ratios.graph_model_vs_executor_deploy.toFixed(2)}x the executor's deploy time\n`);
  }

  /** An export directory: its ONNX in ONNX Runtime and its graph model in TF.js, at the size it was exported for. */
  private async benchExportDir(dir: string, flags: { json: boolean; batch: number; runs: number; warmup: number; threads: number; backend: string; mode: string }): Promise<void> {
    const [{ loadTf }, { benchExport }] = await Promise.all([import('../runtime/backend.js'), import('../bench/infer.js')]);
    const { tf, backend, notice } = await loadTf(flags.backend as 'auto');
    if (notice && !flags.json) process.stderr.write(`${notice}\n`);
    const read = (p: string) => (existsSync(join(dir, p)) ? new Uint8Array(readFileSync(join(dir, p))) : undefined);
    if (!read('model.onnx') && !read('tfjs/model.json')) throw new UsageError(`'${dir}' holds neither model.onnx nor tfjs/model.json: give a spec or an \`alcli export\` directory`);
    const r = await benchExport(tf, backend, read, flags);
    if (flags.json) return printJson({ export: dir, mode: flags.mode, size: r.size, batch: flags.batch, backend, timings: r.timings });
    process.stdout.write(`${r.timings.map((t) => `${t.engine.padEnd(52)} ${t.median_ms.toFixed(1).padStart(9)} ms  ${t.images_per_s.toFixed(2).padStart(8)} img/s`).join('\n')}\n`);
  }
}
