// src/report/: the study report: a study's measurements (types.ts) as report.md and one self-contained report.html.
// May import: io.
// Pure: data in, text out, no clock and no file access, so both forms are golden-testable. The
// page has no script and no external reference: inline CSS, inline SVG charts, images as data: URLs.
import { curvesSvg, speedAccuracySvg } from './charts.js';
import { escapeHtml, escapeMarkdown } from './escape.js';
import { datasetTable, pairedTestsMarkdown, tableFootnote, tableMarkdown, type TableRow } from './table.js';
import type { DatasetResult, Overlay, StudyReport } from './types.js';

export type { DatasetResult, EpochRow, ImageMetrics, NetworkResult, Overlay, RunResult, StudyReport, Timing } from './types.js';
export { pairedTest, PAIRED_TEST_NAME, type PairedResult } from './paired.js';
export { datasetTable, tableMarkdown, tableFootnote, pairedTestsMarkdown, type TableRow, type TableCell } from './table.js';
export { curvesSvg, speedAccuracySvg } from './charts.js';

/**
 * report.md: title, source, protocol; per dataset the table, its footnote, the paired tests behind
 * the ≈ marks, and the runs (network: run id, directory); then the notes as given (markdown).
 * Charts and overlays live only in report.html. `alpha`: the paired test's significance level.
 */
export function renderReportMarkdown(r: StudyReport, alpha = 0.05): string {
  const out = [`# ${escapeMarkdown(r.title)}`, '', `Source: \`${r.source.replace(/`/g, "'")}\`  `, `Protocol: ${escapeMarkdown(r.protocol)}`, ''];
  for (const d of r.datasets) {
    const rows = datasetTable(d, alpha);
    out.push(`## ${escapeMarkdown(d.name)}`, '');
    if (!rows.length) {
      out.push('No networks.', '');
      continue;
    }
    out.push(tableMarkdown(rows), '', ...tableFootnote(d, alpha).map((l) => `- ${l}`), '');
    out.push('Paired tests against the best network of each column (p, pairs):', '', pairedTestsMarkdown(rows), '');
    out.push('Runs:', '');
    for (const n of d.networks) out.push(`- ${escapeMarkdown(n.name)} (\`${n.spec.replace(/`/g, "'")}\`): ${n.runs.map((x) => `${escapeMarkdown(x.id)} (\`${x.dir.replace(/`/g, "'")}\`, ${x.epochs.length} epochs, ${x.test.length} test images)`).join(', ') || 'no runs'}`);
    out.push('', 'The speed–accuracy chart, the training curves and the overlays are in report.html.', '');
  }
  if (r.notes?.length) out.push('## Notes', '', ...r.notes, '');
  return out.join('\n');
}

const CSS = `body{font:14px/1.45 system-ui,sans-serif;color:#222;max-width:1200px;margin:2em auto;padding:0 1em}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ddd;padding:.3em .6em}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}th{background:#f4f4f4}
td.best{font-weight:bold}.mark{color:#a60}.foot{font-size:.9em;color:#555}
.charts{display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start}
.overlays img{width:128px;height:128px;image-rendering:pixelated;display:block}
.overlays td{vertical-align:top;text-align:center}pre.notes{background:#f8f8f8;padding:1em;white-space:pre-wrap}`;

/** An <img> for a data: URL (base64 PNG, JPEG, GIF or WebP); anything else is not inlined and shows as text, so the page never loads a file or URL. */
function img(src: string | undefined, alt: string): string {
  if (src && /^data:image\/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=]+$/.test(src)) return `<img src="${src}" alt="${escapeHtml(alt)}">`;
  return `<span class="foot">${src ? 'not a data: URL' : '—'}</span>`;
}

function tableHtml(rows: readonly TableRow[]): string {
  const head = `<tr><th>Network</th>${rows[0].cells.map((c) => `<th>${escapeHtml(c.column)}</th>`).join('')}</tr>`;
  const body = rows.map((r) => {
    const cells = r.cells.map((c) => {
      const title = c.test ? ` title="p = ${c.test.pValue.toFixed(4)}, n = ${c.test.n}"` : '';
      return `<td class="num${c.best ? ' best' : ''}"${title}>${escapeHtml(c.text)}${c.similar ? ' <span class="mark">≈</span>' : ''}</td>`;
    });
    return `<tr><th scope="row">${escapeHtml(r.network)}</th>${cells.join('')}</tr>`;
  });
  return `<table>${head}${body.join('')}</table>`;
}

function overlaysHtml(d: DatasetResult, overlays: readonly Overlay[]): string {
  const names = d.networks.map((n) => n.name);
  const head = `<tr><th>Image</th><th>Input</th><th>Truth</th>${names.map((n) => `<th>${escapeHtml(n)}</th>`).join('')}</tr>`;
  const body = overlays.map((o) => `<tr><th scope="row">${escapeHtml(o.image)}</th><td>${img(o.input, `${o.image} input`)}</td><td>${img(o.truth, `${o.image} truth`)}</td>${names.map((n) => `<td>${img(o.predictions[n], `${o.image} ${n}`)}</td>`).join('')}</tr>`);
  return `<table class="overlays">${head}${body.join('')}</table>`;
}

/**
 * report.html: one self-contained page (no script, no external src or href; opens from disk):
 * per dataset the table (best bold, ≈ marks, p-values as cell titles), the footnote, the
 * speed–accuracy chart (left out when no network has an fp32 timing) and the training curves as
 * inline SVG, the overlay grid (rows: test
 * images; columns: input, truth, each network); then the notes as preformatted text. Every piece
 * of text is HTML-escaped; images that are not data: URLs are not inlined. Async (charts).
 */
export async function renderReportHtml(r: StudyReport, alpha = 0.05): Promise<string> {
  const parts = [
    '<!doctype html>',
    `<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(r.title)}</title><style>${CSS}</style></head><body>`,
    `<h1>${escapeHtml(r.title)}</h1>`,
    `<p>Source: <code>${escapeHtml(r.source)}</code><br>Protocol: ${escapeHtml(r.protocol)}</p>`,
  ];
  for (const d of r.datasets) {
    const rows = datasetTable(d, alpha);
    parts.push(`<h2>${escapeHtml(d.name)}</h2>`);
    if (!rows.length) {
      parts.push('<p>No networks.</p>');
      continue;
    }
    parts.push(tableHtml(rows), `<ul class="foot">${tableFootnote(d, alpha).map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>`);
    // a single run (alcli report RUN) is rarely timed: no empty scatter then, a line saying why
    const timed = d.networks.some((n) => n.timing.some((t) => t.precision === 'fp32'));
    const scatter = timed ? `<figure>${await speedAccuracySvg(d)}</figure>` : '<p class="foot">No network has an fp32 timing: no speed–accuracy chart.</p>';
    parts.push(`<div class="charts">${scatter}<figure>${await curvesSvg(d)}</figure></div>`);
    if (d.overlays.length) parts.push('<h3>Overlays</h3>', overlaysHtml(d, d.overlays));
  }
  if (r.notes?.length) parts.push('<h2>Notes</h2>', `<pre class="notes">${escapeHtml(r.notes.join('\n'))}</pre>`);
  parts.push('</body></html>', '');
  return parts.join('\n');
}
