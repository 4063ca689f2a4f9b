// src/export/: `alcli export` as a library call: deploy form, every format, checks on the files written, the swap.
// May import: ir, io, passes, frontend, render, emit, runtime, train.
// exportArtifacts is the whole `alcli export`: weights from a run or a spec, the artifacts written
// into a staging folder, each read back from disk and run by its own runtime (checkArtifacts),
// verify.json and MODEL_CARD.md, then the swap into the output folder. buildExport is pure (bytes out).
import { existsSync, statSync } from 'node:fs';
import type { Compiled, CompileOptions } from '../frontend/compile.js';
import { checkOutputDir, dirWriter, listFiles, refuseOverlap } from '../io/dir.js';
import { lockDir } from '../io/lock.js';
import { modelCard, type ModelCardInput } from '../render/model-card.js';
import { compileFile } from '../train/session.js';
import { openRun, runOperatingPoint, type OpenRun } from '../train/trained.js';
import { thresholdOf } from '../train/objective.js';
import type { InitMapName } from '../train/choices.js';
import { deployForm } from '../passes/pipeline.js';
import { loadTf, type BackendChoice, type TF } from '../runtime/backend.js';
import { calibratedWeights, randomInput, runForm, VERIFY_TOLERANCE } from '../runtime/verify.js';
import { initWeights, type WeightStore } from '../ir/weights.js';
import { resizeGraph } from '../ir/resize-graph.js';
import { fixedSizeReason } from '../ir/stride.js';
import type { IrGraph } from '../ir/graph.js';
import { BadOptionsError } from '../train/errors.js';
import { check, emitArtifacts, FORMATS, runArtifact, runArtifactAt, type Calibration, type Precision, type Check, type ExportBuild, type ExportFormat, type ExportOptions, type Reference } from './formats.js';
import { IMAGE_ONNX_FILE, runImageCheck, type ExportIo, type ExportTta } from './image-io.js';
import type { PrecisionGate } from './precision.js';

export { EXPORT_FORMATS, PRECISIONS, CALIBRATIONS, DEFAULT_MAX_IOU_DROP, type Precision, type Calibration, type Check, type ExportBuild, type ExportFormat, type ExportOptions } from './formats.js';
export { EXPORT_IO, EXPORT_TTA, IMAGE_ONNX_FILE, INT8_IMAGE_ONNX_FILE, type ExportIo, type ExportTta } from './image-io.js';

export { check } from './formats.js';
export type { PrecisionGate } from './precision.js';

/** Untrained weights that behave like trained ones (BN statistics calibrated on the verification batch). */
export async function exportWeightsFromSpec(tf: TF, c: Compiled, seed: number, batch: number): Promise<WeightStore> {
  const shape = verificationShape(c, batch);
  return calibratedWeights(tf, c.graph, initWeights(c.graph, seed), shape, seed + 1);
}

export const verificationShape = (c: Compiled, batch: number): [number, number, number, number] => [batch, c.graph.input.size[0], c.graph.input.size[1], c.graph.input.channels];

/** Deploy form, its check against the training form, and every artifact's bytes. */
export async function buildExport(tf: TF, c: Compiled, weights: WeightStore, opts: ExportOptions): Promise<ExportBuild> {
  const { graph, weights: deployWeights } = deployForm(c.graph, { weights, verifyEach: opts.verifyEach });
  const shape = verificationShape(c, opts.batch);
  const input = randomInput(shape, opts.seed + 1);
  const logits = await runForm(tf, c.graph, weights, input, shape);
  const checks = [check('deploy form (TF.js executor)', logits, await runForm(tf, graph, deployWeights!, input, shape), opts.tolerance)];
  const files = new Map<string, Uint8Array | string>();
  for (const [path, data] of await emitArtifacts(c, graph, deployWeights!, opts, weights)) files.set(path, data);
  const second = await secondReference(tf, c, graph, weights, opts);
  return { training: { graph: c.graph, weights }, deploy: { graph, weights: deployWeights! }, files, reference: { shape, input, logits }, ...(second ? { second } : {}), checks };
}

/**
 * The second size the symbolic-size artifacts are checked at: one network stride larger in each
 * direction than the compiled size; undefined when no format written takes any size, or the network
 * pins its size (ir/stride.ts fixedSizeReason).
 */
export function secondSize(c: Compiled, deploy: IrGraph, formats: readonly ExportFormat[]): [number, number] | undefined {
  if (!formats.some((f) => FORMATS[f].runAt) || fixedSizeReason(deploy)) return undefined;
  const [h, w] = c.graph.input.size;
  return [h + c.stride[0], w + c.stride[1]];
}

/** The training form re-shaped to secondSize, run by the TF.js executor on seed + 2 inputs. */
async function secondReference(tf: TF, c: Compiled, deploy: IrGraph, weights: WeightStore, opts: ExportOptions): Promise<Reference | undefined> {
  const size = secondSize(c, deploy, opts.formats);
  if (!size) return undefined;
  // one image: the larger size costs the executor more, and the batch dimension was checked at the first
  const shape: [number, number, number, number] = [1, size[0], size[1], c.graph.input.channels];
  const input = randomInput(shape, opts.seed + 2);
  return { shape, input, logits: await runForm(tf, resizeGraph(c.graph, size), weights, input, shape) };
}

/**
 * Reloads each artifact through `read` and runs it with its own runtime; the symbolic-size ONNX
 * artifacts also at build.second's size; with io `image`, model.image.onnx on an odd-sized uint8
 * image against alcli predict's probabilities (with opts.tta, predict --tta's: export/image-io.ts).
 */
export async function checkArtifacts(tf: TF, build: ExportBuild, opts: Pick<ExportOptions, 'formats' | 'tolerance'> & Partial<Pick<ExportOptions, 'io' | 'normalize' | 'seed' | 'tta'>>, read: (path: string) => Uint8Array): Promise<Check[]> {
  const checks: Check[] = [];
  for (const f of opts.formats) {
    const out = await runArtifact(tf, f, build, read);
    if (out) checks.push(check(out.stage, build.reference.logits, out.logits, opts.tolerance));
    const at = build.second && (await runArtifactAt(f, build, read, build.second));
    if (at) checks.push(check(at.stage, build.second!.logits, at.logits, opts.tolerance));
  }
  if (opts.io === 'image' && opts.formats.includes('onnx')) {
    const r = await runImageCheck(tf, build.training, read(IMAGE_ONNX_FILE), opts.normalize ?? null, (opts.seed ?? 0) + 3, { tta: opts.tta });
    checks.push(check(r.stage, r.reference, r.probabilities, opts.tolerance));
  }
  return checks;
}

export { VERIFY_TOLERANCE };

/**
 * A run's threshold for its export (trained.ts runOperatingPoint: tuned on this checkpoint's weights,
 * else the spec's, else 0.5) and, when tuned, the words saying so; a tuned value of other weights is
 * logged as not used.
 */
async function exportThreshold(opened: OpenRun, log: (line: string) => void): Promise<{ value: number; source?: string }> {
  const point = await runOperatingPoint(opened);
  if (point.note) log(`note: ${point.note}`);
  const t = opened.info.threshold;
  if (point.from !== 'tuned' || !t) return { value: point.value };
  return { value: point.value, source: `tuned on the validation split (${t.images} images, epoch ${t.epoch}) for the highest mean Dice, ${t.dice.toFixed(4)}; ${t.default_dice.toFixed(4)} at ${t.default}` };
}

/** Images in the verification batch of `alcli export`. */
export const EXPORT_BATCH = 2;

export interface ExportRequest {
  /** the export folder: new or empty, or (with force) replaced whole */
  output: string;
  force?: boolean;
  formats: ExportFormat[];
  opset: number;
  /** seed of a spec's random weights; the verification inputs use seed + 1 */
  seed: number;
  /** pass when max abs diff <= tolerance * max(1, max |reference logit|) */
  tolerance: number;
  verifyEach?: boolean;
  /** TF.js backend of the executor and the graph-model check; default auto */
  backend?: BackendChoice;
  /** per-channel normalization baked into model.ts for a spec source (a run brings its own); default none */
  normalize?: { mean: number[]; std: number[] } | null;
  /** the formats whose artifacts are read back and run (default: every format written) */
  runBack?: readonly ExportFormat[];
  /** input size, parameter limit and `--set` overrides of the spec (a run's spec.resolved.yaml or the source) */
  compile?: CompileOptions;
  /** safetensors: write the deploy (fused) form's weights instead of the training form's */
  deploy?: boolean;
  /** safetensors: the tensor names, alcli's own (default) or a built-in map's, e.g. twin */
  names?: InitMapName;
  /** precisions of the ONNX model (default fp32 only); any other needs a run (calibration, the gate) */
  precisions?: Precision[];
  /** int8: calibration crops from the training split (default 16) and how ranges are taken */
  calib?: number;
  calibration?: Calibration;
  /** the gate: largest allowed drop of mean val IoU below fp32 (default 0.005) */
  maxIouDrop?: number;
  /** also a TF.js graph model with uint8 affine weight storage (tfjs.uint8/), gated like the precisions */
  tfjsWeights?: 'uint8';
  /** `image`: also model.image.onnx (uint8 HWC image in, probabilities and mask out); needs the onnx format; default `tensor` */
  io?: ExportIo;
  /**
   * io `image`: test-time augmentation inside the image models, `flips` (the 4 mirror images as one
   * batch, their mean) or none (default); `dihedral` is a BadOptionsError (its transposed copies
   * cannot share a batch), as is any TTA without io `image`
   */
  tta?: ExportTta;
}


export interface ExportHooks {
  /** progress lines (the CLI's stderr) */
  log?(line: string): void;
}

/** verify.json */
export interface ExportVerify {
  tolerance: number;
  rule: string;
  inputs: { shape: [number, number, number, number]; seed: number; layout: 'NHWC'; second?: { shape: [number, number, number, number]; seed: number } };
  checks: Check[];
  /** with --precision beyond fp32: each precision's artifact scored on the validation split (gate.ts) */
  precision?: PrecisionGate;
}


/** Written (files relative to output), or a failed check: then nothing was written to output. */
export type ExportResult = { ok: true; output: string; files: string[]; verify: ExportVerify } | { ok: false; output: string; failed: Check[]; verify: ExportVerify };

/**
 * `alcli export` as a function. `source` is a training run directory (its best checkpoint, with
 * its normalization and metrics) or a spec file (seeded random weights, BatchNorm statistics
 * calibrated). The output folder appears whole, only when every check passes.
 */
export async function exportArtifacts(source: string, req: ExportRequest, hooks: ExportHooks = {}): Promise<ExportResult> {
  // the output folder is locked while it is written (io/lock.ts): a second export or a run there is refused
  const lock = lockDir(req.output);
  try {
    return await lockedExport(source, req, hooks);
  } finally {
    lock.release();
  }
}

async function lockedExport(source: string, req: ExportRequest, hooks: ExportHooks): Promise<ExportResult> {
  if (req.io === 'image' && !req.formats.includes('onnx')) throw new BadOptionsError(`--io image writes ${IMAGE_ONNX_FILE} beside model.onnx: add onnx to the formats`);
  const tta = req.tta ?? 'none';
  if (tta !== 'none' && req.io !== 'image') throw new BadOptionsError(`--tta ${tta} puts test-time augmentation inside ${IMAGE_ONNX_FILE}: add --io image (the tensor models take one image per batch item; average yourself, or use alcli predict --tta)`);
  if (tta === 'dihedral')
    throw new BadOptionsError(`--tta dihedral cannot go inside ${IMAGE_ONNX_FILE}: 4 of its 8 copies are transposed (H x W swapped), so they cannot share one batch with the others; export --tta flips (the 4 mirror images), or run alcli predict --tta dihedral`);
  const fromRun = existsSync(source) && statSync(source).isDirectory();
  // never the source (a run, or a spec and its imports: checked once compiled) nor the folder the user is in
  checkOutputDir(req.output, req.force ?? false, undefined, { protect: [{ path: source, what: fromRun ? 'the source run' : 'the source spec' }, { path: process.cwd(), what: 'the current folder', allowInside: true }] });
  const log = hooks.log ?? (() => {});
  const lower = (req.precisions ?? []).filter((p) => p !== 'fp32');
  if (req.tfjsWeights === 'uint8' && !req.formats.includes('tfjs')) throw new BadOptionsError(`--weights uint8 stores the TF.js graph model's weights as uint8: add tfjs to --format`);
  if ((lower.length || req.tfjsWeights === 'uint8') && !fromRun)
    throw new BadOptionsError(`--precision ${[...lower, ...(req.tfjsWeights === 'uint8' ? ['(--weights uint8)'] : [])].join(',')} needs a trained run as the source: its training images calibrate the model and its validation split gates it (IoU); '${source}' is a spec`);
  const { tf, backend, notice } = await loadTf(req.backend ?? 'auto');
  if (notice) log(notice);
  const batch = EXPORT_BATCH;
  let c: Compiled;
  let weights: WeightStore;
  let normalize = req.normalize ?? null;
  let cardSource: ModelCardInput['source'];
  let threshold: { value: number; source?: string } | undefined;
  let opened: OpenRun | undefined;
  if (fromRun) {
    opened = await openRun(source, 'best', req.compile);
    threshold = await exportThreshold(opened, log);
    refuseOverlap(req.output, [{ path: opened.info.data.dir, what: "the run's data folder" }]);
    c = opened.compiled;
    weights = opened.checkpoint.weights;
    normalize = opened.info.normalize && { mean: opened.info.normalize.mean, std: opened.info.normalize.std };
    cardSource = { kind: 'run', dir: source, data: opened.info.data.dir, epoch: opened.checkpoint.state.epoch, metrics: opened.checkpoint.state.val, engine: opened.info.engine };
    log(`export ${source} (best checkpoint, epoch ${opened.checkpoint.state.epoch}): ${c.graph.input.size.join('x')}, backend ${backend}`);
  } else {
    c = compileFile(source, req.compile);
    refuseOverlap(req.output, [...c.spec.files.keys()].map((path) => ({ path, what: 'a file the spec imports' })));
    weights = await exportWeightsFromSpec(tf, c, req.seed, batch);
    cardSource = { kind: 'spec', seed: req.seed };
    log(`export ${source}: ${c.graph.input.size.join('x')}, backend ${backend}; seeded random weights (seed ${req.seed})`);
  }
  const { formats, tolerance } = req;
  const opts: ExportOptions = { formats, opset: req.opset, seed: req.seed, batch, verifyEach: req.verifyEach, normalize, threshold: threshold?.value ?? thresholdOf(c.resolved.train), thresholdSource: threshold?.source, tolerance, safetensorsForm: req.deploy ? 'deploy' : 'training', safetensorsNames: req.names, io: req.io, ...(tta !== 'none' ? { tta } : {}) };
  const build = await buildExport(tf, c, weights, opts);
  const out = dirWriter(req.output).open();
  let done = false;
  try {
    for (const [path, data] of build.files) out.write(path, data);
    const runBack = req.runBack ? formats.filter((f) => req.runBack!.includes(f)) : formats;
    const read = (path: string) => {
      const data = out.read(path);
      if (!data) throw new Error(`${path} was not written`);
      return data;
    };
    const checks = [...build.checks, ...(await checkArtifacts(tf, build, { formats: runBack, tolerance, io: req.io, normalize, seed: req.seed, tta: opts.tta }, read))];
    for (const k of checks) log(`  ${k.pass ? 'ok  ' : 'FAIL'} ${k.stage}: max abs diff ${k.maxAbs.toExponential(2)} (max |logit| ${k.maxRef.toFixed(3)})`);
    const verify: ExportVerify = {
      tolerance,
      rule: 'max abs diff <= tolerance * max(1, max |reference logit|)',
      inputs: { shape: build.reference.shape, seed: req.seed + 1, layout: 'NHWC', ...(build.second ? { second: { shape: build.second.shape, seed: req.seed + 2 } } : {}) },
      checks,
    };
    // a gate failure is a failed check of its own (in `failed`, not in verify.checks' comparisons)
    const gateFailed: Check[] = [];
    if ((lower.length || req.tfjsWeights === 'uint8') && opened && checks.every((k) => k.pass)) {
      const image = req.io === 'image' ? { normalize, threshold: opts.threshold, tta: opts.tta } : undefined;
      const gate = await (await import('./precision.js')).gatePrecisions(tf, opened, build, req, lower, out, log, image);
      verify.precision = gate.table;
      gateFailed.push(...gate.failed);
      // the image models of lower precisions are checked like model.image.onnx: among the comparisons
      for (const k of gate.checks) log(`  ${k.pass ? 'ok  ' : 'FAIL'} ${k.stage}: max abs diff ${k.maxAbs.toExponential(2)}`);
      checks.push(...gate.checks);
    }
    out.write('verify.json', `${JSON.stringify(verify, null, 2)}\n`);
    const failed = [...checks.filter((k) => !k.pass), ...gateFailed];
    if (failed.length) return { ok: false, output: req.output, failed, verify };
    out.write('MODEL_CARD.md', modelCard({ compiled: c, source: cardSource, formats, verify: checks, tolerance, threshold: opts.threshold, thresholdSource: opts.thresholdSource, normalize, precision: verify.precision, io: req.io, tta: opts.tta, int8Image: verify.precision?.rows.some((r) => r.precision === 'int8' && r.pass) && req.io === 'image', sizes: { second: build.second && [build.second.shape[1], build.second.shape[2]], fixed: fixedSizeReason(build.deploy.graph) } }));
    out.commit('whole');
    done = true;
    return { ok: true, output: req.output, files: listFiles(req.output), verify };
  } finally {
    if (!done) out.discard();
  }
}
