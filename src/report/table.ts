// The paper's comparison table for one dataset (Tables 2-8): cost columns (params, GFLOP, ms per
// image) beside accuracy columns (mean ± std over every (run, test image) pair), the best of each
// column marked, and each metric's other networks tested against the best one, paired by image.
import type { DatasetResult, ImageMetrics, NetworkResult } from './types.js';
import { escapeMarkdown } from './escape.js';
import { formatFixed, formatMeanStd, formatParams, mean, sampleStd } from './format.js';
import { PAIRED_TEST_NAME, pairedTest, type PairedResult } from './paired.js';

export interface TableCell {
  /** the column's header: 'Params train', 'GFLOP', 'ms fp32', 'IoU', ... */
  column: string;
  /** the number ranked (the mean for metrics); null when missing */
  value: number | null;
  /** metrics only: sample std (n - 1), null for fewer than 2 values */
  std: number | null;
  /** plain text, no markup: `3.45 M`, `12.3`, `0.8945 ± 0.0101`, `—` */
  text: string;
  /** best in its column (ties all best) */
  best: boolean;
  /** metrics only: not significantly different from the column's best network (p >= alpha) */
  similar: boolean;
  /** metrics only: the paired test against the best network, when there were at least 2 pairs */
  test?: PairedResult;
}
export interface TableRow { network: string; cells: TableCell[] }

const METRICS: readonly [string, keyof Omit<ImageMetrics, 'image'>][] = [['Acc', 'accuracy'], ['IoU', 'iou'], ['Dice', 'dice'], ['AUC', 'auc']];
export const METRIC_COLUMNS = METRICS.map(([c]) => c);

/** The precisions timed (or refused by the gate) for any network of d: fp32 first, the rest in order of first appearance. */
export function precisionsOf(d: DatasetResult): string[] {
  const seen = [...new Set(d.networks.flatMap((n) => [...n.timing.map((t) => t.precision), ...(n.refused ?? []).map((r) => r.precision)]))];
  return [...seen.filter((p) => p === 'fp32'), ...seen.filter((p) => p !== 'fp32')];
}

/** One metric of one network, keyed by `run id \0 image`; images where the metric is null (AUC) left out. */
export function metricValues(n: NetworkResult, metric: keyof Omit<ImageMetrics, 'image'>): Map<string, number> {
  const out = new Map<string, number>();
  for (const run of n.runs) for (const m of run.test) if (m[metric] != null) out.set(`${run.id}\0${m.image}`, m[metric] as number);
  return out;
}

const costCell = (column: string, value: number | null, text: string): TableCell => ({ column, value, std: null, text, best: false, similar: false });

/**
 * The rows of d's table, one per network in d's order. Columns: Params train, Params deploy,
 * GFLOP, `ms PRECISION` for each precision in precisionsOf(d), Acc, IoU, Dice, AUC. Best: lowest
 * cost, highest metric mean (ties all best). For each metric every other network is compared with
 * the first best one by pairedTest over the (run id, image) pairs both have; `similar` when
 * p >= alpha. Fewer than 2 common pairs: no test, no mark.
 */
export function datasetTable(d: DatasetResult, alpha = 0.05): TableRow[] {
  const rows: TableRow[] = d.networks.map((n) => ({
    network: n.name,
    cells: [
      costCell('Params train', n.params.train, formatParams(n.params.train)),
      costCell('Params deploy', n.params.deploy, formatParams(n.params.deploy)),
      costCell('GFLOP', n.gflop, formatFixed(n.gflop, 2)),
      ...precisionsOf(d).map((p) => {
        const ms = n.timing.find((t) => t.precision === p)?.ms ?? null;
        return costCell(`ms ${p}`, ms, n.refused?.some((r) => r.precision === p) ? 'refused' : formatFixed(ms, 1));
      }),
    ],
  }));
  const costColumns = rows[0]?.cells.length ?? 0;
  for (let c = 0; c < costColumns; c++) markBest(rows.map((r) => r.cells[c]), 'min');

  for (const [column, metric] of METRICS) {
    const values = d.networks.map((n) => metricValues(n, metric));
    const cells = values.map((v): TableCell => {
      const xs = [...v.values()];
      const m = mean(xs);
      const std = sampleStd(xs);
      return { column, value: m, std, text: formatMeanStd(m, std), best: false, similar: false };
    });
    const ref = markBest(cells, 'max');
    cells.forEach((cell, i) => {
      rows[i].cells.push(cell);
      if (ref < 0 || cell.best || cell.value == null) return;
      const keys = [...values[i].keys()].filter((k) => values[ref].has(k));
      if (keys.length < 2) return;
      cell.test = pairedTest(keys.map((k) => values[i].get(k)!), keys.map((k) => values[ref].get(k)!));
      cell.similar = cell.test.pValue >= alpha;
    });
  }
  return rows;
}

/** Sets `best` on the cells with the lowest or highest value; returns the index of the first of them, -1 when all are missing. */
function markBest(cells: TableCell[], better: 'min' | 'max'): number {
  const present = cells.map((c) => c.value).filter((v): v is number => v != null && Number.isFinite(v));
  if (!present.length) return -1;
  const top = better === 'min' ? Math.min(...present) : Math.max(...present);
  for (const c of cells) c.best = c.value === top;
  return cells.findIndex((c) => c.best);
}

/** A cell as markdown: bold when best, ` ≈` after it when not significantly different from the best. */
export const cellMarkdown = (c: TableCell): string => `${c.best ? `**${c.text}**` : c.text}${c.similar ? ' ≈' : ''}`;

/** The rows as a GitHub markdown table (network left-aligned, numbers right-aligned); '' for no rows. */
export function tableMarkdown(rows: readonly TableRow[]): string {
  if (!rows.length) return '';
  const header = ['Network', ...rows[0].cells.map((c) => c.column)];
  const lines = [header, [':--', ...rows[0].cells.map(() => '--:')], ...rows.map((r) => [escapeMarkdown(r.network), ...r.cells.map(cellMarkdown)])];
  return lines.map((l) => `| ${l.join(' | ')} |`).join('\n');
}

/** The paired tests behind the ≈ marks, one row per network: `p = 0.0312 (n = 8)`, `best`, or `—` (no test). */
export function pairedTestsMarkdown(rows: readonly TableRow[]): string {
  if (!rows.length) return '';
  const cell = (c: TableCell | undefined) => (!c ? '—' : c.best ? 'best' : c.test ? `p = ${c.test.pValue.toFixed(4)} (n = ${c.test.n})` : '—');
  const lines = [['Network', ...METRIC_COLUMNS], [':--', ...METRIC_COLUMNS.map(() => '--:')], ...rows.map((r) => [escapeMarkdown(r.network), ...METRIC_COLUMNS.map((m) => cell(r.cells.find((c) => c.column === m)))])];
  return lines.map((l) => `| ${l.join(' | ')} |`).join('\n');
}

/** The footnote under d's table: what the numbers are, what bold and ≈ mean, the test, alpha and the pairing. */
export function tableFootnote(d: DatasetResult, alpha = 0.05): string[] {
  const [h, w] = d.timingSize;
  return [
    'Acc, IoU, Dice, AUC: mean ± sample standard deviation (n − 1) over every (run, test image) pair; AUC only over the images where it is defined (both classes present).',
    `Params: trained form and deploy form (after fusion). GFLOP: deploy form, one ${h}×${w} image. ms: median ms per image, ONNX Runtime, 2 threads, batch 1, ${h}×${w}; — where not timed.`,
    'Bold: best in the column (highest metric; fewest params, GFLOP, ms).',
    `≈: not significantly different from the column's best network (p ≥ α = ${alpha}) by a paired test: ${PAIRED_TEST_NAME} (@stdlib/stats-wilcoxon; exact for ≤ 50 pairs without ties or zero differences, else the normal approximation) on the values paired by (run, test image) present for both networks; no mark where fewer than 2 pairs.`,
    ...d.networks.flatMap((n) => (n.refused ?? []).map((r) => `refused: ${n.name} at ${r.precision}, by the export's accuracy gate: val IoU ${r.val_iou.toFixed(4)} against fp32's ${r.fp32_val_iou.toFixed(4)}, a drop of ${r.drop.toFixed(4)} > ${r.max_drop} (alcli export --max-iou-drop); not timed.`)),
  ];
}
