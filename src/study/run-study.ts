// src/study/: `alcli study` and `alcli report` as functions: study files, folds, the runner, the report's data.
// May import: ir, io, passes, frontend, render, emit, runtime, train, export, bench, report.
// Plan every (dataset, spec, fold, seed) run, then train, evaluate, export and time them, each step
// skipped when its output is already there, so a study killed at any moment continues with the
// same command. Layout of the study folder:
//   runs/DATASET/SPEC/foldF-seedS/   ordinary run directories (alcli evaluate/predict/export work on them)
//        .../test.json               evaluate's result on the test split (best checkpoint)
//   folds/DATASET/kK-foldF/          a fold's dataset folder (links + split.json), when folds > 1
//   exports/DATASET/SPEC/            alcli export of the first run, at the deploy precisions
//   timing/DATASET.json              every network's ONNX files timed together, interleaved
//   results.json                     everything the report shows
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { cpus } from 'node:os';
import { writeFileAtomic } from '../io/dir.js';
import { graphStats } from '../ir/stats.js';
import { compileFile, trainRun, type TrainHooks } from '../train/session.js';
import { evaluateRun, type EvaluateRunResult } from '../train/trained.js';
import { BadDataError, BadOptionsError } from '../train/errors.js';
import { trainSettings, type TrainSettings } from '../train/loop.js';
import { fsRunHost, RunDir } from '../train/run.js';
import { scanDataset, type Dataset } from '../train/dataset.js';
import type { OnnxTimingCase } from '../runtime/ort.js';
import { randomInput } from '../runtime/verify.js';
import { exportArtifacts, VERIFY_TOLERANCE, type ExportResult } from '../export/export.js';
import { PRECISION_ONNX_FILE, type Precision } from '../export/formats.js';
import { DEFAULT_OPSET } from '../emit/onnx.js';
import { onnxInput } from '../bench/export.js';
import { foldSplit, writeFoldDataset } from './folds.js';
import { trainSets, type Study, type StudyDataset, type StudySpec } from './study-file.js';
import type { Refusal } from '../report/types.js';

/** A folder name for a display name. */
export const slug = (name: string) => name.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^[._]+/, '') || 'x';

export interface PlannedRun {
  dataset: StudyDataset;
  spec: StudySpec;
  fold: number;
  seed: number;
  /** `foldF-seedS` */
  id: string;
  /** the run directory, absolute */
  dir: string;
  /** the dataset folder it trains on (a fold's, or the dataset's own) */
  data: string;
  sets: string[];
  epochs: number;
  steps: number;
  /** multiply-adds x 2 of one training step's forward at the crop, per sample */
  flopsPerSample: number;
  /** estimated cost: 3 x forward FLOPs (forward + backward) x samples x epochs */
  cost: number;
}

export interface StudyPlan {
  study: Study;
  out: string;
  runs: PlannedRun[];
  /** each dataset's scan (for folds and sizes) */
  datasets: Map<string, Dataset>;
}

/**
 * Every run of the study, with its settings and estimated cost; compiles every spec with its
 * overrides and scans every dataset, so a bad spec, override or dataset fails here, before any
 * training (BadSpecError, BadOptionsError, BadDataError).
 */
export async function planStudy(study: Study, out: string): Promise<StudyPlan> {
  for (const list of [study.specs, study.datasets]) {
    const seen = new Map<string, string>();
    for (const { name } of list) {
      const other = seen.get(slug(name).toLowerCase());
      if (other !== undefined) throw new BadOptionsError(`'${other}' and '${name}' would share the folder name '${slug(name)}': give one of them another name in ${study.file}`);
      seen.set(slug(name).toLowerCase(), name);
    }
  }
  const runs: PlannedRun[] = [];
  const datasets = new Map<string, Dataset>();
  // the graph and settings of a (spec, overrides): the same for every fold
  const compiled = new Map<string, { settings: TrainSettings; flops: number }>();
  const compileAtCrop = (path: string, sets: string[]) => {
    const key = `${path}\0${sets.join('\0')}`;
    let v = compiled.get(key);
    if (!v) {
      const settings = trainSettings(compileFile(path, { overrides: sets }).resolved.train as Record<string, unknown> | undefined);
      compiled.set(key, (v = { settings, flops: compileFile(path, { overrides: sets, size: settings.crop }).stats.flops }));
    }
    return v;
  };
  for (const dataset of study.datasets) {
    const scan = await scanDataset(dataset.path, { need: ['train', 'test'], invertMask: dataset.invertMask, maskThreshold: dataset.maskThreshold });
    if (!scan.dataset) throw new BadDataError(scan.errors);
    datasets.set(dataset.name, scan.dataset);
    const pool = scan.dataset.samples.filter((s) => s.split !== 'test').length;
    for (const spec of study.specs)
      for (let fold = 0; fold < study.protocol.folds; fold++)
        for (const seed of study.protocol.seeds) {
          const sets = trainSets(study, spec, dataset, seed);
          const { settings, flops } = compileAtCrop(spec.path, sets);
          const trainImages = study.protocol.folds > 1 ? pool - Math.ceil(pool / study.protocol.folds) : scan.dataset.samples.filter((s) => s.split === 'train').length;
          const samples = settings.samplesPerEpoch ?? settings.samplesPerImage * trainImages;
          const id = `fold${fold}-seed${seed}`;
          const data = study.protocol.folds > 1 ? join(out, 'folds', slug(dataset.name), `k${study.protocol.folds}-fold${fold}`) : dataset.path;
          runs.push({ dataset, spec, fold, seed, id, dir: join(out, 'runs', slug(dataset.name), slug(spec.name), id), data, sets, epochs: settings.epochs, steps: Math.ceil(samples / settings.batch) * settings.epochs, flopsPerSample: flops, cost: 3 * flops * samples * settings.epochs });
        }
  }
  return { study, out, runs, datasets };
}

/** Where a run stands: not started, stopped after some epochs (resumable), or finished. */
export function runState(r: PlannedRun): { state: 'new' | 'partial' | 'done'; epoch: number } {
  if (!existsSync(join(r.dir, 'run.json'))) return { state: 'new', epoch: 0 };
  const run = new RunDir(fsRunHost(r.dir));
  if (!run.hasCheckpoint('last')) return { state: 'new', epoch: 0 };
  const epoch = run.readCheckpoint('last').state.epoch;
  return { state: epoch >= r.epochs ? 'done' : 'partial', epoch };
}

export interface StudyHooks {
  log?(line: string): void;
  /** the training hooks of one run, given its tag ("[3/9] DATASET / SPEC / fold0-seed0") */
  train?: (tag: string) => TrainHooks;
}

/** test.json of a run: evaluate's result on the test split. */
const testFile = (r: PlannedRun) => join(r.dir, 'test.json');

/**
 * Trains every run that is not done (a partial one resumes from its last checkpoint) and evaluates
 * each on the test split (test.json). `jobs` runs go side by side, each with cores / jobs ONNX
 * Runtime threads (at least 1); every fold folder is written before the first run starts, since
 * runs of different specs read the same one.
 */
export async function trainStudy(plan: StudyPlan, hooks: StudyHooks = {}, jobs = 1): Promise<void> {
  const log = hooks.log ?? (() => {});
  if (plan.study.protocol.folds > 1) {
    // the folds are seeded apart from the runs' seeds: every network and seed sees the same folds
    const written = new Set<string>();
    for (const r of plan.runs) {
      if (written.has(r.data)) continue;
      written.add(r.data);
      const ds = plan.datasets.get(r.dataset.name)!;
      writeFoldDataset(ds, r.data, foldSplit(ds, plan.study.protocol.folds, r.fold, 0));
    }
  }
  const threads = jobs > 1 ? Math.max(1, Math.floor(cpus().length / jobs)) : undefined;
  const one = async (i: number) => {
    const r = plan.runs[i];
    const tag = `[${i + 1}/${plan.runs.length}] ${r.dataset.name} / ${r.spec.name} / ${r.id}`;
    const s = runState(r);
    if (s.state !== 'done') {
      log(`${tag}: ${s.state === 'partial' ? `resuming after epoch ${s.epoch}` : 'training'}`);
      mkdirSync(join(r.dir, '..'), { recursive: true });
      const trainHooks = hooks.train?.(tag);
      if (s.state === 'partial') await trainRun({ resume: r.dir, threads }, trainHooks);
      else await trainRun({ spec: r.spec.path, data: r.data, out: r.dir, set: r.sets, force: true, invertMask: r.dataset.invertMask, maskThreshold: r.dataset.maskThreshold, threads }, trainHooks);
    }
    if (!existsSync(testFile(r))) {
      log(`${tag}: evaluating on the test split`);
      const e = await evaluateRun(r.dir, { split: 'test' });
      writeFileAtomic(testFile(r), `${JSON.stringify(e, null, 1)}\n`);
    }
  };
  // a pool of `jobs` workers taking the runs in order; the first failure stops new runs from starting
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < plan.runs.length) {
      const i = next++;
      try {
        await one(i);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.max(1, Math.min(jobs, plan.runs.length)) }, worker));
  const rejected = results.find((x): x is PromiseRejectedResult => x.status === 'rejected');
  if (rejected) throw rejected.reason;
}

/** A finished run's test evaluation. */
export const readTest = (r: PlannedRun): EvaluateRunResult => JSON.parse(readFileSync(testFile(r), 'utf8')) as EvaluateRunResult;

/** The export folder of a (dataset, spec): its first run's best checkpoint. */
export const exportDir = (plan: StudyPlan, dataset: StudyDataset, spec: StudySpec) => join(plan.out, 'exports', slug(dataset.name), slug(spec.name));

/** Precisions of a (dataset, spec) that the export gate refused, kept beside its export folder. */
const refusedFile = (plan: StudyPlan, dataset: StudyDataset, spec: StudySpec) => `${exportDir(plan, dataset, spec)}.refused.json`;

/** The gate's refusals for a (dataset, spec); none when its export passed whole (or has not run). */
export const readRefused = (plan: StudyPlan, dataset: StudyDataset, spec: StudySpec): Refusal[] => {
  const file = refusedFile(plan, dataset, spec);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Refusal[]) : [];
};

/**
 * The precisions an export's accuracy gate refused, when those refusals are all that failed;
 * undefined when the export passed or something else failed (a numerical check, a missing file).
 */
export function gateRefusals(res: ExportResult, maxIouDrop: number): Refusal[] | undefined {
  if (res.ok) return undefined;
  const rows = res.verify.precision?.rows ?? [];
  const refused = rows.filter((r) => !r.pass);
  const fp32 = rows.find((r) => r.precision === 'fp32');
  if (!fp32 || !refused.length || res.failed.length !== refused.length) return undefined;
  return refused.map((r) => ({ precision: r.precision, val_iou: r.val_iou, fp32_val_iou: fp32.val_iou, drop: r.drop, max_drop: maxIouDrop }));
}

/**
 * Exports the first run of every (dataset, spec) at the deploy precisions; an export folder with
 * its verify.json and every deploy precision's file is kept. A precision the accuracy gate refuses (val IoU more than
 * deploy.max_iou_drop below fp32's) does not stop the study: it is recorded (DIR.refused.json, the
 * report marks it) and the export is made again without it. Any other failed check throws.
 */
export async function exportStudy(plan: StudyPlan, hooks: StudyHooks = {}): Promise<void> {
  const log = hooks.log ?? (() => {});
  const { precisions, maxIouDrop } = plan.study.deploy;
  for (const dataset of plan.study.datasets)
    for (const spec of plan.study.specs) {
      const dir = exportDir(plan, dataset, spec);
      const refused = readRefused(plan, dataset, spec);
      // done: verify.json written, every deploy precision there or refused (a precision added to the study exports again)
      const notRefused = (rs: Refusal[]) => precisions.filter((p) => !rs.some((r) => r.precision === p));
      if (existsSync(join(dir, 'verify.json')) && notRefused(refused).every((p) => existsSync(join(dir, PRECISION_ONNX_FILE[p])))) continue;
      const first = plan.runs.find((r) => r.dataset === dataset && r.spec === spec)!;
      // a folder left by a killed export has no verify.json: replaced whole
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
      mkdirSync(join(dir, '..'), { recursive: true });
      const exportAt = (ps: Precision[]) => {
        log(`export ${dataset.name} / ${spec.name} (${ps.join(', ')})`);
        return exportArtifacts(first.dir, { output: dir, formats: ['onnx'], opset: DEFAULT_OPSET, seed: 0, tolerance: VERIFY_TOLERANCE, precisions: ps, maxIouDrop });
      };
      let res = await exportAt(notRefused(refused));
      const now = gateRefusals(res, maxIouDrop);
      if (now) {
        for (const r of now) log(`  ${spec.name} at ${r.precision}: refused by the gate (val IoU drop ${r.drop.toFixed(4)} > ${maxIouDrop}); exported without it`);
        writeFileAtomic(refusedFile(plan, dataset, spec), `${JSON.stringify([...refused, ...now], null, 1)}\n`);
        res = await exportAt(notRefused([...refused, ...now]));
      }
      if (!res.ok) throw new Error(`export of ${first.dir} failed its checks: ${res.failed.map((c) => c.stage).join(', ')}`);
    }
}

export interface TimingRow {
  spec: string;
  precision: string;
  file: string;
  bytes: number;
  ms: number;
}

/**
 * Times every network's deploy ONNX files of one dataset together: ONNX Runtime, 2 intra-op threads,
 * batch 1, the dataset's first test image's size rounded up to each network's stride, seeded random
 * input; medians of `runs` after 3 warm-ups, all files' runs interleaved (runtime/timing.ts). Cached
 * in timing/DATASET.json while the same files are timed the same number of runs.
 */
export async function timeDataset(plan: StudyPlan, dataset: StudyDataset, hooks: StudyHooks = {}): Promise<{ size: [number, number]; rows: TimingRow[] }> {
  const file = join(plan.out, 'timing', `${slug(dataset.name)}.json`);
  const ds = plan.datasets.get(dataset.name)!;
  const first = ds.samples.find((s) => s.split === 'test') ?? ds.samples[0];
  const size: [number, number] = [first.height, first.width];
  const rows: (Omit<TimingRow, 'ms'> & { path: string; shape: number[] })[] = [];
  for (const spec of plan.study.specs) {
    const c = compileFile(join(plan.runs.find((r) => r.dataset === dataset && r.spec === spec)!.dir, 'spec.resolved.yaml'));
    const { stride } = c;
    const shape = [1, c.graph.input.channels, Math.ceil(size[0] / stride[0]) * stride[0], Math.ceil(size[1] / stride[1]) * stride[1]];
    for (const precision of plan.study.deploy.precisions) {
      const path = join(exportDir(plan, dataset, spec), PRECISION_ONNX_FILE[precision]);
      if (existsSync(path)) rows.push({ spec: spec.name, precision, file: relative(plan.out, path), bytes: statSync(path).size, path, shape });
    }
  }
  // the cache holds while it times exactly these files: another network or precision re-times them all together
  const key = (r: Omit<TimingRow, 'ms'>) => `${r.spec}\0${r.precision}\0${r.file}\0${r.bytes}`;
  if (existsSync(file)) {
    const cached = JSON.parse(readFileSync(file, 'utf8')) as { size: [number, number]; runs?: number; rows: TimingRow[] };
    if (cached.runs === plan.study.deploy.runs && cached.rows.map(key).join('\n') === rows.map(key).join('\n')) return cached;
  }
  (hooks.log ?? (() => {}))(`timing ${dataset.name} at ${size[0]}x${size[1]}: ${rows.length} models (${plan.study.deploy.precisions.join(', ')}), ${plan.study.deploy.runs} interleaved runs`);
  const { timeOnnxInterleaved } = await import('../runtime/ort.js');
  const cases: OnnxTimingCase[] = rows.map((r) => {
    const model = readFileSync(r.path);
    return { model, input: { name: onnxInput(model, r.path).name, dtype: 'float32', shape: r.shape, data: randomInput(r.shape as [number, number, number, number], 1) } };
  });
  const times = await timeOnnxInterleaved(cases, { threads: 2, warmup: 3, runs: plan.study.deploy.runs });
  const result = { size, runs: plan.study.deploy.runs, rows: rows.map(({ path: _, shape: __, ...row }, i) => ({ ...row, ms: times[i].median })) };
  mkdirSync(join(plan.out, 'timing'), { recursive: true });
  writeFileAtomic(file, `${JSON.stringify(result, null, 1)}\n`);
  return result;
}

/** Parameters (training and deploy form) and deploy GFLOP of a spec at a size. */
export function networkStats(specPath: string, sets: string[], size: [number, number]): { params: { train: number; deploy: number }; gflop: number } {
  const c = compileFile(specPath, { overrides: sets, size });
  return { params: { train: c.stats.params, deploy: c.deployStats.params }, gflop: graphStats(c.deploy).flops / 1e9 };
}
