// The structural deploy passes, as a table: a small graph in, the rewrites and the ops left out.
// (Numeric equivalence of the rewritten weights is issue #4's verify step.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile } from '../src/frontend/compile.js';
import { graphStats } from '../src/ir/stats.js';
import { DEPLOY_PASSES, runPasses } from '../src/passes/pipeline.js';
import { verifyIr } from '../src/passes/verify-ir.js';
import { memHost } from './helpers.js';

const spec = (graph: string) => `alcli: 1\ninput: {channels: 8, size: [16, 16]}\noutput: {classes: 8}\ngraph:\n${graph}\n`;
const compileGraph = (graph: string) => {
  const r = compile('t.yaml', memHost({ 't.yaml': spec(graph) }));
  if (!r.compiled) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.compiled.graph;
};

interface Case {
  name: string;
  graph: string;
  rewrites: Record<string, number>;
  ops: string[];
}

const cases: Case[] = [
  {
    name: 'RepVGG block with identity -> one 3x3 conv',
    graph: `  d: {op: conv, in: input, out: 8, kernel: 3}\n  db: {op: bn}\n  o: {op: conv, in: input, out: 8, kernel: 1}\n  ob: {op: bn}\n  i: {op: bn, in: input}\n  s: {op: add, in: [db, ob, i]}\n  r: {op: relu}`,
    rewrites: { 'fold-bn': 2, 'fuse-branches': 1, dce: 0 },
    ops: ['conv', 'relu'],
  },
  {
    name: 'bare identity branch (x itself) fuses too',
    graph: `  d: {op: conv, in: input, out: 8, kernel: 3, bias: true}\n  s: {op: add, in: [d, input]}`,
    rewrites: { 'fold-bn': 0, 'fuse-branches': 1, dce: 0 },
    ops: ['conv'],
  },
  {
    name: 'ACNet 3x3 + 1x3 + 3x1 -> one 3x3 conv',
    graph: `  a: {op: conv, in: input, out: 8, kernel: 3}\n  ab: {op: bn}\n  h: {op: conv, in: input, out: 8, kernel: [1, 3]}\n  hb: {op: bn}\n  v: {op: conv, in: input, out: 8, kernel: [3, 1]}\n  vb: {op: bn}\n  s: {op: add, in: [ab, hb, vb]}`,
    rewrites: { 'fold-bn': 3, 'fuse-branches': 1, dce: 0 },
    ops: ['conv'],
  },
  {
    name: '5x5 + 3x3 -> one 5x5 conv',
    graph: `  a: {op: conv, in: input, out: 8, kernel: 5}\n  b: {op: conv, in: input, out: 8, kernel: 3}\n  s: {op: add, in: [a, b]}`,
    rewrites: { 'fold-bn': 0, 'fuse-branches': 1, dce: 0 },
    ops: ['conv'],
  },
  {
    name: 'different strides are not fused',
    graph: `  a: {op: conv, in: input, out: 8, kernel: 3, stride: 2}\n  b: {op: conv, in: input, out: 8, kernel: 1, stride: 2, pad: 0}\n  c: {op: conv, in: input, out: 8, kernel: 3, dilation: 2}\n  cb: {op: maxpool, kernel: 2}\n  s: {op: add, in: [a, b, cb]}`,
    rewrites: { 'fold-bn': 0, 'fuse-branches': 0, dce: 0 },
    ops: ['conv', 'conv', 'conv', 'maxpool', 'add'],
  },
  {
    name: 'a branch read elsewhere stays, and so does its BN',
    graph: `  a: {op: conv, in: input, out: 8, kernel: 3}\n  b: {op: conv, in: input, out: 8, kernel: 1}\n  s: {op: add, in: [a, b]}\n  t: {op: add, in: [s, a]}`,
    rewrites: { 'fold-bn': 0, 'fuse-branches': 0, dce: 0 },
    ops: ['conv', 'conv', 'add', 'add'],
  },
  {
    name: 'conv_transpose -> bn folds (bias by default)',
    graph: `  u: {op: conv_transpose, in: input, out: 8, kernel: 2, stride: 2}\n  ub: {op: bn}\n  r: {op: relu}\n  d: {op: conv, out: 8, kernel: 2, stride: 2, pad: 0}`,
    rewrites: { 'fold-bn': 1, 'fuse-branches': 0, dce: 0 },
    ops: ['conv_transpose', 'relu', 'conv'],
  },
  {
    name: 'conv_transpose without bias -> bn folds',
    graph: `  u: {op: conv_transpose, in: input, out: 8, kernel: 2, stride: 2, bias: false}\n  ub: {op: bn}\n  d: {op: conv, out: 8, kernel: 2, stride: 2, pad: 0}`,
    rewrites: { 'fold-bn': 1, 'fuse-branches': 0, dce: 0 },
    ops: ['conv_transpose', 'conv'],
  },
  {
    name: 'conv read by two nodes keeps its BN',
    graph: `  a: {op: conv, in: input, out: 8, kernel: 3}\n  b: {op: bn}\n  r: {op: relu, in: a}\n  s: {op: add, in: [b, r]}`,
    rewrites: { 'fold-bn': 0, 'fuse-branches': 0, dce: 0 },
    ops: ['conv', 'bn', 'relu', 'add'],
  },
  {
    name: 'dce drops what the output does not read',
    graph: `  a: {op: conv, in: input, out: 8, kernel: 3}\n  dead: {op: conv, in: input, out: 4, kernel: 1}\n  out: {op: relu, in: a}\n  head: {op: identity, in: out}`,
    rewrites: { 'fold-bn': 0, 'fuse-branches': 0, dce: 1 },
    ops: ['conv', 'relu', 'identity'],
  },
];

for (const c of cases) {
  test(c.name, () => {
    const g = compileGraph(c.graph);
    const { graph, report } = runPasses(g, DEPLOY_PASSES, { verifyEach: true });
    assert.equal(Object.fromEntries(report.map((r) => [r.pass, r.rewrites])), c.rewrites);
    assert.equal(graph.nodes.map((n) => n.op), c.ops);
    assert.equal(verifyIr(graph), []);
  });
}

test('a fused RepVGG block keeps every source position and counts 9*cin*out + out params', () => {
  const g = compileGraph(cases[0].graph);
  const { graph } = runPasses(g);
  const conv = graph.nodes[0];
  assert.is(conv.attrs.bias, true);
  assert.equal(conv.attrs.kernel, [3, 3]);
  assert.is(conv.origin.length, 6, 'd, db, o, ob, i, s');
  assert.is(graphStats(graph).params, 9 * 8 * 8 + 8);
  assert.is(graphStats(g).params, 9 * 64 + 64 + 3 * 16);
});

test('a folded conv_transpose has a bias and counts k*k*out*cin + out params', () => {
  const g = compileGraph(cases.find((c) => c.name.startsWith('conv_transpose without bias'))!.graph);
  const { graph } = runPasses(g);
  const up = graph.nodes[0];
  assert.is(up.attrs.bias, true);
  assert.is(up.origin.length, 2, 'u, ub');
  assert.is(graphStats(graph).params, 2 * 2 * 8 * 8 + 8 + 2 * 2 * 8 * 8);
  assert.is(graphStats(g).params, 2 * 2 * 8 * 8 + 2 * 8 + 2 * 2 * 8 * 8);
});

test('the IR verifier finds a broken graph', () => {
  const g = compileGraph(cases[0].graph);
  const broken = { ...g, nodes: [...g.nodes].reverse() };
  assert.ok(verifyIr(broken).some((p) => p.includes('not defined before it')));
  const wrongShape = { ...g, nodes: g.nodes.map((n, i) => (i === 0 ? { ...n, shape: { ...n.shape, c: 3 } } : n)) };
  assert.ok(verifyIr(wrongShape).some((p) => p.includes('records shape')));
});

test.run();
