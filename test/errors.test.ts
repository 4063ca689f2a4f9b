// Every error code, each from a bad spec that carries its expected code next to the bad line
// (`# expect: code`). The test asserts the exact set of (file, line, code) a compile reports.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { applyOverrides, compile } from '../src/frontend/compile.js';
import { ERROR_CODES } from '../src/ir/diagnostics.js';
import { renderDiagnostics } from '../src/frontend/diagnostics.js';
import { expectedMarkers, fsHost, memHost } from './helpers.js';

const dir = 'test/fixtures/errors';
const cases = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
const libs = readdirSync(join(dir, 'lib')).map((f) => join(dir, 'lib', f));
const covered = new Set<string>();

for (const name of cases) {
  test(`${name} reports the errors marked in it`, () => {
    const path = join(dir, name);
    const r = compile(path, fsHost);
    assert.is(r.compiled, undefined, 'a bad spec must not compile');
    const got = r.diagnostics.map((d) => `${d.at?.file}:${d.at?.line} ${d.code}`).sort();
    const read = [...r.sources.keys()];
    const want = [path, ...libs.filter((l) => read.includes(l))].flatMap((f) => expectedMarkers(f, readFileSync(f, 'utf8'))).sort();
    assert.equal(got, want, renderDiagnostics(r.diagnostics, r.sources));
    r.diagnostics.forEach((d) => covered.add(d.code));
  });
}

test('every error code has a case, except file-not-found (tested below)', () => {
  const missing = Object.keys(ERROR_CODES).filter((c) => !covered.has(c) && c !== 'file-not-found');
  assert.equal(missing, []);
});

test('a missing spec file is an error naming the file, not an exception', () => {
  const r = compile('no/such/spec.yaml', fsHost);
  assert.is(r.diagnostics[0].code, 'file-not-found');
  assert.match(renderDiagnostics(r.diagnostics, r.sources), "cannot read spec file 'no/such/spec.yaml'");
});

const hints: [string, RegExp][] = [
  ['unknown-op.yaml', /did you mean 'conv'\?/],
  ['unknown-key.yaml', /did you mean 'kernel'\?/],
  ['unknown-key.yaml', /did you mean 'input'\?/],
  ['undefined-ref.yaml', /did you mean 'enc1'\?/],
  ['missing-param.yaml', /did you mean 'stride'\?/],
  ['input-stride.yaml', /use 704x608/],
  ['spatial-mismatch.yaml', /'full' is 64x64 but 'half' is 32x32/],
  ['channel-mismatch.yaml', /'a' has 8 but 'b' has 16/],
  ['yaml-syntax.yaml', /add the missing } on this line/],
  ['cycle.yaml', /a -> c -> b -> a/],
  ['yaml11-booleans.yaml', /'no' is a string in YAML 1\.2 \(alcli's YAML\); write false/],
  ['yaml11-booleans.yaml', /'On' is a string in YAML 1\.2 \(alcli's YAML\); write true/],
  ['yaml11-booleans.yaml', /'graph\.a\.bias' takes true or false: .*write true or false/],
  ['yaml11-booleans-modules.yaml', /'graph\.a\.n' takes true or false/],
  ['merge-source.yaml', /a merge key \(<<\) takes a map.*\n(.*\n)*.*<<: \*base/],
];
for (const [name, pattern] of hints) {
  test(`${name}: message or hint matches ${pattern}`, () => {
    const r = compile(join(dir, name), fsHost);
    assert.match(renderDiagnostics(r.diagnostics, r.sources), pattern);
  });
}

test('rendering: file:line:col header, caret under the span, no stack trace', () => {
  const r = compile(join(dir, 'undefined-ref.yaml'), fsHost);
  const text = renderDiagnostics(r.diagnostics, r.sources);
  assert.match(text, 'test/fixtures/errors/undefined-ref.yaml:4:23: error[undefined-ref]: ');
  assert.match(text, /\n {2}\| {23}\^\^\^\^\n/);
  assert.not.match(text, /\n\s+at /);
});

test('--max-params refuses a spec over the limit and accepts it under', () => {
  const path = 'architectures/alnet.yaml';
  const refused = compile(path, fsHost, { maxParams: 1_000_000 });
  assert.is(refused.diagnostics[0]?.code, 'too-large');
  assert.match(refused.diagnostics[0].message, '3,716,577 parameters');
  assert.ok(compile(path, fsHost, { maxParams: 4_000_000 }).compiled);
});

test('--size that does not divide by the stride names the flag', () => {
  const r = compile('architectures/alnet.yaml', fsHost, { size: [700, 605] });
  assert.is(r.diagnostics.length, 1);
  assert.is(r.diagnostics[0].code, 'input-stride');
  assert.match(r.diagnostics[0].hint!, 'use 704x608 (--size)');
});

test('a module library validates on its own, and is no network to compile', () => {
  const lib = 'architectures/lib/repvgg.yaml';
  assert.equal(compile(lib, fsHost, { allowLibrary: true }).library, { modules: ['repvgg_block', 'repvgg_stage'] });
  const r = compile(lib, fsHost);
  assert.equal(r.diagnostics.map((d) => d.code), ['missing-key']);
  assert.match(r.diagnostics[0].message, 'has no graph');
});

// YAML 1.1 booleans and merge keys, in inline specs
const spec = (graph: string, extra = '') => `alcli: 1\ninput: {channels: 3}\n${extra}graph:\n${graph}`;
const run = (text: string) => compile('s.yaml', memHost({ 's.yaml': text }));
const where = (r: ReturnType<typeof compile>) => r.diagnostics.map((d) => `${d.at?.line}:${d.at?.col} ${d.code} ${d.message}`);

test("four yes/no/on/off values are four errors in one run, each at its own line:col with 'write true/false'", () => {
  const r = compile(join(dir, 'yaml11-booleans.yaml'), fsHost);
  assert.equal(where(r).filter((w) => w.includes('YAML 1.2')), [
    "8:42 bad-type 'no' is a string in YAML 1.2 (alcli's YAML); write false",
    "9:53 bad-type 'On' is a string in YAML 1.2 (alcli's YAML); write true",
    "10:65 bad-type 'yes' is a string in YAML 1.2 (alcli's YAML); write true",
    "11:53 bad-type 'OFF' is a string in YAML 1.2 (alcli's YAML); write false",
  ]);
  assert.not.match(renderDiagnostics(r.diagnostics, r.sources), 'unknown name');
});

const booleanCases: [string, string, string | undefined][] = [
  ['true and false', '  a: {op: conv, out: 8, kernel: 3, bias: true, when: true}\n  b: {op: conv, out: 1, kernel: 1, bias: false}\n', undefined],
  ['True and FALSE (YAML 1.2 booleans too)', '  a: {op: conv, out: 8, kernel: 3, bias: True}\n  b: {op: conv, out: 1, kernel: 1, bias: FALSE}\n', undefined],
  ['a quoted "no" is an expression, as written', '  a: {op: conv, out: 1, kernel: 3, bias: "no"}\n', "6:43 bad-expression in 'no': unknown name 'no'"],
  ['y and n', '  a: {op: conv, out: 8, kernel: 3, bias: y}\n  b: {op: conv, in: input, out: 1, kernel: 1, bias: n}\n', "6:42 bad-type 'y' is a string in YAML 1.2 (alcli's YAML); write true"],
  ['a node named n, read with in: n', '  n: {op: conv, out: 8, kernel: 3}\n  b: {op: conv, in: n, out: 1, kernel: 1}\n', undefined],
];
for (const [name, graph, first] of booleanCases) {
  test(`booleans: ${name}`, () => {
    const r = run(spec(graph, 'name: no\ndescription: off\n'));
    assert.is(where(r)[0], first, where(r).join('\n'));
    if (!first) assert.ok(r.compiled);
  });
}

test('booleans: a module parameter called n is that parameter, not a YAML 1.1 false', () => {
  const r = run(spec('  a: {op: block, n: true}\n  head: {op: conv, out: 1, kernel: 1}\n', 'modules:\n  block:\n    params: {n: false}\n    graph:\n      c: {op: conv, out: 8, kernel: 3, bias: n, when: n}\n      d: {op: conv, in: x, out: 8, kernel: 3}\n'));
  assert.equal(where(r), []);
});

test('merge keys: a spec with <<: *base compiles to the same network as the expanded form', () => {
  const merged = run(spec('  c0: &base {op: conv, out: 8, kernel: 3}\n  c1:\n    <<: *base\n    out: 16\n  c2: {<<: [{kernel: 1}, *base], out: 4}\n  head: {op: conv, out: 1, kernel: 1}\n'));
  const expanded = run(spec('  c0: {op: conv, out: 8, kernel: 3}\n  c1: {op: conv, out: 16, kernel: 3}\n  c2: {op: conv, out: 4, kernel: 1}\n  head: {op: conv, out: 1, kernel: 1}\n'));
  const nodes = (r: typeof merged) => r.compiled?.graph.nodes.map(({ id, op, inputs, attrs, shape }) => ({ id, op, inputs, attrs, shape }));
  assert.equal(where(merged), []);
  assert.ok(nodes(merged)?.length);
  assert.equal(nodes(merged), nodes(expanded));
});

test('anchors may sit in a top-level x- key; another top-level key is unknown, with the x- hint', () => {
  const graph = '  c1: {<<: *conv3, in: input}\n  c2: {<<: *conv3, stride: 2}\n  head: {op: conv, out: 1, kernel: 1}\n';
  const withX = run(spec(graph, 'x-defaults:\n  conv3: &conv3 {op: conv, kernel: 3, out: 8}\n'));
  assert.equal(where(withX), []);
  assert.equal(withX.compiled?.graph.nodes.map((n) => [n.id, n.op, n.attrs.out]), [['c1', 'conv', 8], ['c2', 'conv', 8], ['head', 'conv', 1]]);
  const plain = run(spec(graph, 'defaults:\n  conv3: &conv3 {op: conv, kernel: 3, out: 8}\n'));
  assert.equal(where(plain), ["3:1 unknown-key unknown key 'defaults' in the file"]);
  assert.match(plain.diagnostics[0].hint!, 'shared anchors go in a key starting with x- (x-defaults: &defaults {...}, then <<: *defaults)');
});

test("merge keys: errors in merged content point at the line that wrote them; never \"'graph.c1' needs 'op'\"", () => {
  const r = run(spec('  c0: &base {op: conv, out: 8, kernal: 3}\n  c1:\n    <<: *base\n    in: input\n    stride: 0\n  c2: {<<: *base, in: input, out: x}\n'));
  assert.equal(where(r), [
    "4:3 missing-key 'graph.c0' needs 'kernel'",
    "4:32 unknown-key op 'conv' has no attribute 'kernal'",
    "5:3 missing-key 'graph.c1' needs 'kernel'",
    "9:3 missing-key 'graph.c2' needs 'kernel'",
  ]);
  const ok = run(spec('  c0: &base {op: conv, out: 8, kernel: 3}\n  c1:\n    <<: *base\n    in: input\n    stride: 0\n  c2: {<<: *base, in: input, out: x}\n'));
  assert.equal(where(ok), ["8:13 bad-value 'stride' is 0, below its minimum 1", "9:35 bad-expression in 'x': unknown name 'x'"]);
});

test('merge keys: an error only the merging node has is reported at the merged line', () => {
  // `out: w` is fine in the module (w is its parameter) and unknown where the top graph merges it
  const modules = 'modules:\n  block:\n    params: {w: 8}\n    graph:\n      c: &conv {op: conv, out: w, kernel: 3}\n';
  const r = run(spec('  a: {<<: *conv, in: input}\n  head: {op: conv, out: 1, kernel: 1}\n', modules));
  assert.equal(where(r), ["7:32 bad-expression in 'w': unknown name 'w'"]);
});

test("--set train.augment.dihedral=off: 'write false', like the spec's own yes/no", () => {
  const { errors } = applyOverrides({ alcli: 1 }, ['train.augment.dihedral=off', 'train.augment.translate=0.1']);
  assert.equal(errors, ["--set 'train.augment.dihedral=off': train.augment.dihedral must be boolean: 'off' is a string in YAML 1.2 (alcli's YAML); write false"]);
  assert.equal(applyOverrides({ alcli: 1 }, ['train.augment.dihedral=false']).errors, []);
});

test.run();
