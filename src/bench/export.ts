// `alcli bench EXPORT_DIR`: every model file of an export, each precision and IO variant (model.onnx,
// model.fp16.onnx, model.int8.onnx, model.image.onnx, tfjs/, tfjs.fp16/, tfjs.uint8/ ...), timed as a
// user runs it, side by side in one process, at one input size: ONNX files in ONNX Runtime, graph
// models through tf.loadGraphModel. Each row: size on disk, ms per image, speed-up over model.onnx.
import type { Tensor } from '@tensorflow/tfjs';
import { decodeModel } from '../emit/onnx-proto.js';
import { EXPORT_SIZE_KEY } from '../emit/onnx.js';
import type { TF } from '../runtime/backend.js';
import { graphModelHandler } from '../runtime/tfjs-graph-io.js';
import { randomInput } from '../runtime/verify.js';
import { BadOptionsError } from '../train/errors.js';
import { measure, type InferBenchOptions } from './infer.js';

/** The files of an export directory: every path (relative, `/`-separated) and a reader. */
export interface ExportFiles {
  paths: string[];
  read(path: string): Uint8Array;
}

export interface ArtifactTiming {
  /** the file (ONNX) or folder (graph model), relative to the export */
  artifact: string;
  /** e.g. `ONNX Runtime (2 threads)`, `TF.js graph model (wasm)` */
  engine: string;
  /** bytes on disk: the ONNX file; model.json and its shards */
  bytes: number;
  /** the input the artifact was fed, in its own layout and type (e.g. float32 [1, 3, 512, 512]) */
  input: { dtype: 'float32' | 'uint8'; shape: number[] };
  median_ms: number;
  min_ms: number;
  max_ms: number;
  runs: number;
  /** median_ms / batch */
  ms_per_image: number;
  images_per_s: number;
  /** model.onnx's median over this one's (2 = twice as fast); absent without a model.onnx */
  speedup_vs_fp32?: number;
}

// the order rows come in; any other model*.onnx or tfjs*/ follows its kind, by name
const KNOWN = ['model.onnx', 'model.fp16.onnx', 'model.int8.onnx', 'model.image.onnx', 'model.fp16.image.onnx', 'model.int8.image.onnx', 'tfjs', 'tfjs.fp16', 'tfjs.uint8'];
export const FP32_ONNX = 'model.onnx';
const ONNX_RE = /^model(\.[A-Za-z0-9_-]+)*\.onnx$/;
const TFJS_RE = /^(tfjs(\.[A-Za-z0-9_-]+)?)\/model\.json$/;

/** The model files of an export in row order: top-level model*.onnx files, then tfjs*\/ folders with a model.json. */
export function findArtifacts(paths: readonly string[]): { onnx: string[]; tfjs: string[] } {
  const rank = (a: string) => (KNOWN.includes(a) ? KNOWN.indexOf(a) : KNOWN.length);
  const order = (a: string, b: string) => rank(a) - rank(b) || a.localeCompare(b);
  return {
    onnx: paths.filter((p) => ONNX_RE.test(p)).sort(order),
    tfjs: paths.flatMap((p) => TFJS_RE.exec(p)?.[1] ?? []).sort(order),
  };
}

interface Dim {
  dim_value?: number;
  dim_param?: string;
}
type Hw = [number, number];

/** An ONNX model's first input: its name, element type (float32 or uint8, else BadOptionsError naming `file`), dims (0 or absent: symbolic), and the size it was exported at. */
export function onnxInput(bytes: Uint8Array, file: string): { name: string; dtype: 'float32' | 'uint8'; dims: (number | undefined)[]; exportSize?: Hw } {
  const m = decodeModel(bytes);
  const input = m.graph.input[0] as unknown as { name: string; type: { tensor_type: { elem_type: number; shape?: { dim?: Dim[] } } } };
  const recorded = m.metadata_props?.find((p) => p.key === EXPORT_SIZE_KEY)?.value.match(/^(\d+)x(\d+)$/);
  const elem = input.type.tensor_type.elem_type;
  if (elem !== 1 && elem !== 2) throw new BadOptionsError(`${file}: input '${input.name}' has ONNX element type ${elem}; alcli bench feeds float32 (NCHW) or uint8 (HWC image) inputs`);
  return { name: input.name, dtype: elem === 1 ? 'float32' : 'uint8', dims: (input.type.tensor_type.shape?.dim ?? []).map((d) => (d.dim_value ? Number(d.dim_value) : undefined)), ...(recorded ? { exportSize: [Number(recorded[1]), Number(recorded[2])] as Hw } : {}) };
}

type Layout = 'NCHW' | 'NHWC' | 'HWC';

/**
 * An ONNX input's layout: float32 inputs are NCHW (alcli's `input`); uint8 ones are images, HWC or
 * NHWC (the `--io image` artifact). Graph models are NHWC.
 */
function onnxLayout(dtype: 'float32' | 'uint8', rank: number, file: string): Layout {
  if (dtype === 'float32' && rank === 4) return 'NCHW';
  if (dtype === 'uint8' && (rank === 3 || rank === 4)) return rank === 3 ? 'HWC' : 'NHWC';
  throw new BadOptionsError(`${file}: a ${rank}-d ${dtype} input is neither NCHW float32 nor an HWC or NHWC uint8 image`);
}

const HW_AXES: Record<Layout, Hw> = { NCHW: [2, 3], NHWC: [1, 2], HWC: [0, 1] };

/** The input shape at `size` and `batch`: N gets `batch`, H and W get `size` (a fixed H or W that differs throws). */
function shapeAt(layout: Layout, dims: (number | undefined)[], size: Hw, batch: number, file: string): number[] {
  const [ah, aw] = HW_AXES[layout];
  return dims.map((d, i) => {
    if (i === ah || i === aw) {
      const want = size[i === ah ? 0 : 1];
      if (d !== undefined && d !== want) throw new BadOptionsError(`${file} takes a fixed ${dims[ah]}x${dims[aw]} input; --size ${size.join('x')} applies to symbolic-size models only: leave it out, or export at that size`);
      return want;
    }
    if (layout !== 'HWC' && i === 0) return batch;
    if (d === undefined) throw new BadOptionsError(`${file}: input dim ${i} is symbolic and is neither the batch nor H or W`);
    return d;
  });
}

interface GraphModelJson {
  signature?: { inputs?: Record<string, { tensorShape?: { dim?: { size: string }[] } }> };
  userDefinedMetadata?: { alcli?: { input: { channels: number; size: Hw } } };
  weightsManifest?: { paths: string[] }[];
}

/**
 * The size to time at: `size` when given; else the first fixed H x W among the artifacts (an ONNX
 * input's dims), else the size an ONNX file's metadata (EXPORT_SIZE_KEY) or a tfjs*\/model.json's
 * alcli metadata records (the export's); throws
 * BadOptionsError when every model is symbolic and nothing records a size.
 */
function benchSize(onnx: { layout: Layout; dims: (number | undefined)[]; exportSize?: Hw }[], graphs: { dir: string; json: GraphModelJson }[], size: Hw | undefined): Hw {
  if (size) return size;
  for (const m of onnx) {
    const [ah, aw] = HW_AXES[m.layout];
    if (m.dims[ah] !== undefined && m.dims[aw] !== undefined) return [m.dims[ah]!, m.dims[aw]!];
  }
  for (const m of onnx) if (m.exportSize) return m.exportSize;
  for (const g of graphs) if (g.json.userDefinedMetadata?.alcli) return g.json.userDefinedMetadata.alcli.input.size;
  throw new BadOptionsError('every model here takes any input size and none records the size it was exported at: give --size HxW');
}

/**
 * Times every artifact of an export (findArtifacts) at one size: `size` ([h, w]) or the export's own
 * (benchSize). Inputs are seeded random values (float32 in [0, 1), or uint8 pixels) prepared outside
 * the timed region; medians of `o.runs` after `o.warmup`, the ONNX files' runs interleaved. ONNX Runtime runs with `o.threads`
 * intra-op threads and every graph optimization, as the export's verification does.
 */
export async function benchExportArtifacts(tf: TF, backend: string, files: ExportFiles, o: InferBenchOptions & { size?: Hw }): Promise<{ size: Hw; rows: ArtifactTiming[] }> {
  const found = findArtifacts(files.paths);
  if (!found.onnx.length && !found.tfjs.length) throw new BadOptionsError('no model here: neither model.onnx nor tfjs/model.json (nor any model.*.onnx or tfjs.*/model.json); give a spec or an `alcli export` directory');
  const onnx = found.onnx.map((file) => {
    const input = onnxInput(files.read(file), file);
    return { file, bytes: files.read(file), ...input, layout: onnxLayout(input.dtype, input.dims.length, file) };
  });
  const graphs = found.tfjs.map((dir) => ({ dir, json: JSON.parse(new TextDecoder().decode(files.read(`${dir}/model.json`))) as GraphModelJson }));
  const size = benchSize(onnx, graphs, o.size);
  const rows: Omit<ArtifactTiming, 'speedup_vs_fp32'>[] = [];
  const row = (artifact: string, engine: string, bytes: number, input: ArtifactTiming['input'], m: { median: number; min: number; max: number }) =>
    rows.push({ artifact, engine, bytes, input, median_ms: m.median, min_ms: m.min, max_ms: m.max, runs: o.runs, ms_per_image: m.median / o.batch, images_per_s: (o.batch * 1000) / m.median });

  if (onnx.length) {
    const { timeOnnxInterleaved } = await import('../runtime/ort.js');
    const engine = `ONNX Runtime (${o.threads} thread${o.threads === 1 ? '' : 's'})`;
    // every session first, then their runs interleaved: the ratios to model.onnx are what users read
    const cases = onnx.map((m) => {
      const shape = shapeAt(m.layout, m.dims, size, o.batch, m.file);
      const values = randomInput([1, 1, 1, shape.reduce((a, b) => a * b, 1)], 0);
      return { model: m.bytes, input: { name: m.name, dtype: m.dtype, shape, data: m.dtype === 'float32' ? values : Uint8Array.from(values, (v) => Math.floor(v * 256)) } };
    });
    const times = await timeOnnxInterleaved(cases, o);
    onnx.forEach((m, i) => row(m.file, engine, m.bytes.byteLength, { dtype: m.dtype, shape: cases[i].input.shape }, times[i]));
  }

  for (const g of graphs) {
    const dims = Object.values(g.json.signature?.inputs ?? {})[0]?.tensorShape?.dim?.map((d) => Number(d.size)) ?? [];
    const channels = dims[3] > 0 ? dims[3] : g.json.userDefinedMetadata?.alcli?.input.channels;
    if (!channels) throw new BadOptionsError(`${g.dir}/model.json: its signature and metadata give no channel count for its input`);
    const shape = shapeAt('NHWC', [undefined, dims[1] > 0 ? dims[1] : undefined, dims[2] > 0 ? dims[2] : undefined, channels], size, o.batch, `${g.dir}/model.json`);
    const bytes = ['model.json', ...(g.json.weightsManifest ?? []).flatMap((w) => w.paths)].reduce((s, p) => s + files.read(`${g.dir}/${p}`).byteLength, 0);
    const model = await tf.loadGraphModel(graphModelHandler((p) => files.read(`${g.dir}/${p}`)));
    const x = tf.tensor4d(randomInput(shape as [number, number, number, number], 0), shape as [number, number, number, number]);
    try {
      row(g.dir, `TF.js graph model (${backend})`, bytes, { dtype: 'float32', shape }, await measure(async () => {
        const y = model.execute(x) as Tensor;
        await y.data();
        y.dispose();
      }, o.warmup, o.runs));
    } finally {
      x.dispose();
      model.dispose();
    }
  }

  const fp32 = rows.find((r) => r.artifact === FP32_ONNX);
  return { size, rows: rows.map((r) => (fp32 ? { ...r, speedup_vs_fp32: fp32.median_ms / r.median_ms } : r)) };
}
