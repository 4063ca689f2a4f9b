// fp16 ONNX: an emitted float32 model (onnxModel's ModelProto object) rewritten to store its
// weights as float16 and compute in float16, behind the same float32 IO: `input` is Cast to float16
// where a float16 node first reads it, and `logits` Cast back to float32 where a float16 node
// writes it. Some ops stay float32, with Casts around (FP32_OPS says why); int64 shape arithmetic
// (Shape, and the Concat/Slice on its result) is left alone. Pure: a model object in, a new one out.
//
// What ONNX Runtime's CPU execution provider does with it (onnxruntime-node 1.30, x86-64 with AVX2
// and F16C, no AVX512-FP16): it has no float16 Conv kernel there, so at session creation its
// InsertCastTransformer wraps every such node in Casts back to float32 ("InsertedPrecisionFreeCast_*"
// in the optimized model) and the model computes in float32: no faster, its weights rounded to
// half. The file is for GPU execution providers (CUDA, DirectML, WebGPU) and for its size.
import { floatToHalf } from '../ir/float16.js';
import { AttrType, DataType } from './onnx-proto.js';
import { Names } from './onnx.js';

/** Ops computed in float32 in the fp16 model, and why. */
export const FP32_OPS: Readonly<Record<string, string>> = {
  Resize: 'interpolation weights and the coordinate transform lose precision in float16 (kept float32 as the issue asks); its scales input is float32 by definition',
  GlobalAveragePool: 'a mean over the whole image (262144 values at 512x512) overflows 65504 or drifts when a kernel accumulates in float16',
};

/** Ops computed in float16: every input with the data's type (T) is float16. */
const FP16_OPS = new Set(['Conv', 'ConvTranspose', 'MaxPool', 'AveragePool', 'BatchNormalization', 'Add', 'Sub', 'Mul', 'Div', 'Sum', 'Relu', 'Clip', 'HardSigmoid', 'Sigmoid', 'Concat', 'Identity', 'Slice']);

/** Ops whose output is int64 whatever their input. */
const SHAPE_OPS = new Set(['Shape']);

/** The input positions that carry the data's type T (the others keep their own: Resize's scales are float32, Slice's bounds int64). */
const DATA_INPUTS: Readonly<Record<string, readonly number[]>> = { Resize: [0], Slice: [0] };

export class Float16Error extends Error {}

interface Tensor {
  name: string;
  dims: number[];
  data_type: number;
  raw_data?: Uint8Array;
  float_data?: number[];
}
interface Node {
  op_type: string;
  name?: string;
  input: string[];
  output: string[];
  attribute?: object[];
}
interface ModelLike {
  graph: { node: Node[]; initializer: Tensor[]; input: { name: string }[]; output: { name: string }[]; [k: string]: unknown };
  metadata_props?: { key: string; value: string }[];
  [k: string]: unknown;
}

type Kind = 'f32' | 'f16' | 'int';

/**
 * The float16 form of a float32 ONNX model (as onnxModel returns it, or decodeModel reads it): every
 * float32 initializer a float16 node reads is stored as float16 (round to nearest even; a value past
 * 65504 becomes infinity, so it throws instead); ops in FP32_OPS read float32 through a Cast; the
 * graph's inputs and outputs keep their float32 types. Throws Float16Error for an op it does not
 * know (a new lowering must say which precision it runs in) or an initializer past float16's range.
 */
export function toFloat16Onnx<M extends object>(model: M): M {
  const m = model as unknown as ModelLike;
  const g = m.graph;
  const names = new Names([...g.input.map((v) => v.name), ...g.initializer.map((t) => t.name), ...g.node.flatMap((n) => n.output)]);
  const kind = new Map<string, Kind>();
  const inits = new Map(g.initializer.map((t) => [t.name, t]));
  for (const t of g.initializer) kind.set(t.name, t.data_type === DataType.FLOAT ? 'f32' : 'int');
  for (const v of g.input) kind.set(v.name, 'f32');

  const nodes: Node[] = [];
  const extraInits: Tensor[] = [];
  const halfOf = new Map<string, string>();
  const floatOf = new Map<string, string>();
  const usedAsFloat = new Set<string>();
  const cast = (from: string, to: 'f16' | 'f32'): string => {
    const cache = to === 'f16' ? halfOf : floatOf;
    let out = cache.get(from);
    if (out) return out;
    const init = inits.get(from);
    if (init && to === 'f16') {
      out = names.fresh(`${from}_fp16`);
      extraInits.push(halfTensor(init, out));
    } else {
      out = names.fresh(`${from}_${to === 'f16' ? 'fp16' : 'fp32'}`);
      nodes.push({ op_type: 'Cast', name: out, input: [from], output: [out], attribute: [{ name: 'to', type: AttrType.INT, i: to === 'f16' ? DataType.FLOAT16 : DataType.FLOAT }] });
    }
    kind.set(out, to);
    cache.set(from, out);
    return out;
  };

  for (const n of g.node) {
    const dataAt = DATA_INPUTS[n.op_type] ?? n.input.map((_, i) => i);
    const data = dataAt.map((i) => n.input[i]).filter((t) => t);
    const unknown = data.find((t) => !kind.has(t));
    if (unknown) throw new Float16Error(`node '${n.name ?? n.output[0]}' (${n.op_type}) reads '${unknown}' before anything writes it`);
    const floatIn = data.some((t) => kind.get(t) !== 'int');
    if (SHAPE_OPS.has(n.op_type) || !floatIn) {
      nodes.push({ ...n });
      for (const o of n.output) kind.set(o, 'int');
      for (const t of n.input) if (kind.get(t) === 'f32') usedAsFloat.add(t);
      continue;
    }
    const to: 'f16' | 'f32' | undefined = n.op_type in FP32_OPS ? 'f32' : FP16_OPS.has(n.op_type) ? 'f16' : undefined;
    if (!to) throw new Float16Error(`toFloat16Onnx does not know whether ${n.op_type} (node '${n.name ?? n.output[0]}') runs in float16: add it to FP16_OPS or FP32_OPS`);
    const input = n.input.map((t, i) => {
      if (!t || !dataAt.includes(i) || kind.get(t) === 'int') {
        if (kind.get(t) === 'f32') usedAsFloat.add(t);
        return t;
      }
      if (to === 'f32') {
        if (kind.get(t) === 'f32') usedAsFloat.add(t);
        return kind.get(t) === 'f16' ? cast(t, 'f32') : t;
      }
      return kind.get(t) === 'f16' ? t : cast(t, 'f16');
    });
    nodes.push({ ...n, input });
    for (const o of n.output) kind.set(o, to);
  }

  // graph outputs keep their float32 type: a float16 producer writes NAME_fp16, then a Cast to NAME
  for (const v of g.output) {
    if (kind.get(v.name) !== 'f16') continue;
    const inner = names.fresh(`${v.name}_fp16`);
    for (const n of nodes) {
      n.output = n.output.map((o) => (o === v.name ? inner : o));
      n.input = n.input.map((i) => (i === v.name ? inner : i));
    }
    nodes.push({ op_type: 'Cast', name: v.name, input: [inner], output: [v.name], attribute: [{ name: 'to', type: AttrType.INT, i: DataType.FLOAT }] });
  }

  // a float32 initializer nothing reads as float32 any more gives its name to its float16 copy
  const rename = new Map([...halfOf].filter(([from]) => inits.has(from) && !usedAsFloat.has(from)).map(([from, copy]) => [copy, from]));
  for (const n of nodes) n.input = n.input.map((i) => rename.get(i) ?? i);
  for (const t of extraInits) t.name = rename.get(t.name) ?? t.name;
  const initializer = [...g.initializer.filter((t) => !rename.has(halfOf.get(t.name) ?? '')), ...extraInits];
  const kept = [...new Set(nodes.map((n) => n.op_type).filter((op) => op in FP32_OPS))];
  return {
    ...m,
    graph: { ...g, node: nodes, initializer },
    metadata_props: [...(m.metadata_props ?? []), { key: 'precision', value: `float16 weights and compute, float32 IO${kept.length ? `; in float32: ${kept.join(', ')}` : ''}` }],
  } as unknown as M;
}

/** A float32 initializer as a float16 one (raw_data, little-endian), under a new name. */
function halfTensor(t: Tensor, name: string): Tensor {
  const count = t.dims.reduce((a, b) => a * Number(b), 1);
  const values = t.raw_data?.byteLength ? new DataView(t.raw_data.buffer, t.raw_data.byteOffset, t.raw_data.byteLength) : undefined;
  const raw = new DataView(new ArrayBuffer(2 * count));
  for (let i = 0; i < count; i++) {
    const v = values ? values.getFloat32(4 * i, true) : (t.float_data?.[i] ?? 0);
    const h = floatToHalf(v);
    if ((h & 0x7c00) === 0x7c00 && Number.isFinite(v)) throw new Float16Error(`initializer '${t.name}' holds ${v}, past float16's largest value 65504`);
    raw.setUint16(2 * i, h, true);
  }
  return { name, dims: [...t.dims], data_type: DataType.FLOAT16, raw_data: new Uint8Array(raw.buffer) };
}
