// The ONNX Runtime training engine: the compiled training step (training-model.ts) run by
// onnxruntime-node with one intra-op thread per core. Weights, optimizer slots and BatchNorm
// statistics stay ONNX Runtime tensors from step to step (each step's outputs are the next step's
// inputs); they are converted to the TF layout only for checkpoints, which are therefore the same
// files the TF.js engine writes. One model per batch size H x W (the graph's shapes are static in
// H and W; N is symbolic), and per frozen set (setFrozen: the frozen tensors' next values are their
// inputs; the loop switches sets at epoch boundaries, so there are few). Validation runs the inference ONNX model (src/emit/onnx.ts) of the
// current weights.
import { cpus } from 'node:os';
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { emitOnnx } from '../../emit/onnx.js';
import { BIAS_CORRECTION2, fromStepLayout, lagScalar, optimizerScalarValues, STEP_SIZE, stepLags, stepShape, toStepLayout, TRAIN_LOSS, TRAIN_X, TRAIN_Y, trainingModel, type StepTensor, type TrainModel } from './training-model.js';
import type { IrGraph } from '../../ir/graph.js';
import { resizeGraph } from '../../ir/resize-graph.js';
import { nhwcToNchw } from '../../ir/layout.js';
import { runOnnx } from '../../runtime/ort.js';
import type { WeightStore } from '../../ir/weights.js';
import type { Batch, EngineOptions, TrainEngine } from '../engine.js';
import { optimizerStepKey } from '../objective.js';

type Ort = typeof import('onnxruntime-node');

/**
 * The training step's session options. 'extended', not 'all': the layout level rewrites every Conv
 * with a constant kernel into NCHWc blocks, and the filter gradients' im2col Convs (one-hot kernels,
 * 9 output channels padded to 16) then cost ~270 ms more per AL-Net step at 256x256 for the
 * reorders (ORT profile, bench/train.ts BENCH_PROFILE=1). The other convs read their kernels from
 * inputs and are not rewritten either way. No memory pattern: ORT's planned block for every
 * intermediate cost ~340 MB of peak RSS over a 256x256, batch-4 AL-Net step (1.06 -> 0.72 GB)
 * and no measurable time (1127 vs 1151 ms per step, one sitting).
 */
export const trainSessionOptions = (threads: number): InferenceSession.SessionOptions => ({ intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'extended', enableMemPattern: false, logSeverityLevel: 3 });

export class OrtEngine implements TrainEngine {
  readonly name = 'ort';
  private readonly models = new Map<string, { model: TrainModel; session: Promise<InferenceSession> }>();
  /** every step tensor by key, ONNX layout */
  private state = new Map<string, OrtTensor>();
  private layout: StepTensor[];
  private t = 0;
  /** setFrozen's keys, sorted, and their models' cache key */
  private frozen: ReadonlySet<string> = new Set();
  private skipped: ReadonlyMap<string, number> = new Map();
  private frozenId = '';
  private inference?: { step: number; weights: WeightStore; bytes: Map<string, Uint8Array> };

  private constructor(
    private readonly ort: Ort,
    private readonly g: IrGraph,
    private readonly opts: EngineOptions,
    private readonly threads: number,
    built?: TrainModel,
  ) {
    // the layout of the tensors does not depend on the size: take it from the spec's own
    this.layout = this.modelFor(g.input.size[0], g.input.size[1], built).model.tensors;
  }

  /** `built`: trainingModel(g, opts) when the caller has it already (engines.ts builds it to see that the spec trains here). */
  static async create(g: IrGraph, weights: WeightStore, opts: EngineOptions, threads = cpus().length, built?: TrainModel): Promise<OrtEngine> {
    const e = new OrtEngine(await (await import('../../runtime/ort.js')).importOrt(), g, opts, threads, built);
    e.load(weights);
    return e;
  }

  private modelFor(h: number, w: number, built?: TrainModel) {
    const key = `${h}x${w}|${this.frozenId}`;
    let m = this.models.get(key);
    if (!m) {
      const frozen = this.frozenId ? { frozen: this.frozen, skipped: this.skipped } : {};
      const model = (!this.frozenId && built) || trainingModel(resizeGraph(this.g, [h, w]), { ...this.opts, ...frozen });
      const session = this.ort.InferenceSession.create(model.bytes, trainSessionOptions(this.threads));
      this.models.set(key, (m = { model, session }));
    }
    return m;
  }

  async step(batch: Batch, lr: number): Promise<number> {
    const { Tensor } = this.ort;
    const [n, h, w, c] = batch.shape;
    const k = this.g.output.classes;
    if (batch.y.length !== n * h * w * k) throw new Error(`the batch's targets have ${batch.y.length} values, ${n}x${h}x${w}x${k} expected`);
    const session = await this.modelFor(h, w).session;
    this.t += 1;
    const o = this.opts.optimizer;
    const values = optimizerScalarValues(o, lr, this.t);
    // the weights that sat out steps frozen: Adam's bias correction at their own step
    for (const lag of stepLags(o, this.frozen, this.skipped)) {
      const own = optimizerScalarValues(o, lr, this.t - lag);
      for (const name of [STEP_SIZE, BIAS_CORRECTION2]) values[lagScalar(name, lag)] = own[name];
    }
    const scalars = Object.entries(values).map(([k, v]) => [k, new Tensor('float32', Float32Array.of(v), [])]);
    const feeds: Record<string, OrtTensor> = {
      [TRAIN_X]: new Tensor('float32', nhwcToNchw(batch.x, batch.shape), [n, c, h, w]),
      // y is [n, h, w, K] (K = 1: NHWC and NCHW agree)
      [TRAIN_Y]: new Tensor('float32', k === 1 ? batch.y : nhwcToNchw(batch.y, [n, h, w, k]), [n, k, h, w]),
      ...Object.fromEntries(scalars),
    };
    for (const [k, v] of this.state) feeds[k] = v;
    const out = await session.run(feeds);
    for (const t of this.layout) this.state.set(t.key, out[t.next]);
    this.inference = undefined;
    return (out[TRAIN_LOSS].data as Float32Array)[0];
  }

  setFrozen(keys: ReadonlySet<string>, skipped: ReadonlyMap<string, number> = new Map()): void {
    this.frozen = new Set(keys);
    this.skipped = new Map(skipped);
    // the model depends on the frozen set and on which trainable keys lag by how much
    const lagging = stepLags(this.opts.optimizer, this.frozen, this.skipped).length ? [...this.skipped].filter(([k, lag]) => lag > 0 && !this.frozen.has(k)).sort() : [];
    this.frozenId = [[...keys].sort().join(','), lagging.map(([k, lag]) => `${k}=${lag}`).join(',')].filter(Boolean).join('|');
  }

  async infer(x: Float32Array, shape: [number, number, number, number]): Promise<Float32Array> {
    // the inference model of the current weights, one per size, rebuilt after each step
    if (this.inference?.step !== this.t) this.inference = { step: this.t, weights: this.weights(), bytes: new Map() };
    const [, h, w] = shape;
    const key = `${h}x${w}`;
    let bytes = this.inference.bytes.get(key);
    if (!bytes) this.inference.bytes.set(key, (bytes = emitOnnx(resizeGraph(this.g, [h, w]), this.inference.weights, { size: 'fixed' })));
    return runOnnx(bytes, x, shape, { threads: this.threads });
  }

  private read(prefix: (k: string) => boolean): WeightStore {
    const out: WeightStore = new Map();
    for (const t of this.layout) {
      if (!prefix(t.key)) continue;
      const v = this.state.get(t.key)!;
      out.set(t.key, { shape: [...t.tfShape], data: fromStepLayout(t, v.data as Float32Array) });
    }
    return out;
  }

  weights(): WeightStore {
    return this.read((k) => !isSlot(k));
  }

  optimizerState(): WeightStore {
    const out = this.read(isSlot);
    out.set(optimizerStepKey(this.opts.optimizer), { shape: [1], data: Float32Array.of(this.t) });
    return out;
  }

  load(weights: WeightStore, optimizerState?: WeightStore): void {
    const { Tensor } = this.ort;
    const next = new Map<string, OrtTensor>();
    for (const t of this.layout) {
      const slot = isSlot(t.key);
      if (slot && !optimizerState) {
        // a fresh optimizer: zero slots
        next.set(t.key, new Tensor('float32', new Float32Array(t.tfShape.reduce((a, d) => a * d, 1)), stepShape(t)));
        continue;
      }
      const what = slot ? 'the optimizer state' : 'the weights';
      const src = (slot ? optimizerState! : weights).get(t.key);
      if (!src) throw new Error(`${what} has no '${t.key}'`);
      if (src.shape.join('x') !== t.tfShape.join('x')) throw new Error(`${what}: '${t.key}' is ${src.shape.join('x')}, the graph needs ${t.tfShape.join('x')}`);
      next.set(t.key, new Tensor('float32', toStepLayout(t, src.data), stepShape(t)));
    }
    if (optimizerState) {
      const stepKey = optimizerStepKey(this.opts.optimizer);
      const step = optimizerState.get(stepKey);
      if (!step) throw new Error(`the optimizer state has no '${stepKey}' (saved by another optimizer?)`);
      this.t = step.data[0];
    } else this.t = 0;
    this.state = next;
    this.inference = undefined;
  }

  dispose(): void {
    this.state.clear();
    for (const m of this.models.values()) void m.session.then((s) => s.release()).catch(() => undefined);
    this.models.clear();
  }
}

const isSlot = (key: string) => /^(adam|sgd)\//.test(key);

