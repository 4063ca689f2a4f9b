// The engine interface the training loop drives (DESIGN.md, Runtime): an engine takes a batch and
// returns the loss after updating the weights and the BatchNorm running statistics. Data, schedule,
// checkpoints and metrics belong to the loop, so any engine (TF.js here, ONNX Runtime later) plugs in.
// Checkpoints are plain weight stores, interchangeable between engines:
//   weights():        every tensor the graph owns, `NODE:NAME` (trainable + BN running mean/variance)
//   optimizerState(): `adam/m/NODE:NAME`, `adam/v/NODE:NAME` and `adam/step` (a [1] tensor), or
//                     `sgd/momentum/NODE:NAME` and `sgd/step` for SGD
import type { WeightStore } from '../runtime/weights.js';
import type { LossWeights } from './loss.js';

export interface Batch {
  /** NHWC images, normalized */
  x: Float32Array;
  /** NHW1 masks, 0 or 1 */
  y: Float32Array;
  /** [n, h, w, c] of x; y is [n, h, w, 1] */
  shape: [number, number, number, number];
}

export interface OptimizerOptions {
  kind: 'adam' | 'sgd';
  /** Adam: PyTorch's defaults 0.9, 0.999 */
  betas?: [number, number];
  /** Adam: 1e-8 */
  eps?: number;
  /** L2 added to the gradient (PyTorch's weight_decay, not AdamW's decoupled decay); default 0 */
  weightDecay?: number;
  /** SGD momentum (PyTorch convention: buf = momentum buf + g; p -= lr buf); default 0.9 */
  momentum?: number;
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
  /** inference mode (BN running statistics): the logits [n, h, w, 1] of a batch of any size the network takes */
  infer(x: Float32Array, shape: [number, number, number, number]): Promise<Float32Array>;
  /** trainable weights and BN running statistics, copied */
  weights(): WeightStore;
  /** the optimizer's state, copied (see the file comment for the names) */
  optimizerState(): WeightStore;
  /** replaces weights (every key of the graph) and, when given, the optimizer state */
  load(weights: WeightStore, optimizerState?: WeightStore): void;
  /** frees everything the engine holds */
  dispose(): void;
}
