// The export formats as one table: what each writes (paths relative to the export directory) and
// how each is run back from those files by its own runtime for verification.
import type { Tensor } from '@tensorflow/tfjs';
import type { Compiled } from '../frontend/compile.js';
import type { IrGraph } from '../ir/graph.js';
import type { TF } from '../runtime/backend.js';
import type { WeightStore } from '../ir/weights.js';
import { compareOutputs, VERIFY_TOLERANCE, withinTolerance, type Comparison } from '../runtime/verify.js';
import { isInitMap, type InitMapName } from '../train/choices.js';
import type { ExportIo } from './image-io.js';
import type { ImageTta } from '../emit/onnx-image.js';

export const EXPORT_FORMATS = ['tfjs', 'onnx', 'ts', 'triton', 'safetensors', 'pytorch'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Precisions of the ONNX model; any but fp32 needs a run (calibration images, the accuracy gate). */
export const PRECISIONS = ['fp32', 'fp16', 'int8'] as const;
export type Precision = (typeof PRECISIONS)[number];
/** The ONNX file of each precision in an export folder. */
export const PRECISION_ONNX_FILE: Record<Precision, string> = { fp32: 'model.onnx', fp16: 'model.fp16.onnx', int8: 'model.int8.onnx' };
/** int8 activation ranges: min/max seen, or percentiles (calibrate.ts) */
export const CALIBRATIONS = ['minmax', 'percentile'] as const;
export type Calibration = (typeof CALIBRATIONS)[number];
/** the gate's default: mean val IoU at most this far below fp32's */
export const DEFAULT_MAX_IOU_DROP = 0.005;

export interface ExportOptions {
  formats: ExportFormat[];
  opset: number;
  seed: number;
  /** images in the verification batch */
  batch: number;
  verifyEach?: boolean;
  /** per-channel normalization baked into the TypeScript module; null when the input is used as is */
  normalize: { mean: number[]; std: number[] } | null;
  /** the probability cut model.ts's threshold() defaults to and the model card names */
  threshold: number;
  /** where `threshold` came from, in words (model.ts's comment, MODEL_CARD.md), e.g. 'tuned on the validation split ...'; absent: the spec's or the default */
  thresholdSource?: string;
  /** pass when max abs diff <= tolerance * max(1, max |reference logit|) */
  tolerance: number;
  /** the form whose weights the safetensors format writes: training (BN and RepVGG branches as trained; the default) or deploy (fused) */
  safetensorsForm?: 'training' | 'deploy';
  /** the tensor names the safetensors format writes: alcli's own (default) or a built-in map's (twin, torchvision-resnet34) */
  safetensorsNames?: InitMapName;
  /** `image`: the onnx format also writes model.image.onnx (uint8 image in, mask out: export/image-io.ts); default `tensor` */
  io?: ExportIo;
  /** io `image`: test-time augmentation inside model.image.onnx (none, or flips: emit/onnx-image.ts) */
  tta?: ImageTta;
}

export interface Check extends Comparison {
  stage: string;
  pass: boolean;
}

/** A comparison of `candidate` with `reference` as a check: pass within `tolerance` (verify.ts withinTolerance). */
export const check = (stage: string, reference: Float32Array, candidate: Float32Array, tolerance = VERIFY_TOLERANCE): Check => {
  const c = compareOutputs(reference, candidate);
  return { stage, ...c, pass: withinTolerance(c, tolerance) };
};

export interface ExportBuild {
  /** the compiled graph and the weights given */
  training: { graph: IrGraph; weights: WeightStore };
  deploy: { graph: IrGraph; weights: WeightStore };
  /** relative path -> contents */
  files: Map<string, Uint8Array | string>;
  /** the verification batch and the training form's logits on it (NHWC) */
  reference: Reference;
  /**
   * a second batch at another size (one stride step larger each way) and the training form's logits
   * there (resizeGraph): the symbolic-size ONNX artifacts are run at both; absent for a fixed-size network
   */
  second?: Reference;
  checks: Check[];
}

/** A verification batch (NHWC) and the training form's logits on it. */
export interface Reference {
  shape: [number, number, number, number];
  input: Float32Array;
  logits: Float32Array;
}

interface FormatEntry {
  /** `graph` and `weights` are the deploy form; `training` the compiled graph's weights */
  emit(c: Compiled, graph: IrGraph, weights: WeightStore, opts: ExportOptions, training: WeightStore): Promise<Map<string, Uint8Array | string>>;
  /** logits (NHWC) of the artifact on the reference batch, read back from disk; undefined when it has no runtime of its own */
  run(tf: TF, build: ExportBuild, read: (path: string) => Uint8Array): Promise<{ stage: string; logits: Float32Array } | undefined>;
  /** the artifact's logits on another batch (build.second): formats whose model takes any size */
  runAt?(build: ExportBuild, read: (path: string) => Uint8Array, ref: Reference): Promise<{ stage: string; logits: Float32Array }>;
}

const GENERATED_BY = 'alcli 0.1.0';
export const TFJS_DIR = 'tfjs';
export const ONNX_FILE = 'model.onnx';
export const TS_FILE = 'model.ts';
export const TRITON_DIR = 'triton';
export const PYTORCH_DIR = 'pytorch';
export const PYTORCH_FILE = 'model.py';

const prefixed = (dir: string, files: Map<string, Uint8Array | string>) => new Map([...files].map(([p, d]) => [`${dir}/${p}`, d]));

async function onnxBytes(graph: IrGraph, weights: WeightStore, opts: ExportOptions): Promise<Uint8Array> {
  const { emitOnnx } = await import('../emit/onnx.js');
  return emitOnnx(graph, weights, { opset: opts.opset });
}

async function runOnnxFile(build: ExportBuild, bytes: Uint8Array, ref: Reference = build.reference): Promise<Float32Array> {
  const { runOnnx } = await import('../runtime/ort.js');
  return runOnnx(bytes, ref.input, ref.shape, { threads: 2 });
}

const atSize = (ref: Reference) => ` at ${ref.shape[1]}x${ref.shape[2]}`;

export const FORMATS: Record<ExportFormat, FormatEntry> = {
  tfjs: {
    async emit(_c, graph, weights) {
      const { emitTfjsGraphModel, tfjsGraphFiles } = await import('../emit/tfjs-graph.js');
      return prefixed(TFJS_DIR, tfjsGraphFiles(emitTfjsGraphModel(graph, weights, { generatedBy: GENERATED_BY })));
    },
    async run(tf, build, read) {
      const { graphModelHandler } = await import('../runtime/tfjs-graph-io.js');
      const model = await tf.loadGraphModel(graphModelHandler((p) => read(`${TFJS_DIR}/${p}`)));
      const x = tf.tensor4d(build.reference.input, build.reference.shape);
      try {
        const y = model.execute(x) as Tensor;
        const logits = (await y.data()) as Float32Array;
        y.dispose();
        return { stage: `TF.js graph model (${TFJS_DIR}/model.json, tf.loadGraphModel, ${tf.getBackend()})`, logits };
      } finally {
        x.dispose();
        model.dispose();
      }
    },
  },
  onnx: {
    async emit(c, graph, weights, opts) {
      const files = new Map([[ONNX_FILE, await onnxBytes(graph, weights, opts)]]);
      if (opts.io === 'image') {
        const { imageOnnxBytes, IMAGE_ONNX_FILE } = await import('./image-io.js');
        files.set(IMAGE_ONNX_FILE, await imageOnnxBytes(c, graph, weights, { opset: opts.opset, normalize: opts.normalize, threshold: opts.threshold, tta: opts.tta }));
      }
      return files;
    },
    async run(_tf, build, read) {
      return { stage: `ONNX (${ONNX_FILE}, onnxruntime-node)`, logits: await runOnnxFile(build, read(ONNX_FILE)) };
    },
    async runAt(build, read, ref) {
      return { stage: `ONNX (${ONNX_FILE}, onnxruntime-node)${atSize(ref)}`, logits: await runOnnxFile(build, read(ONNX_FILE), ref) };
    },
  },
  ts: {
    async emit(c, graph, _weights, opts) {
      const { emitTypeScriptModule } = await import('../emit/typescript.js');
      return new Map([[TS_FILE, emitTypeScriptModule(graph, { normalize: opts.normalize, stride: c.stride, threshold: opts.threshold, thresholdSource: opts.thresholdSource, generatedBy: GENERATED_BY })]]);
    },
    // the module runs tfjs/model.json through tf.loadGraphModel: the tfjs check covers its numbers
    async run() {
      return undefined;
    },
  },
  triton: {
    async emit(c, graph, weights, opts) {
      const { tritonRepository } = await import('../emit/triton.js');
      return prefixed(TRITON_DIR, tritonRepository(tritonName(c), await onnxBytes(graph, weights, opts), graph));
    },
    async run(_tf, build, read) {
      const path = `${TRITON_DIR}/${tritonName(build)}/1/model.onnx`;
      return { stage: `Triton repository (${path}, onnxruntime-node)`, logits: await runOnnxFile(build, read(path)) };
    },
    async runAt(build, read, ref) {
      const path = `${TRITON_DIR}/${tritonName(build)}/1/model.onnx`;
      return { stage: `Triton repository (${path}, onnxruntime-node)${atSize(ref)}`, logits: await runOnnxFile(build, read(path), ref) };
    },
  },
  safetensors: {
    async emit(c, graph, weights, opts, training) {
      const { safetensorsExport, SAFETENSORS_FILE, NAMES_FILE } = await import('./safetensors.js');
      const form = opts.safetensorsForm ?? 'training';
      const names = opts.safetensorsNames ?? 'alcli';
      const out = form === 'deploy' ? safetensorsExport(graph, weights, form, names) : safetensorsExport(c.graph, training, form, names);
      return new Map<string, Uint8Array | string>([[SAFETENSORS_FILE, out.bytes], [NAMES_FILE, `${JSON.stringify(out.names, null, 2)}\n`]]);
    },
    async run(tf, build, read) {
      return readBackSafetensors(tf, build, read, '');
    },
  },
  // model.py, weights.safetensors (always alcli's names, the form of --deploy) and names.json in pytorch/;
  // no torch here: the weights are read back and run, model.py is checked by scripts/pytorch-check.py
  pytorch: {
    async emit(c, graph, weights, opts, training) {
      const [{ safetensorsExport, SAFETENSORS_FILE, NAMES_FILE }, { emitPytorchModule }] = await Promise.all([import('./safetensors.js'), import('../emit/pytorch.js')]);
      const form = opts.safetensorsForm ?? 'training';
      const [g, w] = form === 'deploy' ? [graph, weights] : [c.graph, training];
      const out = safetensorsExport(g, w, form, 'alcli');
      return prefixed(
        PYTORCH_DIR,
        new Map<string, Uint8Array | string>([
          [PYTORCH_FILE, emitPytorchModule(g, { normalize: opts.normalize, form, generatedBy: GENERATED_BY, weightsFile: SAFETENSORS_FILE })],
          [SAFETENSORS_FILE, out.bytes],
          [NAMES_FILE, `${JSON.stringify(out.names, null, 2)}\n`],
        ]),
      );
    },
    async run(tf, build, read) {
      return readBackSafetensors(tf, build, read, `${PYTORCH_DIR}/`);
    },
  },
};

/** The weights file under `dir` read back with the map its metadata names onto its form's graph, run by the TF.js executor. */
async function readBackSafetensors(tf: TF, build: ExportBuild, read: (path: string) => Uint8Array, dir: string) {
  const [{ readSafetensors }, { initFromTensors }, { runForm }, { SAFETENSORS_FILE }] = await Promise.all([import('../ir/safetensors.js'), import('../train/init/init.js'), import('../runtime/verify.js'), import('./safetensors.js')]);
  const path = `${dir}${SAFETENSORS_FILE}`;
  const meta = readSafetensors(read(path));
  const form = meta.metadata.form === 'deploy' ? build.deploy : build.training;
  // the names this export wrote (metadata), only ever a built-in map's
  const map = isInitMap(meta.metadata.names) ? meta.metadata.names : 'alcli';
  const { weights } = initFromTensors(form.graph, new Map(), meta.tensors, { from: path, map, format: 'safetensors' });
  const logits = await runForm(tf, form.graph, weights, build.reference.input, build.reference.shape);
  return { stage: `safetensors (${path}, ${meta.metadata.form} form, read back with map ${map}, TF.js executor)`, logits };
}

const tritonName = (x: Compiled | ExportBuild) => ('deploy' in x && 'files' in x ? x.deploy.graph.name : (x as Compiled).graph.name).replace(/[^A-Za-z0-9_.-]/g, '_');

/** Every format's files; `graph` and `weights` are the deploy form, `training` the compiled graph's weights. */
export async function emitArtifacts(c: Compiled, graph: IrGraph, weights: WeightStore, opts: ExportOptions, training: WeightStore): Promise<Map<string, Uint8Array | string>> {
  const files = new Map<string, Uint8Array | string>();
  for (const f of opts.formats) for (const [p, d] of await FORMATS[f].emit(c, graph, weights, opts, training)) files.set(p, d);
  return files;
}

export const runArtifact = (tf: TF, format: ExportFormat, build: ExportBuild, read: (path: string) => Uint8Array) => FORMATS[format].run(tf, build, read);

/** The artifact run on build.second, for the formats whose model takes any size; undefined otherwise. */
export const runArtifactAt = (format: ExportFormat, build: ExportBuild, read: (path: string) => Uint8Array, ref: Reference) => FORMATS[format].runAt?.(build, read, ref);
