// The accuracy gate of lower-precision artifacts: each file is scored on the run's validation split
// in the task metrics (evaluateRun with the file as the predictor), beside the fp32 deploy form's
// model.onnx scored the same way, and timed in ONNX Runtime. An artifact passes when its mean IoU
// (binary: IoU at the run's threshold; softmax: the mean over the foreground classes) is at most
// `maxIouDrop` below fp32's.
import { performance } from 'node:perf_hooks';
import type { OpenRun } from '../train/trained.js';
import { randomInput } from '../runtime/verify.js';

/** One row of the precision table (verify.json `precision`, MODEL_CARD.md). */
export interface PrecisionRow {
  /** path in the export folder */
  artifact: string;
  precision: 'fp32' | 'fp16' | 'int8';
  bytes: number;
  /** median ms per image (batch 1, the export's size, ONNX Runtime, 2 threads); null when not timed */
  ms: number | null;
  /** mean IoU and Dice on the validation split */
  val_iou: number;
  val_dice: number;
  /** softmax runs: mean IoU per foreground class */
  class_iou?: Record<string, number>;
  /** fp32's val IoU minus this one's */
  drop: number;
  pass: boolean;
}

export interface Scored {
  iou: number;
  dice: number;
  classIou?: Record<string, number>;
}

/** Mean IoU and Dice of an ONNX file on a split of the run's data (evaluateRun on the file). */
export async function scoreOnnx(opened: OpenRun, path: string, bytes: Uint8Array, split: 'val' | 'test' | 'train' = 'val'): Promise<Scored> {
  const { evaluateRun } = await import('../train/trained.js');
  const r = await evaluateRun(opened, { split, artifact: { path, bytes }, engine: 'ort' });
  return {
    iou: r.summary.iou.mean,
    dice: r.summary.dice.mean,
    ...(r.classes ? { classIou: Object.fromEntries(r.classes.map((c) => [c.name, c.summary.iou.mean])) } : {}),
  };
}

/** Median ms of `runs` runs (after one warm-up) of an ONNX file on a seeded NHWC batch of 1. */
export async function timeOnnx(bytes: Uint8Array, shape: [number, number, number, number], opts: { runs?: number; threads?: number } = {}): Promise<number> {
  const { runOnnx } = await import('../runtime/ort.js');
  const x = randomInput(shape, 1);
  const o = { threads: opts.threads ?? 2 };
  await runOnnx(bytes, x, shape, o);
  const t: number[] = [];
  for (let i = 0; i < (opts.runs ?? 5); i++) {
    const t0 = performance.now();
    await runOnnx(bytes, x, shape, o);
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)];
}

/** The table row of an artifact scored against fp32's score. */
export function precisionRow(artifact: string, precision: PrecisionRow['precision'], bytes: number, ms: number | null, s: Scored, fp32: Scored, maxIouDrop: number): PrecisionRow {
  const drop = fp32.iou - s.iou;
  return { artifact, precision, bytes, ms, val_iou: s.iou, val_dice: s.dice, ...(s.classIou ? { class_iou: s.classIou } : {}), drop, pass: drop <= maxIouDrop };
}
