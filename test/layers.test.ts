// The layer rules of src/ (README, "Layout"): each folder imports only the folders below it, no two
// folders import each other, and no file imports itself back through others. Every import counts:
// static, dynamic (`await import(...)`) and type-only, read with TypeScript's own scanner.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const SRC = resolve(new URL('../src', import.meta.url).pathname);

/** Folder -> the folders it may import. `.` is src/index.ts, the library API over everything. */
export const LAYERS: Record<string, readonly string[]> = {
  ir: [],
  io: [],
  passes: ['ir'],
  frontend: ['ir', 'passes'],
  emit: ['ir'],
  render: ['ir', 'frontend'],
  runtime: ['ir', 'passes', 'emit'],
  train: ['ir', 'io', 'passes', 'frontend', 'render', 'emit', 'runtime'],
  export: ['ir', 'io', 'passes', 'frontend', 'render', 'emit', 'runtime', 'train'],
  bench: ['ir', 'passes', 'frontend', 'emit', 'runtime', 'train', 'export'],
  report: ['io'],
  study: ['ir', 'io', 'passes', 'frontend', 'render', 'emit', 'runtime', 'train', 'export', 'bench', 'report'],
  cli: ['ir', 'io', 'passes', 'frontend', 'render', 'emit', 'runtime', 'train', 'export', 'bench', 'report', 'study'],
  '.': ['ir', 'io', 'passes', 'frontend', 'render', 'emit', 'runtime', 'train', 'export', 'bench', 'report', 'study'],
};

const walk = (d: string): string[] => readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : f.endsWith('.ts') ? [join(d, f)] : []));

/** file (relative to src/) -> the src files it imports (relative to src/) */
export function importGraph(src = SRC): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of walk(src)) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const local = importedFiles.map((f) => f.fileName).filter((n) => n.startsWith('.'));
    graph.set(relative(src, file), local.map((n) => relative(src, resolve(dirname(file), n.replace(/\.js$/, '.ts')))));
  }
  return graph;
}

/** The layer a file belongs to: its top folder under src/, or `.` for a file directly in src/. */
export const layerOf = (file: string) => (file.includes('/') ? file.split('/')[0] : '.');

/** Imports that break LAYERS: `from -> to (layer -> layer)`. */
export function layerViolations(graph: Map<string, string[]>, layers = LAYERS): string[] {
  const out: string[] = [];
  for (const [from, tos] of graph)
    for (const to of tos) {
      const [a, b] = [layerOf(from), layerOf(to)];
      if (a === b) continue;
      if (!(a in layers)) out.push(`${from}: folder '${a}' has no entry in LAYERS`);
      else if (!layers[a].includes(b)) out.push(`${from} -> ${to} (${a} may not import ${b})`);
    }
  return [...new Set(out)];
}

/** Every import cycle between files, each as the list of files on it (Tarjan's strongly connected components). */
export function importCycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc: string[] = [];
    for (let w = stack.pop()!; ; w = stack.pop()!) {
      on.delete(w);
      scc.push(w);
      if (w === v) break;
    }
    if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(scc.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

/** Pairs of folders whose allowed imports point at each other. */
function mutualLayers(layers: Record<string, readonly string[]>): string[] {
  return Object.entries(layers).flatMap(([a, bs]) => bs.filter((b) => a < b && layers[b]?.includes(a)).map((b) => `${a} <-> ${b}`));
}

/** Each folder's main file: it opens with what the folder is for, then `// May import: ...` as LAYERS says. */
export const MAIN_FILES: Record<string, string> = {
  ir: 'ir/graph.ts',
  io: 'io/dir.ts',
  passes: 'passes/pipeline.ts',
  frontend: 'frontend/compile.ts',
  emit: 'emit/onnx.ts',
  render: 'render/summary.ts',
  runtime: 'runtime/executor.ts',
  train: 'train/session.ts',
  export: 'export/export.ts',
  bench: 'bench/infer.ts',
  report: 'report/render.ts',
  study: 'study/run-study.ts',
  cli: 'cli/index.ts',
  '.': 'index.ts',
};

const graph = importGraph();

test('every import of src/ follows the layer table', () => {
  assert.equal(layerViolations(graph), []);
});

test('no file-level import cycles in src/', () => {
  assert.equal(importCycles(graph), []);
});

test('the layer table itself is one way: no two folders may import each other', () => {
  assert.equal(mutualLayers(LAYERS), []);
  for (const f of new Set([...graph.keys()].map(layerOf))) assert.ok(f in LAYERS, `folder src/${f} has no entry in LAYERS`);
});

test('the IR imports no other folder, and passes and emitters no runtime or training', () => {
  for (const [layer, banned] of [
    ['ir', ['frontend', 'runtime', 'train', 'emit', 'passes']],
    ['passes', ['runtime', 'train', 'frontend']],
    ['emit', ['runtime', 'train', 'passes', 'frontend']],
  ] as const)
    for (const b of banned) assert.not.ok(LAYERS[layer].includes(b), `${layer} may import ${b}`);
});

test('each folder main file opens with its purpose and the folders it may import, as LAYERS says', () => {
  assert.equal(Object.keys(MAIN_FILES).sort(), Object.keys(LAYERS).sort());
  for (const [layer, file] of Object.entries(MAIN_FILES)) {
    const [purpose, imports] = readFileSync(join(SRC, file), 'utf8').split('\n');
    const where = layer === '.' ? 'src/index.ts:' : `src/${layer}/:`;
    assert.ok(purpose.startsWith(`// ${where} `), `${file} line 1 should say what ${where} is for`);
    assert.is(imports, `// May import: ${LAYERS[layer].join(', ') || 'nothing of src/'}.`, `${file} line 2`);
  }
});

// the checks themselves, on small made-up graphs: each rule is seen to fail
const made = (edges: Record<string, string[]>) => new Map(Object.entries(edges));
for (const [name, edges, violations, cycles] of [
  ['ir imports the front end', { 'ir/graph.ts': ['frontend/load.ts'], 'frontend/load.ts': [] }, ['ir/graph.ts -> frontend/load.ts (ir may not import frontend)'], []],
  ['emit imports train', { 'emit/onnx.ts': ['train/objective.ts'], 'train/objective.ts': [] }, ['emit/onnx.ts -> train/objective.ts (emit may not import train)'], []],
  ['a downward import', { 'train/loop.ts': ['ir/graph.ts'], 'ir/graph.ts': [] }, [], []],
  ['a two-file cycle inside one folder', { 'train/a.ts': ['train/b.ts'], 'train/b.ts': ['train/a.ts'] }, [], [['train/a.ts', 'train/b.ts']]],
  ['an unknown folder', { 'util/x.ts': ['ir/graph.ts'], 'ir/graph.ts': [] }, ["util/x.ts: folder 'util' has no entry in LAYERS"], []],
] as const) {
  test(`the checker catches: ${name}`, () => {
    const g = made(edges as unknown as Record<string, string[]>);
    assert.equal(layerViolations(g), violations);
    assert.equal(importCycles(g), cycles);
  });
}

test.run();
