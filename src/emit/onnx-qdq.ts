// Static INT8 quantization of an emitted ONNX model in QDQ form (pure: model object in, model object out).
//
// Invariant: the quantized model computes the float model with every quantized activation tensor
// t replaced by DequantizeLinear(QuantizeLinear(t)) and every quantized node's weights by their
// int8 round trip; no other op changes. ONNX Runtime's QDQ fusion then turns each
// DQ -> Conv -> Q group into one QLinearConv (Add, Mul, Concat, pools, Resize and Sigmoid likewise),
// which is where the speed comes from; a group it cannot fuse still runs, in float.
//
// Choices (those of ONNX Runtime's own quantize_static with QDQ, per_channel=True, MinMax):
// - activations uint8 asymmetric over [min(0, lo), max(0, hi)] of the calibrated range;
// - weights int8 symmetric per output channel (scale = max |w_c| / 127, zero point 0), axis 0 for
//   Conv (OIHW), axis 1 for ConvTranspose (IOHW);
// - bias int32 with scale = input scale x weight scale per channel (what QLinearConv expects);
// - a Relu whose input only it reads, after a quantized node, is dropped: its output's range starts
//   at 0, so the uint8 zero point 0 clips negatives exactly as Relu would;
// - MaxPool and Resize outputs share their input's parameters (they only move or mix values inside
//   that range), which lets ONNX Runtime run them on uint8 directly; a Concat's inputs and output
//   share parameters over the union of their ranges, so it copies bytes instead of requantizing;
// - the model output (logits) stays float, as do nodes in `exclude` (their weights; their input and
//   output tensors are still quantized where a quantized neighbour reads or writes them).
import { littleEndianBytes } from './onnx.js';
import { AttrType, DataType } from './onnx-proto.js';

/** The parts of an emitted ModelProto object (onnxModel's result) this file reads and writes. */
export interface ModelObject {
  graph: {
    node: NodeObject[];
    initializer: { name: string; dims: number[]; data_type: number; raw_data: Uint8Array }[];
    input: { name: string; type: unknown }[];
    output: { name: string; type: unknown }[];
    [k: string]: unknown;
  };
  opset_import: { domain: string; version: number }[];
  metadata_props?: { key: string; value: string }[];
  [k: string]: unknown;
}
export interface NodeObject {
  op_type: string;
  name: string;
  input: string[];
  output: string[];
  attribute: { name: string; type?: number; i?: number; ints?: number[]; f?: number }[];
  domain?: string;
}

/** A calibrated activation range (the float values seen on the calibration images). */
export interface Range {
  min: number;
  max: number;
}

/** Ops ONNX Runtime's CPU provider fuses with their Q/DQ neighbours into integer kernels. */
export const QDQ_OPS: ReadonlySet<string> = new Set(['Conv', 'ConvTranspose', 'Add', 'Mul', 'Concat', 'GlobalAveragePool', 'MaxPool', 'AveragePool', 'Resize', 'Sigmoid']);
/** Ops whose output lies inside their input's range: input and output share parameters. */
const RANGE_KEEPING = new Set(['MaxPool', 'Resize']);
/** Activations folded into the quantized node before them. */
const REMOVABLE = new Set(['Relu']);

export interface QdqOptions {
  /** node names kept in float (their weights stay float32) */
  exclude?: ReadonlySet<string>;
}

export interface QdqReport {
  /** quantized nodes by op type */
  quantized: Record<string, number>;
  /** nodes left in float, by name */
  float: string[];
  /** Relu nodes folded into the node before them */
  folded: number;
  /** activation tensors with a Q/DQ pair */
  tensors: number;
}

/**
 * The float activation tensors of a model (graph input and node outputs, not the int64 shape
 * arithmetic some Resize sizes need): the tensors calibration measures.
 */
export function floatTensors(model: ModelObject): string[] {
  const g = model.graph;
  const isFloat = new Map<string, boolean>(g.initializer.map((t) => [t.name, t.data_type === DataType.FLOAT]));
  for (const i of g.input) isFloat.set(i.name, true);
  const out: string[] = [...g.input.map((i) => i.name)];
  for (const n of g.node) {
    // Shape reads a float tensor and writes int64; every other op here writes its first input's type
    const f = n.op_type !== 'Shape' && (isFloat.get(n.input[0]) ?? false);
    for (const o of n.output) {
      isFloat.set(o, f);
      if (f) out.push(o);
    }
  }
  return out;
}

/** The model with each of `tensors` added as a float32 graph output (calibration reads them all in one run). */
export function withTensorOutputs(model: ModelObject, tensors: readonly string[]): ModelObject {
  const have = new Set(model.graph.output.map((o) => o.name));
  const extra = tensors.filter((t) => !have.has(t)).map((name) => ({ name, type: { tensor_type: { elem_type: DataType.FLOAT } } }));
  return { ...model, graph: { ...model.graph, output: [...model.graph.output, ...extra] } };
}

/** uint8 asymmetric parameters of a range, as ONNX Runtime's quantizer computes them. */
export function activationParams(r: Range): { scale: number; zeroPoint: number } {
  const lo = Math.min(0, r.min);
  const hi = Math.max(0, r.max);
  if (!(hi > lo)) return { scale: 1, zeroPoint: 0 };
  const scale = (hi - lo) / 255;
  return { scale, zeroPoint: Math.min(255, Math.max(0, Math.round(-lo / scale))) };
}

/**
 * int8 symmetric per-channel quantization of a weight along `axis` (q = round(w / s_c), s_c =
 * max |w_c| / 127; an all-zero channel gets s_c = 1).
 */
export function quantizeWeight(data: Float32Array, dims: readonly number[], axis: number): { q: Int8Array; scales: Float32Array } {
  const channels = dims[axis];
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const channelOf = (i: number) => Math.floor(i / inner) % channels;
  const maxAbs = new Float32Array(channels);
  for (let i = 0; i < data.length; i++) maxAbs[channelOf(i)] = Math.max(maxAbs[channelOf(i)], Math.abs(data[i]));
  const scales = Float32Array.from(maxAbs, (m) => (m > 0 ? m / 127 : 1));
  const q = new Int8Array(data.length);
  for (let i = 0; i < data.length; i++) q[i] = Math.max(-127, Math.min(127, Math.round(data[i] / scales[channelOf(i)])));
  return { q, scales };
}

/**
 * The QDQ model of `model` given calibrated `ranges` of its float activation tensors (floatTensors).
 * Throws when a tensor to quantize has no range. `model` is not modified.
 */
export function quantizeQdq(model: ModelObject, ranges: ReadonlyMap<string, Range>, opts: QdqOptions = {}): { model: ModelObject; report: QdqReport } {
  const g = model.graph;
  const exclude = opts.exclude ?? new Set<string>();
  const outputs = new Set(g.output.map((o) => o.name));
  const inits = new Map(g.initializer.map((t) => [t.name, t]));
  const quantizes = (n: NodeObject) => QDQ_OPS.has(n.op_type) && !exclude.has(n.name);

  // 1. fold Relu into the quantized node that writes its only input
  const readers = consumers(g.node);
  let nodes = g.node.map((n) => ({ ...n, input: [...n.input], output: [...n.output] }));
  const writer = new Map<string, NodeObject>();
  for (const n of nodes) for (const o of n.output) writer.set(o, n);
  const dropped = new Set<NodeObject>();
  for (const n of nodes) {
    if (!REMOVABLE.has(n.op_type) || exclude.has(n.name)) continue;
    const src = n.input[0];
    const p = writer.get(src);
    // the model output stays float, so a Relu writing it keeps its own node
    if (!p || !quantizes(p) || outputs.has(src) || outputs.has(n.output[0]) || (readers.get(src)?.length ?? 0) !== 1) continue;
    p.output = p.output.map((o) => (o === src ? n.output[0] : o));
    writer.set(n.output[0], p);
    dropped.add(n);
  }
  nodes = nodes.filter((n) => !dropped.has(n));

  // 2. which float tensors get a Q/DQ pair, and with which range
  const floats = new Set(floatTensors({ ...model, graph: { ...g, node: nodes } }));
  const after = consumers(nodes);
  // tensors sharing one set of parameters, over the union of their ranges: a range-keeping op's
  // input and output (it then runs on uint8 as it is), and a Concat's inputs and output (it then
  // copies bytes instead of requantizing each input)
  const group = new Map<string, string>();
  const find = (t: string): string => {
    const up = group.get(t);
    if (up === undefined || up === t) return t;
    const root = find(up);
    group.set(t, root);
    return root;
  };
  const union = (a: string, b: string) => group.set(find(a), find(b));
  for (const n of nodes) {
    if (!quantizes(n)) continue;
    if (RANGE_KEEPING.has(n.op_type)) union(n.input[0], n.output[0]);
    if (n.op_type === 'Concat') for (const i of n.input) union(i, n.output[0]);
  }
  const groupRange = new Map<string, Range>();
  for (const [t, r] of ranges) {
    const root = find(t);
    const g0 = groupRange.get(root);
    groupRange.set(root, g0 ? { min: Math.min(g0.min, r.min), max: Math.max(g0.max, r.max) } : r);
  }
  const range = (t: string): Range => {
    const r = ranges.has(t) && groupRange.get(find(t));
    if (!r) throw new Error(`no calibrated range for tensor '${t}'`);
    return r;
  };
  const quantized = new Set<string>();
  for (const t of floats) {
    if (outputs.has(t) || inits.has(t)) continue;
    // writer maps each tensor to the node that writes it after the folding (a folded Relu's output to its new writer)
    const p = writer.get(t);
    if ((p && quantizes(p)) || (after.get(t) ?? []).some(quantizes)) quantized.add(t);
  }

  // 3. rewrite: Q/DQ after each quantized tensor's producer, int8 weights and int32 biases
  const newInits: ModelObject['graph']['initializer'] = [];
  const addInit = (name: string, dims: number[], data_type: number, bytes: Uint8Array) => (newInits.push({ name, dims, data_type, raw_data: bytes }), name);
  const params = new Map<string, { scale: number; zeroPoint: number; s: string; zp: string }>();
  const qdq = (t: string): NodeObject[] => {
    const p = activationParams(range(t));
    const s = addInit(`${t}/scale`, [], DataType.FLOAT, littleEndianBytes(Float32Array.of(p.scale)));
    const zp = addInit(`${t}/zero_point`, [], DataType.UINT8, Uint8Array.of(p.zeroPoint));
    params.set(t, { ...p, s, zp });
    return [
      { op_type: 'QuantizeLinear', name: `${t}/Q`, input: [t, s, zp], output: [`${t}/q`], attribute: [] },
      { op_type: 'DequantizeLinear', name: `${t}/DQ`, input: [`${t}/q`, s, zp], output: [`${t}/dq`], attribute: [] },
    ];
  };
  const replacedInits = new Set<string>();
  const out: NodeObject[] = [];
  for (const i of g.input) if (quantized.has(i.name)) out.push(...qdq(i.name));
  const counts: Record<string, number> = {};
  const floatNodes: string[] = [];
  for (const n of nodes) {
    const node = { ...n, input: n.input.map((t) => (quantized.has(t) ? `${t}/dq` : t)) };
    if (quantizes(n)) {
      counts[n.op_type] = (counts[n.op_type] ?? 0) + 1;
      if ((n.op_type === 'Conv' || n.op_type === 'ConvTranspose') && inits.has(n.input[1])) {
        const axis = n.op_type === 'Conv' ? 0 : 1;
        const w = inits.get(n.input[1])!;
        const wq = quantizeWeight(floatsOf(w.raw_data), w.dims, axis);
        const ws = addInit(`${w.name}/scale`, [wq.scales.length], DataType.FLOAT, littleEndianBytes(wq.scales));
        const wzp = addInit(`${w.name}/zero_point`, [wq.scales.length], DataType.INT8, new Uint8Array(wq.scales.length));
        addInit(`${w.name}/q`, w.dims, DataType.INT8, new Uint8Array(wq.q.buffer));
        out.push({ op_type: 'DequantizeLinear', name: `${w.name}/DQ`, input: [`${w.name}/q`, ws, wzp], output: [`${w.name}/dq`], attribute: [{ name: 'axis', type: AttrType.INT, i: axis }] });
        replacedInits.add(w.name);
        node.input[1] = `${w.name}/dq`;
        const x = params.get(n.input[0]);
        if (n.input[2] && inits.has(n.input[2]) && x) {
          const b = inits.get(n.input[2])!;
          const bias = floatsOf(b.raw_data);
          const bs = Float32Array.from(wq.scales, (sw) => x.scale * sw);
          const bq = Int32Array.from(bias, (v, c) => Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, Math.round(v / bs[c]))));
          const bsName = addInit(`${b.name}/scale`, [bs.length], DataType.FLOAT, littleEndianBytes(bs));
          const bzp = addInit(`${b.name}/zero_point`, [bs.length], DataType.INT32, new Uint8Array(bs.length * 4));
          addInit(`${b.name}/q`, b.dims, DataType.INT32, int32Bytes(bq));
          out.push({ op_type: 'DequantizeLinear', name: `${b.name}/DQ`, input: [`${b.name}/q`, bsName, bzp], output: [`${b.name}/dq`], attribute: [{ name: 'axis', type: AttrType.INT, i: 0 }] });
          replacedInits.add(b.name);
          node.input[2] = `${b.name}/dq`;
        }
      }
    } else if (QDQ_OPS.has(n.op_type)) floatNodes.push(n.name);
    out.push(node);
    for (const o of n.output) if (quantized.has(o)) out.push(...qdq(o));
  }
  const initializer = [...g.initializer.filter((t) => !replacedInits.has(t.name)), ...newInits];
  return {
    model: { ...model, graph: { ...g, node: out, initializer }, metadata_props: [...(model.metadata_props ?? []), { key: 'quantization', value: 'QDQ: uint8 activations (asymmetric, per tensor), int8 weights (symmetric, per channel), int32 biases' }] },
    report: { quantized: counts, float: floatNodes, folded: dropped.size, tensors: quantized.size },
  };
}

function consumers(nodes: readonly NodeObject[]): Map<string, NodeObject[]> {
  const m = new Map<string, NodeObject[]>();
  for (const n of nodes) for (const i of n.input) if (i) (m.get(i) ?? m.set(i, []).get(i)!).push(n);
  return m;
}

function floatsOf(raw: Uint8Array): Float32Array {
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  return Float32Array.from({ length: raw.byteLength / 4 }, (_, i) => v.getFloat32(4 * i, true));
}

function int32Bytes(a: Int32Array): Uint8Array {
  const v = new DataView(new ArrayBuffer(a.length * 4));
  a.forEach((x, i) => v.setInt32(4 * i, x, true));
  return new Uint8Array(v.buffer);
}
