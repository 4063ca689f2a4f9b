// The paired test behind the report's "not significantly different" marks: Wilcoxon's signed-rank
// test (Wilcoxon 1945; Hollander & Wolfe, Nonparametric Statistical Methods, ch. 3) as
// @stdlib/stats-wilcoxon computes it. Chosen over a paired t-test because per-image IoU and Dice
// are bounded and skewed, so normality of the differences is not assumed.
import wilcoxon from '@stdlib/stats-wilcoxon';

export const PAIRED_TEST_NAME = 'Wilcoxon signed-rank, two-sided';

export interface PairedResult {
  /** the test's name, for the report's footnote */
  test: string;
  /** pairs given (zero differences included) */
  n: number;
  /** W+: the sum of the ranks of |a_i - b_i| over the positive differences (0 when all are zero) */
  statistic: number;
  /** two-sided p-value */
  pValue: number;
}

/**
 * The two-sided paired Wilcoxon signed-rank test of a against b (H0: the differences a_i - b_i are
 * symmetric about 0). Ranks are of |a_i - b_i|, ties get mean ranks; zero differences are dropped
 * ('wilcox' method). The p-value is exact (the signed-rank distribution) for at most 50 non-zero
 * differences without ties or zeros, else the normal approximation with continuity and tie
 * corrections: the package's choice, kept as is. All differences zero: pValue 1, without the
 * package (which refuses that case). The two-sided p is capped at 1 (twice a tail can pass it).
 * Throws on a length mismatch, fewer than two pairs or a non-finite value.
 */
export function pairedTest(a: readonly number[], b: readonly number[]): PairedResult {
  if (a.length !== b.length) throw new Error(`pairedTest: the samples must pair up, got ${a.length} and ${b.length} values`);
  if (a.length < 2) throw new Error(`pairedTest: needs at least 2 pairs, got ${a.length}`);
  const bad = [...a, ...b].find((v) => !Number.isFinite(v));
  if (bad !== undefined) throw new Error(`pairedTest: every value must be finite, got ${bad}`);
  const n = a.length;
  if (a.every((v, i) => v === b[i])) return { test: PAIRED_TEST_NAME, n, statistic: 0, pValue: 1 };
  const r = wilcoxon([...a], [...b], { alternative: 'two-sided' });
  return { test: PAIRED_TEST_NAME, n, statistic: r.statistic, pValue: Math.min(1, r.pValue) };
}
