// A TensorFlow GraphDef in its JSON form (what model.json's `modelTopology` holds), and a builder
// that collects nodes and the constants behind them. tfjs-converter reads every Const's value from
// the weights manifest, never from the node, so each constant here becomes a manifest entry.

export type TfDtype = 'float32' | 'int32';

/** One AttrValue in proto3 JSON: int64s are decimal strings, strings are base64 bytes. */
export type AttrJson =
  | { type: 'DT_FLOAT' | 'DT_INT32' }
  | { s: string }
  | { i: string }
  | { f: number }
  | { b: boolean }
  | { list: { i?: string[] } }
  | { shape: ShapeJson }
  | { tensor: { dtype: 'DT_FLOAT' | 'DT_INT32'; tensorShape: ShapeJson } };

export interface ShapeJson {
  dim?: { size: string }[];
}

export interface NodeDefJson {
  name: string;
  op: string;
  input: string[];
  attr: Record<string, AttrJson>;
}

export interface ConstTensor {
  name: string;
  dtype: TfDtype;
  shape: number[];
  data: Float32Array | Int32Array;
}

const dt = (t: TfDtype) => (t === 'float32' ? 'DT_FLOAT' : 'DT_INT32');
const shapeJson = (dims: readonly number[]): ShapeJson => (dims.length ? { dim: dims.map((d) => ({ size: String(d) })) } : {});
const base64 = (s: string) => btoa(s);

/** Attribute constructors, named after the AttrValue field they fill. */
export const attr = {
  type: (t: TfDtype): AttrJson => ({ type: dt(t) }),
  s: (v: string): AttrJson => ({ s: base64(v) }),
  i: (v: number): AttrJson => ({ i: String(v) }),
  f: (v: number): AttrJson => ({ f: v }),
  b: (v: boolean): AttrJson => ({ b: v }),
  ints: (v: readonly number[]): AttrJson => ({ list: { i: v.map(String) } }),
  shape: (dims: readonly number[]): AttrJson => ({ shape: shapeJson(dims) }),
};

/** TF node names: `[A-Za-z0-9.][A-Za-z0-9_./-]*`; IR ids already are, but a ':' would read as an output index. */
export function tfName(id: string): string {
  const s = id.replace(/[^A-Za-z0-9_./-]/g, '_');
  return /^[A-Za-z0-9.]/.test(s) ? s : `n${s}`;
}

export class GraphBuilder {
  readonly nodes: NodeDefJson[] = [];
  readonly consts: ConstTensor[] = [];
  private readonly used = new Set<string>();

  /** Claims names up front (every IR node's), so generated helper names never take them. */
  reserve(names: Iterable<string>): void {
    for (const n of names) this.used.add(n);
  }

  /** `base`, or `base_1`, `base_2`, ... the first that is free; claimed. */
  unique(base: string): string {
    let name = base;
    for (let k = 1; this.used.has(name); k++) name = `${base}_${k}`;
    this.used.add(name);
    return name;
  }

  op(name: string, op: string, input: string[], attrs: Record<string, AttrJson> = {}): string {
    this.nodes.push({ name, op, input, attr: attrs });
    return name;
  }

  constant(name: string, dtype: TfDtype, shape: number[], data: Float32Array | Int32Array): string {
    const size = shape.reduce((a, b) => a * b, 1);
    if (data.length !== size) throw new Error(`constant '${name}': ${data.length} values for shape [${shape.join(', ')}]`);
    this.consts.push({ name, dtype, shape, data });
    return this.op(name, 'Const', [], { dtype: attr.type(dtype), value: { tensor: { dtype: dt(dtype), tensorShape: shapeJson(shape) } } });
  }

  /** Gives the last node another name (a lowering's result takes its IR node's id). */
  renameLast(from: string, to: string): boolean {
    const last = this.nodes.at(-1);
    if (!last || last.name !== from || last.op === 'Const') return false;
    last.name = to;
    return true;
  }
}
