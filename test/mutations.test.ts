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

test.run();
