// Breaking any line of a valid spec gives an error at that line: for every graph line of every
// spec in architectures/, each mutation below must produce exactly one error, there, with its code.
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile } from '../src/frontend/compile.js';
import { renderDiagnostics } from '../src/frontend/diagnostics.js';
import { fsHost } from './helpers.js';

type Mutation = { name: string; code: string; apply(line: string): string | undefined };

const mutations: Mutation[] = [
  { name: 'unknown op', code: 'unknown-op', apply: (l) => (/op: \w+/.test(l) ? l.replace(/op: (\w+)/, 'op: $1zz') : undefined) },
  { name: 'missing node', code: 'undefined-ref', apply: (l) => (/in: \[?\w/.test(l) ? l.replace(/in: (\[?)(\w+)/, 'in: $1no_such_node') : undefined) },
  { name: 'broken YAML', code: 'yaml-syntax', apply: (l) => (/}\s*(#.*)?$/.test(l) ? l.replace(/}(\s*(#.*)?)$/, '$1') : undefined) },
  { name: 'wrong channel count at the head', code: 'channel-mismatch', apply: (l) => (/out: classes/.test(l) ? l.replace('out: classes', 'out: 3') : undefined) },
];

const specs = readdirSync('architectures').filter((f) => f.endsWith('.yaml')).map((f) => `architectures/${f}`);

for (const path of specs) {
  test(`${path}: each broken graph line is reported at that line`, () => {
    const text = readFileSync(path, 'utf8');
    const lines = text.split('\n');
    const start = lines.findIndex((l) => /^graph:/.test(l));
    let tried = 0;
    for (let i = start + 1; i < lines.length && /^(\s|$)/.test(lines[i]); i++) {
      for (const m of mutations) {
        const changed = m.apply(lines[i]);
        if (changed === undefined) continue;
        tried++;
        const mutated = [...lines.slice(0, i), changed, ...lines.slice(i + 1)].join('\n');
        const host = { read: (p: string) => (p === path ? mutated : fsHost.read(p)) };
        const r = compile(path, host);
        const where = r.diagnostics.map((d) => `${d.at?.file}:${d.at?.line} ${d.code}`);
        const msg = `${m.name} on line ${i + 1}: ${changed}\n${renderDiagnostics(r.diagnostics, r.sources)}`;
        assert.equal(where, [`${path}:${i + 1} ${m.code}`], msg);
      }
    }
    assert.ok(tried >= 10, `only ${tried} mutations applied`);
  });
}

// The fuzzer: every line of every spec (libraries included), each broken in several ways chosen by
// a seeded generator. A mutant may compile or fail, but a failure is diagnostics, each located at
// file:line:col: never an exception (an exit-1 "internal error" in the CLI).
const allSpecs = [...specs, ...readdirSync('architectures/lib').filter((f) => f.endsWith('.yaml')).map((f) => `architectures/lib/${f}`)];
const VALUES = ['', '~', 'null', '[]', '{}', '[1, 2, 3]', '{a: 1}', '-1', '0', '1e9', '100000', '2.5', 'true', 'yes', '"x"', "'(('", '"a +"', 'in', 'x.channels', '*nope', '&a', '|', '>', '!!binary aGk=', '"\\u0000"'];

/** mulberry32: small, seeded, the same on every machine */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type LineMutation = (line: string, r: () => number) => string | undefined;
const pick = <T>(xs: readonly T[], r: () => number): T => xs[Math.floor(r() * xs.length)];
const lineMutations: [string, LineMutation][] = [
  ['delete the line', () => ''],
  ['empty the value', (l) => (/:\s*\S/.test(l) ? l.replace(/:\s*.*$/, ':') : undefined)],
  ['replace a value', (l, r) => (/: [^\s#]/.test(l) ? l.replace(/: ([^,}\]#]+)/, `: ${pick(VALUES, r)}`) : undefined)],
  ['replace a value inside braces', (l, r) => {
    const ms = [...l.matchAll(/(\w+): ([^,{}[\]#]+)/g)];
    if (!ms.length) return undefined;
    const m = pick(ms, r);
    return l.slice(0, m.index) + `${m[1]}: ${pick(VALUES, r)}` + l.slice(m.index! + m[0].length);
  }],
  ['rename a key', (l, r) => (/\w+:/.test(l) ? l.replace(/(\w+):/, pick(['op', 'in', 'graph', 'modules', 'x', 'alcli', 'output', '1a', '<<'], r) + ':') : undefined)],
  ['cut the line', (l, r) => (l.length > 2 ? l.slice(0, 1 + Math.floor(r() * (l.length - 1))) : undefined)],
  ['indent', (l, r) => ' '.repeat(1 + Math.floor(r() * 4)) + l],
  ['dedent', (l) => (l.startsWith(' ') ? l.replace(/^ {1,2}/, '') : undefined)],
  ['insert a character', (l, r) => {
    const i = Math.floor(r() * (l.length + 1));
    return l.slice(0, i) + pick(['{', '}', '[', ']', ':', '-', '"', "'", '#', '&', '*', '!', '?', ',', '\t', '@', '%'], r) + l.slice(i);
  }],
  ['swap a word for a number', (l, r) => (/[a-z_]{2,}/.test(l) ? l.replace(/(?<=: ?)[a-z_]{2,}/, String(Math.floor(r() * 1e5))) : undefined)],
];

const PER_LINE = 5;
const shuffled = <T>(xs: readonly T[], r: () => number): T[] => {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
};

let fuzzed = 0;
for (const path of allSpecs) {
  test(`fuzz ${path}: every mutation of every line fails as located diagnostics, never an exception`, () => {
    const lines = readFileSync(path, 'utf8').split('\n');
    const r = rng([...path].reduce((h, c) => (Math.imul(h, 31) + c.charCodeAt(0)) | 0, 7));
    lines.forEach((line, i) => {
      if (!line.trim()) return;
      // five of the mutations that apply to this line, chosen by the seeded generator (all of them take ~2x as long)
      let applied = 0;
      for (const [name, m] of shuffled(lineMutations, r)) {
        if (applied === PER_LINE) break;
        const changed = m(line, r);
        if (changed === undefined || changed === line) continue;
        applied++;
        fuzzed++;
        const mutated = [...lines.slice(0, i), changed, ...lines.slice(i + 1)].join('\n');
        const host = { read: (p: string) => (p === path ? mutated : fsHost.read(p)) };
        const what = `${path}:${i + 1} ${name}: ${JSON.stringify(changed)}`;
        let res: ReturnType<typeof compile>;
        const t0 = performance.now();
        try {
          res = compile(path, host, { allowLibrary: true, maxMemory: 64 * 1024 ** 3 });
        } catch (e) {
          assert.unreachable(`${what}\nthrew ${(e as Error).stack}`);
          return;
        }
        const dt = performance.now() - t0;
        if (process.env.FUZZ_SLOW && dt > 100) console.error(Math.round(dt), what);
        assert.equal(res.usageErrors, [], what);
        for (const d of res.diagnostics) assert.ok(d.at && d.at.line >= 1 && d.at.col >= 1, `${what}\nunlocated: ${d.code} ${d.message}`);
        if (!res.compiled && !res.library) assert.ok(res.diagnostics.length, `${what}\nfailed with no diagnostic`);
      }
    });
  });
}

test('the fuzzer ran several thousand mutations', () => {
  console.log(`  fuzzer: ${fuzzed} mutations, none threw`);
  assert.ok(fuzzed >= 3000, `only ${fuzzed} mutations`);
});

test.run();
