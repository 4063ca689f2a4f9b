// The PyTorch module emitter (no torch here): for every spec in architectures/, in training and
// deploy form, model.py has one forward line per node, a submodule at the path of every PyTorch
// weight name (so load_state_dict(strict=True) finds each), and compiles under python3 when it is
// installed. A tiny spec's model.py is pinned by a golden file
// (regenerate: UPDATE_GOLDEN=1 node --import tsx test/pytorch-emit.test.ts).
// `alcli export --format pytorch` writes pytorch/{model.py, weights.safetensors, names.json}.
// The numbers against PyTorch itself: scripts/pytorch-check.py, by hand.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile } from '../src/frontend/compile.js';
import { renderDiagnostics } from '../src/frontend/diagnostics.js';
import { emitPytorchModule } from '../src/emit/pytorch.js';
import { exportArtifacts } from '../src/export/export.js';
import { readSafetensors } from '../src/ir/safetensors.js';
import type { IrGraph } from '../src/ir/graph.js';
import { OP_KINDS } from '../src/ir/ops.js';
import { torchNames } from '../src/ir/torch-names.js';
import { fsHost, matchGolden, memHost, tinySpec } from './helpers.js';

const HAS_PYTHON = spawnSync('python3', ['--version']).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'alcli-pytorch-emit-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** The module paths model.py attaches (`_attach(self, "PATH", ...)`) and the node ids of its forward lines (`# ID: OP`). */
function parse(text: string): { attached: string[]; forward: string[] } {
  return {
    attached: [...text.matchAll(/^ {8}_attach\(self, "([^"]+)"/gm)].map((m) => m[1]),
    forward: [...text.matchAll(/^ {8}\w+ = .*  # (\S+): \w+$/gm)].map((m) => m[1]),
  };
}

function assertCovers(g: IrGraph, text: string) {
  const { attached, forward } = parse(text);
  assert.equal(forward, g.nodes.map((n) => n.id), 'one forward line per node, in order');
  const modules = [...new Set([...torchNames(g).values()].map((name) => name.replace(/\.[^.]+$/, '')))];
  assert.equal(attached, modules, 'a submodule at the path of every weight name, once');
  const out = text.split('\n').find((l) => l.endsWith(`  # ${g.output.node}: ${g.nodes.find((n) => n.id === g.output.node)!.op}`));
  assert.ok(text.includes(`\n        return ${/^ {8}(\w+) = /.exec(out ?? '')?.[1]}\n`), 'returns the output node');
}

const specs = readdirSync('architectures').filter((f) => f.endsWith('.yaml')).sort();
const written: string[] = [];
for (const file of specs) {
  test(`${file}: model.py covers every node and weight, training and deploy form`, () => {
    const r = compile(`architectures/${file}`, fsHost, { size: [256, 256] });
    assert.ok(r.compiled, renderDiagnostics(r.diagnostics, r.sources));
    for (const [form, g] of [['training', r.compiled!.graph], ['deploy', r.compiled!.deploy]] as const) {
      const text = emitPytorchModule(g, { form });
      assertCovers(g, text);
      const path = join(dir, `${file.replace(/\W/g, '_')}_${form}.py`);
      writeFileSync(path, text);
      written.push(path);
    }
  });
}

test('every model.py compiles under python3 (skipped without python3)', () => {
  if (!HAS_PYTHON) return;
  assert.is(written.length, 2 * specs.length);
  const r = spawnSync('python3', ['-m', 'py_compile', ...written], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
});

const TINY = `alcli: 1
name: tiny
input: {channels: 3, size: [32, 32]}
output: {classes: 3, activation: softmax}
graph:
  c1: {op: conv, in: input, out: 8, kernel: 3, stride: 2}
  b1: {op: bn}
  r1: {op: relu6}
  dw: {op: conv, out: 8, kernel: 3, groups: 8, dilation: 2}
  pool: {op: global_avgpool}
  gate: {op: hsigmoid}
  att: {op: mul, in: [dw, gate]}
  p1: {op: maxpool, in: att, kernel: 2}
  p2: {op: avgpool, in: att, kernel: 3, stride: 2, pad: 1}
  sum: {op: add, in: [p1, p2]}
  rl: {op: relu}
  drop: {op: dropout, rate: 0.2}
  up: {op: conv_transpose, out: 8, kernel: 2, stride: 2}
  near: {op: resize, in: p1, like: up, mode: nearest}
  cat: {op: concat, in: [up, near, r1]}
  s: {op: sigmoid}
  id: {op: identity}
  back: {op: resize, scale: 2}
  fixed: {op: resize, in: input, size: [32, 32]}
  both: {op: concat, in: [back, fixed]}
  head: {op: conv, out: 3, kernel: 1, bias: true}
`;

test('golden: a tiny spec with every op', () => {
  const r = compile('tiny.yaml', memHost({ 'tiny.yaml': TINY }));
  assert.ok(r.compiled, renderDiagnostics(r.diagnostics, r.sources));
  const g = r.compiled!.graph;
  assert.equal([...new Set(g.nodes.map((n) => n.op))].sort(), [...OP_KINDS].sort(), 'every op of the registry');
  const text = emitPytorchModule(g, { normalize: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] }, generatedBy: 'alcli test' });
  assertCovers(g, text);
  matchGolden('test/golden/pytorch-tiny.py.golden', text);
});

// node ids whose PyTorch path nn.Module would refuse as a submodule name
const reserved: [string, string][] = [
  ['eval', 'eval'],
  ['to', 'to'],
  ['parameters', 'parameters'],
];
for (const [id, segment] of reserved) {
  test(`a conv named '${id}' is refused, naming '${segment}'`, () => {
    const r = compile('t.yaml', memHost({ 't.yaml': `alcli: 1\nname: t\ninput: {channels: 1, size: [8, 8]}\noutput: {classes: 1}\ngraph:\n  ${id}: {op: conv, in: input, out: 1, kernel: 1}\n` }));
    assert.ok(r.compiled, renderDiagnostics(r.diagnostics, r.sources));
    assert.throws(() => emitPytorchModule(r.compiled!.graph), (e: Error) => e.message.includes(`'${segment}' cannot name a PyTorch submodule`));
  });
}

const forms: [string, boolean][] = [
  ['training form', false],
  ['deploy form (--deploy)', true],
];
for (const [name, deploy] of forms)
  test(`alcli export --format pytorch, ${name}: model.py, weights and names.json in pytorch/, the weights read back`, async () => {
    const spec = join(dir, 'tiny.yaml');
    writeFileSync(spec, tinySpec({ epochs: 1, deep: false }));
    const out = join(dir, `export-${deploy}`);
    // --names twin is the safetensors format's: pytorch/ always has alcli's names
    const res = await exportArtifacts(spec, { output: out, formats: ['pytorch'], opset: 17, seed: 0, tolerance: 1e-4, backend: 'wasm', deploy, names: 'twin' });
    assert.ok(res.ok);
    assert.equal(res.files.filter((f) => f.startsWith('pytorch/')).sort(), ['pytorch/model.py', 'pytorch/names.json', 'pytorch/weights.safetensors']);
    const stage = res.verify.checks.find((k) => k.stage.startsWith('safetensors (pytorch/weights.safetensors'));
    assert.ok(stage?.pass, 'the weights read back and run');
    const text = readFileSync(join(out, 'pytorch/model.py'), 'utf8');
    assert.ok(text.includes(`FORM = "${deploy ? 'deploy' : 'training'}"`));
    const file = readSafetensors(readFileSync(join(out, 'pytorch/weights.safetensors')));
    assert.equal([file.metadata.form, file.metadata.names], [deploy ? 'deploy' : 'training', 'alcli']);
    const names = Object.keys(JSON.parse(readFileSync(join(out, 'pytorch/names.json'), 'utf8')) as Record<string, string>);
    assert.equal(parse(text).attached, [...new Set(names.map((n) => n.replace(/\.[^.]+$/, '')))], 'a submodule for each name of names.json');
    assert.ok(names.includes(deploy ? 'c1.bias' : 'b1.running_var'));
  });

test.run();
