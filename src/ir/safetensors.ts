// The safetensors format (Hugging Face), read and written by hand: no maintained Node package for it
// is on the npm registry lists here. A file is: 8 bytes, the header's length N as a little-endian
// u64; N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?: {str: str}};
// then the data, each tensor row-major, little-endian, at [begin, end) from the data's start.
// Source: the format's README (github.com/huggingface/safetensors, "Format").
import { halfToFloat } from './float16.js';

/** A tensor as read: row-major values widened to float32, and the file's dtype. */
export interface SafeTensor {
  dtype: string;
  shape: number[];
  data: Float32Array;
}

export class SafetensorsError extends Error {}

/** Bytes per element of the dtypes read here. */
const DTYPE_BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };


const BITS = new Uint32Array(1);
const AS_FLOAT = new Float32Array(BITS.buffer);

/** Whether this machine stores numbers little-endian (then F32 data is copied, not converted). */
const LITTLE_ENDIAN = new Uint8Array(Float32Array.of(1).buffer)[3] === 0x3f;

function decode(dtype: string, bytes: Uint8Array, count: number): Float32Array {
  if (dtype === 'F32' && LITTLE_ENDIAN) return new Float32Array(new Uint8Array(bytes).buffer); // a copy: a Buffer's slice() is a view
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    switch (dtype) {
      case 'F32': out[i] = v.getFloat32(4 * i, true); break;
      case 'F64': out[i] = v.getFloat64(8 * i, true); break;
      case 'F16': out[i] = halfToFloat(v.getUint16(2 * i, true)); break;
      // bfloat16 is the top half of a float32
      case 'BF16': BITS[0] = v.getUint16(2 * i, true) << 16; out[i] = AS_FLOAT[0]; break;
      case 'I64': out[i] = Number(v.getBigInt64(8 * i, true)); break;
      case 'I32': out[i] = v.getInt32(4 * i, true); break;
      case 'I16': out[i] = v.getInt16(2 * i, true); break;
      case 'I8': out[i] = v.getInt8(i); break;
      default: out[i] = v.getUint8(i); // U8, BOOL
    }
  }
  return out;
}

/**
 * Every tensor of a safetensors file, in header order, as float32 (F32, F64, F16, BF16, I64, I32,
 * I16, I8, U8, BOOL are read; integers converted exactly up to 2^24). Throws SafetensorsError,
 * naming the tensor, on a malformed header, an unknown dtype or data out of bounds.
 */
export function readSafetensors(bytes: Uint8Array): { tensors: Map<string, SafeTensor>; metadata: Record<string, string> } {
  if (bytes.byteLength < 8) throw new SafetensorsError(`too short for a safetensors file (${bytes.byteLength} bytes)`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(v.getBigUint64(0, true));
  if (n > bytes.byteLength - 8) throw new SafetensorsError(`the header says ${n} bytes, the file has ${bytes.byteLength - 8} after the length`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
  } catch (e) {
    throw new SafetensorsError(`the header is not JSON: ${(e as Error).message}`);
  }
  const data = bytes.subarray(8 + n);
  const tensors = new Map<string, SafeTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = (entry ?? {}) as Record<string, string>;
      continue;
    }
    const { dtype, shape, data_offsets: off } = (entry ?? {}) as { dtype?: string; shape?: number[]; data_offsets?: [number, number] };
    if (typeof dtype !== 'string' || !Array.isArray(shape) || !Array.isArray(off) || off.length !== 2) throw new SafetensorsError(`tensor '${name}': the header entry needs dtype, shape and data_offsets`);
    const size = DTYPE_BYTES[dtype];
    if (!size) throw new SafetensorsError(`tensor '${name}': dtype ${dtype} is not read (${Object.keys(DTYPE_BYTES).join(', ')} are)`);
    const count = shape.reduce((a, b) => a * b, 1);
    if (off[0] < 0 || off[1] > data.byteLength || off[1] - off[0] !== count * size)
      throw new SafetensorsError(`tensor '${name}': data_offsets [${off}] do not hold ${shape.join('x')} ${dtype} in ${data.byteLength} bytes of data`);
    tensors.set(name, { dtype, shape: [...shape], data: decode(dtype, data.subarray(off[0], off[1]), count) });
  }
  return { tensors, metadata };
}

/**
 * A safetensors file of float32 tensors (or I64 ones: integer values, e.g. BatchNorm's
 * num_batches_tracked), in the given order (the header's key order), the header padded with spaces
 * to 8 bytes as the reference writer does. Metadata values must be strings (the format's rule).
 */
export function writeSafetensors(tensors: Iterable<[string, { shape: readonly number[]; data: Float32Array; dtype?: 'F32' | 'I64' }]>, metadata?: Record<string, string>): Uint8Array {
  const list = [...tensors];
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  let offset = 0;
  for (const [name, t] of list) {
    if (name === '__metadata__') throw new SafetensorsError(`'__metadata__' is not a tensor name`);
    const bytes = t.data.length * (t.dtype === 'I64' ? 8 : 4);
    header[name] = { dtype: t.dtype ?? 'F32', shape: [...t.shape], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const head = new Uint8Array(json.byteLength + ((8 - (json.byteLength % 8)) % 8)).fill(0x20);
  head.set(json);
  const out = new Uint8Array(8 + head.byteLength + offset);
  const v = new DataView(out.buffer);
  v.setBigUint64(0, BigInt(head.byteLength), true);
  out.set(head, 8);
  let at = 8 + head.byteLength;
  for (const [, t] of list) {
    if (t.dtype === 'I64') {
      for (let i = 0; i < t.data.length; i++) v.setBigInt64(at + 8 * i, BigInt(Math.round(t.data[i])), true);
      at += t.data.length * 8;
      continue;
    }
    if (LITTLE_ENDIAN) out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    else for (let i = 0; i < t.data.length; i++) v.setFloat32(at + 4 * i, t.data[i], true);
    at += t.data.length * 4;
  }
  return out;
}
