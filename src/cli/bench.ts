import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { AlcliCommand } from './base.js';
import { compileOptions, compileOrFail, jsonFlag, parseSize, printJson, specFlags, UsageError } from './common.js';
import type { Compiled } from '../frontend/compile.js';
import { BACKENDS, type BackendChoice } from '../runtime/backend.js';
import { TRAIN_ENGINES, type TrainEngineChoice } from '../train/choices.js';

export default class Bench extends AlcliCommand {
  static override summary = 'Time inference (every engine) or a training step (one engine) of a spec';
  static override description = [
    '--mode infer: seeded random weights (BatchNorm calibrated), one batch on the TF.js executor (both forms), the TF.js graph model and ONNX Runtime; ms per batch, images/s, GFLOP/s, and the deploy/training speed-up.',
    'An `alcli export` directory: every model file in it (model.onnx, model.fp16.onnx, model.int8.onnx, model.image.onnx, tfjs/, tfjs.fp16/, tfjs.uint8/ ...) side by side in one process, ONNX files in ONNX Runtime (--threads), graph models with tf.loadGraphModel, at the export\'s size (--size HxW for models of symbolic size); size on disk, ms per image and the speed-up over model.onnx.',
    '--mode train: optimizer steps of `alcli train` (Adam, BCE + Dice) on a seeded batch with the engine of --engine (auto, ort or tfjs, as alcli train picks); ms per step, images/s and GFLOP/s (a step counted as 3 forward passes). `npm run bench` adds the PyTorch twin beside it when python3-torch is installed.',
  ].join('\n\n');
  static override examples = [
    '<%= config.bin %> <%= command.id %> architectures/alnet.yaml --mode infer --size 512',
    '<%= config.bin %> <%= command.id %> architectures/alnet.yaml --size 256 --batch 4 --runs 20 --json',
    '<%= config.bin %> <%= command.id %> architectures/alnet.yaml --mode train --engine ort --size 256 --batch 4 --json',
    '<%= config.bin %> <%= command.id %> out/alnet --threads 2 --runs 20',
  ];
  static override args = { spec: Args.string({ description: 'spec file, or an `alcli export` directory', required: true }) };
  static override flags = {
    size: specFlags.size,
    ...jsonFlag,
    mode: Flags.string({ summary: 'what to time', options: ['infer', 'train'], default: 'infer' }),
    engine: Flags.option({ summary: '--mode train: the training engine (as alcli train --engine)', options: TRAIN_ENGINES, default: 'auto' as const })(),
    batch: Flags.integer({ summary: 'images per batch', default: 1, min: 1 }),
    runs: Flags.integer({ summary: 'timed runs (the median is reported)', default: 10, min: 1 }),
    warmup: Flags.integer({ summary: 'untimed runs first', default: 3, min: 0 }),
    threads: Flags.integer({ summary: 'ONNX Runtime intra-op threads', default: 2, min: 1 }),
    backend: Flags.option({ summary: 'TF.js backend', options: BACKENDS, default: 'auto' as const })(),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Bench);
    if (existsSync(args.spec) && statSync(args.spec).isDirectory()) return this.benchExportDir(args.spec, flags);
    const c = await compileOrFail(args.spec, compileOptions(flags));
    if (flags.mode === 'train') return this.benchTrainStep(args.spec, c, flags);
    const [{ loadTf }, { exportWeightsFromSpec }, { benchInfer }, { cpus }] = await Promise.all([import('../runtime/backend.js'), import('../export/export.js'), import('../bench/infer.js'), import('node:os')]);
    const { tf, backend, notice } = await loadTf(flags.backend);
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

  /** --mode train: the optimizer step of one engine. */
  private async benchTrainStep(spec: string, c: Compiled, flags: { json: boolean; batch: number; runs: number; warmup: number; backend: BackendChoice; engine: TrainEngineChoice }): Promise<void> {
    const [{ chooseEngine }, { initWeights }, { benchTrain }, { trainSettings }, { cpus }] = await Promise.all([import('../train/engines.js'), import('../ir/weights.js'), import('../bench/train.js'), import('../train/loop.js'), import('node:os')]);
    const s = trainSettings(c.resolved.train as Record<string, unknown> | undefined);
    const chosen = await chooseEngine(flags.engine, c.graph, { optimizer: s.optimizer, loss: s.loss }, flags.backend);
    if ('error' in chosen) throw new UsageError(chosen.error);
    if (!flags.json) for (const n of chosen.notices) process.stderr.write(`${n}\n`);
    const engine = await chosen.create(initWeights(c.graph, 0));
    if (!flags.json) process.stderr.write(`timing a training step of ${spec} at ${c.graph.input.size.join('x')}, batch ${flags.batch}, engine ${engine.name}: ${flags.warmup} warm-up + ${flags.runs} steps\n`);
    try {
      const t = await benchTrain(engine, c.graph, flags);
      if (flags.json) return printJson({ spec, mode: 'train', machine: `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}`, ...t });
      process.stdout.write(`${t.engine}: ${t.median_ms.toFixed(0)} ms per step (min ${t.min_ms.toFixed(0)}, max ${t.max_ms.toFixed(0)}), ${t.images_per_s.toFixed(2)} images/s, ${t.gflop_per_s.toFixed(1)} GFLOP/s\n`);
    } finally {
      engine.dispose();
    }
  }

  /** An export directory: every model file in it (each precision and IO variant), side by side, at the export's size or --size. */
  private async benchExportDir(dir: string, flags: { json: boolean; batch: number; runs: number; warmup: number; threads: number; backend: BackendChoice; mode: string; size?: string }): Promise<void> {
    const [{ loadTf }, { benchExportArtifacts, findArtifacts, FP32_ONNX }] = await Promise.all([import('../runtime/backend.js'), import('../bench/export.js')]);
    const paths = readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isFile() ? [e.name] : e.isDirectory() && e.name.startsWith('tfjs') ? readdirSync(join(dir, e.name)).map((f) => `${e.name}/${f}`) : []));
    const found = findArtifacts(paths);
    if (!found.onnx.length && !found.tfjs.length) throw new UsageError(`'${dir}' holds neither model.onnx nor tfjs/model.json (nor any model.*.onnx or tfjs.*/): give a spec or an \`alcli export\` directory`);
    const { tf, backend, notice } = await loadTf(flags.backend);
    if (notice && !flags.json) process.stderr.write(`${notice}\n`);
    const size = flags.size === undefined ? undefined : parseSize(flags.size);
    if (!flags.json) process.stderr.write(`timing ${[...found.onnx, ...found.tfjs.map((d) => `${d}/`)].join(', ')}, batch ${flags.batch}: ${flags.warmup} warm-up + ${flags.runs} runs each\n`);
    const r = await benchExportArtifacts(tf, backend, { paths, read: (p) => new Uint8Array(readFileSync(join(dir, p))) }, { ...flags, size });
    if (flags.json) return printJson({ export: dir, mode: flags.mode, size: r.size, batch: flags.batch, threads: flags.threads, backend, timings: r.rows });
    const head = `${'artifact'.padEnd(24)} ${'engine'.padEnd(30)} ${'size'.padStart(9)} ${'ms/image'.padStart(9)}  vs ${FP32_ONNX}`;
    const lines = r.rows.map((t) => `${t.artifact.padEnd(24)} ${t.engine.padEnd(30)} ${sizeText(t.bytes).padStart(9)} ${t.ms_per_image.toFixed(1).padStart(9)}  ${t.speedup_vs_fp32 === undefined ? '-' : `${t.speedup_vs_fp32.toFixed(2)}x`}`);
    process.stdout.write(`at ${r.size.join('x')}, batch ${flags.batch}, medians of ${flags.runs}\n${head}\n${lines.join('\n')}\n`);
  }
}

const sizeText = (b: number) => (b >= 1024 ** 2 ? `${(b / 1024 ** 2).toFixed(1)} MB` : `${(b / 1024).toFixed(1)} kB`);
