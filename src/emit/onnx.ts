// src/emit/: emitters: IR + weights -> ONNX, TF.js graph model, TypeScript module, Triton repository (bytes, no I/O).
// May import: ir.
// The ONNX emitter: IR + weights -> ModelProto bytes (pure: no file I/O). The model reads `input`
// [N, C, H, W] and writes `logits` [N, classes, H, W], before the output activation; everything
// between is NCHW too, so the model has no Transpose at all (see onnx-ops.ts). N is symbolic; so
// are H and W (dim_param 'H', 'W') unless the network pins its size (ir/stride.ts fixedSizeReason)
// or the caller asks for the fixed form: a resize by `scale:` is a constant scales tensor either
// way, a resize `like:` a node takes its sizes from that tensor's Shape at run time.
import { INPUT_ID, type IrGraph, type Shape } from '../ir/graph.js';
import { permute } from '../ir/layout.js';
import { fixedSizeReason } from '../ir/stride.js';
import { checkWeights, weightKey, type WeightStore } from '../ir/weights.js';
import { ONNX_LOWERING, int, type LowerContext, type OnnxAttr, type OnnxNode } from './onnx-ops.js';
import { DataType, encodeModel } from './onnx-proto.js';

export interface OnnxOptions {
  /** default opset; ops used need 13 or later (Clip bounds as inputs, Resize without scales) */
  opset?: number;
  /** default 8 (ONNX 1.12, what onnx.checker and most runtimes know) */
  irVersion?: number;
  /**
   * 'symbolic' (default): height and width are dim_params wherever the network allows
   * (onnxSizeForm); 'fixed': the compiled H x W, every resize size a constant, so ONNX Runtime
   * can plan each shape ahead (the training step and bench compile one model per size anyway).
   */
  size?: 'symbolic' | 'fixed';
}

/** Symbolic height and width, and the dim_param names the model uses for them. */
export const SYMBOLIC_DIMS = { batch: 'N', height: 'H', width: 'W' } as const;

/** The size form emitOnnx writes for `graph` when asked for `wanted`: fixed where the network pins its size, with the reason. */
export function onnxSizeForm(graph: IrGraph, wanted: 'symbolic' | 'fixed' = 'symbolic'): { form: 'symbolic' | 'fixed'; reason?: string } {
  if (wanted === 'fixed') return { form: 'fixed', reason: 'the fixed form was asked for' };
  const reason = fixedSizeReason(graph);
  return reason ? { form: 'fixed', reason } : { form: 'symbolic' };
}

export const DEFAULT_OPSET = 17;
export const DEFAULT_IR_VERSION = 8;
export const MIN_OPSET = 13;
export const ONNX_INPUT = 'input';
export const ONNX_OUTPUT = 'logits';
/** metadata_props key of the H x W a model was exported (compiled and checked) at, e.g. '512x512' */
export const EXPORT_SIZE_KEY = 'export_size';

export class OnnxEmitError extends Error {}

export type NamedNode = OnnxNode & { name?: string };

export interface Initializer {
  name: string;
  dims: number[];
  data_type: number;
  raw_data: Uint8Array;
}

/** Emits the model; `weights` must hold every tensor the graph declares, in its TF layout (checkWeights). */
export function emitOnnx(graph: IrGraph, weights: WeightStore, opts: OnnxOptions = {}): Uint8Array {
  return encodeModel(onnxModel(graph, weights, opts));
}

/** The ModelProto as a plain object (what emitOnnx encodes). */
export function onnxModel(graph: IrGraph, weights: WeightStore, opts: OnnxOptions = {}): object {
  const opset = opts.opset ?? DEFAULT_OPSET;
  const irVersion = opts.irVersion ?? DEFAULT_IR_VERSION;
  if (!Number.isInteger(opset) || opset < MIN_OPSET) throw new OnnxEmitError(`opset ${opset} is not supported: alcli emits opset ${MIN_OPSET} or later (default ${DEFAULT_OPSET})`);
  if (!Number.isInteger(irVersion) || irVersion < 7) throw new OnnxEmitError(`IR version ${irVersion} is not supported: use 7 or later (default ${DEFAULT_IR_VERSION})`);

  const problems = checkWeights(graph, weights);
  if (problems.length) throw new OnnxEmitError(`the weights do not fit the graph: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? ` (and ${problems.length - 3} more)` : ''}`);

  const symbolic = onnxSizeForm(graph, opts.size).form === 'symbolic';
  const names = new Names([ONNX_INPUT, ONNX_OUTPUT]);
  const initializers: Initializer[] = [];
  const prelude: NamedNode[] = [];
  const body: NamedNode[] = [];
  const shared = new Map<string, string>();
  const once = (key: string, make: () => string) => shared.get(key) ?? (shared.set(key, make()), shared.get(key)!);
  const addInit = (base: string, dims: number[], data: Float32Array | BigInt64Array) => {
    const name = names.fresh(base);
    initializers.push({ name, dims, data_type: data instanceof Float32Array ? DataType.FLOAT : DataType.INT64, raw_data: littleEndianBytes(data) });
    return name;
  };
  const batch = () => once('batch', () => {
    const out = names.fresh('batch');
    prelude.push(opset >= 15
      ? { op_type: 'Shape', input: [ONNX_INPUT], output: [out], attrs: { start: int(0), end: int(1) } }
      : { op_type: 'Slice', input: [shapeOfInput(), addInit('batch_starts', [1], BigInt64Array.of(0n)), addInit('batch_ends', [1], BigInt64Array.of(1n))], output: [out] });
    return out;
  });
  const shapeOfInput = () => once('input_shape', () => {
    const out = names.fresh('input_shape');
    prelude.push({ op_type: 'Shape', input: [ONNX_INPUT], output: [out] });
    return out;
  });
  /** dims [start, end) of `t`'s shape at run time, computed where `t` is (body order) */
  const shapePart = (t: string, start: number, end: number, hint: string, into: NamedNode[]) => {
    const out = names.fresh(hint);
    if (opset >= 15) into.push({ op_type: 'Shape', input: [t], output: [out], attrs: { start: int(start), end: int(end) } });
    else {
      const full = names.fresh(`${hint}_shape`);
      into.push({ op_type: 'Shape', input: [t], output: [full] });
      into.push({ op_type: 'Slice', input: [full, once(`i64:${start}`, () => addInit(`start_${start}`, [1], BigInt64Array.of(BigInt(start)))), once(`i64:${end}`, () => addInit(`end_${end}`, [1], BigInt64Array.of(BigInt(end))))], output: [out] });
    }
    return out;
  };

  // ONNX tensor name of each IR value
  const tensor = new Map<string, string>([[INPUT_ID, ONNX_INPUT]]);
  for (const node of graph.nodes) {
    const isOutput = node.id === graph.output.node;
    const output = isOutput ? ONNX_OUTPUT : names.fresh(node.id);
    const ctx: LowerContext = {
      node,
      inputs: node.inputs.map((i) => tensor.get(i)!),
      output,
      weight(name, perm) {
        const t = weights.get(weightKey(node.id, name));
        if (!t) throw new OnnxEmitError(`no weight '${weightKey(node.id, name)}' for node '${node.id}' (${node.op})`);
        if (!perm) return addInit(weightKey(node.id, name), [...t.shape], t.data);
        return addInit(weightKey(node.id, name), perm.map((p) => t.shape[p]), permute(t.data, t.shape, perm));
      },
      scalar: (v) => once(`scalar:${v}`, () => addInit(`const_${v}`, [], Float32Array.of(v))),
      scales: (f) => once(`scales:${f}`, () => addInit(`scales_${f}`, [4], Float32Array.of(1, 1, f, f))),
      sizes: (s: Shape) =>
        once(`sizes:${s.c}x${s.h}x${s.w}`, () => {
          const out = names.fresh(`sizes_${s.c}x${s.h}x${s.w}`);
          const chw = addInit(`chw_${s.c}x${s.h}x${s.w}`, [3], BigInt64Array.of(BigInt(s.c), BigInt(s.h), BigInt(s.w)));
          prelude.push({ op_type: 'Concat', input: [batch(), chw], output: [out], attrs: { axis: int(0) } });
          return out;
        }),
      // the fixed form keeps constant sizes (a Shape of the batch only)
      sizesLike: symbolic
        ? (x, like) =>
            once(`like:${x}:${like}`, () => {
              const out = names.fresh(`sizes_like_${like}`);
              const nc = shapePart(x, 0, 2, `nc_${x}`, body);
              const hw = once(`hw:${like}`, () => shapePart(like, 2, 4, `hw_${like}`, body));
              body.push({ op_type: 'Concat', input: [nc, hw], output: [out], attrs: { axis: int(0) } });
              return out;
            })
        : undefined,
      like: typeof node.attrs.like === 'string' ? tensor.get(node.attrs.like) : undefined,
    };
    const lowered = ONNX_LOWERING[node.op](ctx);
    if (!Array.isArray(lowered)) {
      // a pass-through: later readers use its input directly; the model output still needs a node
      if (isOutput) body.push({ op_type: 'Identity', input: [lowered.alias], output: [ONNX_OUTPUT], name: node.id });
      tensor.set(node.id, isOutput ? ONNX_OUTPUT : lowered.alias);
      continue;
    }
    // ONNX node names point back at the IR node (profilers and viewers show them)
    body.push(...lowered.map((n, k) => ({ ...n, name: lowered.length === 1 ? node.id : `${node.id}#${k}` })));
    tensor.set(node.id, output);
  }
  if (!tensor.has(graph.output.node)) throw new OnnxEmitError(`the output node '${graph.output.node}' is not in the graph`);

  const out = graph.nodes.find((n) => n.id === graph.output.node)!.shape;
  const spatial = (h: number, w: number): [Dim, Dim] => (symbolic ? [SYMBOLIC_DIMS.height, SYMBOLIC_DIMS.width] : [h, w]);
  const nodeNames = new Names([]);
  const nodes = [...prelude, ...body].map((n) => ({
    op_type: n.op_type,
    name: nodeNames.fresh(n.name ?? n.output[0]),
    input: n.input,
    output: n.output,
    attribute: Object.entries(n.attrs ?? {}).map(([name, a]) => attributeProto(name, a)),
  }));
  return {
    ir_version: irVersion,
    producer_name: 'alcli',
    graph: {
      name: graph.name,
      doc_string: `${graph.name}: ${ONNX_OUTPUT} are the scores before the output activation (${graph.output.activation})`,
      node: nodes,
      initializer: initializers,
      input: [valueInfo(ONNX_INPUT, graph.input.channels, ...spatial(graph.input.size[0], graph.input.size[1]))],
      output: [valueInfo(ONNX_OUTPUT, out.c, ...spatial(out.h, out.w))],
    },
    opset_import: [{ domain: '', version: opset }],
    metadata_props: [
      { key: 'output_activation', value: graph.output.activation },
      { key: 'layout', value: 'NCHW' },
      // the size it was compiled and checked at, where H and W are symbolic (alcli bench times it there)
      { key: EXPORT_SIZE_KEY, value: `${graph.input.size[0]}x${graph.input.size[1]}` },
    ],
  };
}

/** A dimension: a size, or a dim_param name (symbolic). */
export type Dim = number | string;

export const dimProto = (d: Dim) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d });

/** A float32 [N, c, h, w] ValueInfoProto, N symbolic, h and w sizes or dim_params. */
export function valueInfo(name: string, c: number, h: Dim, w: Dim) {
  return tensorInfo(name, DataType.FLOAT, [SYMBOLIC_DIMS.batch, c, h, w]);
}

/** A ValueInfoProto of any element type and dims. */
export function tensorInfo(name: string, elemType: number, dims: readonly Dim[]) {
  return { name, type: { tensor_type: { elem_type: elemType, shape: { dim: dims.map(dimProto) } } } };
}

export function attributeProto(name: string, a: OnnxAttr) {
  return { name, ...a, ...('s' in a ? { s: new TextEncoder().encode(a.s) } : {}) };
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** TensorProto raw_data is little-endian whatever the host. */
export function littleEndianBytes(data: Float32Array | BigInt64Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new DataView(new ArrayBuffer(data.byteLength));
  data.forEach((v: number | bigint, i: number) => (typeof v === 'bigint' ? out.setBigInt64(i * 8, v, true) : out.setFloat32(i * 4, v, true)));
  return new Uint8Array(out.buffer);
}

/**
 * Unique ONNX names. IR ids (`e3/blocks.2/dense`) and weight keys (`e3/blocks.2/dense:kernel`) are
 * kept as they are where they can be; a node that happens to be called `input` or `logits` (but is
 * not the output) gets a suffix, and so does any other clash.
 */
export class Names {
  private used = new Set<string>();
  /** per base, the next suffix to try: a training graph asks for thousands of `tap`s */
  private next = new Map<string, number>();
  constructor(reserved: string[]) {
    for (const r of reserved) this.used.add(r);
  }
  fresh(base: string): string {
    const clean = base.replace(/[^A-Za-z0-9_./:-]/g, '_') || 't';
    let name = clean;
    let k = this.next.get(clean) ?? 1;
    if (this.used.has(name)) for (; this.used.has((name = `${clean}_${k}`)); k++);
    this.next.set(clean, k);
    this.used.add(name);
    return name;
  }
}
