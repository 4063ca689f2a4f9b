// The accuracy gate of lower-precision artifacts: each file is scored on the run's validation split
// in the task metrics (evaluateRun with the file as the predictor), beside the fp32 deploy form's
// model.onnx scored the same way, and timed in ONNX Runtime. An artifact passes when its mean IoU
// (binary: IoU at the run's threshold; softmax: the mean over the foreground classes) is at most
// `maxIouDrop` below fp32's.
import type { EvaluateRunOptions, OpenRun } from '../train/trained.js';
import type { TF } from '../runtime/backend.js';
import { randomInput } from '../runtime/verify.js';

export const ORT_ENGINE = 'ONNX Runtime, 2 threads';

/** One row of the precision table (verify.json `precision`, MODEL_CARD.md). */
export interface PrecisionRow {
  /** path in the export folder */
  artifact: string;
  /** uint8: TF.js weights stored as uint8 (affine per tensor), computed in float32 */
  precision: 'fp32' | 'fp16' | 'int8' | 'uint8';
  bytes: number;
  /** what ran it and timed it: ONNX Runtime (2 threads) or TF.js (its backend) */
  engine: string;
  /** median ms per image (batch 1, the export's size); null when not timed */
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

/** Mean IoU and Dice of an exported file on a split of the run's data (evaluateRun on the file). */
export async function scoreArtifact(opened: OpenRun, artifact: NonNullable<EvaluateRunOptions['artifact']>, split: 'val' | 'test' | 'train' = 'val'): Promise<Scored> {
  const { evaluateRun } = await import('../train/trained.js');
  const r = await evaluateRun(opened, { split, artifact });
  return {
    iou: r.summary.iou.mean,
    dice: r.summary.dice.mean,
    ...(r.classes ? { classIou: Object.fromEntries(r.classes.map((c) => [c.name, c.summary.iou.mean])) } : {}),
  };
}

/**
 * Median ms per model of `runs` runs (after one warm-up each) of ONNX files on one seeded NHWC batch,
 * the runs interleaved (runtime/timing.ts measureInterleaved) so their ratios survive a change of load.
 */
export async function timeOnnxFiles(models: readonly Uint8Array[], shape: [number, number, number, number], opts: { runs?: number; threads?: number } = {}): Promise<number[]> {
  const [{ runOnnx }, { measureInterleaved }] = await Promise.all([import('../runtime/ort.js'), import('../runtime/timing.js')]);
  const x = randomInput(shape, 1);
  const o = { threads: opts.threads ?? 2 };
  const times = await measureInterleaved(models.map((m) => async () => void (await runOnnx(m, x, shape, o))), 1, opts.runs ?? 5);
  return times.map((t) => t.median);
}

/** Median ms of `runs` runs (after one warm-up) of a TF.js graph model's files on a seeded NHWC batch of 1. */
export async function timeTfjs(tf: TF, read: (path: string) => Uint8Array, shape: [number, number, number, number], opts: { runs?: number } = {}): Promise<number> {
  const [{ graphModelHandler }, { measure }] = await Promise.all([import('../runtime/tfjs-graph-io.js'), import('../runtime/timing.js')]);
  const model = await tf.loadGraphModel(graphModelHandler(read));
  const x = tf.tensor4d(randomInput(shape, 1), shape);
  try {
    const run = async () => {
      const y = model.execute(x) as import('@tensorflow/tfjs').Tensor;
      await y.data();
      y.dispose();
    };
    return (await measure(run, 1, opts.runs ?? 5)).median;
  } finally {
    x.dispose();
    model.dispose();
  }
}

/** The table row of an artifact scored against fp32's score. */
export function precisionRow(artifact: string, precision: PrecisionRow['precision'], engine: string, bytes: number, ms: number | null, s: Scored, fp32: Scored, maxIouDrop: number): PrecisionRow {
  const drop = fp32.iou - s.iou;
  return { artifact, precision, engine, bytes, ms, val_iou: s.iou, val_dice: s.dice, ...(s.classIou ? { class_iou: s.classIou } : {}), drop, pass: drop <= maxIouDrop };
}
