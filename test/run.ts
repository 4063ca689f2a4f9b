// Runs every test/*.test.ts in its own process and prints `N passed, N failed`. uvu's own summary
// has no failed count and a file that throws on import prints nothing, so both are counted here:
// a file that exits non-zero without a summary counts as one failure.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';

const dir = new URL('.', import.meta.url).pathname;
const only = process.argv.slice(2);
// the longest files start first (two workers): started last, one of them alone would set the wall time
const SLOW_FIRST = ['export.test.ts', 'mutations.test.ts', 'cli.test.ts', 'onnx-train.test.ts', 'safety.test.ts', 'demo.test.ts', 'train.test.ts', 'browser.test.ts', 'study-resume.test.ts', 'report-browser.test.ts'];
const rank = (f: string) => (SLOW_FIRST.includes(f) ? SLOW_FIRST.indexOf(f) : SLOW_FIRST.length);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.test.ts'))
  .filter((f) => !only.length || only.some((o) => f.includes(o)))
  .sort()
  .sort((a, b) => rank(a) - rank(b));

interface Outcome { file: string; passed: number; failed: number; output: string; ms: number }

function runFile(file: string): Promise<Outcome> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(dir, file)], { env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (code) => {
      const total = Number(/Total:\s+(\d+)/.exec(output)?.[1] ?? NaN);
      const passed = Number(/Passed:\s+(\d+)/.exec(output)?.[1] ?? NaN);
      const ms = Date.now() - t0;
      if (Number.isNaN(total) || Number.isNaN(passed)) resolve({ file, passed: 0, failed: 1, output: output || `exited ${code} without running tests`, ms });
      else resolve({ file, passed, failed: total - passed + (code !== 0 && total === passed ? 1 : 0), output, ms });
    });
  });
}

const queue = [...files];
const outcomes: Outcome[] = [];
const workers = Array.from({ length: Math.max(1, Math.min(2, cpus().length)) }, async () => {
  for (let f = queue.shift(); f; f = queue.shift()) {
    const o = await runFile(f);
    outcomes.push(o);
    console.log(`${o.failed ? 'FAIL' : 'ok  '} ${o.file}  ${o.passed} passed, ${o.failed} failed  (${(o.ms / 1000).toFixed(1)} s)`);
    if (o.failed) console.log(o.output.replace(/^/gm, '    '));
  }
});
await Promise.all(workers);
const passed = outcomes.reduce((s, o) => s + o.passed, 0);
const failed = outcomes.reduce((s, o) => s + o.failed, 0);
if (!files.length) console.log('no test files found');
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed || !files.length ? 1 : 0);
