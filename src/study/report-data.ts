// The study's results as the report's data (src/report/types.ts): per dataset, per network, its
// runs' curves (metrics.csv) and test metrics (test.json), parameters and GFLOP, the timings, and
// an overlay grid of the first test images (thumbnails as data: URLs, so report.html is one file).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import sharp from 'sharp';
import type { DatasetResult, EpochRow, NetworkResult, Overlay, RunResult, StudyReport } from '../report/types.js';
import { fsRunHost, RunDir } from '../train/run.js';
import type { Sample } from '../train/dataset.js';
import { predictImages, type EvaluateRunResult } from '../train/trained.js';
import { exportDir, networkStats, readRefused, readTest, slug, timeDataset, type StudyHooks, type StudyPlan } from './run-study.js';

/** Thumbnail width of the overlay grid, pixels. */
export const THUMB_WIDTH = 160;

/** A PNG thumbnail of an image file (any format sharp reads; the first page) as a data: URL; undefined when it cannot be read. */
export async function thumbnail(path: string, width = THUMB_WIDTH, normalize = false): Promise<string | undefined> {
  try {
    let img = sharp(path, { pages: 1 }).resize({ width, kernel: 'nearest' });
    // masks stored as 0/1 look black: stretch them to 0/255
    if (normalize) img = img.normalise();
    return `data:image/png;base64,${(await img.png().toBuffer()).toString('base64')}`;
  } catch {
    return undefined;
  }
}

/** A run's epochs (its metrics.csv) and test metrics (an evaluation of its test split) in the report's rows; `dir` as the report shows it. */
export function runResult(id: string, runDir: string, test: EvaluateRunResult, dir = runDir): RunResult {
  const epochs: EpochRow[] = new RunDir(fsRunHost(runDir)).readMetrics().map((m) => ({ epoch: m.epoch, train_loss: m.train_loss, val_loss: m.val_loss, val_iou: m.val_iou }));
  const images = test.perImage.map((p) => ({ image: p.id, accuracy: p.metrics.accuracy, iou: p.metrics.iou, dice: p.metrics.dice, auc: Number.isFinite(p.metrics.auc) ? p.metrics.auc : null }));
  return { id, dir, epochs, test: images };
}

/**
 * The overlay grid: each test sample's image and truth, and the mask each run (by display name)
 * predicts for it (alcli predict into `out`), as thumbnails; samples whose files sharp cannot
 * read are left out.
 */
export async function overlayGrid(tests: readonly Sample[], runs: readonly { name: string; dir: string }[], out: string): Promise<Overlay[]> {
  if (!tests.length) return [];
  const grid: Overlay[] = [];
  for (const s of tests) {
    const input = await thumbnail(s.image.path);
    const truth = await thumbnail(s.mask.path, THUMB_WIDTH, true);
    if (input && truth) grid.push({ image: s.id, input, truth, predictions: {} });
  }
  for (const r of runs) {
    const dir = join(out, slug(r.name));
    mkdirSync(dir, { recursive: true });
    const predicted = await predictImages(r.dir, { images: tests.map((s) => s.image.path), out: dir });
    for (const [i, p] of predicted.images.entries()) {
      const row = grid.find((g) => g.image === tests[i]?.id);
      const file = p.mask ?? p.label;
      // predict names its files by their path under `out` already
      const thumb = row && file ? await thumbnail(file, THUMB_WIDTH, true) : undefined;
      if (row && thumb) row.predictions[r.name] = thumb;
    }
  }
  return grid;
}

/**
 * The report's data for a trained, evaluated (and, for timing, exported) study. Timing is read from
 * (or made into) timing/DATASET.json; networks without an export get no timing.
 */
export async function studyReport(plan: StudyPlan, hooks: StudyHooks = {}): Promise<StudyReport> {
  const datasets: DatasetResult[] = [];
  for (const dataset of plan.study.datasets) {
    const exported = plan.study.specs.every((spec) => existsSync(join(exportDir(plan, dataset, spec), 'verify.json')));
    const timing = exported ? await timeDataset(plan, dataset, hooks) : undefined;
    const ds = plan.datasets.get(dataset.name)!;
    const first = ds.samples.find((s) => s.split === 'test') ?? ds.samples[0];
    const size: [number, number] = timing?.size ?? [first.height, first.width];
    const networks: NetworkResult[] = plan.study.specs.map((spec) => {
      const runs = plan.runs.filter((r) => r.dataset === dataset && r.spec === spec);
      const stats = networkStats(join(runs[0].dir, 'spec.resolved.yaml'), [], size);
      const refused = readRefused(plan, dataset, spec);
      return {
        name: spec.name,
        spec: relative(plan.out, spec.path),
        ...stats,
        timing: (timing?.rows ?? []).filter((t) => t.spec === spec.name).map((t) => ({ precision: t.precision, file: t.file, ms: t.ms, bytes: t.bytes })),
        ...(refused.length ? { refused } : {}),
        runs: runs.map((r) => runResult(r.id, r.dir, readTest(r), relative(plan.out, r.dir))),
      };
    });
    const tests = ds.samples.filter((s) => s.split === 'test').slice(0, plan.study.deploy.overlays);
    const firstRuns = plan.study.specs.map((spec) => ({ name: spec.name, dir: plan.runs.find((r) => r.dataset === dataset && r.spec === spec)!.dir }));
    datasets.push({ name: dataset.name, timingSize: size, networks, overlays: await overlayGrid(tests, firstRuns, join(plan.out, 'overlays', slug(dataset.name))) });
  }
  const p = plan.study.protocol;
  const train = Object.entries(p.train).map(([k, v]) => `${k} ${JSON.stringify(v)}`).join(', ');
  return {
    title: plan.study.name,
    source: plan.study.file,
    protocol: `${p.folds > 1 ? `${p.folds}-fold cross-validation on train+val (test held out)` : "each dataset's own split"}; seeds ${p.seeds.join(', ')}${train ? `; train: ${train}` : ''}; deploy: ${plan.study.deploy.precisions.join(', ')}, ONNX Runtime, 2 threads, batch 1, median of ${plan.study.deploy.runs} interleaved runs`,
    datasets,
  };
}

/** Writes DIR/report.md and DIR/report.html (and, with `results`, DIR/results.json: the data), each atomically; returns the HTML's path. */
export async function writeReport(dir: string, report: StudyReport, opts: { results?: boolean } = {}): Promise<string> {
  const [{ renderReportMarkdown, renderReportHtml }, { writeFileAtomic }] = await Promise.all([import('../report/render.js'), import('../io/dir.js')]);
  mkdirSync(dir, { recursive: true });
  if (opts.results) writeFileAtomic(join(dir, 'results.json'), `${JSON.stringify(report, null, 1)}\n`);
  writeFileAtomic(join(dir, 'report.md'), renderReportMarkdown(report));
  writeFileAtomic(join(dir, 'report.html'), await renderReportHtml(report));
  return join(dir, 'report.html');
}


/**
 * `alcli report RUN`: the study page for one run: its curves, its test metrics (evaluate on the
 * test split, best checkpoint), parameters and GFLOP at the first test image's size, and an overlay
 * grid of the first `overlays` test images (predicted into a temporary folder). `exportDir`, an
 * export of the run, adds its MODEL_CARD.md as notes. No timing: `alcli bench EXPORT_DIR` times an export.
 */
export async function runReport(runDir: string, opts: { overlays?: number; exportDir?: string } = {}): Promise<StudyReport> {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const [{ evaluateRun, openRun }, { scanDataset }] = await Promise.all([import('../train/trained.js'), import('../train/dataset.js')]);
  const opened = await openRun(runDir);
  const test = await evaluateRun(opened, { split: 'test' });
  const scan = await scanDataset(opened.info.data.dir, { need: ['test'], seed: opened.info.data.split_seed, invertMask: opened.info.data.invert_mask, maskThreshold: opened.info.data.mask_threshold });
  const tests = scan.dataset?.samples.filter((s) => s.split === 'test') ?? [];
  const size: [number, number] = tests.length ? [tests[0].height, tests[0].width] : opened.compiled.graph.input.size;
  const name = opened.compiled.graph.name;
  const scratch = mkdtempSync(join(tmpdir(), 'alcli-report-'));
  let overlays: Overlay[];
  try {
    overlays = await overlayGrid(tests.slice(0, opts.overlays ?? 4), [{ name, dir: runDir }], scratch);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const card = opts.exportDir && existsSync(join(opts.exportDir, 'MODEL_CARD.md')) ? readFileSync(join(opts.exportDir, 'MODEL_CARD.md'), 'utf8').split('\n') : undefined;
  return {
    title: `${name}: ${runDir}`,
    source: runDir,
    protocol: `one run of ${opened.info.spec.source} on ${opened.info.data.dir}; test split, ${opened.name} checkpoint (epoch ${test.epoch})`,
    datasets: [{ name: opened.info.data.dir, timingSize: size, networks: [{ name, spec: opened.info.spec.source, ...networkStats(join(runDir, 'spec.resolved.yaml'), [], size), timing: [], runs: [runResult('run', runDir, test)] }], overlays }],
    ...(card ? { notes: card } : {}),
  };
}
