import { Args, Flags } from '@oclif/core';
import { AlcliCommand } from './base.js';
import type { DataError } from '../train/errors.js';
import { thresholdOf as specThreshold } from '../train/objective.js';
import { DataFailure, jsonFlag, printJson, UsageError } from './common.js';
import { openRun } from './runs.js';

export default class Evaluate extends AlcliCommand {
  static override summary = "Metrics of a trained run on a split of its data (or another dataset)";
  static override description =
    'Runs the checkpoint on whole images (padded to the network stride, cropped back) and reports accuracy, IoU, Dice, sensitivity, specificity and AUC per image and as mean ± std, inside the field of view where the dataset has one.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> runs/smoke --split test',
    '<%= config.bin %> <%= command.id %> runs/isbi --data ../shared/datasets/isbi2012_em --split test --json',
  ];
  static override args = { run: Args.string({ description: 'run directory (alcli train --out)', required: true }) };
  static override flags = {
    ...jsonFlag,
    data: Flags.string({ summary: "dataset folder (default: the run's)", helpValue: 'DIR' }),
    split: Flags.string({ summary: 'which split', options: ['train', 'val', 'test'], default: 'test' }),
    checkpoint: Flags.string({ summary: 'which checkpoint', options: ['best', 'last'], default: 'best' }),
    engine: Flags.string({ summary: 'inference engine (auto: ONNX Runtime when it loads)', options: ['auto', 'ort', 'tfjs'], default: 'auto' }),
    threshold: Flags.string({ summary: "probability cut for the binary masks (default: the spec's train.threshold, else 0.5)", helpValue: 'P' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Evaluate);
    const { info, compiled, checkpoint } = await openRun(args.run, flags.checkpoint as 'best', flags.json);
    const threshold = thresholdOf(flags.threshold, compiled.resolved.train?.threshold);
    const [{ scanDataset }, { createPredictor, evaluateSplit }, { formatMeanStd }] = await Promise.all([
      import('../train/dataset.js'),
      import('../train/infer.js'),
      import('../train/metrics.js'),
    ]);
    const split = flags.split as 'test';
    const dataDir = flags.data ?? info.data.dir;
    const scan = await scanDataset(dataDir, { seed: info.data.split_seed, need: [split] });
    if (!scan.dataset) await failOnDataErrors(scan.errors, flags.json);
    const samples = scan.dataset!.samples.filter((s) => s.split === split);
    const predictor = await createPredictor({ graph: compiled.graph, weights: checkpoint.weights, normalize: info.normalize, engine: flags.engine as 'auto' });
    try {
      const res = await evaluateSplit(predictor, samples, { channels: info.input_channels, invertMask: info.data.invert_mask }, threshold);
      const out = { run: args.run, checkpoint: flags.checkpoint, epoch: checkpoint.state.epoch, data: dataDir, split, images: samples.length, threshold, engine: predictor.engine, summary: res.summary, perImage: res.perImage };
      if (flags.json) return printJson(out);
      process.stdout.write(`${args.run} (${flags.checkpoint} checkpoint, epoch ${checkpoint.state.epoch}) on ${dataDir}, ${split} split: ${samples.length} images, threshold ${threshold}, ${predictor.engine}\n`);
      for (const [metric, s] of Object.entries(res.summary)) process.stdout.write(`  ${metric.padEnd(12)} ${formatMeanStd(s)}\n`);
    } finally {
      predictor.dispose();
    }
  }
}

/** --threshold, else the spec's train.threshold, else DEFAULT_THRESHOLD (the library's thresholdOf). */
export function thresholdOf(flag: string | undefined, fromSpec: unknown): number {
  const t = flag === undefined ? specThreshold({ threshold: fromSpec }) : Number(flag);
  if (!(t >= 0 && t <= 1)) throw new UsageError(`--threshold '${flag}': expected a probability in [0, 1]`);
  return t;
}

/** Prints every data error (each names its file) and exits 4. */
export async function failOnDataErrors(errors: DataError[], json: boolean): Promise<never> {
  const { renderDataErrors } = await import('../train/errors.js');
  if (json) printJson({ ok: false, errors });
  else process.stderr.write(`${renderDataErrors(errors)}\n`);
  throw new DataFailure();
}
