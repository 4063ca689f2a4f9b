// The ONNX wire format: the vendored onnx.proto (vendor/onnx/, ONNX 1.12) loaded with protobufjs on
// first use, so importing the library costs nothing until a model is encoded. Sync on purpose:
// emitOnnx is a pure function and stays one. Field names keep the proto's snake_case.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type * as Protobuf from 'protobufjs';
import { halfToFloat } from '../ir/float16.js';

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, UINT8: 2, INT64: 7, BOOL: 9 } as const;
/** AttributeProto.AttributeType values. */
export const AttrType = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

// the same relative path from src/emit/ and dist/emit/
const PROTO_PATH = fileURLToPath(new URL('../../vendor/onnx/onnx.proto', import.meta.url));

let modelType: Protobuf.Type | undefined;

function model(): Protobuf.Type {
  if (modelType) return modelType;
  const protobuf = createRequire(import.meta.url)('protobufjs') as typeof Protobuf;
  const root = new protobuf.Root().loadSync(PROTO_PATH, { keepCase: true });
  return (modelType = root.lookupType('onnx.ModelProto'));
}

/** Encodes a plain ModelProto object (snake_case fields, numbers for int64). */
export function encodeModel(m: object): Uint8Array {
  const t = model();
  return t.encode(t.fromObject(m)).finish();
}

/** Decodes a model to a plain object: int64 as numbers, bytes as Uint8Array, enums as numbers. */
export function decodeModel(bytes: Uint8Array): OnnxModelObject {
  const t = model();
  return t.toObject(t.decode(bytes), { longs: Number, defaults: false, arrays: true }) as OnnxModelObject;
}

interface ValueInfo {
  name: string;
  type: { tensor_type: { elem_type: number; shape: { dim: { dim_value?: number; dim_param?: string }[] } } };
}

/** The parts of a decoded model that alcli reads back (tests, inspection). */
export interface OnnxModelObject {
  ir_version: number;
  producer_name?: string;
  opset_import: { domain?: string; version: number }[];
  metadata_props?: { key: string; value: string }[];
  graph: {
    name: string;
    node: { op_type: string; name?: string; input: string[]; output: string[]; attribute?: { name: string; type: number; i?: number; f?: number; s?: Uint8Array; ints?: number[]; floats?: number[] }[] }[];
    initializer: { name: string; dims: number[]; data_type: number; raw_data?: Uint8Array; float_data?: number[]; int64_data?: number[]; int32_data?: number[]; double_data?: number[] }[];
    input: ValueInfo[];
    output: ValueInfo[];
  };
}

/** TensorProto.DataType -> bytes per element, for the initializer types read back. */
const INIT_TYPES: Record<number, { name: string; bytes: number }> = { 1: { name: 'FLOAT', bytes: 4 }, 11: { name: 'DOUBLE', bytes: 8 }, 7: { name: 'INT64', bytes: 8 }, 6: { name: 'INT32', bytes: 4 }, 10: { name: 'FLOAT16', bytes: 2 } };

/**
 * A model's initializers (its weights and constants), in file order, as float32 row-major arrays in
 * the model's own layout (an ONNX Conv weight is OIHW). Read: FLOAT, DOUBLE, FLOAT16, INT64, INT32,
 * from raw_data (little-endian) or the typed repeated fields; other types are skipped and listed.
 */
export function readOnnxInitializers(bytes: Uint8Array): { tensors: Map<string, { dtype: string; shape: number[]; data: Float32Array }>; skipped: string[] } {
  const m = decodeModel(bytes);
  const tensors = new Map<string, { dtype: string; shape: number[]; data: Float32Array }>();
  const skipped: string[] = [];
  for (const init of m.graph?.initializer ?? []) {
    const type = INIT_TYPES[init.data_type];
    if (!type) {
      skipped.push(init.name);
      continue;
    }
    const shape = (init.dims ?? []).map(Number);
    const count = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(count);
    const raw = init.raw_data;
    if (raw && raw.byteLength) {
      const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      for (let i = 0; i < count; i++)
        data[i] = type.name === 'FLOAT' ? v.getFloat32(4 * i, true) : type.name === 'DOUBLE' ? v.getFloat64(8 * i, true) : type.name === 'INT64' ? Number(v.getBigInt64(8 * i, true)) : type.name === 'INT32' ? v.getInt32(4 * i, true) : halfToFloat(v.getUint16(2 * i, true));
    } else {
      const values = init.float_data ?? init.double_data ?? init.int64_data ?? init.int32_data ?? [];
      for (let i = 0; i < count; i++) data[i] = type.name === 'FLOAT16' ? halfToFloat(values[i]) : Number(values[i]);
    }
    tensors.set(init.name, { dtype: type.name, shape, data });
  }
  return { tensors, skipped };
}

