// The study's results as the report's data (src/report/types.ts): per dataset, per network, its
// runs' curves (metrics.csv) and test metrics (test.json), parameters and GFLOP, the timings, and
// an overlay grid of the first test images (thumbnails as data: URLs, so report.html is one file).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import sharp from 'sharp';
import type { DatasetResult, EpochRow, NetworkResult, Overlay, RunResult, StudyReport } from '../report/types.js';
import { fsRunHost, RunDir } from '../train/run.js';
import { predictImages } from '../train/trained.js';
import { exportDir, networkStats, readTest, slug, timeDataset, type PlannedRun, type StudyHooks, type StudyPlan } from './run-study.js';

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

/** A run's epochs (metrics.csv) and test metrics (test.json) in the report's rows. */
export function runResult(plan: StudyPlan, r: PlannedRun): RunResult {
  const epochs: EpochRow[] = new RunDir(fsRunHost(r.dir)).readMetrics().map((m) => ({ epoch: m.epoch, train_loss: m.train_loss, val_loss: m.val_loss, val_iou: m.val_iou }));
  const test = readTest(r).perImage.map((p) => ({ image: p.id, accuracy: p.metrics.accuracy, iou: p.metrics.iou, dice: p.metrics.dice, auc: Number.isFinite(p.metrics.auc) ? p.metrics.auc : null }));
  return { id: r.id, dir: relative(plan.out, r.dir), epochs, test };
}

/** Predicted masks of the first `n` test images by each network's first run, as thumbnails beside the image and its truth. */
async function overlays(plan: StudyPlan, datasetName: string, n: number): Promise<Overlay[]> {
  const ds = plan.datasets.get(datasetName)!;
  const tests = ds.samples.filter((s) => s.split === 'test').slice(0, n);
  if (!tests.length) return [];
  const grid: Overlay[] = [];
  for (const s of tests) {
    const input = await thumbnail(s.image.path);
    const truth = await thumbnail(s.mask.path, THUMB_WIDTH, true);
    if (input && truth) grid.push({ image: s.id, input, truth, predictions: {} });
  }
  for (const spec of plan.study.specs) {
    const first = plan.runs.find((r) => r.dataset.name === datasetName && r.spec === spec)!;
    const out = join(plan.out, 'overlays', slug(datasetName), slug(spec.name));
    mkdirSync(out, { recursive: true });
    const predicted = await predictImages(first.dir, { images: tests.map((s) => s.image.path), out });
    for (const [i, p] of predicted.images.entries()) {
      const row = grid.find((g) => g.image === tests[i]?.id);
      const file = p.mask ?? p.label;
      const thumb = row && file ? await thumbnail(join(out, file), THUMB_WIDTH, true) : undefined;
      if (row && thumb) row.predictions[spec.name] = thumb;
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
      const stats = networkStats(join(runs[0].dir, 'spec.resolved.yaml'), [], size.map((v, i) => v) as [number, number]);
      return {
        name: spec.name,
        spec: relative(plan.out, spec.path),
        ...stats,
        timing: (timing?.rows ?? []).filter((t) => t.spec === spec.name).map((t) => ({ precision: t.precision, file: t.file, ms: t.ms, bytes: t.bytes })),
        runs: runs.map((r) => runResult(plan, r)),
      };
    });
    datasets.push({ name: dataset.name, timingSize: size, networks, overlays: await overlays(plan, dataset.name, plan.study.deploy.overlays) });
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

/** results.json: the report's data, for other tools. */
export const readResults = (out: string): StudyReport => JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as StudyReport;
