import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { AlcliCommand } from './base.js';
import { CHECKPOINT_NAMES, INFER_ENGINES, SPLITS } from '../train/choices.js';
import { decisionFlags, jsonFlag, maskThresholdFlag, parseDecisions, parseMaskThreshold, printJson, UsageError } from './common.js';

export default class Evaluate extends AlcliCommand {
  static override summary = "Metrics of a trained run on a split of its data (or another dataset)";
  static override description =
    "Runs the checkpoint on whole images (padded to the network stride, cropped back) and reports accuracy, IoU, Dice, sensitivity, specificity and AUC per image and as mean ± std, inside the field of view where the dataset has one. --tune-threshold (binary networks) first sweeps the probability cut 0.05..0.95 (step 0.01) on the run's validation split, keeps the one with the highest mean Dice, and records it in run.json: from then on evaluate, predict and export use it for this checkpoint's weights (an explicit --threshold still wins). --tta averages the probabilities over mirror images (flips, 4 passes) or the 8 symmetries of the square (dihedral), each mapped back; --min-size, --keep-largest and --fill-holes (in that order) post-process each mask before its metrics (AUC stays on the probabilities); foreground components are 8-connected, holes 4-connected. A multi-class (softmax) run is measured by argmax: IoU, Dice, sensitivity, specificity and AUC per foreground class (one against the rest; names from the run's class table), their mean over the foreground classes, and the pixel accuracy over all classes.";
  static override examples = [
    '<%= config.bin %> <%= command.id %> runs/smoke --split test',
    '<%= config.bin %> <%= command.id %> runs/isbi --data ../shared/datasets/isbi2012_em --split test --json',
    '<%= config.bin %> <%= command.id %> runs/isbi --tune-threshold',
    '<%= config.bin %> <%= command.id %> runs/isbi --artifact out/isbi-int8/model.int8.onnx --split test',
    '<%= config.bin %> <%= command.id %> runs/isbi --tta flips --keep-largest --min-size 50 --fill-holes',
  ];
  static override args = { run: Args.string({ description: 'run directory (alcli train --out)', required: true }) };
  static override flags = {
    ...jsonFlag,
    data: Flags.string({ summary: "dataset folder (default: the run's)", helpValue: 'DIR' }),
    split: Flags.option({ summary: 'which split', options: SPLITS, default: 'test' as const })(),
    checkpoint: Flags.option({ summary: 'which checkpoint', options: CHECKPOINT_NAMES, default: 'best' as const })(),
    engine: Flags.option({ summary: 'inference engine (auto: ONNX Runtime when it loads)', options: INFER_ENGINES, default: 'auto' as const })(),
    threshold: Flags.string({ summary: "probability cut for the binary masks (default: the run's tuned one, else the spec's train.threshold, else 0.5); a softmax network takes the argmax", helpValue: 'P' }),
    'tune-threshold': Flags.boolean({ summary: "first pick the cut with the highest mean Dice on the run's validation split and record it in run.json (binary networks)" }),
    'invert-mask': Flags.boolean({ summary: "the masks mark the foreground with 0 (default: as the run was trained)", allowNo: true }),
    ...maskThresholdFlag,
    artifact: Flags.string({ summary: "score an exported model of this run instead of its checkpoint: an ONNX file (EXPORT_DIR/model.int8.onnx, run by ONNX Runtime) or a TF.js graph model (EXPORT_DIR/tfjs.fp16/model.json); the same data, normalization, threshold and metrics, computed from the file", helpValue: 'FILE' }),
    ...decisionFlags,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Evaluate);
    const threshold = parseThreshold(flags.threshold);
    const decided = parseDecisions(flags);
    if (flags['tune-threshold'] && threshold !== undefined)
      throw new UsageError('--tune-threshold picks the threshold itself: drop --threshold (or drop --tune-threshold to evaluate at your threshold)');
    if (flags.artifact && flags['tune-threshold']) throw new UsageError('--tune-threshold tunes the checkpoint: run it without --artifact first (export uses the tuned threshold)');
    const artifact = flags.artifact ? readArtifact(flags.artifact) : undefined;
    const { openRun, evaluateRun, tuneThreshold } = await import('../train/trained.js');
    const opened = await openRun(args.run, flags.checkpoint);
    const tuned = flags['tune-threshold'] ? await tuneThreshold(opened, { engine: flags.engine }) : undefined;
    const out = await evaluateRun(opened, { split: flags.split, data: flags.data, engine: flags.engine, threshold, maskThreshold: parseMaskThreshold(flags['mask-threshold']), invertMask: flags['invert-mask'], ...decided, artifact });
    if (flags.json) return printJson(tuned ? { ...out, tuned: tuned.tuned } : out);
    if (out.threshold_note) process.stderr.write(`note: ${out.threshold_note}\n`);
    if (tuned) printTuning(opened.dir, tuned.tuned);
    await printEvaluation(out);
  }
}

/** The line `alcli evaluate --tune-threshold` prints: the threshold and mean Dice on val before and after. */
export function printTuning(run: string, t: import('../train/operating-point.js').TunedThreshold): void {
  const change = t.value === t.default ? `${t.default} kept (no threshold in ${t.grid} does better)` : `${t.default} -> ${t.value}`;
  process.stdout.write(`threshold tuned on the val split (${t.images} images, ${t.checkpoint} checkpoint, epoch ${t.epoch}): ${change}, mean Dice ${t.default_dice.toFixed(4)} -> ${t.dice.toFixed(4)}; recorded in ${join(run, 'run.json')}\n`);
}

/**
 * The lines `alcli evaluate` prints: the run, checkpoint, data and engine, then each metric as
 * mean ± std; for a softmax run a table of one row per foreground class, the mean row and the pixel accuracy.
 */
export async function printEvaluation(r: import('../train/trained.js').EvaluateRunResult): Promise<void> {
  const [{ formatMeanStd }, { CLASS_METRICS }, { renderTable }, { thresholdOrigin, describeDecisions }] = await Promise.all([import('../train/metrics.js'), import('../train/class-metrics.js'), import('../render/table.js'), import('../train/trained.js')]);
  const decision = r.classes ? `argmax over ${r.classes.length + 1} classes` : `threshold ${r.threshold}${r.threshold_from ? thresholdOrigin(r.threshold_from) : ""}`;
  const how = describeDecisions(r);
  const what = r.artifact ? `${r.artifact} (exported from ${r.run})` : `${r.run} (${r.checkpoint} checkpoint, epoch ${r.epoch})`;
  process.stdout.write(`${what} on ${r.data}, ${r.split} split: ${r.images} images, ${decision}${how ? `, ${how}` : ''}, ${r.engine}\n`);
  if (!r.classes) {
    for (const [metric, s] of Object.entries(r.summary)) process.stdout.write(`  ${metric.padEnd(12)} ${formatMeanStd(s)}\n`);
    return;
  }
  const rows = r.classes.map((c) => [`${c.index} ${c.name}`, ...CLASS_METRICS.map((m) => formatMeanStd(c.summary[m]))]);
  rows.push([`mean of classes 1-${r.classes.length}`, ...CLASS_METRICS.map((m) => formatMeanStd(r.summary[m]))]);
  const table = renderTable([{ title: 'class' }, ...CLASS_METRICS.map((m) => ({ title: m, align: 'right' as const }))], rows);
  process.stdout.write(`${table.replace(/^/gm, '  ')}\n  pixel accuracy ${formatMeanStd(r.summary.accuracy)}\n`);
}

/** --threshold as a number, or undefined when not given (the run's threshold then); a usage error outside [0, 1]. */
export function parseThreshold(flag: string | undefined): number | undefined {
  if (flag === undefined) return undefined;
  const t = Number(flag);
  if (!(flag.trim() !== '' && t >= 0 && t <= 1)) throw new UsageError(`--threshold '${flag}': expected a probability in [0, 1]`);
  return t;
}

/**
 * The exported file to score: an ONNX model's bytes, or a TF.js graph model (its model.json; the
 * files beside it read on demand). A usage error naming the file when it is neither.
 */
function readArtifact(path: string): { path: string; bytes: Uint8Array } | { path: string; read: (p: string) => Uint8Array } {
  if (!existsSync(path) || !statSync(path).isFile()) throw new UsageError(`--artifact '${path}': no such file; give a model \`alcli export\` wrote, e.g. EXPORT_DIR/model.int8.onnx or EXPORT_DIR/tfjs.fp16/model.json`);
  if (path.endsWith('.onnx')) return { path, bytes: new Uint8Array(readFileSync(path)) };
  if (basename(path) === 'model.json') return { path, read: (p: string) => new Uint8Array(readFileSync(join(dirname(path), p))) };
  throw new UsageError(`--artifact '${path}': expected an ONNX file (.onnx) or a TF.js graph model's model.json from \`alcli export\``);
}
