// The whole training step as one ONNX model (pure: IR in, ModelProto bytes out): the forward in
// training mode (BatchNorm on batch statistics), the loss (BCE + Dice, or softmax CE + Dice), the reverse-mode gradient of
// every node (gradients.ts, in reverse topological order, gradients of values read twice summed),
// and the optimizer update. ONNX Runtime runs the step with every op multi-threaded and no hand-off.
//   inputs:  x [N, C, H, W], y [N, K, H, W] (K = 1: 0/1 masks; softmax: one-hot), the optimizer's
//            scalars (Adam: step_size = lr / (1 - b1^t) and bias_correction2 = sqrt(1 - b2^t); AdamW:
//            those and decay_factor = 1 - lr wd; SGD, with or without Nesterov: lr), then every weight, slot and
//            running statistic under its checkpoint key (conv kernels in ONNX's OIHW layout)
//   outputs: loss, then `next/KEY` for each of those tensors (and `grad/KEY` when asked, for tests)
//            (a frozen tensor's `next/KEY` is its input: TrainModelOptions.frozen; weights that sat
//            out steps frozen read their own Adam scalars, `step_size/lagS`...: TrainModelOptions.skipped)
// Loss, Adam, AdamW and SGD are objective.ts's (PyTorch's conventions), as in the TF.js engine, so
// checkpoints move freely between the two engines.
import { INPUT_ID, type IrGraph, type Shape } from '../../ir/graph.js';
import { HWIO_TO_OIHW, isKernel, permute } from '../../ir/layout.js';
import { weightKey, weightSpecs } from '../../ir/weights.js';
import { DICE_SMOOTH, isAdamLike, isSoftmax, lossOutputError, optimizerSettings, optimizerSlots, type LossWeights, type OptimizerOptions } from '../objective.js';
import { BadOptionsError } from '../errors.js';
import { OnnxBuilder } from '../../emit/onnx-builder.js';
import { ONNX_GRAD, OnnxGradError, TRAIN_FORWARD, type GradRule } from './gradients.js';
import { int, ONNX_LOWERING, type LowerContext } from '../../emit/onnx-ops.js';
import { DataType, encodeModel } from '../../emit/onnx-proto.js';
import { attributeProto, DEFAULT_IR_VERSION, DEFAULT_OPSET } from '../../emit/onnx.js';

export const TRAIN_X = 'x';
export const TRAIN_Y = 'y';
export const TRAIN_LOSS = 'loss';
export const STEP_SIZE = 'step_size';
export const BIAS_CORRECTION2 = 'bias_correction2';
export const LEARNING_RATE = 'lr';
/** AdamW's decoupled decay of the weights this step, 1 - lr weight_decay (computed in float64 by the engine) */
export const DECAY_FACTOR = 'decay_factor';

/** The optimizer's scalar inputs, in the model's order: Adam step_size, bias_correction2 (AdamW also decay_factor); SGD lr. */
export const optimizerScalars = (o: OptimizerOptions): string[] => (o.kind === 'sgd' ? [LEARNING_RATE] : o.kind === 'adamw' ? [STEP_SIZE, BIAS_CORRECTION2, DECAY_FACTOR] : [STEP_SIZE, BIAS_CORRECTION2]);

/** The values of optimizerScalars at step t (1-based) and learning rate lr, by name. */
export function optimizerScalarValues(o: OptimizerOptions, lr: number, t: number): Record<string, number> {
  const { betas: [b1, b2], weightDecay } = optimizerSettings(o);
  if (o.kind === 'sgd') return { [LEARNING_RATE]: lr };
  const adam = { [STEP_SIZE]: lr / (1 - b1 ** t), [BIAS_CORRECTION2]: Math.sqrt(1 - b2 ** t) };
  return o.kind === 'adamw' ? { ...adam, [DECAY_FACTOR]: 1 - lr * weightDecay } : adam;
}
export { OnnxGradError };

/** One tensor the step reads and writes back: a weight, an optimizer slot, a running statistic. */
export interface StepTensor {
  /** the checkpoint key (`NODE:NAME`, `adam/m/NODE:NAME`...): also the model input's name */
  key: string;
  /** the model output holding its next value */
  next: string;
  tfShape: number[];
  /** TF -> ONNX axis permutation, where the layouts differ */
  perm?: number[];
}

/** The tensor's shape as the model reads it (ONNX layout). */
export const stepShape = (t: StepTensor): number[] => (t.perm ? t.perm.map((p) => t.tfShape[p]) : [...t.tfShape]);

/** TF-layout data (a checkpoint's) in the layout the model reads; a copy. */
export const toStepLayout = (t: StepTensor, data: Float32Array): Float32Array => (t.perm ? permute(data, t.tfShape, t.perm) : Float32Array.from(data));

/** The model's data for the tensor back in the TF layout; a copy. */
export const fromStepLayout = (t: StepTensor, data: Float32Array): Float32Array => (t.perm ? permute(data, stepShape(t), t.perm.map((_, i) => t.perm!.indexOf(i))) : Float32Array.from(data));

export interface TrainModel {
  bytes: Uint8Array;
  tensors: StepTensor[];
  /** trainable key -> its gradient's output name (only with `gradients: true`) */
  gradients: Map<string, string>;
  /** the scalar inputs the optimizer reads */
  scalars: string[];
}

export interface TrainModelOptions {
  loss: LossWeights;
  optimizer: OptimizerOptions;
  /** also output every trainable weight's gradient as `grad/KEY` */
  gradients?: boolean;
  /**
   * weight keys the step leaves alone (freeze.ts frozenAt): a frozen trainable weight and its
   * optimizer slots, or a frozen running statistic, come out as `next/KEY` = Identity(KEY)
   */
  frozen?: ReadonlySet<string>;
  /**
   * trainable key -> steps it sat out frozen (> 0): Adam-like updates of those keys read their own
   * bias-correction scalars, lagScalar(name, lag), fed at step t - lag (PyTorch's per-parameter step)
   */
  skipped?: ReadonlyMap<string, number>;
}

/** The name of an optimizer scalar for the weights that sat out `lag` steps (0: the scalar itself). */
export const lagScalar = (name: string, lag: number): string => (lag > 0 ? `${name}/lag${lag}` : name);

/** The distinct lags (> 0) of the keys that train (not frozen) with an Adam-like optimizer, sorted: each gets its own scalars. */
export function stepLags(o: OptimizerOptions, frozen: ReadonlySet<string> = new Set(), skipped: ReadonlyMap<string, number> = new Map()): number[] {
  if (!isAdamLike(o)) return [];
  return [...new Set([...skipped].filter(([k, lag]) => lag > 0 && !frozen.has(k)).map(([, lag]) => lag))].sort((a, b) => a - b);
}

/** The training step of `g`; a BadOptionsError where its output and loss cannot train (objective.ts lossOutputError), an OnnxGradError where an op has no gradient rule. */
export function trainingModel(g: IrGraph, opts: TrainModelOptions): TrainModel {
  const outputError = lossOutputError(g.output, opts.loss);
  if (outputError) throw new BadOptionsError(outputError);
  const o = opts.optimizer;
  const { betas: [b1, b2], eps, weightDecay, momentum, nesterov } = optimizerSettings(o);
  const specs = weightSpecs(g).map(({ node, spec }) => ({ node, spec, key: weightKey(node.id, spec.name) }));
  const tensors: StepTensor[] = [];
  for (const { node, spec, key } of specs) {
    const perm = isKernel(node.op, spec.name) ? [...HWIO_TO_OIHW] : undefined;
    tensors.push({ key, next: `next/${key}`, tfShape: [...spec.shape], perm });
    if (spec.role === 'trainable') for (const slot of optimizerSlots(o, key)) tensors.push({ key: slot, next: `next/${slot}`, tfShape: [...spec.shape], perm });
  }
  const frozen = opts.frozen ?? new Set<string>();
  const lags = stepLags(o, frozen, opts.skipped);
  const scalars = [...optimizerScalars(o), ...lags.flatMap((lag) => [lagScalar(STEP_SIZE, lag), lagScalar(BIAS_CORRECTION2, lag)])];
  const gradOut = (key: string) => `grad/${key}`;
  const b = new OnnxBuilder([TRAIN_X, TRAIN_Y, TRAIN_LOSS, ...scalars, ...tensors.flatMap((t) => [t.key, t.next]), ...specs.map((s) => gradOut(s.key))]);

  // the batch size N, read from x: as int64 [1] (Resize sizes) and as a float scalar (means, counts)
  const batchDims = b.op('Shape', [TRAIN_X], { start: int(0), end: int(1) }, 'batch_dims');
  const batch = b.op('Cast', [b.reshape(batchDims, [])], { to: int(DataType.FLOAT) }, 'batch');
  const shapes = new Map<string, Shape>([[INPUT_ID, { c: g.input.channels, h: g.input.size[0], w: g.input.size[1] }]]);
  for (const n of g.nodes) shapes.set(n.id, n.shape);

  // forward, training mode
  const value = new Map<string, string>([[INPUT_ID, TRAIN_X]]);
  const saved = new Map<string, Record<string, string>>();
  for (const node of g.nodes) {
    const inputs = node.inputs.map((i) => value.get(i)!);
    const trainForward = TRAIN_FORWARD[node.op];
    if (trainForward) {
      const f = trainForward({ b, node, inputs, weight: (name) => weightKey(node.id, name), batch, setState: (name, v) => {
          const key = weightKey(node.id, name);
          b.opTo(`next/${key}`, 'Identity', [frozen.has(key) ? key : v]);
        },
      });
      saved.set(node.id, f.saved);
      value.set(node.id, f.y);
      continue;
    }
    const output = b.names.fresh(node.id);
    const ctx: LowerContext = {
      node,
      inputs,
      output,
      weight: (name) => weightKey(node.id, name),
      scalar: (v) => b.scalar(v),
      scales: (f) => b.once(`scales:${f}`, () => b.tensor(`scales_${f}`, [4], Float32Array.of(1, 1, f, f))),
      sizes: (s) => b.once(`sizes:${s.c}x${s.h}x${s.w}`, () => b.op('Concat', [batchDims, b.i64([s.c, s.h, s.w])], { axis: int(0) }, 'sizes')),
    };
    const lowered = ONNX_LOWERING[node.op](ctx);
    if (!Array.isArray(lowered)) {
      value.set(node.id, lowered.alias);
      continue;
    }
    b.nodes.push(...lowered);
    value.set(node.id, output);
  }

  // loss and its gradient w.r.t. the logits
  const z = value.get(g.output.node)!;
  const out = shapes.get(g.output.node)!;
  const dLogits = isSoftmax(g.output) ? softmaxLossAndGradient(b, z, out, batch, opts.loss) : lossAndGradient(b, z, out, batch, opts.loss);

  // backward
  const grads = new Map<string, string[]>([[g.output.node, [dLogits]]]);
  const weightGrads = new Map<string, string>();
  const needsGrad = (id: string) => id !== INPUT_ID;
  for (const node of [...g.nodes].reverse()) {
    const pending = grads.get(node.id);
    if (!pending) continue;
    const dy = pending.length === 1 ? pending[0] : b.op('Sum', pending, undefined, 'dsum');
    const rule: GradRule = ONNX_GRAD[node.op];
    const r = rule({
      b,
      node,
      inputs: node.inputs.map((i) => value.get(i)!),
      inShapes: node.inputs.map((i) => shapes.get(i)!),
      output: value.get(node.id)!,
      outShape: node.shape,
      dy,
      needs: node.inputs.map(needsGrad),
      weight: (name) => weightKey(node.id, name),
      saved: saved.get(node.id) ?? {},
      batch,
    });
    node.inputs.forEach((id, k) => {
      const gk = r.inputs[k];
      if (gk && needsGrad(id)) grads.set(id, [...(grads.get(id) ?? []), gk]);
    });
    for (const [name, gw] of Object.entries(r.weights ?? {})) weightGrads.set(weightKey(node.id, name), gw);
  }

  // optimizer: the weights that step, with their gradients and slots, flattened and concatenated
  // into one vector each (one group per Adam lag), updated by a dozen whole-vector ops and split
  // back. Per tensor it took a dozen small nodes (~2,400 for AL-Net's 182 weights), whose ONNX
  // Runtime dispatch cost more than the arithmetic.
  const gradients = new Map<string, string>();
  const groups = new Map<number, string[]>();
  for (const { spec, key } of specs) {
    if (spec.role !== 'trainable') continue;
    const gr = weightGrads.get(key);
    if (!gr) throw new OnnxGradError(`no gradient reached '${key}': is its node on the path to the output?`);
    if (opts.gradients) gradients.set(key, b.opTo(gradOut(key), 'Identity', [gr]));
    if (frozen.has(key)) {
      for (const k of [key, ...optimizerSlots(o, key)]) b.opTo(`next/${k}`, 'Identity', [k]);
      continue;
    }
    const lag = isAdamLike(o) ? (opts.skipped?.get(key) ?? 0) : 0;
    groups.set(lag, [...(groups.get(lag) ?? []), key]);
  }
  const tensorOf = new Map(tensors.map((t) => [t.key, t]));
  for (const [lag, keys] of groups) {
    const flat = (names: string[]) => (names.length === 1 ? b.reshape(names[0], [-1]) : b.op('Concat', names.map((n) => b.reshape(n, [-1])), { axis: int(0) }, 'flat'));
    const sizes = keys.map((k) => tensorOf.get(k)!.tfShape.reduce((a, d) => a * d, 1));
    const unflat = (v: string, outKeys: string[]) => {
      const parts = outKeys.length === 1 ? [v] : b.opN('Split', [v, b.i64(sizes)], outKeys.length, { axis: int(0) }, 'unflat');
      parts.forEach((part, i) => b.opTo(`next/${outKeys[i]}`, 'Reshape', [part, b.i64(stepShape(tensorOf.get(outKeys[i])!))]));
    };
    const slots = (i: number) => keys.map((k) => optimizerSlots(o, k)[i]);
    const w = flat(keys);
    let gr = flat(keys.map((k) => weightGrads.get(k)!));
    // adamw decays the weight itself (decoupled), the others add L2 to the gradient
    if (weightDecay && o.kind !== 'adamw') gr = b.add(gr, b.mul(w, b.scalar(weightDecay)));
    if (isAdamLike(o)) {
      const m = b.add(b.mul(flat(slots(0)), b.scalar(b1)), b.mul(gr, b.scalar(1 - b1)));
      const v = b.add(b.mul(flat(slots(1)), b.scalar(b2)), b.mul(b.mul(gr, gr), b.scalar(1 - b2)));
      unflat(m, slots(0));
      unflat(v, slots(1));
      const denom = b.add(b.div(b.op('Sqrt', [v]), lagScalar(BIAS_CORRECTION2, lag)), b.scalar(eps));
      const decayed = o.kind === 'adamw' ? b.mul(w, DECAY_FACTOR) : w;
      unflat(b.sub(decayed, b.mul(b.div(m, denom), lagScalar(STEP_SIZE, lag))), keys);
    } else {
      const buf = b.add(b.mul(flat(slots(0)), b.scalar(momentum)), gr);
      unflat(buf, slots(0));
      const step = nesterov ? b.add(gr, b.mul(buf, b.scalar(momentum))) : buf;
      unflat(b.sub(w, b.mul(step, LEARNING_RATE)), keys);
    }
  }

  const info = (name: string, dims: (number | string)[]) => ({
    name,
    type: { tensor_type: { elem_type: DataType.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d })) } } },
  });
  const [h, w] = g.input.size;
  const model = {
    ir_version: DEFAULT_IR_VERSION,
    producer_name: 'alcli',
    graph: {
      name: `${g.name}_train`,
      doc_string: `${g.name}: one training step (forward, ${isSoftmax(g.output) ? 'softmax CE' : 'BCE'} + Dice loss, backward, ${o.kind}) at ${h}x${w}`,
      node: b.nodes.map((n, i) => ({ op_type: n.op_type, name: `${n.output[0]}#${i}`, input: n.input, output: n.output, attribute: Object.entries(n.attrs ?? {}).map(([name, a]) => attributeProto(name, a)) })),
      initializer: b.initializers,
      input: [info(TRAIN_X, ['N', g.input.channels, h, w]), info(TRAIN_Y, ['N', out.c, out.h, out.w]), ...scalars.map((s) => info(s, [])), ...tensors.map((t) => info(t.key, stepShape(t)))],
      output: [info(TRAIN_LOSS, []), ...tensors.map((t) => info(t.next, stepShape(t))), ...[...gradients].map(([key, name]) => info(name, stepShape(tensors.find((t) => t.key === key)!)))],
    },
    opset_import: [{ domain: '', version: DEFAULT_OPSET }],
    metadata_props: [{ key: 'layout', value: 'NCHW' }],
  };
  return { bytes: encodeModel(model), tensors, gradients, scalars };
}

/**
 * loss = wb * mean(max(z, 0) - z y + log(1 + exp(-|z|))) + wd * mean_n(1 - (2 I + s) / (P + Y + s)),
 * I = sum p y, P = sum p, Y = sum y per image, p = sigmoid(z), s = DICE_SMOOTH (src/train/objective.ts).
 * dL/dz = wb (p - y) / count + wd / N * -(2 y S - (2 I + s)) / S^2 * p (1 - p),  S = P + Y + s.
 */
function lossAndGradient(b: OnnxBuilder, z: string, out: Shape, batch: string, w: LossWeights): string {
  const y = TRAIN_Y;
  const p = b.op('Sigmoid', [z]);
  const parts: string[] = [];
  const dz: string[] = [];
  if (w.bce) {
    const elem = b.add(b.sub(b.op('Relu', [z]), b.mul(z, y)), b.op('Softplus', [b.op('Neg', [b.op('Abs', [z])])]));
    parts.push(b.mul(b.mean(elem, [0, 1, 2, 3], false), b.scalar(w.bce)));
    const count = b.mul(batch, b.scalar(out.c * out.h * out.w));
    dz.push(b.div(b.mul(b.sub(p, y), b.scalar(w.bce)), count));
  }
  if (w.dice) {
    const axes = [1, 2, 3];
    const twoIs = b.add(b.mul(b.sum(b.mul(p, y), axes), b.scalar(2)), b.scalar(DICE_SMOOTH));
    const s = b.add(b.add(b.sum(p, axes), b.sum(y, axes)), b.scalar(DICE_SMOOTH));
    const dice = b.sub(b.scalar(1), b.div(twoIs, s));
    parts.push(b.mul(b.mean(dice, [0, 1, 2, 3], false), b.scalar(w.dice)));
    const dDiceDp = b.div(b.sub(twoIs, b.mul(b.mul(y, b.scalar(2)), s)), b.mul(s, s));
    const scale = b.div(b.scalar(w.dice), batch);
    dz.push(b.mul(b.mul(dDiceDp, b.mul(p, b.sub(b.scalar(1), p))), scale));
  }
  if (!parts.length) throw new OnnxGradError('the loss has no terms: give train.loss a bce or dice weight');
  b.opTo(TRAIN_LOSS, parts.length === 1 ? 'Identity' : 'Add', parts);
  return dz.length === 1 ? dz[0] : b.add(dz[0], dz[1]);
}

/**
 * The softmax loss (objective.ts) of logits z [N, K, H, W] against one-hot y, and dL/dz.
 * p = softmax(z) over axis 1; w_y = sum_k w_k y_k per pixel (1 without class weights), W = sum w_y.
 *   ce   = sum(w_y * -sum_k y_k log p_k) / W;               dce/dz = w_y (p - y) / W
 *   dice = mean over n, k >= 1 of 1 - (2 I + s) / S,  I = sum p_k y_k, S = sum p_k + sum y_k + s per (n, k)
 *   ddice/dp_k = (2 I + s - 2 y_k S) / S^2 / (N (K - 1)) for k >= 1, 0 for the background k = 0;
 *   through the softmax Jacobian: dz_j = p_j (g_j - sum_k g_k p_k), g = dL/dp.
 */
function softmaxLossAndGradient(b: OnnxBuilder, z: string, out: Shape, batch: string, w: LossWeights): string {
  const y = TRAIN_Y;
  const K = out.c;
  const p = b.op('Softmax', [z], { axis: int(1) });
  const all = [0, 1, 2, 3];
  const parts: string[] = [];
  const dz: string[] = [];
  if (w.bce) {
    const nll = b.op('Neg', [b.sum(b.mul(y, b.op('LogSoftmax', [z], { axis: int(1) })), [1])]);
    const pMinusY = b.sub(p, y);
    if (w.classWeights) {
      const wk = b.tensor('class_weights', [1, K, 1, 1], Float32Array.from(w.classWeights));
      const wy = b.sum(b.mul(y, wk), [1]);
      const total = b.sum(wy, all, false);
      parts.push(b.mul(b.div(b.sum(b.mul(wy, nll), all, false), total), b.scalar(w.bce)));
      dz.push(b.mul(b.mul(wy, pMinusY), b.div(b.scalar(w.bce), total)));
    } else {
      parts.push(b.mul(b.mean(nll, all, false), b.scalar(w.bce)));
      const count = b.mul(batch, b.scalar(out.h * out.w));
      dz.push(b.div(b.mul(pMinusY, b.scalar(w.bce)), count));
    }
  }
  if (w.dice) {
    // every class computed, the background's terms zeroed by the mask [0, 1, ..., 1]
    const fg = b.tensor('foreground', [1, K, 1, 1], Float32Array.from({ length: K }, (_, k) => (k ? 1 : 0)));
    const twoIs = b.add(b.mul(b.sum(b.mul(p, y), [2, 3]), b.scalar(2)), b.scalar(DICE_SMOOTH));
    const s = b.add(b.add(b.sum(p, [2, 3]), b.sum(y, [2, 3])), b.scalar(DICE_SMOOTH));
    const dice = b.mul(b.sub(b.scalar(1), b.div(twoIs, s)), fg);
    const scale = b.div(b.scalar(w.dice), b.mul(batch, b.scalar(K - 1)));
    parts.push(b.mul(b.sum(dice, all, false), scale));
    const g = b.mul(b.mul(b.div(b.sub(twoIs, b.mul(b.mul(y, b.scalar(2)), s)), b.mul(s, s)), fg), scale);
    dz.push(b.mul(p, b.sub(g, b.sum(b.mul(g, p), [1]))));
  }
  if (!parts.length) throw new OnnxGradError('the loss has no terms: give train.loss a ce or dice weight');
  b.opTo(TRAIN_LOSS, parts.length === 1 ? 'Identity' : 'Add', parts);
  return dz.length === 1 ? dz[0] : b.add(dz[0], dz[1]);
}
