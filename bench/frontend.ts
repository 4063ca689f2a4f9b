// Front-end benchmark (npm run bench): validate+compile wall time for every spec in architectures/,
// in-process (first run and warm median) and as a whole `alcli validate` process, plus the time
// of `alcli --help`. Medians of several runs; the machine is shared, so read ratios, not absolutes.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileSpecHost as host } from '../src/frontend/load.js';
import { compile } from '../src/frontend/compile.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = (fn: () => void) => { const t = performance.now(); fn(); return performance.now() - t; };
const processMs = (args: string[]) => {
  const t = performance.now();
  const r = spawnSync(process.execPath, ['bin/run.js', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`alcli ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return performance.now() - t;
};

const specs = readdirSync('architectures').filter((f) => f.endsWith('.yaml')).sort().map((f) => `architectures/${f}`);
const rows: string[][] = [];
for (const spec of specs) {
  let nodes = 0;
  const first = time(() => {
    const r = compile(spec, host);
    if (!r.compiled) throw new Error(`${spec} does not compile`);
    nodes = r.compiled.graph.nodes.length;
  });
  const warm = median(Array.from({ length: RUNS }, () => time(() => compile(spec, host))));
  const cli = median(Array.from({ length: Math.min(RUNS, 5) }, () => processMs(['validate', spec])));
  rows.push([spec, String(nodes), first.toFixed(1), warm.toFixed(1), cli.toFixed(0)]);
}
const help = median(Array.from({ length: RUNS }, () => processMs(['--help'])));
const nodeOnly = median(Array.from({ length: RUNS }, () => { const t = performance.now(); spawnSync(process.execPath, ['-e', '0']); return performance.now() - t; }));

const table = (head: string[], body: string[][]) => {
  const w = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((c, i) => (i ? c.padStart(w[i]) : c.padEnd(w[i]))).join(' | ')} |`;
  return [line(head), `|${w.map((n, i) => (i ? `${'-'.repeat(n + 1)}:` : '-'.repeat(n + 2))).join('|')}|`, ...body.map(line)].join('\n');
};
console.log(`# alcli front-end benchmark\n`);
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}; medians of ${RUNS} runs (CLI: of ${Math.min(RUNS, 5)})\n`);
console.log(table(['spec', 'IR nodes', 'compile first (ms)', 'compile warm (ms)', '`alcli validate` process (ms)'], rows));
console.log(`\n\`alcli --help\`: ${help.toFixed(0)} ms (a bare \`node -e 0\` takes ${nodeOnly.toFixed(0)} ms here)`);
const alnet = rows.find((r) => r[0] === 'architectures/alnet.yaml');
if (alnet) console.log(`targets: alnet.yaml validate+compile ${alnet[4]} ms as a process (< 300), --help ${help.toFixed(0)} ms (< 250)`);

