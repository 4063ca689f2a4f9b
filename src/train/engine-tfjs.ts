// The TF.js training engine: the executor's training mode under tf.variableGrads, the loss (BCE +
// Dice for a sigmoid output, softmax CE + foreground Dice for softmax; objective.ts), and the optimizer written out (not tf.train.adam) so that its state is plain tensors a
// checkpoint stores and restores exactly.
// - Adam as torch.optim.Adam (betas 0.9/0.999, eps 1e-8, L2 weight_decay added to the gradient):
//     m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  p -= (lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// - AdamW as torch.optim.AdamW: p *= 1 - lr wd (decoupled, default wd 0.01), then Adam's step without L2.
// - SGD as torch.optim.SGD with momentum: buf = momentum buf + g (buf = g at the first step); p -= lr buf;
//   with nesterov: p -= lr (g + momentum buf).
// - BatchNorm running statistics, PyTorch convention: running = (1 - momentum) running + momentum batch,
//   momentum from the bn node (default 0.1); the variance averaged in is the unbiased batch variance
//   (x n / (n - 1), n = batch x height x width), as PyTorch does, so checkpoints match the twin's.
// Every step runs inside tf.tidy: the tensor count stays flat from step to step.
// The loss, the optimizer's defaults and its state's names are objective.ts's.
import type { Scalar, Tensor, Tensor4D, Variable } from '@tensorflow/tfjs';
import type { IrGraph } from '../ir/graph.js';
import type { TF } from '../runtime/backend.js';
import { forward } from '../runtime/executor.js';
import { weightKey, weightSpecs, type WeightStore } from '../ir/weights.js';
import type { Batch, EngineOptions, TrainEngine } from './engine.js';
import { BadOptionsError } from './errors.js';
import { DEFAULT_LOSS, DICE_SMOOTH, isAdamLike, isSoftmax, lossOutputError, optimizerSettings, optimizerSlots, optimizerStepKey, type LossOutput, type LossWeights } from './objective.js';

let variableCount = 0;

interface BnInfo {
  momentum: number;
  /** pixels per image at the graph's input size */
  pixels: number;
}

export class TfjsEngine implements TrainEngine {
  readonly name: string;
  private readonly params = new Map<string, Variable>();
  private readonly state = new Map<string, Variable>();
  private readonly all = new Map<string, Tensor>();
  private readonly slots = new Map<string, Variable>();
  private readonly bn = new Map<string, BnInfo>();
  /** keys setFrozen left alone: no gradient, no update, slots and running statistics unchanged */
  private frozen: ReadonlySet<string> = new Set();
  /** trainable key -> steps it sat out frozen: its Adam step is t minus these */
  private skipped: ReadonlyMap<string, number> = new Map();
  private t = 0;

  constructor(
    private readonly tf: TF,
    private readonly g: IrGraph,
    weights: WeightStore,
    private readonly opts: EngineOptions,
  ) {
    this.name = `tfjs-${tf.getBackend()}`;
    const outputError = lossOutputError(g.output, opts.loss);
    if (outputError) throw new BadOptionsError(outputError);
    for (const { node, spec } of weightSpecs(g)) {
      const key = weightKey(node.id, spec.name);
      const w = weights.get(key);
      if (!w) throw new Error(`no weight '${key}'`);
      const v = tf.variable(tf.tensor(w.data, w.shape), spec.role === 'trainable', `${key}#${++variableCount}`);
      (spec.role === 'trainable' ? this.params : this.state).set(key, v);
      this.all.set(key, v);
    }
    for (const n of g.nodes) if (n.op === 'bn') this.bn.set(n.id, { momentum: (n.attrs.momentum as number | undefined) ?? 0.1, pixels: n.shape.h * n.shape.w });
    for (const key of this.params.keys()) for (const slot of optimizerSlots(opts.optimizer, key)) this.slots.set(slot, tf.variable(tf.zerosLike(this.params.get(key)!), false));
  }

  private get stepKey() {
    return optimizerStepKey(this.opts.optimizer);
  }

  async step(batch: Batch, lr: number): Promise<number> {
    const { tf, g } = this;
    const [n, h, w] = batch.shape;
    // BN batches: n images at this size; the IR's shapes are at the graph's input size
    const scale = (h * w) / (g.input.size[0] * g.input.size[1]);
    const stats: [string, Tensor, Tensor][] = [];
    const loss = tf.tidy(() => {
      const x = tf.tensor4d(batch.x, batch.shape);
      const y = tf.tensor4d(batch.y, [n, h, w, g.output.classes]);
      const f = () => {
        const logits = forward(tf, g, this.all, x as Tensor4D, {
          training: true,
          inputGrad: false,
          onBatchStats: (id, mean, variance) => stats.push([id, tf.keep(mean), tf.keep(variance)]),
        });
        return lossTensor(tf, logits, y, g.output, this.opts.loss);
      };
      // only the weights that train get gradients (none at all: the loss alone)
      const free = [...this.params].filter(([k]) => !this.frozen.has(k)).map(([, v]) => v);
      const { value, grads } = free.length ? tf.variableGrads(f, free) : { value: f(), grads: {} };
      this.t += 1;
      this.update(grads, lr);
      for (const [id, mean, variance] of stats) {
        if (this.frozen.has(weightKey(id, 'mean'))) continue;
        const info = this.bn.get(id)!;
        const count = Math.max(2, Math.round(n * info.pixels * scale));
        const m = info.momentum;
        const rm = this.state.get(weightKey(id, 'mean'))!;
        const rv = this.state.get(weightKey(id, 'variance'))!;
        rm.assign(tf.add(tf.mul(rm, 1 - m), tf.mul(mean, m)));
        rv.assign(tf.add(tf.mul(rv, 1 - m), tf.mul(variance, (m * count) / (count - 1))));
      }
      return value as Scalar;
    });
    for (const [, mean, variance] of stats) tf.dispose([mean, variance]);
    const value = (await loss.data())[0];
    loss.dispose();
    return value;
  }

  /** One optimizer update from the gradients (inside the step's tidy): objective.ts's OptimizerOptions formulas. */
  private update(grads: Record<string, Tensor>, lr: number): void {
    const { tf, t } = this;
    const o = this.opts.optimizer;
    const { betas: [b1, b2], eps, weightDecay: wd, momentum: mu, nesterov } = optimizerSettings(o);
    for (const [key, p] of this.params) {
      let gr = grads[p.name];
      if (!gr) continue;
      // adamw decays the weight itself (decoupled), the others add L2 to the gradient
      if (wd && o.kind !== 'adamw') gr = tf.add(gr, tf.mul(p, wd));
      if (isAdamLike(o)) {
        const [m, v] = optimizerSlots(o, key).map((s) => this.slots.get(s)!);
        m.assign(tf.add(tf.mul(m, b1), tf.mul(gr, 1 - b1)));
        v.assign(tf.add(tf.mul(v, b2), tf.mul(tf.square(gr), 1 - b2)));
        // the weight's own step count (PyTorch's per-parameter state['step']): the steps it was not frozen
        const tk = t - (this.skipped.get(key) ?? 0);
        const stepSize = lr / (1 - b1 ** tk);
        const denom = tf.add(tf.div(tf.sqrt(v), Math.sqrt(1 - b2 ** tk)), eps);
        const decayed = o.kind === 'adamw' && wd ? tf.mul(p, 1 - lr * wd) : p;
        p.assign(tf.sub(decayed, tf.mul(tf.div(m, denom), stepSize)));
      } else {
        const buf = this.slots.get(optimizerSlots(o, key)[0])!;
        buf.assign(t === 1 ? gr : tf.add(tf.mul(buf, mu), gr));
        p.assign(tf.sub(p, tf.mul(nesterov ? tf.add(gr, tf.mul(buf, mu)) : buf, lr)));
      }
    }
  }

  setFrozen(keys: ReadonlySet<string>, skipped: ReadonlyMap<string, number> = new Map()): void {
    this.frozen = new Set(keys);
    this.skipped = new Map(skipped);
  }

  async infer(x: Float32Array, shape: [number, number, number, number]): Promise<Float32Array> {
    const { tf } = this;
    const out = tf.tidy(() => forward(tf, this.g, this.all, tf.tensor4d(x, shape), { training: false }));
    const data = (await out.data()) as Float32Array;
    out.dispose();
    return data;
  }

  weights(): WeightStore {
    return new Map([...this.all].map(([k, v]) => [k, { shape: [...v.shape], data: Float32Array.from(v.dataSync() as Float32Array) }]));
  }

  optimizerState(): WeightStore {
    const out: WeightStore = new Map([...this.slots].map(([k, v]) => [k, { shape: [...v.shape], data: Float32Array.from(v.dataSync() as Float32Array) }]));
    out.set(this.stepKey, { shape: [1], data: Float32Array.of(this.t) });
    return out;
  }

  load(weights: WeightStore, optimizerState?: WeightStore): void {
    const { tf } = this;
    const put = (v: Variable, key: string, t: { shape: number[]; data: Float32Array } | undefined, what: string) => {
      if (!t) throw new Error(`${what} has no '${key}'`);
      if (t.shape.join('x') !== v.shape.join('x')) throw new Error(`${what}: '${key}' is ${t.shape.join('x')}, the graph needs ${v.shape.join('x')}`);
      tf.tidy(() => v.assign(tf.tensor(t.data, t.shape)));
    };
    for (const [k, v] of this.all) put(v as Variable, k, weights.get(k), 'the weights');
    if (!optimizerState) return;
    for (const [k, v] of this.slots) put(v, k, optimizerState.get(k), 'the optimizer state');
    const step = optimizerState.get(this.stepKey);
    if (!step) throw new Error(`the optimizer state has no '${this.stepKey}' (saved by another optimizer?)`);
    this.t = step.data[0];
  }

  dispose(): void {
    this.tf.dispose([...this.all.values(), ...this.slots.values()]);
    this.all.clear();
    this.params.clear();
    this.state.clear();
    this.slots.clear();
  }
}

/** The loss of a batch of logits [n, h, w, 1] against 0/1 masks of the same shape. */
export function bceDiceLoss(tf: TF, logits: Tensor, y: Tensor, w: LossWeights = DEFAULT_LOSS): Scalar {
  return tf.tidy(() => {
    const parts: Tensor[] = [];
    if (w.bce) {
      const bce = tf.mean(tf.add(tf.sub(tf.relu(logits), tf.mul(logits, y)), tf.log1p(tf.exp(tf.neg(tf.abs(logits))))));
      parts.push(w.bce === 1 ? bce : tf.mul(bce, w.bce));
    }
    if (w.dice) {
      const axes = [1, 2, 3];
      const p = tf.sigmoid(logits);
      const inter = tf.sum(tf.mul(p, y), axes);
      const dice = tf.sub(1, tf.div(tf.add(tf.mul(inter, 2), DICE_SMOOTH), tf.add(tf.add(tf.sum(p, axes), tf.sum(y, axes)), DICE_SMOOTH)));
      parts.push(tf.mul(tf.mean(dice), w.dice));
    }
    return (parts.length ? (parts.length === 1 ? parts[0] : tf.add(parts[0], parts[1])) : tf.scalar(0)) as Scalar;
  });
}

/**
 * The loss of a batch of softmax logits [n, h, w, K] against one-hot targets of the same shape
 * (objective.ts: CE, with class weights a weighted mean over pixels, plus the soft Dice averaged
 * over images and the foreground classes 1..K-1).
 */
export function softmaxDiceLoss(tf: TF, logits: Tensor, y: Tensor, w: LossWeights = DEFAULT_LOSS): Scalar {
  return tf.tidy(() => {
    const K = logits.shape[3]!;
    const parts: Tensor[] = [];
    if (w.bce) {
      // -log p_y per pixel: -sum_k y_k log_softmax(z)_k
      const nll = tf.neg(tf.sum(tf.mul(y, tf.logSoftmax(logits)), -1));
      let ce: Tensor;
      if (w.classWeights) {
        const wy = tf.sum(tf.mul(y, tf.tensor1d(w.classWeights)), -1);
        ce = tf.div(tf.sum(tf.mul(wy, nll)), tf.sum(wy));
      } else ce = tf.mean(nll);
      parts.push(w.bce === 1 ? ce : tf.mul(ce, w.bce));
    }
    if (w.dice) {
      const [n, h, wd] = logits.shape as number[];
      const fg = (t: Tensor) => tf.slice(t, [0, 0, 0, 1], [n, h, wd, K - 1]);
      const p = fg(tf.softmax(logits));
      const t = fg(y);
      const inter = tf.sum(tf.mul(p, t), [1, 2]);
      const dice = tf.sub(1, tf.div(tf.add(tf.mul(inter, 2), DICE_SMOOTH), tf.add(tf.add(tf.sum(p, [1, 2]), tf.sum(t, [1, 2])), DICE_SMOOTH)));
      parts.push(tf.mul(tf.mean(dice), w.dice));
    }
    return (parts.length ? (parts.length === 1 ? parts[0] : tf.add(parts[0], parts[1])) : tf.scalar(0)) as Scalar;
  });
}

/** The training loss of a network's logits NHWK against its targets (0/1 for sigmoid, one-hot for softmax). */
export function lossTensor(tf: TF, logits: Tensor, y: Tensor, output: LossOutput, w: LossWeights = DEFAULT_LOSS): Scalar {
  return isSoftmax(output) ? softmaxDiceLoss(tf, logits, y, w) : bceDiceLoss(tf, logits, y, w);
}
