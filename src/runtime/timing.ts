// Wall-clock timing of async work: medians after warm-up, and the round-robin form for ratios.
// May import: nothing.
import { performance } from 'node:perf_hooks';

/**
 * Like measure, for several functions whose ratio matters: run k of each follows run k-1 of every
 * one (round robin), so a change of machine load during the measurement touches all alike.
 */
export async function measureInterleaved(fns: (() => Promise<void>)[], warmup: number, runs: number): Promise<{ median: number; min: number; max: number }[]> {
  for (let i = 0; i < warmup; i++) for (const fn of fns) await fn();
  const ts: number[][] = fns.map(() => []);
  for (let i = 0; i < runs; i++)
    for (let j = 0; j < fns.length; j++) {
      const t = performance.now();
      await fns[j]();
      ts[j].push(performance.now() - t);
    }
  return ts.map((t) => {
    t.sort((a, b) => a - b);
    return { median: t[Math.floor(t.length / 2)], min: t[0], max: t[t.length - 1] };
  });
}

export async function measure(fn: () => Promise<void>, warmup: number, runs: number): Promise<{ median: number; min: number; max: number }> {
  for (let i = 0; i < warmup; i++) await fn();
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    ts.push(performance.now() - t);
  }
  ts.sort((a, b) => a - b);
  return { median: ts[Math.floor(ts.length / 2)], min: ts[0], max: ts[ts.length - 1] };
}
