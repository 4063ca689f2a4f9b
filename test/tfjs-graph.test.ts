// The TF.js graph-model emitter: every op's lowering, loaded from disk by tf.loadGraphModel through
// the fs IO handler, computes what the executor computes (1e-5), at the compiled size and at
// another; every network in architectures/ does too in its deploy form; every TF op emitted is one
// tfjs-converter can run; and a tiny spec's topology is pinned by a golden file
// (regenerate: UPDATE_GOLDEN=1 node --import tsx test/tfjs-graph.test.ts).
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Tensor } from '@tensorflow/tfjs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile } from '../src/frontend/compile.js';
import { emitTfjsGraphModel, SHARD_BYTES, tfjsGraphFiles, type TfjsGraphModel } from '../src/emit/tfjs-graph.js';
import { TFJS_GRAPH_OPS } from '../src/emit/tfjs-graph-ops.js';
import type { IrGraph } from '../src/ir/graph.js';
import { OP_KINDS } from '../src/ir/ops.js';
import { deployForm } from '../src/passes/pipeline.js';
import { loadTf, type TF } from '../src/runtime/backend.js';
import { graphModelHandler, loadGraphModelFromFiles } from '../src/runtime/tfjs-graph-io.js';
import { calibratedWeights, compareOutputs, randomInput, runForm, type Comparison } from '../src/runtime/verify.js';
import { initWeights, randomizeBatchNorm, type WeightStore } from '../src/ir/weights.js';
import { fsHost, matchGolden, memHost } from './helpers.js';

let tf: TF;
test.before(async () => {
  tf = (await loadTf('wasm')).tf;
});

/** The TF ops tfjs-converter maps: its op_list tables, read from the installed package. */
function converterOps(): Set<string> {
  const root = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-converter/package.json'));
  const dir = join(root, 'dist/operations/op_list');
  const ops = new Set<string>();
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.js')))
    for (const m of readFileSync(join(dir, f), 'utf8').matchAll(/'tfOpName':\s*'(\w+)'/g)) ops.add(m[1]);
  return ops;
}
const SUPPORTED = converterOps();
const emitted = new Set<string>();
const unsupported = (m: TfjsGraphModel) => [...new Set(m.modelJson.modelTopology.node.map((n) => n.op))].filter((op) => !SUPPORTED.has(op));

/** Writes the model's files to a fresh directory, loads them back and runs the batch. */
async function runGraphModel(m: TfjsGraphModel, input: Float32Array, shape: [number, number, number, number]): Promise<Float32Array> {
  const dir = mkdtempSync(join(tmpdir(), 'alcli-tfjs-'));
  try {
    for (const [p, bytes] of tfjsGraphFiles(m)) writeFileSync(join(dir, p), bytes);
    const model = await loadGraphModelFromFiles(tf, dir);
    const x = tf.tensor4d(input, shape);
    const y = model.execute(x) as Tensor;
    const dims = m.modelJson.signature.outputs.logits.tensorShape.dim!.map((d) => Number(d.size));
    assert.equal(y.shape, dims.map((d, i) => (d === -1 ? y.shape[i] : d)), 'output shape agrees with the signature');
    assert.equal(model.outputNodes, ['logits']);
    assert.equal(model.inputNodes, ['input']);
    const data = (await y.data()) as Float32Array;
    tf.dispose([x, y]);
    model.dispose();
    return data;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const spec = (channels: number, [h, w]: [number, number], classes: number, graph: string) =>
  `alcli: 1\nname: t\ninput: {channels: ${channels}, size: [${h}, ${w}]}\noutput: {classes: ${classes}}\ngraph:\n${graph}\n`;

function compileGraph(channels: number, size: [number, number], classes: number, graph: string): IrGraph {
  const r = compile('t.yaml', memHost({ 't.yaml': spec(channels, size, classes, graph) }));
  if (!r.compiled) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.compiled.graph;
}

interface OpCase {
  name: string;
  graph: string;
  classes: number;
  /** other input sizes the same model must run at (the graph reads spatial sizes at run time) */
  sizes?: [number, number][];
}

const C = 4;
const SIZE: [number, number] = [12, 12];
const cases: OpCase[] = [
  { name: 'conv 3x3, groups 2 (split, conv per group, concat), bias', graph: '  a: {op: conv, in: input, out: 6, kernel: 3, groups: 2, bias: true}', classes: 6, sizes: [[8, 20]] },
  { name: 'depthwise conv (groups = channels, multiplier 2), stride 2', graph: '  a: {op: conv, in: input, out: 8, kernel: 3, groups: 4, stride: 2}', classes: 8, sizes: [[8, 20]] },
  { name: 'conv dilation 2', graph: '  a: {op: conv, in: input, out: 5, kernel: 3, dilation: 2}', classes: 5, sizes: [[9, 14]] },
  { name: 'conv stride 2 and dilation 2 (dense, then strided slice), and its depthwise twin', graph: '  a: {op: conv, in: input, out: 4, kernel: 3, stride: 2, dilation: 2, bias: true}\n  b: {op: conv, in: input, out: 4, kernel: 3, stride: 2, dilation: 2, groups: 4}\n  s: {op: add, in: [a, b]}', classes: 4, sizes: [[10, 16]] },
  { name: '1x3 and 3x1 kernels, stride [1, 2], explicit pad', graph: '  a: {op: conv, in: input, out: 3, kernel: [1, 3], stride: [1, 2]}\n  b: {op: conv, in: input, out: 3, kernel: [3, 1], stride: [1, 2], pad: [1, 0]}\n  s: {op: add, in: [a, b]}', classes: 3, sizes: [[7, 10]] },
  { name: 'conv_transpose k3 s2 pad 1 output_pad 1', graph: '  a: {op: conv_transpose, in: input, out: 5, kernel: 3, stride: 2, pad: 1, output_pad: 1}', classes: 5, sizes: [[5, 9]] },
  { name: 'conv_transpose k4 s2 pad 1, no bias', graph: '  a: {op: conv_transpose, in: input, out: 3, kernel: 4, stride: 2, pad: 1, bias: false}', classes: 3, sizes: [[6, 3]] },
  { name: 'conv_transpose k3 s3 pad [1, 0] output_pad [2, 1] (rows past the full output are zeros)', graph: '  a: {op: conv_transpose, in: input, out: 2, kernel: 3, stride: 3, pad: [1, 0], output_pad: [2, 1]}', classes: 2, sizes: [[4, 7]] },
  {
    name: 'bn, relu, relu6, sigmoid, hsigmoid, add of 3 (AddN) and of 2',
    graph: '  a: {op: bn, in: input}\n  b: {op: relu}\n  c: {op: relu6, in: a}\n  d: {op: sigmoid, in: a}\n  e: {op: hsigmoid, in: a}\n  s: {op: add, in: [b, d, e]}\n  t: {op: add, in: [s, c]}',
    classes: 4,
    sizes: [[5, 7]],
  },
  {
    name: 'attention: mul broadcast from a global pool, concat',
    graph: '  g: {op: global_avgpool, in: input}\n  f: {op: conv, out: 4, kernel: 1, bias: true}\n  h: {op: hsigmoid}\n  m: {op: mul, in: [input, h]}\n  k: {op: concat, in: [m, input]}',
    classes: 8,
    sizes: [[7, 9]],
  },
  {
    name: 'resize by scale (bilinear, nearest) and like another node',
    graph: '  p: {op: maxpool, in: input, kernel: 2}\n  u: {op: resize, scale: 2}\n  n: {op: resize, in: p, scale: 2, mode: nearest}\n  l: {op: resize, in: p, like: input}\n  m: {op: resize, in: p, like: u, mode: nearest}\n  k: {op: concat, in: [u, n, l, m]}',
    classes: 16,
    sizes: [[8, 20]],
  },
  { name: 'resize to a fixed size (bilinear, nearest): the input size is pinned', graph: '  a: {op: resize, in: input, size: [7, 17]}\n  b: {op: resize, in: input, size: [7, 17], mode: nearest}\n  k: {op: concat, in: [a, b]}', classes: 8 },
  {
    name: 'maxpool and avgpool padded (k3 s2 p1), maxpool k2 unpadded',
    graph: '  a: {op: maxpool, in: input, kernel: 3, stride: 2, pad: 1}\n  b: {op: avgpool, in: input, kernel: 3, stride: 2, pad: 1}\n  c: {op: maxpool, in: input, kernel: 2}\n  s: {op: add, in: [a, b, c]}',
    classes: 4,
    sizes: [[8, 14]],
  },
  { name: 'dropout and identity', graph: '  a: {op: conv, in: input, out: 4, kernel: 3}\n  d: {op: dropout, rate: 0.5}\n  i: {op: identity}', classes: 4, sizes: [[5, 5]] },
];

test('the cases cover every op', () => {
  const ops = new Set(cases.flatMap((c) => compileGraph(C, SIZE, c.classes, c.graph).nodes.map((n) => n.op)));
  assert.equal(OP_KINDS.filter((k) => !ops.has(k)), []);
});

test("every TF op the lowering table lists is in tfjs-converter's op list", () => {
  assert.ok(SUPPORTED.size > 100, `read ${SUPPORTED.size} ops from tfjs-converter`);
  assert.equal(TFJS_GRAPH_OPS.filter((op) => !SUPPORTED.has(op)), []);
});

for (const c of cases) {
  test(`${c.name}: graph model = executor (1e-5)`, async () => {
    for (const [k, size] of [SIZE, ...(c.sizes ?? [])].entries()) {
      const g = compileGraph(C, size, c.classes, c.graph);
      const w = randomizeBatchNorm(g, initWeights(g, 2), 3);
      // the model is emitted once, at the spec's size; other sizes run the same weights
      const m = emitTfjsGraphModel(compileGraph(C, SIZE, c.classes, c.graph), w);
      m.modelJson.modelTopology.node.forEach((n) => emitted.add(n.op));
      assert.equal(unsupported(m), []);
      const shape: [number, number, number, number] = [2, size[0], size[1], C];
      const x = randomInput(shape, 4 + k);
      const cmp = compareOutputs(await runForm(tf, g, w, x, shape), await runGraphModel(m, x, shape));
      assert.ok(cmp.maxAbs <= 1e-5, `${size.join('x')}: ${JSON.stringify(cmp)}`);
    }
  });
}

test('weights are cut into shards as tfjs-converter cuts them (across tensors)', async () => {
  const c = cases[0];
  const g = compileGraph(C, SIZE, c.classes, c.graph);
  const w = initWeights(g, 5);
  const m = emitTfjsGraphModel(g, w, { shardBytes: 100 });
  const files = tfjsGraphFiles(m);
  const paths = m.modelJson.weightsManifest[0].paths;
  assert.equal(paths, Array.from({ length: paths.length }, (_, i) => `group1-shard${i + 1}of${paths.length}.bin`));
  assert.ok(paths.length > 2);
  assert.equal(paths.map((p) => files.get(p)!.length).slice(0, -1), Array(paths.length - 1).fill(100));
  const shape: [number, number, number, number] = [1, ...SIZE, C];
  const x = randomInput(shape, 6);
  assert.equal(await runGraphModel(m, x, shape), await runForm(tf, g, w, x, shape));
});

test('the model names its input and output and carries what a runner needs', () => {
  const g = compileGraph(C, SIZE, 4, cases[0].graph.replace('out: 6', 'out: 4'));
  const { modelJson } = emitTfjsGraphModel(g, initWeights(g, 0), { generatedBy: 'alcli test' });
  assert.is(modelJson.format, 'graph-model');
  assert.is(modelJson.convertedBy, 'alcli');
  assert.is(modelJson.generatedBy, 'alcli test');
  assert.equal(Object.keys(modelJson.signature.inputs), ['input']);
  assert.equal(modelJson.signature.outputs.logits.name, 'a:0');
  assert.equal(modelJson.userDefinedMetadata.alcli, { name: 't', input: { channels: 4, size: [12, 12] }, fixedSize: false, output: { classes: 4, activation: 'sigmoid' } });
  assert.throws(() => emitTfjsGraphModel(g, new Map()), /no weight 'a:kernel'/);
});

test('the IO handler reads through any read function (here the emitted files in memory); a wrong file says so', async () => {
  const g = compileGraph(C, SIZE, 4, '  a: {op: conv, in: input, out: 4, kernel: 3, bias: true}');
  const w = initWeights(g, 7);
  const files = tfjsGraphFiles(emitTfjsGraphModel(g, w));
  const model = await tf.loadGraphModel(graphModelHandler((p) => files.get(p)!, 'model.json'));
  const shape: [number, number, number, number] = [1, ...SIZE, C];
  const x = randomInput(shape, 8);
  const xt = tf.tensor4d(x, shape);
  const y = model.execute(xt) as Tensor;
  assert.equal(await y.data(), await runForm(tf, g, w, x, shape));
  tf.dispose([xt, y]);
  model.dispose();
  const notModel = new TextEncoder().encode(JSON.stringify({ format: 'layers-model', modelTopology: {} }));
  try {
    await tf.loadGraphModel(graphModelHandler(() => notModel));
    assert.unreachable('a layers model loaded as a graph model');
  } catch (e) {
    assert.match((e as Error).message, "'model.json' is not a TF.js graph model (format: layers-model)");
  }
});

// batch 2 like the export check
// alnet here; every network is exported, reloaded from disk and checked in export.test.ts
const specs = ['alnet.yaml'];
const measured: Record<string, Comparison> = {};
for (const file of specs) {
  const size = file === 'cenet.yaml' ? 192 : 128;
  test(`${file}: deploy-form graph model = executor at ${size}x${size} (1e-4 x max(1, |logit|))`, async () => {
    const c = compile(`architectures/${file}`, fsHost, { size: [size, size] }).compiled!;
    const shape: [number, number, number, number] = [2, size, size, c.graph.input.channels];
    const w: WeightStore = await calibratedWeights(tf, c.graph, initWeights(c.graph, 0), shape, 1);
    const d = deployForm(c.graph, { weights: w });
    const m = emitTfjsGraphModel(d.graph, d.weights!);
    m.modelJson.modelTopology.node.forEach((n) => emitted.add(n.op));
    assert.equal(unsupported(m), []);
    const shards = [...tfjsGraphFiles(m)].filter(([p]) => p.endsWith('.bin')).map(([, b]) => b.length);
    assert.ok(shards.slice(0, -1).every((n) => n === SHARD_BYTES) && shards.at(-1)! <= SHARD_BYTES, `shards ${shards.join(', ')}`);
    const x = randomInput(shape, 1);
    const cmp = compareOutputs(await runForm(tf, d.graph, d.weights!, x, shape), await runGraphModel(m, x, shape));
    measured[file] = cmp;
    assert.ok(cmp.maxAbs <= 1e-4 * Math.max(1, cmp.maxRef), JSON.stringify(cmp));
  });
}

test('every op emitted above is supported by tfjs-converter', () => {
  assert.ok(emitted.size > 20, [...emitted].join(' '));
  assert.equal([...emitted].filter((op) => !SUPPORTED.has(op)), []);
  if (process.env.VERBOSE) console.log(measured, [...emitted].sort().join(' '));
});

test('golden: a tiny spec’s model.json (topology, manifest, signature)', () => {
  const g = compileGraph(3, [16, 16], 1, '  c1: {op: conv, in: input, out: 4, kernel: 3, stride: 2}\n  b1: {op: bn}\n  r1: {op: relu}\n  up: {op: resize, scale: 2}\n  cat: {op: concat, in: [up, input]}\n  head: {op: conv, out: 1, kernel: 1, bias: true}');
  const { modelJson } = emitTfjsGraphModel(g, initWeights(g, 0));
  const text = `${JSON.stringify(modelJson, null, 1)}\n`;
  const path = 'test/golden/tfjs-graph-tiny.json';
  matchGolden(path, text);
});

test.run();
