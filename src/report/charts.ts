// The report's two charts as inline SVG: Vega-Lite specs compiled by vega-lite and rendered
// headless by vega (renderer 'none': no canvas, no DOM; text widths estimated, so the SVG is
// the same on every machine).
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { DatasetResult } from './types.js';
import { mean } from './format.js';

const FONT = { font: 'sans-serif', labelFont: 'sans-serif', titleFont: 'sans-serif' };
const CONFIG = { axis: { labelFont: FONT.labelFont, titleFont: FONT.titleFont }, legend: { labelFont: FONT.labelFont, titleFont: FONT.titleFont, labelLimit: 280 }, title: { font: FONT.font, subtitleFont: FONT.font, anchor: 'start' as const }, view: { stroke: '#ddd' } };

/**
 * Compiles a Vega-Lite spec and renders it to an SVG string. `prefix` is put before every id vega
 * writes (clip paths, gradients) so two charts inlined in one page cannot share an id.
 */
export async function renderSvg(spec: TopLevelSpec, prefix: string): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec as vega.Spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg.replace(/\bid="([^"]+)"/g, `id="${prefix}-$1"`).replace(/url\(#([^)]+)\)/g, `url(#${prefix}-$1)`);
}

/** A safe id fragment from a dataset name (letters, digits, '-'). */
const idOf = (s: string) => s.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'd';

/**
 * Fig. 8 of the paper for one dataset: x the fp32 median ms per image, y the mean test IoU over
 * every (run, image) pair, one labelled point per network. Networks without an fp32 timing or
 * without test IoU are left out and named in the subtitle. Async (vega renders asynchronously).
 */
export async function speedAccuracySvg(d: DatasetResult): Promise<string> {
  const points: { network: string; ms: number; iou: number }[] = [];
  const left: string[] = [];
  for (const n of d.networks) {
    const ms = n.timing.find((t) => t.precision === 'fp32')?.ms;
    const iou = mean(n.runs.flatMap((r) => r.test.map((m) => m.iou)));
    if (ms == null || iou == null) left.push(n.name);
    else points.push({ network: n.name, ms, iou });
  }
  const [h, w] = d.timingSize;
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: `${d.name}: speed vs accuracy`, subtitle: left.length ? `left out (no fp32 timing or no test IoU): ${left.join(', ')}` : '' },
    width: 420,
    height: 300,
    data: { values: points },
    encoding: {
      x: { field: 'ms', type: 'quantitative', title: `ms per image (fp32, ONNX Runtime, 2 threads, ${h}×${w})`, scale: { zero: false, nice: true } },
      y: { field: 'iou', type: 'quantitative', title: 'mean test IoU', scale: { zero: false, nice: true } },
    },
    layer: [
      { mark: { type: 'point', filled: true, size: 70, color: '#1f77b4' } },
      { mark: { type: 'text', align: 'left', dx: 7, dy: -7, fontSize: 11 }, encoding: { text: { field: 'network', type: 'nominal' } } },
    ],
    config: CONFIG,
  };
  return renderSvg(spec, `sa-${idOf(d.name)}`);
}

/**
 * Training curves for one dataset: two panels (train loss, val IoU) against the epoch, one line
 * per network × run (colour: network, dash: run). Async.
 */
export async function curvesSvg(d: DatasetResult): Promise<string> {
  const values = d.networks.flatMap((n) =>
    n.runs.flatMap((r) =>
      r.epochs.flatMap((e) => [
        { network: n.name, run: r.id, epoch: e.epoch, panel: 'train loss', value: e.train_loss },
        { network: n.name, run: r.id, epoch: e.epoch, panel: 'val IoU', value: e.val_iou },
      ]),
    ),
  ).filter((v) => Number.isFinite(v.value));
  const lastEpoch = Math.max(1, ...values.map((v) => v.epoch));
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `${d.name}: training curves`,
    data: { values },
    facet: { column: { field: 'panel', type: 'nominal', title: null, sort: ['train loss', 'val IoU'] } },
    spec: {
      width: 300,
      height: 220,
      mark: { type: 'line', point: false, strokeWidth: 1.5 },
      encoding: {
        // whole epochs only: every epoch labelled up to 12, else 10 rounded ticks
        x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: lastEpoch <= 12 ? { values: Array.from({ length: lastEpoch }, (_, i) => i + 1), format: 'd' } : { tickCount: 10, format: 'd' } },
        y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
        color: { field: 'network', type: 'nominal', title: 'network', sort: d.networks.map((n) => n.name) },
        strokeDash: { field: 'run', type: 'nominal', title: 'run' },
        detail: [{ field: 'network', type: 'nominal' }, { field: 'run', type: 'nominal' }],
      },
    },
    resolve: { scale: { y: 'independent' } },
    config: CONFIG,
  };
  return renderSvg(spec, `cu-${idOf(d.name)}`);
}
