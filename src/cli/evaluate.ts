import { Args, Flags } from '@oclif/core';
import { AlcliCommand } from './base.js';
import { CHECKPOINT_NAMES, INFER_ENGINES, SPLITS } from '../train/choices.js';
import { jsonFlag, maskThresholdFlag, parseMaskThreshold, printJson, UsageError } from './common.js';

export default class Evaluate extends AlcliCommand {
  static override summary = "Metrics of a trained run on a split of its data (or another dataset)";
  static override description =
    'Runs the checkpoint on whole images (padded to the network stride, cropped back) and reports accuracy, IoU, Dice, sensitivity, specificity and AUC per image and as mean ± std, inside the field of view where the dataset has one. A multi-class (softmax) run is measured by argmax: IoU, Dice, sensitivity, specificity and AUC per foreground class (one against the rest; names from the run\'s class table), their mean over the foreground classes, and the pixel accuracy over all classes.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> runs/smoke --split test',
    '<%= config.bin %> <%= command.id %> runs/isbi --data ../shared/datasets/isbi2012_em --split test --json',
  ];
  static override args = { run: Args.string({ description: 'run directory (alcli train --out)', required: true }) };
  static override flags = {
    ...jsonFlag,
    data: Flags.string({ summary: "dataset folder (default: the run's)", helpValue: 'DIR' }),
    split: Flags.option({ summary: 'which split', options: SPLITS, default: 'test' as const })(),
    checkpoint: Flags.option({ summary: 'which checkpoint', options: CHECKPOINT_NAMES, default: 'best' as const })(),
    engine: Flags.option({ summary: 'inference engine (auto: ONNX Runtime when it loads)', options: INFER_ENGINES, default: 'auto' as const })(),
    threshold: Flags.string({ summary: "probability cut of a 1-class network's masks (default: the spec's train.threshold, else 0.5); a softmax one takes the argmax", helpValue: 'P' }),
    'invert-mask': Flags.boolean({ summary: "the masks mark the foreground with 0 (default: as the run was trained)", allowNo: true }),
    ...maskThresholdFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Evaluate);
    const { openRun, evaluateRun, runThreshold } = await import('../train/trained.js');
    const opened = await openRun(args.run, flags.checkpoint);
    // absent: the run's own (its spec's train.threshold, else 0.5; a softmax run has none)
    const threshold = flags.threshold === undefined ? undefined : thresholdOf(flags.threshold, await runThreshold(opened));
    const out = await evaluateRun(opened, { split: flags.split, data: flags.data, engine: flags.engine, threshold, maskThreshold: parseMaskThreshold(flags['mask-threshold']), invertMask: flags['invert-mask'] });
    if (flags.json) return printJson(out);
    await printEvaluation(out);
  }
}

/**
 * The lines `alcli evaluate` prints: the run, checkpoint, data and engine, then each metric as
 * mean ± std; for a softmax run a table of one row per foreground class, the mean row and the pixel accuracy.
 */
export async function printEvaluation(r: import('../train/trained.js').EvaluateRunResult): Promise<void> {
  const [{ formatMeanStd }, { CLASS_METRICS }, { renderTable }] = await Promise.all([import('../train/metrics.js'), import('../train/class-metrics.js'), import('../render/table.js')]);
  const decision = r.classes ? `argmax over ${r.classes.length + 1} classes` : `threshold ${r.threshold}`;
  process.stdout.write(`${r.run} (${r.checkpoint} checkpoint, epoch ${r.epoch}) on ${r.data}, ${r.split} split: ${r.images} images, ${decision}, ${r.engine}\n`);
  if (!r.classes) {
    for (const [metric, s] of Object.entries(r.summary)) process.stdout.write(`  ${metric.padEnd(12)} ${formatMeanStd(s)}\n`);
    return;
  }
  const rows = r.classes.map((c) => [`${c.index} ${c.name}`, ...CLASS_METRICS.map((m) => formatMeanStd(c.summary[m]))]);
  rows.push([`mean of classes 1-${r.classes.length}`, ...CLASS_METRICS.map((m) => formatMeanStd(r.summary[m]))]);
  const table = renderTable([{ title: 'class' }, ...CLASS_METRICS.map((m) => ({ title: m, align: 'right' as const }))], rows);
  process.stdout.write(`${table.replace(/^/gm, '  ')}\n  pixel accuracy ${formatMeanStd(r.summary.accuracy)}\n`);
}

/** --threshold, else `fallback` (the run's: its spec's train.threshold, else 0.5). */
export function thresholdOf(flag: string | undefined, fallback: number): number {
  const t = flag === undefined ? fallback : Number(flag);
  if (!(t >= 0 && t <= 1)) throw new UsageError(`--threshold '${flag}': expected a probability in [0, 1]`);
  return t;
}
