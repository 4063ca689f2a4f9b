// Number formats of the report's tables, one per kind of column (README's tables use the same).

export const MISSING = '—';

/** Parameters in millions, 2 decimals (`3.45 M`); below 10,000 in thousands (`8.2 k`) so tiny networks do not all read `0.00 M`. */
export function formatParams(n: number | null | undefined): string {
  if (n == null || !Number.isFinite(n)) return MISSING;
  return Math.abs(n) < 1e4 ? `${(n / 1e3).toFixed(1)} k` : `${(n / 1e6).toFixed(2)} M`;
}

/** A fixed number of decimals, or `—` for a missing value. */
export const formatFixed = (v: number | null | undefined, digits: number): string => (v == null || !Number.isFinite(v) ? MISSING : v.toFixed(digits));

/** `mean ± std` with 4 decimals; the mean alone when std is undefined (fewer than 2 values). */
export function formatMeanStd(mean: number | null, std: number | null): string {
  if (mean == null || !Number.isFinite(mean)) return MISSING;
  return std == null || !Number.isFinite(std) ? mean.toFixed(4) : `${mean.toFixed(4)} ± ${std.toFixed(4)}`;
}

/** Arithmetic mean; null for no values. */
export const mean = (xs: readonly number[]): number | null => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : null);

/** Sample standard deviation, sqrt(sum (x - mean)^2 / (n - 1)); null for fewer than 2 values. */
export function sampleStd(xs: readonly number[]): number | null {
  if (xs.length < 2) return null;
  const m = mean(xs)!;
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
}
