// A small ONNX graph builder for graphs written op by op (the training graph): each call appends
// one node and returns its output's fresh name; constants are shared initializers.
import { int, ints, type OnnxAttr } from './onnx-ops.js';
import { DataType } from './onnx-proto.js';
import { littleEndianBytes, Names, type Initializer, type NamedNode } from './onnx.js';

export class OnnxBuilder {
  readonly nodes: NamedNode[] = [];
  readonly initializers: Initializer[] = [];
  readonly names: Names;
  private readonly shared = new Map<string, string>();

  constructor(reserved: string[]) {
    this.names = new Names(reserved);
  }

  /** Appends `op_type(inputs)` and returns its output, named after `hint`. */
  op(op_type: string, input: string[], attrs?: Record<string, OnnxAttr>, hint = op_type.toLowerCase()): string {
    return this.opN(op_type, input, 1, attrs, hint)[0];
  }

  /** A node with `n` outputs. */
  opN(op_type: string, input: string[], n: number, attrs?: Record<string, OnnxAttr>, hint = op_type.toLowerCase()): string[] {
    const output = Array.from({ length: n }, () => this.names.fresh(hint));
    this.nodes.push({ op_type, input, output, attrs });
    return output;
  }

  /** A node writing to a given name (graph outputs). */
  opTo(output: string, op_type: string, input: string[], attrs?: Record<string, OnnxAttr>): string {
    this.nodes.push({ op_type, input, output: [output], attrs });
    return output;
  }

  tensor(hint: string, dims: number[], data: Float32Array | BigInt64Array): string {
    const name = this.names.fresh(hint);
    this.initializers.push({ name, dims, data_type: data instanceof Float32Array ? DataType.FLOAT : DataType.INT64, raw_data: littleEndianBytes(data) });
    return name;
  }

  /** The value made once under `key` (shared constants and shape computations). */
  once(key: string, make: () => string): string {
    let v = this.shared.get(key);
    if (v === undefined) this.shared.set(key, (v = make()));
    return v;
  }

  /** A float32 scalar constant. */
  scalar(v: number): string {
    return this.once(`f:${v}`, () => this.tensor('c', [], Float32Array.of(v)));
  }

  /** A bool scalar constant (Dropout's training_mode). */
  boolean(v: boolean): string {
    return this.once(`b:${v}`, () => {
      const name = this.names.fresh('flag');
      this.initializers.push({ name, dims: [], data_type: DataType.BOOL, raw_data: Uint8Array.of(v ? 1 : 0) });
      return name;
    });
  }

  /** An int64 vector constant (axes, shapes, split sizes, slice bounds). */
  i64(values: readonly number[]): string {
    return this.once(`i:${values.join(',')}`, () => this.tensor('i', [values.length], BigInt64Array.from(values, (v) => BigInt(v))));
  }

  // shorthands for the ops the gradient rules use most
  add = (a: string, b: string) => this.op('Add', [a, b]);
  sub = (a: string, b: string) => this.op('Sub', [a, b]);
  mul = (a: string, b: string) => this.op('Mul', [a, b]);
  div = (a: string, b: string) => this.op('Div', [a, b]);
  /** sum over `axes` (opset 13: axes as an input) */
  sum = (x: string, axes: number[], keep = true) => this.op('ReduceSum', [x, this.i64(axes)], { keepdims: int(keep ? 1 : 0) });
  /** mean over `axes` (opset 13-17: axes as an attribute) */
  mean = (x: string, axes: number[], keep = true) => this.op('ReduceMean', [x], { axes: ints(axes), keepdims: int(keep ? 1 : 0) });
  reshape = (x: string, shape: number[]) => this.op('Reshape', [x, this.i64(shape)]);
  transpose = (x: string, perm: number[]) => this.op('Transpose', [x], { perm: ints(perm) });
  /** dy where `mask`, else 0 */
  where = (mask: string, dy: string) => this.op('Where', [mask, dy, this.scalar(0)]);
}
