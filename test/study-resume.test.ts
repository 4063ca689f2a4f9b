// `alcli study` killed with -9 twice at random moments and run again finishes with the same numbers
// as an uninterrupted study (a tiny study on synthetic data: two specs, two folds), and --dry-run
// lists the runs with their state; alcli report renders one of its runs. Spawns the built CLI (npm run build).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { syntheticDataset } from '../src/train/synthetic.js';
import { tinySpec, writeDataset } from './helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'run.js');
const scratch = mkdtempSync(join(tmpdir(), 'alcli-study-resume-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));

writeFileSync(join(scratch, 'tiny.yaml'), tinySpec({ epochs: 2, deep: false }));
writeFileSync(join(scratch, 'deep.yaml'), tinySpec({ epochs: 2, deep: true }));
await writeDataset(join(scratch, 'data'), syntheticDataset(5, { count: 10, size: 40, channels: 1 }));
const STUDY = join(scratch, 'study.yaml');
writeFileSync(
  STUDY,
  ['name: tiny study', 'specs: [{path: tiny.yaml, name: Tiny}, {path: deep.yaml, name: Deep}]', 'datasets: [{path: data, name: Synthetic}]', 'protocol: {train: {epochs: 3}, seeds: [0], folds: 2}', 'deploy: {precisions: [fp32], runs: 2, overlays: 1}', ''].join('\n'),
);

// the same runs, deployed at int8 too (calibrated and gated by alcli export)
const STUDY_INT8 = join(scratch, 'study-int8.yaml');
writeFileSync(STUDY_INT8, readFileSync(STUDY, 'utf8').replace('precisions: [fp32]', 'precisions: [fp32, int8]'));

const study = (out: string, ...extra: string[]) => spawnSync(process.execPath, [BIN, 'study', STUDY, '--out', out, ...extra], { encoding: 'utf8', cwd: scratch });

/** What must not change with interruptions: every run's curves and test metrics, the networks' sizes. */
const numbers = (out: string) => {
  const r = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { datasets: { networks: { name: string; params: unknown; gflop: number; runs: unknown[] }[] }[] };
  return r.datasets.map((d) => d.networks.map((n) => ({ name: n.name, params: n.params, gflop: n.gflop, runs: n.runs })));
};

test('--dry-run lists every (dataset, spec, fold, seed) run, new, with its cost; --json too', () => {
  const r = study(join(scratch, 'dry'), '--dry-run', '--json');
  assert.is(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { runs: { spec: string; run: string; state: string; steps: number; tflop: number }[] };
  assert.equal(j.runs.map((x) => `${x.spec}/${x.run}/${x.state}`), ['Tiny/fold0-seed0/new', 'Tiny/fold1-seed0/new', 'Deep/fold0-seed0/new', 'Deep/fold1-seed0/new']);
  assert.ok(j.runs.every((x) => x.steps > 0 && x.tflop > 0));
  assert.ok(j.runs[2].tflop > j.runs[0].tflop, 'the deeper network costs more');
});

test('a study killed with -9 twice at random moments, then run again, ends with the numbers of an uninterrupted one', async () => {
  const whole = join(scratch, 'whole');
  const t0 = Date.now();
  const a = study(whole);
  assert.is(a.status, 0, a.stderr);
  const took = Date.now() - t0;
  for (const f of ['report.md', 'report.html', 'results.json']) assert.ok(readFileSync(join(whole, f)).length > 0, f);
  // every network's deployed model.onnx timed, at the dataset's image size
  const timed = JSON.parse(readFileSync(join(whole, 'results.json'), 'utf8')) as { datasets: { networks: { name: string; timing: { precision: string; file: string; ms: number }[] }[] }[] };
  assert.equal(timed.datasets[0].networks.map((n) => n.timing.map((t) => `${n.name} ${t.precision} ${t.file}`)), [['Tiny fp32 exports/Synthetic/Tiny/model.onnx'], ['Deep fp32 exports/Synthetic/Deep/model.onnx']]);
  assert.ok(timed.datasets[0].networks.every((n) => n.timing[0].ms > 0));

  const cut = join(scratch, 'cut');
  const kills: number[] = [];
  for (let k = 0; k < 2; k++) {
    // somewhere in the first 80 % of an uninterrupted study's time
    const after = Math.round((0.1 + 0.7 * Math.random()) * took);
    kills.push(after);
    const child = spawn(process.execPath, [BIN, 'study', STUDY, '--out', cut], { cwd: scratch, stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), after);
    await new Promise((res) => child.on('exit', res));
    clearTimeout(timer);
  }
  const b = study(cut);
  assert.is(b.status, 0, `killed after ${kills.join(' and ')} ms: ${b.stderr}`);
  assert.equal(numbers(cut), numbers(whole), `killed after ${kills.join(' and ')} ms`);
  // and a finished study has nothing left to do
  const again = study(cut, '--dry-run', '--json');
  assert.ok((JSON.parse(again.stdout) as { runs: { state: string }[] }).runs.every((x) => x.state === 'done'));
});

test('int8 added to a finished study: exported, and every model timed again together; the runs untouched', () => {
  const whole = join(scratch, 'whole');
  const before = numbers(whole);
  const r = spawnSync(process.execPath, [BIN, 'study', STUDY_INT8, '--out', whole], { encoding: 'utf8', cwd: scratch });
  assert.is(r.status, 0, r.stderr);
  assert.not.match(r.stderr, /training|evaluating/);
  assert.match(r.stderr, /timing Synthetic at 40x40: 4 models \(fp32, int8\)/);
  const res = JSON.parse(readFileSync(join(whole, 'results.json'), 'utf8')) as { datasets: { networks: { name: string; timing: { precision: string }[]; refused?: { precision: string }[] }[] }[] };
  // each precision timed, or refused by the export gate
  assert.equal(res.datasets[0].networks.map((n) => [...n.timing.map((t) => t.precision), ...(n.refused ?? []).map((x) => x.precision)].sort()), [['fp32', 'int8'], ['fp32', 'int8']]);
  assert.equal(numbers(whole), before);
});

test('--jobs 2: runs side by side (one ONNX Runtime thread each on 2 cores) give the numbers of one after another', () => {
  const jobs = join(scratch, 'jobs');
  const r = study(jobs, '--jobs', '2');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stderr, /\[2\/4\] Synthetic \/ Tiny \/ fold1-seed0: epoch 3\/3 /);
  // one thread instead of two sums in another order: equal to float rounding, not bit for bit
  const far = differences(numbers(jobs), numbers(join(scratch, 'whole')), 1e-5);
  assert.equal(far, [], far.join('\n'));
});

/** Paths where two JSON values differ: structure, strings, or numbers by more than `tol` (absolute). */
function differences(a: unknown, b: unknown, tol: number, path = ''): string[] {
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) <= tol ? [] : [`${path}: ${a} vs ${b}`];
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    return keys.flatMap((k) => differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], tol, `${path}.${k}`));
  }
  return a === b ? [] : [`${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`];
}

test('alcli report RUN: one run of the study as report.md and report.html, with the test metrics the study recorded', () => {
  const run = join(scratch, 'whole', 'runs', 'Synthetic', 'Tiny', 'fold0-seed0');
  const out = join(scratch, 'single');
  const r = spawnSync(process.execPath, [BIN, 'report', run, '--out', out, '--overlays', '1', '--json'], { encoding: 'utf8', cwd: scratch });
  assert.is(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { results: { datasets: { networks: { runs: { test: { iou: number }[] }[] }[] }[] } };
  const recorded = JSON.parse(readFileSync(join(run, 'test.json'), 'utf8')) as { perImage: { metrics: { iou: number } }[] };
  assert.equal(j.results.datasets[0].networks[0].runs[0].test.map((t) => t.iou), recorded.perImage.map((p) => p.metrics.iou));
  const md = readFileSync(join(out, 'report.md'), 'utf8');
  assert.ok(md.includes('| Network |'), md);
  assert.ok(readFileSync(join(out, 'report.html'), 'utf8').includes('<svg'));
  const bad = spawnSync(process.execPath, [BIN, 'report', join(scratch, 'no-such-run'), '--out', join(scratch, 'bad')], { encoding: 'utf8', cwd: scratch });
  assert.is(bad.status, 2, bad.stderr);
});

test.run();
