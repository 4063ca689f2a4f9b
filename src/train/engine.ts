// The engine interface the training loop drives (DESIGN.md, Runtime): an engine takes a batch and
// returns the loss after updating the weights and the BatchNorm running statistics. Data, schedule,
// checkpoints and metrics belong to the loop, so either engine (TF.js, or the compiled ONNX step in
// ort/) plugs in. Checkpoints are plain weight stores, interchangeable between engines:
//   weights():        every tensor the graph owns, `NODE:NAME` (trainable + BN running mean/variance)
//   optimizerState(): the slots and step counter named by objective.ts's optimizerSlots/optimizerStepKey
import type { WeightStore } from '../ir/weights.js';
import type { LossWeights, OptimizerOptions } from './objective.js';

export interface Batch {
  /** NHWC images, normalized */
  x: Float32Array;
  /** NHWK targets, K = the graph's output classes: 0/1 masks for K = 1, one-hot (objective.ts oneHot) for softmax */
  y: Float32Array;
  /** [n, h, w, c] of x; y is [n, h, w, K] */
  shape: [number, number, number, number];
}

export interface EngineOptions {
  optimizer: OptimizerOptions;
  loss: LossWeights;
}

export interface TrainEngine {
  /** e.g. `tfjs-wasm` */
  readonly name: string;
  /** one optimizer step on the batch: returns the batch's loss before the update */
  step(batch: Batch, lr: number): Promise<number>;
  /** inference mode (BN running statistics): the logits [n, h, w, K] of a batch of any size the network takes */
  infer(x: Float32Array, shape: [number, number, number, number]): Promise<Float32Array>;
  /** trainable weights and BN running statistics, copied */
  weights(): WeightStore;
  /** the optimizer's state, copied (names: objective.ts) */
  optimizerState(): WeightStore;
  /** replaces weights (every key of the graph) and, when given, the optimizer state */
  load(weights: WeightStore, optimizerState?: WeightStore): void;
  /**
   * From the next step on, leave these weight keys (`NODE:NAME`, freeze.ts frozenAt) alone: a frozen
   * trainable weight gets no update and its optimizer slots keep their values; a frozen running
   * statistic keeps its value. The step counter counts every step; `skipped` (trainable key -> steps
   * it sat out frozen) makes Adam's bias correction per weight, as PyTorch's per-parameter step:
   * t_key = t - skipped. Empty: everything trains. Both engines have it; an engine without it cannot
   * run a spec that freezes.
   */
  setFrozen?(keys: ReadonlySet<string>, skipped?: ReadonlyMap<string, number>): void;
  /** frees everything the engine holds */
  dispose(): void;
}
