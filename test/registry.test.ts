// The op registry is the one description of each op: every entry must be complete and consistent.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isShapeFailure, OPS, OP_KINDS, type AttrSpec, type GridRule, type OpDef } from '../src/ir/ops.js';
import { architectureSchema } from '../src/frontend/schema.js';
import { schemaJson, standaloneValidator } from '../src/frontend/schema-build.js';
import type { Attrs } from '../src/ir/graph.js';
import { TFJS_KERNELS } from '../src/runtime/kernels.js';
import { ONNX_LOWERING } from '../src/emit/onnx-ops.js';
import { TFJS_GRAPH_LOWERINGS } from '../src/emit/tfjs-graph-ops.js';

const x = { h: 8, w: 8, c: 4 };

/** A valid call of each op: attrs beyond the defaults and the inputs. */
const sample: Record<string, { attrs: Attrs; inputs?: number; ref?: boolean }> = {
  conv: { attrs: { out: 6, kernel: [3, 3] } },
  conv_transpose: { attrs: { out: 6, kernel: [2, 2], stride: [2, 2] } },
  resize: { attrs: { scale: 2 } },
  maxpool: { attrs: { kernel: [2, 2] } },
  avgpool: { attrs: { kernel: [2, 2] } },
  add: { attrs: {}, inputs: 2 },
  mul: { attrs: {}, inputs: 2 },
  concat: { attrs: {}, inputs: 2 },
};

function withDefaults(def: OpDef, attrs: Attrs): Attrs {
  const out: Attrs = {};
  for (const [k, a] of Object.entries(def.attrs) as [string, AttrSpec][]) if (a.default !== undefined) out[k] = a.default;
  const all = { ...out, ...attrs };
  return def.complete?.(all) ?? all;
}

for (const kind of OP_KINDS) {
  test(`${kind}: complete entry, shape and counts are finite and non-negative`, () => {
    const def: OpDef = OPS[kind];
    assert.ok(def.formula.length > 5, 'a one-line formula');
    assert.ok(def.arity.min >= 1 && def.arity.max >= def.arity.min, 'arity');
    for (const [name, a] of Object.entries(def.attrs) as [string, AttrSpec][]) {
      assert.ok(a.doc, `${kind}.${name} has a doc`);
      if (a.type === 'enum') assert.ok(a.values?.length && (a.default === undefined || a.values.includes(a.default as string)), `${kind}.${name} enum`);
    }
    for (const fn of ['shape', 'weights', 'flops'] as const) assert.type(def[fn], 'function', `${kind}.${fn}`);
    const s = sample[kind] ?? { attrs: {} };
    const n = s.inputs ?? def.arity.min;
    const ctx = { inputs: Array(n).fill(x), names: Array.from({ length: n }, (_, i) => `in${i}`), attrs: withDefaults(def, s.attrs) };
    const out = def.shape(ctx);
    assert.not.ok(isShapeFailure(out), JSON.stringify(out));
    if (isShapeFailure(out)) return;
    for (const v of [out.h, out.w, out.c, def.flops(ctx, out), ...def.weights(ctx).flatMap((w) => w.shape)]) assert.ok(Number.isFinite(v) && v >= 0);
    assert.equal([...new Set(def.weights(ctx).map((w) => w.name))].length, def.weights(ctx).length, 'weight names unique');
    assert.type(def.keepsChannels, 'boolean', `${kind}.keepsChannels`);
    assert.type(def.grid, 'function', `${kind}.grid`);
    // keepsChannels: one input, and the output has its channels (checked on the sample call)
    if (def.keepsChannels) {
      assert.is(def.arity.max, 1, `${kind} keeps channels, so it has one input`);
      assert.is(out.c, x.c, `${kind} keeps channels`);
    }
    // the grid rule agrees with the shape rule on the sample call: 'same' keeps h and w, down/up divide/multiply them
    const rule = def.grid(ctx.attrs);
    if (rule === 'same') assert.equal([out.h, out.w], [x.h, x.w], `${kind}: 'same' grid`);
    else if (typeof rule === 'object' && 'down' in rule) assert.equal([out.h, out.w], [x.h / rule.down[0], x.w / rule.down[1]], `${kind}: down grid`);
    else if (typeof rule === 'object' && 'up' in rule) assert.equal([out.h, out.w], [x.h * rule.up[0], x.w * rule.up[1]], `${kind}: up grid`);
  });
}

// the grid rule of each op, for the calls the network stride distinguishes
const grids: [string, Attrs, GridRule][] = [
  ['conv', { out: 6, kernel: [3, 3], stride: [2, 1] }, { down: [2, 1] }],
  ['maxpool', { kernel: [2, 2] }, { down: [2, 2] }],
  ['avgpool', { kernel: [3, 3], stride: [2, 2] }, { down: [2, 2] }],
  ['conv_transpose', { out: 6, kernel: [2, 2], stride: [2, 2] }, { up: [2, 2] }],
  ['resize', { scale: 4 }, { up: [4, 4] }],
  ['resize', { like: 'skip' }, { like: 'skip' }],
  ['resize', { size: [5, 7] }, 'free'],
  ['global_avgpool', {}, 'free'],
  ['bn', {}, 'same'],
  ['add', {}, 'same'],
  ['concat', {}, 'same'],
  ['relu', {}, 'same'],
];
for (const [kind, attrs, rule] of grids) {
  test(`${kind} ${JSON.stringify(attrs)}: grid ${JSON.stringify(rule)}`, () => {
    const def: OpDef = OPS[kind as keyof typeof OPS];
    assert.equal(def.grid(withDefaults(def, attrs)), rule);
  });
}

test('keepsChannels: exactly the one-input ops that do not set the channel count', () => {
  assert.equal(OP_KINDS.filter((k) => OPS[k].keepsChannels).sort(), ['avgpool', 'bn', 'dropout', 'global_avgpool', 'hsigmoid', 'identity', 'maxpool', 'relu', 'relu6', 'resize', 'sigmoid']);
});

// counts worked out by hand for the sample calls on an 8x8x4 input
const counts: [string, { h: number; w: number; c: number }, number, number][] = [
  ['conv', { h: 8, w: 8, c: 6 }, 3 * 3 * 4 * 6, 2 * 3 * 3 * 4 * 6 * 64],
  ['conv_transpose', { h: 16, w: 16, c: 6 }, 2 * 2 * 4 * 6 + 6, 2 * 2 * 2 * 4 * 64 * 6 + 16 * 16 * 6],
  ['bn', x, 8, 2 * 8 * 8 * 4],
  ['maxpool', { h: 4, w: 4, c: 4 }, 0, 4 * 4 * 4 * 4],
  ['concat', { h: 8, w: 8, c: 8 }, 0, 0],
];
for (const [kind, shape, params, flops] of counts) {
  test(`${kind}: shape ${shape.h}x${shape.w}x${shape.c}, ${params} params, ${flops} FLOPs`, () => {
    const def: OpDef = OPS[kind as keyof typeof OPS];
    const s = sample[kind] ?? { attrs: {} };
    const n = s.inputs ?? def.arity.min;
    const ctx = { inputs: Array(n).fill(x), names: [], attrs: withDefaults(def, s.attrs) };
    assert.equal(def.shape(ctx), shape);
    assert.is(def.weights(ctx).filter((w) => w.role === 'trainable').reduce((t, w) => t + w.shape.reduce((a, b) => a * b, 1), 0), params);
    assert.is(def.flops(ctx, shape), flops);
  });
}

test('schemas/architecture.schema.json and its validator are generated from the registry and current (npm run schema)', () => {
  assert.fixture(readFileSync('schemas/architecture.schema.json', 'utf8'), schemaJson());
  assert.ok(readFileSync('schemas/architecture.validate.cjs', 'utf8') === standaloneValidator(), 'run `npm run schema`');
});

test('the schema knows every op and every attribute of it', () => {
  const node = (architectureSchema().$defs as Record<string, { allOf: { if: { properties: { op: { const: string } } }; then: { properties: object } }[] }>).node;
  const described = new Map(node.allOf.map((b) => [b.if.properties.op.const, Object.keys(b.then.properties)]));
  for (const kind of OP_KINDS) {
    assert.ok(described.has(kind), kind);
    for (const a of Object.keys(OPS[kind].attrs)) assert.ok(described.get(kind)!.includes(a), `${kind}.${a}`);
  }
});

test('every op has a TF.js kernel, an ONNX lowering and a TF.js-graph lowering', () => {
  for (const kind of OP_KINDS) {
    assert.type(TFJS_KERNELS[kind], 'function', `TF.js kernel of ${kind}`);
    assert.type(ONNX_LOWERING[kind], 'function', `ONNX lowering of ${kind}`);
    assert.ok(TFJS_GRAPH_LOWERINGS[kind], `TF.js-graph lowering of ${kind}`);
  }
  assert.equal(Object.keys(TFJS_KERNELS).sort(), [...OP_KINDS].sort());
  assert.equal(Object.keys(ONNX_LOWERING).sort(), [...OP_KINDS].sort());
  assert.equal(Object.keys(TFJS_GRAPH_LOWERINGS).sort(), [...OP_KINDS].sort());
});

test.run();
