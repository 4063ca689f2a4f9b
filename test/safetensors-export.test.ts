// Weights out and back in: `alcli export --format safetensors` (training form, and --deploy) read
// back with the `alcli` map gives the same weights bit for bit; every architecture has one PyTorch
// name per weight; `train --init` (library: trainRun's init, spec train.init) starts from the file,
// reports it in the log and run.json, and refuses a file that does not fit before writing anything.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildExport, exportArtifacts, EXPORT_BATCH } from '../src/export/export.js';
import { NAMES_FILE, SAFETENSORS_FILE, safetensorsExport } from '../src/export/safetensors.js';
import { compile } from '../src/frontend/compile.js';
import { readSafetensors, writeSafetensors } from '../src/ir/safetensors.js';
import { torchNames } from '../src/ir/torch-names.js';
import { initWeights, randomizeBatchNorm, type WeightStore } from '../src/ir/weights.js';
import { loadTf } from '../src/runtime/backend.js';
import { BadOptionsError } from '../src/train/errors.js';
import { initFromFile } from '../src/train/init/init.js';
import { RunDir, fsRunHost } from '../src/train/run.js';
import { trainRun } from '../src/train/session.js';
import { syntheticDataset } from '../src/train/synthetic.js';
import { fsHost, tinySpec, writeDataset } from './helpers.js';

const scratch = mkdtempSync(join(tmpdir(), 'alcli-safetensors-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));
const specPath = join(scratch, 'tiny.yaml');
writeFileSync(specPath, tinySpec({ epochs: 1, deep: false }));
const c = compile(specPath, fsHost).compiled!;
const { tf } = await loadTf('wasm');

const bits = (x: Float32Array) => [...new Uint32Array(x.buffer, x.byteOffset, x.length)];
const bitEqual = (a: WeightStore, b: WeightStore) => {
  assert.equal([...a.keys()].sort(), [...b.keys()].sort());
  for (const [k, t] of a) assert.equal(bits(b.get(k)!.data), bits(t.data), k);
};

test('export safetensors -> import with map alcli: the same weights, bit for bit; names.json names each', async () => {
  const weights = randomizeBatchNorm(c.graph, initWeights(c.graph, 7));
  const build = await buildExport(tf, c, weights, { formats: ['safetensors'], opset: 17, seed: 0, batch: EXPORT_BATCH, normalize: null, threshold: 0.5, tolerance: 1e-4 });
  const path = join(scratch, 'rt.safetensors');
  writeFileSync(path, build.files.get(SAFETENSORS_FILE) as Uint8Array);
  const { weights: back, report } = initFromFile(c.graph, new Map(), { from: path, map: 'alcli' });
  bitEqual(weights, back);
  assert.equal([report.mapped.length, report.unmapped_in_file, report.unmapped_in_network, report.notes], [12, [], [], []]);
  const names = JSON.parse(build.files.get(NAMES_FILE) as string) as Record<string, string>;
  assert.equal([names['c1.weight'], names['b1.running_var'], names['head.bias']], ['c1:kernel', 'b1:variance', 'head:bias']);
  const file = readSafetensors(readFileSync(path));
  assert.equal([file.tensors.get('c1.weight')!.shape, file.metadata.form, file.metadata.layout], [[8, 1, 3, 3], 'training', 'OIHW']);
});

const forms: [string, boolean, string[]][] = [
  ['training form', false, ['b1.running_mean', 'c1.weight']],
  ['deploy form (--deploy)', true, ['c1.bias', 'c1.weight']],
];
for (const [name, deploy, has] of forms)
  test(`alcli export --format safetensors, ${name}: written, read back and run, the check passes`, async () => {
    const out = join(scratch, `export-${deploy}`);
    const res = await exportArtifacts(specPath, { output: out, formats: ['safetensors'], opset: 17, seed: 0, tolerance: 1e-4, backend: 'wasm', deploy });
    assert.ok(res.ok);
    assert.equal(readdirSync(out).sort(), ['MODEL_CARD.md', NAMES_FILE, 'verify.json', SAFETENSORS_FILE]);
    const stage = res.verify.checks.find((k) => k.stage.startsWith('safetensors'))!;
    assert.ok(stage.pass && stage.maxAbs <= 1e-4, stage.stage);
    assert.match(stage.stage, deploy ? /deploy form/ : /training form/);
    const names = Object.keys(JSON.parse(readFileSync(join(out, NAMES_FILE), 'utf8')));
    for (const n of has) assert.ok(names.includes(n), n);
    assert.is(names.some((n) => n.startsWith('b1.')), !deploy, 'BN folded away in the deploy form only');
  });

const twinCases: [string, string, RegExp | undefined][] = [
  ['alnet.yaml', 'twin', undefined],
  ['alnet-resnet34.yaml', 'twin', /the names of map twin do not cover 180 weights of alnet-resnet34 \(training form\), e\.g\. 'e1\/conv:kernel'/],
];
for (const [file, names, error] of twinCases)
  test(`safetensors export of ${file} with the ${names} names: ${error ? 'refused' : "the twin's state_dict names (num_batches_tracked too), read back bit for bit"}`, () => {
    const g = compile(`architectures/${file}`, fsHost, { size: [64, 64] }).compiled!.graph;
    if (error) {
      try {
        // the names are checked before the weights: none needed
        safetensorsExport(g, new Map(), 'training', 'twin');
        assert.unreachable('exported');
      } catch (e) {
        assert.instance(e, BadOptionsError);
        assert.match((e as Error).message, error);
      }
      return;
    }
    const w = randomizeBatchNorm(g, initWeights(g, 3));
    const out = safetensorsExport(g, w, 'training', 'twin');
    const t = readSafetensors(out.bytes).tensors;
    // 312 weights + 65 BatchNorms' step counters: the twin's state_dict has 377 entries
    assert.equal([t.size, t.get('stages.3.13.identity.num_batches_tracked')?.dtype, t.get('stages.0.0.dense.conv.weight')?.shape, out.names['f3.bn.running_var']], [377, 'I64', [32, 3, 3, 3], 'f3/cbr/bn:variance']);
    const path = join(scratch, 'twin-names.safetensors');
    writeFileSync(path, out.bytes);
    const back = initFromFile(g, new Map(), { from: path, map: 'twin' });
    bitEqual(w, back.weights);
    assert.is(back.report.ignored.length, 65);
  });

test('every architecture has one PyTorch name per weight, each ending in a PyTorch parameter name', () => {
  for (const file of readdirSync('architectures').filter((f) => f.endsWith('.yaml'))) {
    const g = compile(`architectures/${file}`, fsHost, { size: file === 'cenet.yaml' ? [192, 192] : [128, 128] }).compiled!.graph;
    const names = [...torchNames(g).values()];
    assert.is(new Set(names).size, names.length, file);
    assert.ok(names.every((n) => /\.(weight|bias|running_mean|running_var)$/.test(n)), file);
  }
});

// ---- train --init (the library's trainRun) -------------------------------------------------------
const dataDir = join(scratch, 'data');
await writeDataset(dataDir, syntheticDataset(1, { count: 4, size: 32, channels: 1 }));
/** tiny's weights as a safetensors file with alcli names, seeded */
const start = randomizeBatchNorm(c.graph, initWeights(c.graph, 11));
const startFile = join(scratch, 'start.safetensors');
writeFileSync(startFile, (await buildExport(tf, c, start, { formats: ['safetensors'], opset: 17, seed: 0, batch: EXPORT_BATCH, normalize: null, threshold: 0.5, tolerance: 1e-4 })).files.get(SAFETENSORS_FILE) as Uint8Array);

const inits: [string, (out: string) => Parameters<typeof trainRun>[0]][] = [
  ['--init FILE --init-map alcli', (out) => ({ spec: specPath, data: dataDir, out, set: ['train.lr=1e-9'], engine: 'tfjs', backend: 'wasm', init: { from: startFile, map: 'alcli' } })],
  ['the spec\'s train.init (paths relative to the spec)', (out) => ({ spec: specPath, data: dataDir, out, set: ['train.lr=1e-9', 'train.init.from=start.safetensors', 'train.init.map=alcli'], engine: 'tfjs', backend: 'wasm' })],
];
for (const [name, opts] of inits)
  test(`train with ${name}: starts from the file, says so, and run.json keeps the report`, async () => {
    const out = join(scratch, `run-${name.length}`);
    const lines: string[] = [];
    await trainRun(opts(out), { log: (l) => lines.push(l) });
    assert.match(lines.join('\n'), /init: 12 tensors from .*start\.safetensors \(safetensors, map alcli\)/);
    const run = new RunDir(fsRunHost(out));
    assert.equal(run.readInfo()!.init!.mapped.length, 12);
    // lr 1e-9: one epoch moves a kernel by a few 1e-9 at most, so it is still the file's
    const k = run.readCheckpoint('last').weights.get('c2:kernel')!.data;
    const want = start.get('c2:kernel')!.data;
    assert.ok(k.every((v, i) => Math.abs(v - want[i]) < 1e-6), 'c2:kernel is the file\'s');
  });

test('train --init with a file that does not fit: BadOptionsError naming both sides, no run folder', async () => {
  const bad = join(scratch, 'bad.safetensors');
  const t = readSafetensors(readFileSync(startFile)).tensors;
  t.set('c2.weight', { dtype: 'F32', shape: [4, 8, 3, 3], data: new Float32Array(288) });
  writeFileSync(bad, writeSafetensors([...t].map(([k, v]) => [k, { shape: v.shape, data: v.data }])));
  const out = join(scratch, 'never');
  try {
    await trainRun({ spec: specPath, data: dataDir, out, engine: 'tfjs', backend: 'wasm', init: { from: bad, map: 'alcli' } });
    assert.unreachable('trained');
  } catch (e) {
    assert.instance(e, BadOptionsError);
    assert.match((e as Error).message, /file 'c2\.weight' is 4x8x3x3, network 'c2:kernel' needs 8x8x3x3 \(OIHW\)/);
  }
  assert.not.ok(existsSync(out));
});

test.run();
