// Initial weights from a file (train.init / alcli train --init): a safetensors file or an ONNX
// model's initializers, named by a map (maps.ts), converted to alcli's layouts (OIHW -> HWIO), shape
// checked, with a report. Never a silent partial load: a weight the map names that the file lacks,
// or a shape that does not fit, is a BadOptionsError naming both sides.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { readOnnxInitializers } from '../../emit/onnx-proto.js';
import { INPUT_ID, type IrGraph } from '../../ir/graph.js';
import { permute } from '../../ir/layout.js';
import { isKernel, OIHW_TO_HWIO, HWIO_TO_OIHW } from '../../ir/torch-names.js';
import { weightSpecs, weightKey, sizeOfShape, type WeightStore } from '../../ir/weights.js';
import { PathError } from '../../io/dir.js';
import { readSafetensors, SafetensorsError } from '../../ir/safetensors.js';
import { BadOptionsError } from '../errors.js';
import { resolveMap } from './maps.js';

/** train.init / --init */
export interface InitOptions {
  /** a .safetensors file or an .onnx model */
  from: string;
  /** a built-in map (maps.ts BUILTIN_MAPS: alcli, twin, torchvision-resnet34) or a user YAML map's path */
  map: string;
  /** keep the first channels of wider file tensors instead of refusing them */
  slice?: boolean;
}

/** What an init did (printed at train start, kept in run.json). */
export interface InitReport {
  from: string;
  format: 'safetensors' | 'onnx';
  map: string;
  /** file tensor -> network weight, with the file's shape (PyTorch layout) */
  mapped: { file: string; key: string; shape: number[] }[];
  unmapped_in_file: string[];
  /** network weights the file did not set (they keep their fresh He / identity-BN values) */
  unmapped_in_network: string[];
  ignored: string[];
  /** conversions beyond the layout: a 3-channel first conv summed, a wider tensor sliced */
  notes: string[];
}

/** A weights file's tensors, by extension (.onnx; else safetensors). PathError when missing; BadOptionsError when unreadable. */
export function readWeightsFile(path: string): { format: InitReport['format']; tensors: Map<string, { shape: number[]; data: Float32Array }> } {
  if (!existsSync(path) || !statSync(path).isFile()) throw new PathError(`init weights '${path}': no such file`);
  const bytes = readFileSync(path);
  try {
    if (path.toLowerCase().endsWith('.onnx')) return { format: 'onnx', tensors: readOnnxInitializers(bytes).tensors };
    return { format: 'safetensors', tensors: readSafetensors(bytes).tensors };
  } catch (e) {
    if (e instanceof SafetensorsError || e instanceof Error) throw new BadOptionsError(`init weights '${path}': ${e.message}`);
    throw e;
  }
}

const dims = (s: readonly number[]) => s.join('x');

/** The leading block of a row-major tensor: out[i..] = data[i..] for every i < want (want <= shape per axis). */
function leading(data: Float32Array, shape: readonly number[], want: readonly number[]): Float32Array {
  const out = new Float32Array(sizeOfShape(want));
  const idx = new Array<number>(want.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let a = 0; a < shape.length; a++) src = src * shape[a] + idx[a];
    out[o] = data[src];
    for (let a = want.length - 1; a >= 0; a--) {
      if (++idx[a] < want[a]) break;
      idx[a] = 0;
    }
  }
  return out;
}

/** OIHW [o, 3, h, w] -> [o, 1, h, w], summed over the input channels (segmentation_models_pytorch's patch_first_conv for 1 channel). */
function sumInputChannels(data: Float32Array, [o, i, h, w]: readonly number[]): Float32Array {
  const out = new Float32Array(o * h * w);
  for (let a = 0; a < o; a++) for (let c = 0; c < i; c++) for (let p = 0; p < h * w; p++) out[a * h * w + p] += data[(a * i + c) * h * w + p];
  return out;
}

/**
 * `base` with the file's tensors put in by the map. Conv kernels are read OIHW (conv_transpose:
 * in, out, kh, kw) and stored HWIO; a first conv (reading the network input) with 1 input channel
 * takes a 3-channel kernel summed over its input channels; with `slice`, a tensor larger on every
 * axis (spatial axes equal) gives its first channels. Throws BadOptionsError listing every missing
 * name, wrong target and shape mismatch (both names and shapes), PathError for a missing file.
 */
export function initFromFile(g: IrGraph, base: WeightStore, opts: InitOptions): { weights: WeightStore; report: InitReport } {
  const { format, tensors } = readWeightsFile(opts.from);
  return initFromTensors(g, base, tensors, { ...opts, format });
}

/** initFromFile on tensors already read (PyTorch layout); `from` only names them in the report and the errors. */
export function initFromTensors(g: IrGraph, base: WeightStore, tensors: ReadonlyMap<string, { shape: number[]; data: Float32Array }>, opts: InitOptions & { format: InitReport['format'] }): { weights: WeightStore; report: InitReport } {
  const { format } = opts;
  const resolved = resolveMap(g, [...tensors.keys()], opts.map);
  const errors = [...resolved.errors];
  const notes: string[] = [];
  const specs = new Map(weightSpecs(g).map(({ node, spec }) => [weightKey(node.id, spec.name), { node, spec }]));
  // shapes first, every problem at once; then the data
  const plan: { file: string; key: string; shape: number[]; want: number[]; kernel: boolean; sum: boolean; slice: boolean }[] = [];
  for (const { file, key } of resolved.pairs) {
    const t = tensors.get(file)!;
    const { node, spec } = specs.get(key)!;
    const kernel = isKernel(node.op, spec.name);
    const want = kernel ? HWIO_TO_OIHW.map((a) => spec.shape[a]) : [...spec.shape];
    const mismatch = () => `file '${file}' is ${dims(t.shape)}, network '${key}' needs ${dims(want)}${kernel ? ' (OIHW)' : ''}`;
    if (t.shape.length !== want.length) {
      errors.push(mismatch());
      continue;
    }
    const sum = kernel && node.op === 'conv' && node.inputs[0] === INPUT_ID && want[1] === 1 && t.shape[1] === 3;
    const shape = sum ? [t.shape[0], 1, t.shape[2], t.shape[3]] : [...t.shape];
    const slice = dims(shape) !== dims(want);
    if (slice) {
      const spatialSame = !kernel || (shape[2] === want[2] && shape[3] === want[3]);
      const wider = spatialSame && shape.every((d, a) => d >= want[a]);
      if (!opts.slice || !wider) {
        errors.push(`${mismatch()}${!opts.slice && wider ? ' (--init-slice keeps the first channels)' : ''}`);
        continue;
      }
    }
    plan.push({ file, key, shape, want, kernel, sum, slice });
  }
  if (errors.length) {
    const shown = errors.slice(0, 12);
    throw new BadOptionsError(`init from '${opts.from}' (map ${opts.map}): ${errors.length} problem${errors.length === 1 ? '' : 's'}, nothing loaded:\n  ${shown.join('\n  ')}${errors.length > shown.length ? `\n  (and ${errors.length - shown.length} more)` : ''}`);
  }
  const weights: WeightStore = new Map(base);
  const mapped: InitReport['mapped'] = [];
  for (const { file, key, shape, want, kernel, sum, slice } of plan) {
    const t = tensors.get(file)!;
    let data = t.data;
    if (sum) {
      data = sumInputChannels(data, t.shape);
      notes.push(`'${file}' ${dims(t.shape)} summed over its 3 input channels for the 1-channel input of '${key}'`);
    }
    if (slice) {
      data = leading(data, shape, want);
      notes.push(`'${file}' ${dims(shape)} sliced to its first ${dims(want)} for '${key}'`);
    }
    weights.set(key, { shape: [...specs.get(key)!.spec.shape], data: kernel ? permute(data, want, OIHW_TO_HWIO) : Float32Array.from(data) });
    mapped.push({ file, key, shape: [...t.shape] });
  }
  return { weights, report: { from: opts.from, format, map: opts.map, mapped, unmapped_in_file: resolved.unmappedInFile, unmapped_in_network: resolved.unmappedInNetwork, ignored: resolved.ignored, notes } };
}

/** The report in a few lines: counts, the first names of each list, every note. */
export function describeInit(r: InitReport): string[] {
  const some = (xs: string[]) => (xs.length ? `: ${xs.slice(0, 6).join(', ')}${xs.length > 6 ? `, ... (${xs.length - 6} more)` : ''}` : '');
  return [
    `init: ${r.mapped.length} tensors from ${r.from} (${r.format}, map ${r.map})`,
    `  unmapped in file ${r.unmapped_in_file.length}${some(r.unmapped_in_file)}`,
    `  unmapped in network (fresh) ${r.unmapped_in_network.length}${some(r.unmapped_in_network)}`,
    ...(r.ignored.length ? [`  ignored ${r.ignored.length} (${r.ignored.some((n) => n.endsWith('num_batches_tracked')) ? 'BatchNorm step counters' : 'the map'})`] : []),
    ...r.notes.map((n) => `  note: ${n}`),
  ];
}
