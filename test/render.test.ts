// The pure render functions (src/render), as tables of cases: number formatting, tables, depth
// aggregation, drawings.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile } from '../src/frontend/compile.js';
import type { IrGraph } from '../src/ir/graph.js';
import { renderDot, dotRecordText } from '../src/render/dot.js';
import { drawing } from '../src/render/drawing.js';
import { formatCount, formatGflop, formatInt, formatShape } from '../src/render/format.js';
import { aggregateRows, groupKey, opSummary, type NodeRow } from '../src/render/groups.js';
import { mermaidText, renderMermaid } from '../src/render/mermaid.js';
import { nodeTable } from '../src/render/summary.js';
import { renderTable } from '../src/render/table.js';
import { memHost } from './helpers.js';

const counts: [number, string][] = [
  [0, '0'],
  [17, '17'],
  [999, '999'],
  [1000, '1K'],
  [1090, '1.09K'],
  [20_800, '20.8K'],
  [145_000, '145K'],
  [999_499, '999K'],
  [999_960, '1M'], // rounds up into the next unit, not '1000K'
  [1_200_000, '1.2M'],
  [3_716_577, '3.72M'],
  [15_605_236_352, '15.6G'],
  [2e12, '2T'],
  [-2500, '-2.5K'],
  [0.5, '0.5'],
];
for (const [n, want] of counts) test(`formatCount(${n}) = ${want}`, () => assert.is(formatCount(n), want));

const exact: [(n: number) => string, number, string][] = [
  [formatInt, 3_716_577, '3,716,577'],
  [formatInt, 0, '0'],
  [formatGflop, 15_605_236_352, '15.61'],
  [formatGflop, 0, '0.00'],
];
for (const [f, n, want] of exact) test(`${f.name}(${n}) = ${want}`, () => assert.is(f(n), want));

test('formatShape writes HxWxC', () => assert.is(formatShape({ h: 256, w: 128, c: 32 }), '256x128x32'));

test('renderTable pads columns, right-aligns numbers, trims line ends', () => {
  const text = renderTable([{ title: 'name' }, { title: 'n', align: 'right' }], [['a', '1'], ['long', '100']]);
  assert.is(text, ['name    n', '----  ---', 'a       1', 'long  100'].join('\n'));
});

const keys: [string, number | undefined, string][] = [
  ['e4/blocks.3/dense', undefined, 'e4/blocks.3/dense'],
  ['e4/blocks.3/dense', 1, 'e4'],
  ['e4/blocks.3/dense', 2, 'e4/blocks.3'],
  ['e4/blocks.3/dense', 3, 'e4/blocks.3/dense'],
  ['e4/blocks.3/dense', 9, 'e4/blocks.3/dense'],
  ['head', 1, 'head'],
];
for (const [id, depth, want] of keys) test(`groupKey(${id}, ${depth}) = ${want}`, () => assert.is(groupKey(id, depth), want));

const summaries: [string[], string][] = [
  [['conv'], 'conv'],
  [['conv', 'bn', 'conv', 'bn', 'bn', 'add', 'relu'], 'conv x2, bn x3, add, relu'],
  [[], ''],
];
for (const [ops, want] of summaries) test(`opSummary(${ops.join(' ')})`, () => assert.is(opSummary(ops), want));

const row = (id: string, op: string, params: number, c = 8): NodeRow => ({ id, op, shape: { h: 4, w: 4, c }, params, state: op === 'bn' ? 2 * c : 0, flops: 10 * params });
const rows: NodeRow[] = [
  row('e1/down/dense', 'conv', 100),
  row('e1/down/bn', 'bn', 16),
  row('e1/blocks.0/dense', 'conv', 50),
  row('e1/blocks.0/relu', 'relu', 0, 16),
  row('head', 'conv', 9, 1),
];
const aggregations: { depth?: number; want: [string, string, number, number][] }[] = [
  { depth: undefined, want: rows.map((r) => [r.id, r.op, r.params, r.shape.c]) },
  { depth: 1, want: [['e1', 'conv x2, bn, relu', 166, 16], ['head', 'conv', 9, 1]] },
  { depth: 2, want: [['e1/down', 'conv, bn', 116, 8], ['e1/blocks.0', 'conv, relu', 50, 16], ['head', 'conv', 9, 1]] },
];
for (const { depth, want } of aggregations) {
  test(`aggregateRows at depth ${depth}: one row per group, sums kept, last shape`, () => {
    const got = aggregateRows(rows, depth);
    assert.equal(got.map((r) => [r.id, r.op, r.params, r.shape.c]), want);
    assert.is(got.reduce((s, r) => s + r.flops, 0), rows.reduce((s, r) => s + r.flops, 0));
    assert.is(got.reduce((s, r) => s + r.state, 0), rows.reduce((s, r) => s + r.state, 0));
  });
}

test('nodeTable: one line per row under a header and a rule', () => {
  const lines = nodeTable(aggregateRows(rows, 1)).split('\n');
  assert.is(lines.length, 4);
  assert.match(lines[0], /^name\s+op\s+output\s+params\s+FLOPs$/);
  assert.match(lines[2], /^e1\s+conv x2, bn, relu\s+4x4x16\s+166\s+1\.66K$/);
});

// a small network through the real front end, so ids nest the way expansion makes them
const SPEC = `alcli: 1
name: tiny
input: {channels: 3, size: [32, 32]}
modules:
  block:
    params: {out: int}
    graph:
      conv: {op: conv, in: x, out: out, kernel: 3}
      bn: {op: bn}
      relu: {op: relu}
graph:
  a: {op: block, in: input, out: 8}
  b: {op: block, out: 8, repeat: 2}
  pool: {op: maxpool, in: b, kernel: 2}
  up: {op: resize, in: pool, like: a}
  sum: {op: add, in: [a, up]}
  head: {op: conv, out: 1, kernel: 1, bias: true}
`;
const tiny = (): IrGraph => {
  const r = compile('tiny.yaml', memHost({ 'tiny.yaml': SPEC }));
  if (!r.compiled) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.compiled.graph;
};

const drawings: { depth?: number; boxes: string[]; edges: string[] }[] = [
  {
    // repeat instances are segments of their own (b.0, b.1), as in e4/blocks.3
    depth: 1,
    boxes: ['input', 'a', 'b.0', 'b.1', 'pool', 'up', 'sum', 'head'],
    edges: ['input->a', 'a->b.0', 'b.0->b.1', 'b.1->pool', 'pool->up', 'a-.->up', 'a->sum', 'up->sum', 'sum->head'],
  },
  {
    depth: 2,
    boxes: ['input', 'a/conv', 'a/bn', 'a/relu', 'b.0/conv', 'b.0/bn', 'b.0/relu', 'b.1/conv', 'b.1/bn', 'b.1/relu', 'pool', 'up', 'sum', 'head'],
    edges: ['input->a/conv', 'a/conv->a/bn', 'a/bn->a/relu', 'a/relu->b.0/conv', 'b.0/conv->b.0/bn', 'b.0/bn->b.0/relu', 'b.0/relu->b.1/conv', 'b.1/conv->b.1/bn', 'b.1/bn->b.1/relu', 'b.1/relu->pool', 'pool->up', 'a/relu-.->up', 'a/relu->sum', 'up->sum', 'sum->head'],
  },
];
for (const { depth, boxes, edges } of drawings) {
  test(`drawing at depth ${depth}: boxes and deduplicated edges`, () => {
    const d = drawing(tiny(), depth);
    assert.equal(d.boxes.map((b) => b.id), boxes);
    assert.equal(d.edges.map((e) => `${e.from}${e.kind === 'like' ? '-.->' : '->'}${e.to}`), edges);
    assert.equal(d.boxes.filter((b) => b.output).map((b) => b.id), ['head']);
  });
}

test('drawing: a collapsed box is labelled with its op summary and last shape', () => {
  const b = drawing(tiny(), 1).boxes.find((x) => x.id === 'b.1')!;
  assert.equal([b.collapsed, b.op, b.nodes, formatShape(b.shape)], [true, 'conv, bn, relu', 3, '32x32x8']);
});

test('renderDot: records name|op|shape, dashed size-only edges', () => {
  const dot = renderDot(drawing(tiny(), 1));
  assert.match(dot, /^digraph "tiny" \{/);
  assert.ok(dot.includes('"b.0" [label="{b.0|conv, bn, relu|32x32x8}"'));
  assert.ok(dot.includes('"a" -> "up" [style=dashed];'));
  assert.ok(dot.trimEnd().endsWith('}'));
});

test('renderMermaid: flowchart TD with safe ids and the real id in the label', () => {
  const m = renderMermaid(drawing(tiny(), 2));
  assert.match(m, /^flowchart TD\n/);
  assert.ok(m.includes('n1["a/conv<br/>conv<br/>32x32x8"]'));
  assert.ok(m.includes('n1 --> n2'));
  assert.not.ok(/ n\d+ --> [^n]/.test(m));
});

const escapes: [(s: string) => string, string, string][] = [
  [dotRecordText, 'a|b{c}<d>"e\\', 'a\\|b\\{c\\}\\<d\\>"e\\\\'],
  [mermaidText, 'say "hi" & <go> #1', 'say #34;hi#34; #38; #60;go#62; #35;1'],
];
for (const [f, input, want] of escapes) test(`${f.name} escapes ${input}`, () => assert.is(f(input), want));

test.run();
