// The ONNX wire format: the vendored onnx.proto (vendor/onnx/, ONNX 1.12) loaded with protobufjs on
// first use, so importing the library costs nothing until a model is encoded. Sync on purpose:
// emitOnnx is a pure function and stays one. Field names keep the proto's snake_case.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type * as Protobuf from 'protobufjs';

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, INT64: 7, BOOL: 9 } as const;
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
    initializer: { name: string; dims: number[]; data_type: number; raw_data?: Uint8Array }[];
    input: ValueInfo[];
    output: ValueInfo[];
  };
}
