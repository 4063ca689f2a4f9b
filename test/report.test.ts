// The report (src/report): the paired test against hand-computed exact p-values, the dataset table
// (best in bold, ≈ marks) case by case, report.md against a golden file (UPDATE_GOLDEN=1 rewrites
// it), and report.html self-contained and escaped. Fixture: test/fixtures/report-study.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { curvesSvg, datasetTable, pairedTest, renderReportHtml, renderReportMarkdown, speedAccuracySvg, tableFootnote, tableMarkdown, type DatasetResult } from '../src/report/render.js';
import { cellMarkdown } from '../src/report/table.js';
import { fixtureDataset, fixtureReport, ODD_NAME } from './fixtures/report-study.js';
import { matchGolden, thrown } from './helpers.js';

const b6 = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
const plus = (b: number[], d: number[]) => b.map((v, i) => v + d[i]);

// Exact two-sided p-values by enumeration of the 2^6 = 64 sign patterns of ranks 1..6 (each
// equally likely under H0). Number of patterns by W+ = 0..21:
//   1 1 1 2 2 3 4 4 4 5 5 5 5 4 4 4 3 2 2 1 1 1
// (a) d = 0.5 -1.2 2.1 3.0 -0.3 1.7: |d| ranks 2 3 5 6 1 4, negatives at ranks 3 and 1, so
//     W+ = 2+5+6+4 = 17 > 10.5 (the mean): p = 2 P(W+ >= 17) = 2 (2+2+1+1+1)/64 = 14/64 = 0.21875.
// (b) all six differences positive and distinct: W+ = 21, p = 2 * 1/64 = 0.03125.
// (c) d = 1 -2 3 -4 5 -6: W+ = 1+3+5 = 9 < 10.5: p = 2 P(W+ <= 9) = 2 (1+1+1+2+2+3+4+4+4+5)/64 = 54/64 = 0.84375.
for (const [name, a, b, statistic, p] of [
  ['(a) mixed signs, n = 6', plus(b6, [0.5, -1.2, 2.1, 3.0, -0.3, 1.7]), b6, 17, 14 / 64],
  ['(b) all positive, n = 6', plus(b6, [0.11, 0.22, 0.33, 0.44, 0.55, 0.66]), b6, 21, 2 / 64],
  ['(c) alternating signs, n = 6', plus(b6, [1, -2, 3, -4, 5, -6]), b6, 9, 54 / 64],
  ['all pairs equal: p = 1 without the package', b6, [...b6], 0, 1],
] as const)
  test(`pairedTest ${name}: W+ = ${statistic}, p = ${p}`, () => {
    const r = pairedTest([...a], [...b]);
    assert.is(r.test, 'Wilcoxon signed-rank, two-sided');
    assert.is(r.n, a.length);
    assert.is(r.statistic, statistic);
    assert.ok(Math.abs(r.pValue - p) <= 1e-12, `p ${r.pValue} vs hand ${p}`);
  });

for (const [name, a, b, message] of [
  ['a length mismatch', [1, 2, 3], [1, 2], /must pair up, got 3 and 2/],
  ['one pair', [1], [2], /at least 2 pairs, got 1/],
  ['a NaN', [1, NaN], [2, 3], /finite, got NaN/],
] as const)
  test(`pairedTest refuses ${name}`, () => assert.match(thrown(() => pairedTest([...a], [...b])).message, message));

// the marked cells of the fixture's table: [network, column, markdown cell]
const rows = datasetTable(fixtureDataset());
for (const [network, column, cell] of [
  ['AL-Net', 'IoU', '**0.8588 ± 0.0383**'], // best by mean
  ['RepVGG U-Net', 'IoU', '0.8138 ± 0.0472'], // below AL-Net on all 8 pairs: p = 2/256, no mark
  [ODD_NAME, 'IoU', '0.8563 ± 0.0441 ≈'], // mixed differences: not significant
  [ODD_NAME, 'Acc', '**0.9462 ± 0.0141**'], // another column, another best
  ['AL-Net', 'Acc', '0.9325 ± 0.0167'], // p = 0.0218 < 0.05 against the best
  [ODD_NAME, 'Params train', '**5.8 k**'], // fewest params; below 10,000 in k
  ['AL-Net', 'Params train', '3.45 M'],
  ['AL-Net', 'ms int8', '**23.9**'], // the only int8 timing
  ['RepVGG U-Net', 'ms int8', 'refused'], // refused by the export gate: not timed, never best
  [ODD_NAME, 'ms int8', '—'],
  [ODD_NAME, 'ms fp32', '—'], // not timed: missing, not best
  ['AL-Net', 'GFLOP', '**4.57**'],
] as const)
  test(`table: ${network} / ${column} is ${cell}`, () => {
    const row = rows.find((r) => r.network === network)!;
    assert.is(cellMarkdown(row.cells.find((c) => c.column === column)!), cell);
  });

test('table: the columns, and the paired test behind each metric mark', () => {
  assert.equal(rows[0].cells.map((c) => c.column), ['Params train', 'Params deploy', 'GFLOP', 'ms fp32', 'ms int8', 'Acc', 'IoU', 'Dice', 'AUC']);
  const iou = rows[1].cells.find((c) => c.column === 'IoU')!;
  assert.is(iou.test?.n, 8);
  assert.ok(Math.abs(iou.test!.pValue - 2 / 256) < 1e-12, 'all 8 differences one sign: exact p = 2/256');
  assert.is(rows[1].cells.find((c) => c.column === 'AUC')!.test?.n, 7, 'AUC pairs only where both are defined');
  // sample std (n - 1) of AL-Net's accuracy: values .95 .93 .91 .94 .96 .92 .92 .93, mean .9325
  const acc = [0.95, 0.93, 0.91, 0.94, 0.96, 0.92, 0.92, 0.93];
  assert.ok(Math.abs(rows[0].cells.find((c) => c.column === 'Acc')!.std! - Math.sqrt(acc.reduce((s, x) => s + (x - 0.9325) ** 2, 0) / 7)) < 1e-12);
});

test('table: the footnote names each precision the export gate refused, and by how much', () => {
  assert.equal(tableFootnote(fixtureDataset()).filter((l) => l.startsWith('refused')), ["refused: RepVGG U-Net at int8, by the export's accuracy gate: val IoU 0.8012 against fp32's 0.8251, a drop of 0.0239 > 0.005 (alcli export --max-iou-drop); not timed."]);
});

test('table: a network without runs or timing prints — and is never best; no networks, no table', () => {
  const d: DatasetResult = { name: 'x', timingSize: [64, 64], overlays: [], networks: [{ name: 'empty', spec: 's.yaml', params: { train: 20_000, deploy: 20_000 }, gflop: 0.5, timing: [], runs: [] }, ...fixtureDataset().networks.slice(0, 1)] };
  const r = datasetTable(d);
  assert.equal(r[0].cells.filter((c) => c.column === 'IoU').map(cellMarkdown), ['—']);
  assert.equal(r[1].cells.filter((c) => c.column === 'IoU').map(cellMarkdown), ['**0.8588 ± 0.0383**']);
  assert.is(tableMarkdown(datasetTable({ ...d, networks: [] })), '');
});

test('report.md: golden (test/golden/report.md)', () => {
  matchGolden('test/golden/report.md', renderReportMarkdown(fixtureReport()));
});

test('report.html: self-contained, escaped, two SVG charts, every image inlined, the same twice', async () => {
  const r = fixtureReport();
  r.datasets[0].overlays[1].predictions['AL-Net'] = 'http://example.com/leak.png'; // not inlined
  const html = await renderReportHtml(r);
  assert.not.match(html, /<script/i);
  assert.not.match(html, /\b(src|href)\s*=\s*(?!["']?data:)/i, 'no src or href other than data: URLs');
  const imgs = html.match(/<img [^>]*>/g) ?? [];
  assert.is(imgs.length, 2 * (2 + 3) - 1, 'input, truth, 3 networks for 2 images, less the refused one');
  assert.ok(imgs.every((i) => /src="data:image\/png;base64,/.test(i)));
  assert.not.ok(html.includes('example.com'));
  assert.is((html.match(/<svg /g) ?? []).length, 2);
  assert.ok(html.includes('speed vs accuracy') && html.includes('training curves'));
  assert.not.ok(html.includes('<b>v3+'), 'the network name is escaped (table, overlays, charts)');
  assert.ok(html.includes('DeepLab &lt;b&gt;v3+&lt;/b&gt; | x'));
  assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), 'notes are text');
  assert.ok(html.includes('<td class="num best">0.8588 ± 0.0383</td>'), 'best in bold (class best)');
  assert.is(await renderReportHtml(r), html, 'deterministic');
});

test('report.html for a single untimed run (alcli report RUN): curves, no empty scatter', async () => {
  const [alnet] = fixtureDataset().networks;
  const one = { ...fixtureReport(), datasets: [{ ...fixtureDataset(), networks: [{ ...alnet, timing: [], runs: alnet.runs.slice(0, 1) }], overlays: [] }] };
  const html = await renderReportHtml(one);
  assert.is((html.match(/<svg /g) ?? []).length, 1);
  assert.ok(html.includes('No network has an fp32 timing'));
  assert.ok(html.includes('<td class="num best">0.8575 ± 0.0435</td>'), 'the only network is best, with no test against itself (IoU .90 .85 .80 .88: mean .8575, sample std sqrt(.005675 / 3))');
});

test('charts: the network without timing is left out of the scatter and named; one curve per network × run', async () => {
  const d = fixtureDataset();
  const sa = await speedAccuracySvg(d);
  assert.ok(sa.includes('left out (no fp32 timing or no test IoU): DeepLab &lt;b&gt;v3+&lt;/b&gt; | x'));
  assert.is((sa.match(/aria-roledescription="point"/g) ?? []).length, 2, 'one point per timed network');
  assert.ok(sa.includes('>AL-Net</text>') && sa.includes('>RepVGG U-Net</text>'), 'points labelled');
  const cu = await curvesSvg(d);
  // two panels, each with 3 networks × 2 runs lines
  assert.is((cu.match(/<path [^>]*role="graphics-symbol"[^>]*aria-roledescription="line mark"/g) ?? []).length, 12);
});

test.run();
