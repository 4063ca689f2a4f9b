// Inference benchmark (npm run bench): alnet at 512x512, batch 1, in one sitting on this machine:
// alcli's four engines (TF.js executor in both forms, TF.js graph model, ONNX Runtime) beside the
// PyTorch twin (../shared/peers/alnet_torch.py: PyTorch deploy and training form, and its own
// torch.onnx export run in the same ONNX Runtime). The peer parts run only where python3-torch is.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchInfer, benchOnnxFile } from '../src/bench/infer.js';
import { fileSpecHost as fsHost } from '../src/frontend/load.js';
import { compile } from '../src/frontend/compile.js';
import { exportWeightsFromSpec } from '../src/export/export.js';
import { loadTf } from '../src/runtime/backend.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const opts = { batch: 1, warmup: 3, runs: RUNS, threads: 2 };
const PEER = '../shared/peers/alnet_torch.py';
const OPENBLAS = '/usr/lib/x86_64-linux-gnu/openblas-openmp';

const c = compile('architectures/alnet.yaml', fsHost, { size: [512, 512] }).compiled!;
const { tf, backend } = await loadTf('auto');
const weights = await exportWeightsFromSpec(tf, c, 0, 2);
const ours = await benchInfer(tf, c, weights, backend, opts);
const rows: [string, number][] = ours.map((t) => [`alcli: ${t.engine}, ${t.form} form`, t.median_ms]);

const python = '/usr/bin/python3';
const hasTorch = existsSync(PEER) && spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
if (hasTorch) {
  const env = { ...process.env, ...(existsSync(OPENBLAS) ? { LD_LIBRARY_PATH: OPENBLAS } : {}) };
  const peer = (args: string[]) => {
    const r = spawnSync(python, [PEER, ...args], { encoding: 'utf8', env });
    if (r.status !== 0) throw new Error(`${PEER} ${args.join(' ')}: ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  };
  for (const form of ['deploy', 'train']) {
    const p = peer(['infer', '--form', form, '--hw', '512', '--batch', '1', '--threads', '2', '--runs', String(RUNS)]);
    rows.push([`PyTorch ${p.torch} twin, ${form} form (2 threads)`, p.median_ms]);
  }
  const dir = mkdtempSync(join(tmpdir(), 'alcli-bench-'));
  try {
    peer(['check', '--onnx', join(dir, 'peer.onnx')]);
    const m = await benchOnnxFile(readFileSync(join(dir, 'peer.onnx')), [1, 3, 512, 512], opts);
    rows.push(['PyTorch twin\'s torch.onnx export in ONNX Runtime (2 threads)', m.median]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const ms = (label: string) => rows.find(([l]) => l.includes(label))?.[1];
console.log(`# Inference, alnet.yaml at 512x512, batch 1\n`);
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}; TF.js backend ${backend}; medians of ${RUNS} runs after 3 warm-up runs\n`);
console.log('| engine | ms per image |\n|---|---:|');
for (const [l, v] of rows) console.log(`| ${l} | ${v.toFixed(1)} |`);
const ratio = (a?: number, b?: number) => (a && b ? `${(a / b).toFixed(2)}x` : 'n/a (no python3-torch)');
const ort = ms('alcli: ONNX Runtime');
console.log(`
- deploy vs training form on the TF.js executor: ${ratio(ms('TF.js executor (' + backend + '), train'), ms('TF.js executor (' + backend + '), deploy'))} faster (target 1.35x)
- alcli's ONNX vs the twin's torch.onnx export, both in ONNX Runtime: ${ratio(ms("torch.onnx export"), ort)} (>= 1.00x: at least as fast)
- alcli's ONNX in ONNX Runtime vs the twin in PyTorch (deploy): ${ratio(ms('twin, deploy'), ort)} faster
- TF.js graph model vs the executor's deploy form: ${ratio(ms('TF.js graph model'), ms('TF.js executor (' + backend + '), deploy'))} of its time (target <= 1.5x)
- for reference, PyTorch's own deploy vs training form: ${ratio(ms('twin, train'), ms('twin, deploy'))}`);
