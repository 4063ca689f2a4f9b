// Every error code, each from a bad spec that carries its expected code next to the bad line
// (`# expect: code`). The test asserts the exact set of (file, line, code) a compile reports.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile } from '../src/frontend/compile.js';
import { ERROR_CODES } from '../src/ir/diagnostics.js';
import { renderDiagnostics } from '../src/frontend/diagnostics.js';
import { expectedMarkers, fsHost } from './helpers.js';

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

test.run();
