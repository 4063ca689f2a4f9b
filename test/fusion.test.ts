// The deploy passes keep the function: for fused block shapes (RepVGG, ACNet, 5x5 + 3x3, grouped
// identity) the deploy form with its rewritten weights matches the training form in inference mode.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile } from '../src/frontend/compile.js';
import { deployForm } from '../src/passes/pipeline.js';
import { loadTf, type TF } from '../src/runtime/backend.js';
import { initWeights, randomizeBatchNorm, rng } from '../src/ir/weights.js';
import { compareOutputs, randomInput, runForm } from '../src/runtime/verify.js';
import { memHost } from './helpers.js';

let tf: TF;
test.before(async () => {
  tf = (await loadTf('wasm')).tf;
});

const blocks: [string, string, number][] = [
  ['RepVGG block with identity BN', '  d: {op: conv, in: input, out: 8, kernel: 3}\n  db: {op: bn}\n  o: {op: conv, in: input, out: 8, kernel: 1}\n  ob: {op: bn}\n  i: {op: bn, in: input}\n  s: {op: add, in: [db, ob, i]}\n  r: {op: relu}', 1],
  ['grouped RepVGG block (groups 2) with identity BN', '  d: {op: conv, in: input, out: 8, kernel: 3, groups: 2}\n  db: {op: bn}\n  o: {op: conv, in: input, out: 8, kernel: 1, groups: 2}\n  ob: {op: bn}\n  i: {op: bn, in: input}\n  s: {op: add, in: [db, ob, i]}', 1],
  ['stride-2 RepVGG block', '  d: {op: conv, in: input, out: 8, kernel: 3, stride: 2}\n  db: {op: bn}\n  o: {op: conv, in: input, out: 8, kernel: 1, stride: 2}\n  ob: {op: bn}\n  s: {op: add, in: [db, ob]}', 1],
  ['ACNet 3x3 + 1x3 + 3x1', '  a: {op: conv, in: input, out: 8, kernel: 3}\n  ab: {op: bn}\n  h: {op: conv, in: input, out: 8, kernel: [1, 3]}\n  hb: {op: bn}\n  v: {op: conv, in: input, out: 8, kernel: [3, 1]}\n  vb: {op: bn}\n  s: {op: add, in: [ab, hb, vb]}', 1],
  ['5x5 + 3x3, dilation 2', '  a: {op: conv, in: input, out: 8, kernel: 5, dilation: 2}\n  ab: {op: bn}\n  b: {op: conv, in: input, out: 8, kernel: 3, dilation: 2}\n  bb: {op: bn}\n  s: {op: add, in: [ab, bb]}', 1],
  ['conv + bare identity', '  d: {op: conv, in: input, out: 8, kernel: 3, bias: true}\n  s: {op: add, in: [d, input]}', 1],
];

for (const [name, graph, convs] of blocks) {
  test(`${name}: fused to ${convs} conv, same outputs within 1e-5`, async () => {
    const r = compile('t.yaml', memHost({ 't.yaml': `alcli: 1\ninput: {channels: 8, size: [12, 12]}\noutput: {classes: 8}\ngraph:\n${graph}\n` }));
    const g = r.compiled!.graph;
    const w = randomizeBatchNorm(g, initWeights(g, 2), 3);
    const d = deployForm(g, { weights: w, verifyEach: true });
    assert.is(d.graph.nodes.filter((n) => n.op === 'conv').length, convs);
    assert.not.ok(d.graph.nodes.some((n) => n.op === 'bn'));
    const shape: [number, number, number, number] = [2, 12, 12, 8];
    const x = randomInput(shape, 4);
    const c = compareOutputs(await runForm(tf, g, w, x, shape), await runForm(tf, d.graph, d.weights!, x, shape));
    assert.ok(c.maxAbs <= 1e-5, `max abs diff ${c.maxAbs}`);
  });
}

// conv_transpose -> bn folds into the transposed kernel's output axis ([kh, kw, out, cin]): 8 in,
// 6 out so a wrong axis shows; a random bias (not init's zeros) checks beta + (bias - mean) * scale
for (const bias of [true, false]) {
  test(`conv_transpose${bias ? ' with bias' : ' without bias'} -> bn: folded, same outputs within 1e-5`, async () => {
    const graph = `  up: {op: conv_transpose, in: input, out: 6, kernel: 3, stride: 2, pad: 1, output_pad: 1, bias: ${bias}}\n  ub: {op: bn}\n  r: {op: relu}`;
    const r = compile('t.yaml', memHost({ 't.yaml': `alcli: 1\ninput: {channels: 8, size: [12, 12]}\noutput: {classes: 6}\ngraph:\n${graph}\n` }));
    const g = r.compiled!.graph;
    const w = randomizeBatchNorm(g, initWeights(g, 2), 3);
    const rand = rng(5);
    if (bias) w.set('up:bias', { shape: [6], data: Float32Array.from({ length: 6 }, () => 0.2 * rand.normal()) });
    const d = deployForm(g, { weights: w, verifyEach: true });
    assert.equal(d.graph.nodes.map((n) => n.op), ['conv_transpose', 'relu']);
    assert.equal(d.weights!.get('up:kernel')!.shape, [3, 3, 6, 8]);
    const shape: [number, number, number, number] = [2, 12, 12, 8];
    const x = randomInput(shape, 4);
    const c = compareOutputs(await runForm(tf, g, w, x, shape), await runForm(tf, d.graph, d.weights!, x, shape));
    assert.ok(c.maxAbs <= 1e-5, `max abs diff ${c.maxAbs}`);
  });
}

// every network of architectures/ is checked the same way, artifact by artifact, in export.test.ts

test.run();
