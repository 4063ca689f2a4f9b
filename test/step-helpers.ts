// Shared by the gradient tests: one run of a compiled ONNX training step that reads out the loss and
// every gradient, and the comparison of two sets of tensors.
import * as ort from 'onnxruntime-node';
import { nhwcToNchw } from '../src/ir/layout.js';
import type { WeightStore } from '../src/ir/weights.js';
import { fromStepLayout, LEARNING_RATE, stepShape, toStepLayout, TRAIN_LOSS, TRAIN_X, TRAIN_Y, type TrainModel } from '../src/train/ort/training-model.js';

export interface StepProblem {
  /** NHWC images */
  x: Float32Array;
  /** NHWK targets (K = the model's output channels) */
  y: Float32Array;
  shape: [number, number, number, number];
  store: WeightStore;
}

/**
 * The loss and every gradient (TF layout) of `model` (built with `gradients: true` and SGD, run at
 * lr 0: nothing moves) on one batch; weights from `store`, optimizer slots zero.
 */
export async function ortStepGradients(model: TrainModel, p: StepProblem, classes = 1): Promise<{ loss: number; grads: Map<string, Float32Array> }> {
  const session = await ort.InferenceSession.create(model.bytes, { intraOpNumThreads: 1, logSeverityLevel: 3 });
  const [n, h, w, c] = p.shape;
  const feeds: Record<string, ort.Tensor> = {
    [TRAIN_X]: new ort.Tensor('float32', nhwcToNchw(p.x, p.shape), [n, c, h, w]),
    [TRAIN_Y]: new ort.Tensor('float32', classes === 1 ? p.y : nhwcToNchw(p.y, [n, h, w, classes]), [n, classes, h, w]),
    [LEARNING_RATE]: new ort.Tensor('float32', Float32Array.of(0), []),
  };
  for (const t of model.tensors) feeds[t.key] = new ort.Tensor('float32', toStepLayout(t, p.store.get(t.key)?.data ?? new Float32Array(t.tfShape.reduce((a, d) => a * d, 1))), stepShape(t));
  const out = await session.run(feeds);
  const grads = new Map<string, Float32Array>();
  for (const [key, name] of model.gradients) grads.set(key, fromStepLayout(model.tensors.find((s) => s.key === key)!, out[name].data as Float32Array));
  await session.release();
  return { loss: (out[TRAIN_LOSS].data as Float32Array)[0], grads };
}

/** Worst |a - b| of each tensor relative to b's largest entry, over all tensors (a tensor missing from a is Infinity). */
export function worstRelative(a: Map<string, ArrayLike<number>>, b: Map<string, ArrayLike<number>>): { worst: number; where: string } {
  let worst = 0;
  let where = '';
  for (const [k, bv] of b) {
    const av = a.get(k);
    if (!av) return { worst: Infinity, where: `${k}: missing` };
    const scale = Math.max(1e-6, ...Array.from(bv, Math.abs));
    for (let i = 0; i < bv.length; i++) {
      const e = Math.abs(av[i] - bv[i]) / scale;
      if (e > worst) [worst, where] = [e, `${k}[${i}]: ${av[i]} vs ${bv[i]}`];
    }
  }
  return { worst, where };
}
