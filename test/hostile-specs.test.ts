// Malformed and hostile specs (issue 11, items 5 and 6): each is a located exit-3 error (never an
// exception), refused before it allocates, and no error prints another file's contents.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { applyOverrides, compile, type CompileOptions } from '../src/frontend/compile.js';
import { renderDiagnostics } from '../src/frontend/diagnostics.js';
import { decodeSpecText, MAX_SPEC_BYTES } from '../src/frontend/load.js';
import { fsHost, memHost } from './helpers.js';

const H = 'alcli: 1\ninput: {channels: 3, size: 64}\n';
const HEAD = '  head: {op: conv, out: 1, kernel: 1}\n';
const chain = (n: number) => {
  let t = `${H}modules:\n  m0:\n    graph: {c: {op: conv, out: 1, kernel: 1}}\n`;
  for (let i = 1; i < n; i++) t += `  m${i}:\n    graph: {c: {op: m${i - 1}}}\n`;
  return `${t}graph:\n  a: {op: m${n - 1}}\n`;
};
let block = `${H}graph:\n${HEAD}train:\n`;
for (let i = 0; i < 3000; i++) block += `${' '.repeat(i + 1)}k:\n`;

// [name, spec text, expected "line code" of every error, options]
const cases: [string, string, string[], CompileOptions?][] = [
  ['an empty node body', `${H}graph:\n  c1:\n${HEAD}`, ['4 bad-type']],
  ['an empty file', '', ['1 missing-key']],
  ['a comment-only file', '# nothing yet\n\n', ['1 missing-key']],
  ['a file holding a number', '42\n', ['1 bad-type']],
  ['a file holding a list', '- alcli: 1\n', ['1 bad-type']],
  ['imports that are a string', `${H}imports: lib.yaml\ngraph:\n${HEAD}`, ['3 bad-type']],
  ['imports that are a map', `${H}imports: {a: 1}\ngraph:\n${HEAD}`, ['3 bad-type']],
  ['an import that is not text', `${H}imports: [3]\ngraph:\n${HEAD}`, ['3 bad-type']],
  ['graph as a list', `${H}graph: [1, 2]\n`, ['3 bad-type']],
  ['modules as a list', `${H}modules: [1]\ngraph:\n${HEAD}`, ['3 bad-type']],
  ['an empty module', `${H}modules:\n  m:\ngraph:\n  a: {op: m}\n`, ['4 bad-type']],
  ['a module parameter with no type', `${H}modules:\n  m:\n    params: {k: }\n    graph: {c: {op: conv, out: 1, kernel: 1}}\ngraph:\n  a: {op: m}\n`, ['5 bad-value']],
  ['a module params list', `${H}modules:\n  m:\n    params: [1]\n    graph: {c: {op: conv, out: 1, kernel: 1}}\ngraph:\n  a: {op: m}\n`, ['5 bad-type']],
  ['a module output naming no node', `${H}modules:\n  m:\n    output: nope\n    graph: {c: {op: conv, out: 1, kernel: 1}}\ngraph:\n  a: {op: m}\n`, ['5 undefined-ref']],
  ['in: with nothing', `${H}graph:\n  a: {op: conv, in: , out: 1, kernel: 1}\n`, ['4 bad-type']],
  ['a map as a kernel', `${H}graph:\n  a: {op: conv, out: 1, kernel: {a: 1}}\n`, ['4 bad-type']],
  ['a list key', `${H}graph:\n  ? [a]\n  : {op: conv, out: 1, kernel: 1}\n`, ['4 bad-value']],
  ['two documents', `${H}graph:\n${HEAD}---\nx: 1\n`, ['5 yaml-syntax']],
  ['3000-deep flow lists', `${H}graph:\n  a: {op: conv, out: 1, kernel: 1, doc: ${'['.repeat(3000)}${']'.repeat(3000)}}\n`, ['4 too-large']],
  ['3000-deep block maps', block, ['69 too-large']],
  ['1000 chained modules', chain(1000), ['1941 too-large']],
  ['a 3000-deep expression', `${H}graph:\n  a: {op: conv, out: "${'('.repeat(3000)}1${')'.repeat(3000)}", kernel: 1}\n`, ['4 bad-expression']],
  ['a 60-deep expression', `${H}graph:\n  a: {op: conv, out: "${'-'.repeat(60)}1", kernel: 1}\n`, ['4 bad-expression']],
  ['resize scale: 100000', `${H}graph:\n  a: {op: conv, out: 1, kernel: 1}\n  b: {op: resize, scale: 100000}\n`, ['5 bad-value']],
  ['resize size: 100000', `${H}graph:\n  a: {op: conv, out: 1, kernel: 1}\n  b: {op: resize, size: 100000}\n`, ['5 bad-value']],
  ['out: 1e9 channels', `${H}graph:\n  a: {op: conv, out: 1000000000, kernel: 1}\n`, ['4 bad-value']],
  ['input.size 100000', 'alcli: 1\ninput: {channels: 3, size: 100000}\ngraph:\n  a: {op: conv, out: 1, kernel: 1}\n', ['2 bad-value']],
  ['train.crop 100000 in the spec', `${H}graph:\n${HEAD}train: {crop: 100000}\n`, ['5 bad-value']],
  // three x64 resizes are in range each, and 64^3 times the input together: the memory check names the node
  ['resizes that multiply past memory', `${H}graph:\n  a: {op: conv, out: 1, kernel: 1}\n  b: {op: resize, scale: 64}\n  c: {op: resize, scale: 64}\n`, ['6 too-large'], { maxMemory: 8 * 1024 ** 3 }],
];

const lineCodes = (r: ReturnType<typeof compile>) => r.diagnostics.map((d) => `${d.at?.line} ${d.code}`);
for (const [name, text, want, opts] of cases) {
  test(`${name}: ${want.join(', ')}`, () => {
    let r: ReturnType<typeof compile> | undefined;
    try {
      r = compile('s.yaml', memHost({ 's.yaml': text }), opts);
    } catch (e) {
      assert.unreachable(`threw ${(e as Error).stack}`);
    }
    assert.equal(lineCodes(r!), want, renderDiagnostics(r!.diagnostics, r!.sources).slice(0, 2000));
    for (const d of r!.diagnostics) assert.is(d.at?.file, 's.yaml');
  });
}

test('the memory error names the node, the estimate and the limit', () => {
  const r = compile('s.yaml', memHost({ 's.yaml': cases.at(-1)![1] }), { maxMemory: 8 * 1024 ** 3 });
  assert.match(r.diagnostics[0].message, /a training step \(batch 4, crop 256x256\) needs about [\d.]+ GB of activations, over the limit of 8.0 GB; the largest is 'c'/);
});

test('the memory check: every shipped architecture fits in 8 GB, alnet not in 100 MB', () => {
  assert.ok(compile('architectures/alnet.yaml', fsHost, { maxMemory: 8 * 1024 ** 3 }).compiled);
  const r = compile('architectures/alnet.yaml', fsHost, { maxMemory: 100 * 1024 ** 2 });
  assert.equal(r.diagnostics.map((d) => d.code), ['too-large']);
  assert.match(r.diagnostics[0].message, /over the limit of 100.0 MB; the largest is '/);
  assert.ok(r.diagnostics[0].at?.line, 'located at the node');
  // the batch is part of the estimate
  const small = compile('architectures/alnet.yaml', fsHost, { maxMemory: 2 * 1024 ** 3, batch: 1 });
  const big = compile('architectures/alnet.yaml', fsHost, { maxMemory: 2 * 1024 ** 3, batch: 64 });
  assert.ok(small.compiled);
  assert.equal(big.diagnostics.map((d) => d.code), ['too-large']);
});

test('--set train.crop=100000 and train.batch=100000 are usage errors, before anything is allocated', () => {
  assert.match(applyOverrides({ alcli: 1 }, ['train.crop=100000']).errors.join('\n'), /train.crop/);
  assert.match(applyOverrides({ alcli: 1 }, ['train.batch=100000']).errors.join('\n'), /train.batch/);
});

// files on disk: the host stats before reading
const dir = mkdtempSync(join(tmpdir(), 'alcli-hostile-'));
const spec = `${H}graph:\n${HEAD}`;
const write = (name: string, text: string | Buffer) => {
  const p = join(dir, name);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, text);
  return p;
};

const fileCases: [string, () => string, string, RegExp][] = [
  ['/dev/zero', () => '/dev/zero', 'file-not-found', /is not a regular file/],
  ['a folder', () => dir, 'file-not-found', /is not a regular file \(it is a folder\)/],
  ['a file over the size limit (sparse, never read)', () => {
    const p = write('big.yaml', '');
    truncateSync(p, MAX_SPEC_BYTES + 1);
    return p;
  }, 'too-large', /spec files are limited to 4 MB/],
  ['UTF-16 with a byte-order mark', () => write('utf16.yaml', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(spec, 'utf16le')])), 'encoding', /UTF-16/],
  ['UTF-16 without a byte-order mark', () => write('utf16-nobom.yaml', Buffer.from(spec, 'utf16le')), 'encoding', /NUL bytes/],
  ['Latin-1', () => write('latin1.yaml', Buffer.from(`${H}description: caf\xe9\ngraph:\n${HEAD}`, 'latin1')), 'encoding', /byte 0xe9 at offset \d+ is not valid UTF-8/],
];
for (const [name, make, code, message] of fileCases) {
  test(`spec file: ${name} is a located ${code} error`, () => {
    const path = make();
    const r = compile(path, fsHost);
    assert.equal(r.diagnostics.map((d) => d.code), [code]);
    assert.match(r.diagnostics[0].message, message);
    assert.is(r.diagnostics[0].at?.file, path);
    assert.ok(r.diagnostics[0].at!.line >= 1);
  });
}

test('Latin-1: the error is at the line of the bad byte', () => {
  const r = compile(join(dir, 'latin1.yaml'), fsHost);
  assert.is(r.diagnostics[0].at?.line, 3);
});

test('a UTF-8 byte-order mark is accepted', () => {
  assert.is(decodeSpecText('x.yaml', Buffer.from(`\ufeff${spec}`, 'utf8')), spec);
  const r = compile(write('bom.yaml', Buffer.from(`\ufeff${spec}`, 'utf8')), fsHost);
  assert.ok(r.compiled, renderDiagnostics(r.diagnostics, r.sources));
});

test('decodeSpecText: overlong forms, surrogates and truncated sequences are invalid UTF-8', () => {
  for (const bytes of [[0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf5, 0x80, 0x80, 0x80], [0x80]]) {
    const got = decodeSpecText('x.yaml', Uint8Array.from([0x61, 0x0a, ...bytes]));
    assert.is(typeof got === 'object' && got.code, 'encoding', JSON.stringify(bytes));
  }
  assert.is(decodeSpecText('x.yaml', Buffer.from('é ü € 😀', 'utf8')), 'é ü € 😀');
});

test('imports outside the spec folder are refused, unless allowed; never echoed', () => {
  const secret = write('secret.txt', 'root:x:0:0:root:/root:/bin/bash\nTOPSECRET line two\n');
  const main = write('specs/net.yaml', `${H}imports: [../secret.txt]\ngraph:\n${HEAD}`);
  const r = compile(main, fsHost);
  assert.equal(lineCodes(r), ['3 bad-value']);
  assert.match(r.diagnostics[0].message, "import '../secret.txt' lies outside the spec's folder");
  assert.match(r.diagnostics[0].hint!, '--allow-outside-imports');
  assert.not.ok(r.sources.has(secret), 'not read');
  const abs = compile(write('specs/abs.yaml', `${H}imports: [/etc/passwd]\ngraph:\n${HEAD}`), fsHost);
  assert.equal(lineCodes(abs), ['3 bad-value']);
  // allowed: read, but a file that is not a spec shows no source lines
  const allowed = compile(main, fsHost, { allowOutsideImports: true });
  const text = renderDiagnostics(allowed.diagnostics, allowed.sources);
  assert.ok(allowed.diagnostics.length);
  assert.not.match(text, 'root:x');
  assert.not.match(text, 'TOPSECRET');
  // an outside import that is a module library works when allowed
  write('shared/lib.yaml', 'alcli: 1\nmodules:\n  blk:\n    graph: {c: {op: conv, out: 1, kernel: 1}}\n');
  const uses = write('specs/uses.yaml', `${H}imports: [../shared/lib.yaml]\ngraph:\n  a: {op: blk}\n`);
  assert.equal(lineCodes(compile(uses, fsHost)), ['3 bad-value']);
  assert.ok(compile(uses, fsHost, { allowOutsideImports: true }).compiled);
  // inside the tree (a subfolder) needs no flag
  write('specs/lib/inner.yaml', 'alcli: 1\nmodules:\n  blk:\n    graph: {c: {op: conv, out: 1, kernel: 1}}\n');
  assert.ok(compile(write('specs/inner.yaml', `${H}imports: [lib/inner.yaml]\ngraph:\n  a: {op: blk}\n`), fsHost).compiled);
  // a link inside the tree that points outside it is outside
  symlinkSync(secret, join(dirname(main), 'link.yaml'));
  const linked = compile(write('specs/linked.yaml', `${H}imports: [link.yaml]\ngraph:\n${HEAD}`), fsHost);
  assert.equal(lineCodes(linked), ['3 bad-value']);
  assert.not.ok(linked.sources.has(join(dirname(main), 'link.yaml')), 'not read');
});

test('an imported file that is not a spec is not shown; long lines are cut', () => {
  write('specs/notspec.yaml', 'just some words that are private\n');
  const r = compile(write('specs/imp.yaml', `${H}imports: [notspec.yaml]\ngraph:\n${HEAD}`), fsHost);
  const text = renderDiagnostics(r.diagnostics, r.sources);
  assert.ok(r.diagnostics.length);
  assert.not.match(text, 'private');
  const long = compile('s.yaml', memHost({ 's.yaml': `${H}graph:\n  a: {op: conv, out: 1, kernel: 1, doc: x, zz: 1}${' '.repeat(500)}# ${'y'.repeat(500)}\n` }));
  assert.ok(renderDiagnostics(long.diagnostics, long.sources).split('\n').every((l) => l.length < 200));
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
