// The `--io image` form of an ONNX model (pure: model object in, model object out): a consumer
// passes 8-bit pixels and gets a mask, with every step `alcli predict` takes done by ONNX ops.
//   image          uint8 [H, W, C] (HWC, any H and W)
//   -> x / 255, then (x - mean) / std per channel     (train/decode.ts toImage, train/load.ts normalize)
//   -> reflect padding to the stride, centred          (ir/stride.ts padBox; image.ts reflectIndex)
//   -> the network ([1, C, H', W'] -> logits [1, K, H', W'])
//   -> crop back to H x W, output activation            (sigmoid per class / softmax over classes)
//   probabilities  float32 [H, W] (one class) or [K, H, W]
//   mask           uint8 [H, W] (one class: 0/255 at the threshold, p >= t, as predict's NAME.mask.png;
//                  softmax: the most probable class index, as NAME.label.png) or [K, H, W] (sigmoid, K > 1)
// The padding is a Gather of reflected indices, not Pad(mode=reflect): the indices reflect again
// as often as needed (an image smaller than its padding), exactly as predict's reflectIndex does.
// With tta `flips` (alcli predict --tta flips, train/tta.ts) the image goes through the network as
// one batch of 4: itself, mirrored left-right, top-bottom and both (N is symbolic), each mirror image
// padded as predict pads it (flip, then pad: the gather index n - 1 - reflectIndex on a flipped axis,
// so the odd padding pixel stays bottom/right); each output is cropped, activated, mirrored back
// (Slice, step -1), and the probabilities are the mean of the 4, before the threshold or argmax.
// `dihedral` would need transposed (H <-> W) copies, which cannot share one batch: refused.
import { DataType } from './onnx-proto.js';
import { int, ints, type OnnxAttr } from './onnx-ops.js';
import { attributeProto, littleEndianBytes, Names, ONNX_INPUT, ONNX_OUTPUT, OnnxEmitError, tensorInfo, SYMBOLIC_DIMS, type Initializer } from './onnx.js';

export const IMAGE_INPUT = 'image';
export const MASK_OUTPUT = 'mask';
export const PROBABILITIES_OUTPUT = 'probabilities';

export interface ImageIoOptions {
  /** per-channel mean and std of the [0, 1] image (the run's); null: the [0, 1] image goes in as it is */
  normalize: { mean: readonly number[]; std: readonly number[] } | null;
  /** the network stride [sh, sw]: the image is padded to multiples of it */
  stride: readonly [number, number];
  /** the network's output activation, applied to the cropped logits */
  activation: 'sigmoid' | 'softmax' | 'none';
  /** the probability cut of a sigmoid (or `none`) network's mask: foreground where p >= threshold */
  threshold: number;
  /** K, the network's output channels */
  classes: number;
  /** C, the image channels (the network's input channels) */
  channels: number;
  /** test-time augmentation inside the graph: `flips` averages the 4 mirror images (default `none`) */
  tta?: ImageTta;
}

/** TTA modes the image graph can hold (`dihedral` cannot: its transposed copies do not batch). */
export const IMAGE_TTA = ['none', 'flips'] as const;
export type ImageTta = (typeof IMAGE_TTA)[number];

interface PlainNode {
  op_type: string;
  name?: string;
  input: string[];
  output: string[];
  attribute?: unknown[];
}

interface PlainModel {
  opset_import?: { domain?: string; version: number }[];
  metadata_props?: { key: string; value: string }[];
  graph: { name?: string; doc_string?: string; node: PlainNode[]; initializer: { name: string }[]; input: { name: string }[]; output: { name: string }[] };
}

/**
 * `model` (an ONNX ModelProto as a plain object, as onnxModel() returns: input `input` float32
 * [N, C, H, W] normalized, output `logits` [N, K, H, W]) wrapped into the image form described at
 * the top of this file. The network part is copied as it is, so an INT8 or fp16 model with the same
 * IO wraps the same way. The result runs at any image size when the model's H and W are symbolic;
 * a fixed-size model runs only on images that pad to its size. Throws OnnxEmitError when the model
 * lacks that IO or the options do not fit it (channel counts, a std <= 0, a stride < 1, a tta
 * other than none or flips: `dihedral` transposes, so its copies cannot share one batch).
 */
export function withImageIo(model: object, opts: ImageIoOptions): object {
  const m = model as PlainModel;
  const g = m.graph;
  if (!g || !g.input?.some((v) => v.name === ONNX_INPUT) || !g.output?.some((v) => v.name === ONNX_OUTPUT))
    throw new OnnxEmitError(`withImageIo needs a model with input '${ONNX_INPUT}' and output '${ONNX_OUTPUT}'`);
  const { classes: k, channels: c, normalize } = opts;
  if (normalize && (normalize.mean.length !== c || normalize.std.length !== c)) throw new OnnxEmitError(`normalize needs ${c} means and stds, got ${normalize.mean.length} and ${normalize.std.length}`);
  if (!opts.stride.every((s) => Number.isInteger(s) && s >= 1)) throw new OnnxEmitError(`the stride must be positive integers, got ${opts.stride.join('x')}`);
  if (!(k >= 1) || !(c >= 1)) throw new OnnxEmitError(`classes and channels must be positive, got ${k} and ${c}`);
  const tta = opts.tta ?? 'none';
  if (!(IMAGE_TTA as readonly string[]).includes(tta))
    throw new OnnxEmitError(`the image graph takes tta ${IMAGE_TTA.join(' or ')}, not '${tta}': dihedral's transposed copies are H x W swapped and cannot share one batch with the others; use alcli predict --tta dihedral, or flips in the graph`);
  const flips = tta === 'flips';

  // every name the model uses, tensors and nodes alike, stays taken
  const names = new Names([IMAGE_INPUT, MASK_OUTPUT, PROBABILITIES_OUTPUT, ...g.node.flatMap((n) => [...n.input, ...n.output, n.name ?? '']), ...[...g.initializer, ...g.input, ...g.output].map((t) => t.name)]);
  const initializers: Initializer[] = [];
  const nodes: PlainNode[] = [];
  const konst = new Map<string, string>();
  const init = (hint: string, dataType: number, dims: number[], bytes: Uint8Array, key: string) => {
    let name = konst.get(key);
    if (!name) {
      name = names.fresh(hint);
      initializers.push({ name, dims, data_type: dataType, raw_data: bytes });
      konst.set(key, name);
    }
    return name;
  };
  const f32 = (v: readonly number[], dims = [v.length]) => init('img_f', DataType.FLOAT, dims, littleEndianBytes(Float32Array.from(v)), `f:${dims}:${v}`);
  const i64 = (v: readonly number[], dims = [v.length]) => init('img_i', DataType.INT64, dims, littleEndianBytes(BigInt64Array.from(v, (x) => BigInt(x))), `i:${dims}:${v}`);
  const u8 = (v: number) => init('img_u8', DataType.UINT8, [], Uint8Array.of(v), `u8:${v}`);
  const op = (op_type: string, input: string[], attrs: Record<string, OnnxAttr> = {}, output = names.fresh(`img_${op_type.toLowerCase()}`)) => {
    nodes.push({ op_type, name: names.fresh(`image_io/${op_type}`), input, output: [output], attribute: Object.entries(attrs).map(([a, v]) => attributeProto(a, v)) });
    return output;
  };

  // ---- pixels -> normalized [1, C, H', W'] ----
  let x = op('Div', [op('Cast', [IMAGE_INPUT], { to: int(DataType.FLOAT) }), f32([255], [])]);
  if (normalize) x = op('Mul', [op('Sub', [x, f32(normalize.mean)]), f32(normalize.std.map((s) => 1 / (s > 1e-6 ? s : 1)))]);
  const hw = op('Slice', [op('Shape', [IMAGE_INPUT]), i64([0]), i64([2])]); // [h, w]
  const stride = i64(opts.stride);
  // padded = ceil(hw / stride) * stride; top/left = floor((padded - hw) / 2) (integer Div floors for non-negatives)
  const padded = op('Mul', [op('Div', [op('Add', [hw, op('Sub', [stride, i64([1])])]), stride]), stride]);
  const begin = op('Div', [op('Sub', [padded, hw]), i64([2])]);
  const gathers: string[] = []; // per axis: the padded row (column) indices into the image
  for (const axis of [0, 1]) {
    const at = (v: string) => op('Gather', [v, i64([axis], [])], { axis: int(0) }); // a scalar
    const n = at(hw);
    const i = op('Sub', [op('Range', [i64([0], []), at(padded), i64([1], [])]), at(begin)]);
    // reflectIndex: j = i mod 2(n - 1) (ONNX integer Mod takes the divisor's sign), then j < n ? j : period - j; n = 1 -> period 1 -> 0
    const period = op('Max', [op('Mul', [op('Sub', [n, i64([1], [])]), i64([2], [])]), i64([1], [])]);
    const j = op('Mod', [i, period], { fmod: int(0) });
    const index = op('Where', [op('Less', [j, n]), j, op('Sub', [period, j])]);
    // flips: [index; n - 1 - index] [2, n'], the mirror image's padding (flip, then pad)
    const row = (v: string) => op('Unsqueeze', [v, i64([0])]);
    gathers.push(flips ? op('Concat', [row(index), row(op('Sub', [op('Sub', [n, i64([1], [])]), index]))], { axis: int(0) }) : index);
  }
  if (!flips) {
    for (const axis of [0, 1]) x = op('Gather', [x, gathers[axis]], { axis: int(axis) });
    op('Unsqueeze', [op('Transpose', [x], { perm: ints([2, 0, 1]) }), i64([0])], {}, ONNX_INPUT);
  } else {
    // [H, W, C] -> rows [2, H', W, C] -> columns [2, H', 2, W', C] -> [2 (row flip), 2 (column flip), C, H', W'] -> [4, C, H', W']:
    // batch order identity, left-right, top-bottom, both (tta.ts ttaTransforms('flips'): dihedral 0, 4, 6, 2)
    x = op('Gather', [op('Gather', [x, gathers[0]], { axis: int(0) }), gathers[1]], { axis: int(2) });
    op('Reshape', [op('Transpose', [x], { perm: ints([0, 2, 4, 1, 3]) }), op('Concat', [i64([4, c]), padded], { axis: int(0) })], {}, ONNX_INPUT);
  }
  const pre = nodes.splice(0);

  // ---- logits [1, K, H', W'] -> crop, activation, mask ----
  const crop = op('Slice', [ONNX_OUTPUT, begin, op('Add', [begin, hw]), i64([2, 3])]); // [N, K, h, w]
  const activated = opts.activation === 'sigmoid' ? op('Sigmoid', [crop]) : opts.activation === 'softmax' ? op('Softmax', [crop], { axis: int(1) }) : crop;
  let mean = activated;
  if (flips) {
    // each copy mirrored back (Slice step -1 over the whole axis: start -1, end below every index), then their mean
    const copies = [[], [3], [2], [2, 3]].map((axes, b) =>
      op('Slice', [activated, i64([b, ...axes.map(() => -1)]), i64([b + 1, ...axes.map(() => Number.MIN_SAFE_INTEGER)]), i64([0, ...axes]), i64([1, ...axes.map(() => -1)])]),
    );
    mean = op('Mul', [op('Sum', copies), f32([0.25], [])]);
  }
  const act = op('Squeeze', [mean, i64([0])]); // [K, h, w]
  const single = k === 1;
  const probs = op(single ? 'Squeeze' : 'Identity', single ? [act, i64([0])] : [act], {}, PROBABILITIES_OUTPUT);
  if (opts.activation === 'softmax') op('Cast', [op('ArgMax', [probs], { axis: int(0), keepdims: int(0) })], { to: int(DataType.UINT8) }, MASK_OUTPUT);
  else op('Where', [op('GreaterOrEqual', [probs, f32([opts.threshold], [])]), u8(255), u8(0)], {}, MASK_OUTPUT);
  const post = nodes.splice(0);

  const hwDims = [SYMBOLIC_DIMS.height, SYMBOLIC_DIMS.width];
  const outDims = single || opts.activation === 'softmax' ? hwDims : [k, ...hwDims];
  const desc = opts.activation === 'softmax' ? 'the most probable class index' : `0/255 at p >= ${opts.threshold}`;
  return {
    ...m,
    graph: {
      ...g,
      doc_string: `${g.name ?? 'model'} with image IO: ${IMAGE_INPUT} uint8 [H, W, ${c}] (8-bit pixels, any size) -> ${PROBABILITIES_OUTPUT} float32 ${single ? '[H, W]' : `[${k}, H, W]`} (${opts.activation}${flips ? ', the mean over the image and its 3 mirror images' : ''}), ${MASK_OUTPUT} uint8 (${desc})`,
      node: [...pre, ...g.node, ...post],
      initializer: [...g.initializer, ...initializers],
      input: [tensorInfo(IMAGE_INPUT, DataType.UINT8, [...hwDims, c])],
      output: [tensorInfo(MASK_OUTPUT, DataType.UINT8, outDims), tensorInfo(PROBABILITIES_OUTPUT, DataType.FLOAT, single ? hwDims : [k, ...hwDims])],
    },
    metadata_props: [
      ...(m.metadata_props ?? []).filter((p) => p.key !== 'layout'),
      { key: 'io', value: 'image' },
      { key: 'layout', value: 'HWC' },
      { key: 'threshold', value: String(opts.threshold) },
      { key: 'stride', value: opts.stride.join('x') },
      { key: 'tta', value: tta },
    ],
  };
}
