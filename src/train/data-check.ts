// `alcli data check DIR` as a function: the dataset scan (dataset.ts: headers, every mask decoded
// once by the mask rule, the sanity checks) turned into a report a user reads before training:
// counts per split, image sizes, the encodings (format, bit depth, colour model, EXIF orientation),
// foreground fraction per image with outliers flagged, warnings, and what `alcli train` would refuse.
// Given the task's K (or a DATA/classes.json to take it from), masks are read as that task's labels
// and the report adds the class table and each class's pixel fraction per split.
// Pure apart from reading the dataset; nothing is written.
import { SPLITS, scanDataset, type Split } from './dataset.js';
import { encodingOf } from './decode.js';
import { BadOptionsError, type DataError } from './errors.js';
import type { Rgb } from './classes.js';
import { classesInFile, labelOptionsError } from './labels.js';

export interface DataCheckOptions {
  /** the mask folder's name (default masks) */
  masks?: string;
  /** as `alcli train --mask-threshold` */
  maskThreshold?: number;
  /** as `alcli train --invert-mask` */
  invertMask?: boolean;
  /** the task's K (as `alcli train` takes it from the spec's output.classes); unset: K from DATA/classes.json when there is one, else binary masks */
  classes?: number;
}

export interface CheckedSample {
  id: string;
  split: Split;
  width: number;
  height: number;
  /** foreground fraction of the mask (undefined: the mask could not be read) */
  foreground?: number;
  /** fraction of the mask's pixels in each class 0..K-1 (read as a K-class task) */
  classes?: number[];
  /** why this one stands out: an empty or a full mask, or far from the others */
  outlier?: string;
}

export interface DataCheckReport {
  dir: string;
  /** `alcli train` would accept the dataset (errors is empty) */
  trainable: boolean;
  splitFrom: string;
  /** val ids carved from train because the split had none */
  carvedVal: string[];
  counts: Record<Split, number>;
  /** upright image sizes WxH, most frequent first */
  sizes: { size: string; count: number }[];
  /** file encodings (`png 8-bit grey`) with counts, per role */
  encodings: { images: Count[]; masks: Count[]; fov: Count[] };
  /** files with an EXIF orientation other than 1 (read upright) */
  oriented: string[];
  /** per split: masks read and the foreground fraction of all their pixels */
  foreground: Record<Split, { masks: number; fraction: number | null }>;
  /** read as a K-class task: the class table, where K came from, and each class's pixel fraction per split (null: no mask read) */
  classes?: { count: number; from: 'option' | 'classes.json'; file?: string; names: string[]; colors: Rgb[]; fractions: Record<Split, number[] | null> };
  samples: CheckedSample[];
  warnings: DataError[];
  /** what `alcli train` refuses (exit 4) */
  errors: DataError[];
  ignored: string[];
  unlisted: string[];
}

export interface Count {
  encoding: string;
  count: number;
}

const tally = (xs: string[]): Count[] =>
  [...xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>())].map(([encoding, count]) => ({ encoding, count })).sort((a, b) => b.count - a.count);

const quantile = (sorted: number[], q: number) => {
  const i = (sorted.length - 1) * q;
  const lo = Math.floor(i);
  return sorted[lo] + (sorted[Math.min(lo + 1, sorted.length - 1)] - sorted[lo]) * (i - lo);
};

/** Scans `dir` as `alcli train` would (train and val needed) and reports what it found. */
export async function checkDataset(dir: string, opts: DataCheckOptions = {}): Promise<DataCheckReport> {
  const classes = opts.classes ?? classesInFile(dir);
  const bad = classes !== undefined && labelOptionsError(classes, dir, opts);
  if (bad) throw new BadOptionsError(bad);
  const scan = await scanDataset(dir, { need: ['train', 'val'], masks: opts.masks, maskThreshold: opts.maskThreshold, invertMask: opts.invertMask, classes });
  const ds = scan.found;
  const warnings = [...scan.warnings];
  const counts = { train: 0, val: 0, test: 0 } as Record<Split, number>;
  for (const s of ds.samples) counts[s.split]++;
  if (!scan.errors.length && !counts.test)
    warnings.push({ code: 'empty-split', file: dir, message: 'the test split has no samples', hint: '`alcli evaluate --split test` will have nothing to measure; add a test/ folder or list "test" ids in split.json' });

  // outliers: empty or full masks in a set that has both, and far outliers (3 IQR beyond the quartiles)
  const fr = ds.samples.flatMap((s) => (s.foreground === undefined ? [] : [s.foreground])).sort((a, b) => a - b);
  const [q1, q3] = fr.length >= 4 ? [quantile(fr, 0.25), quantile(fr, 0.75)] : [NaN, NaN];
  const iqr = q3 - q1;
  const samples: CheckedSample[] = ds.samples.map((s) => {
    const f = s.foreground;
    let outlier: string | undefined;
    if (f === 0 && fr.some((x) => x > 0)) outlier = 'empty mask';
    else if (f === 1 && fr.some((x) => x < 1)) outlier = 'all foreground';
    else if (f !== undefined && iqr > 0 && (f < q1 - 3 * iqr || f > q3 + 3 * iqr)) outlier = `far from the others (quartiles ${(100 * q1).toFixed(1)} - ${(100 * q3).toFixed(1)} %)`;
    const px = s.width * s.height;
    return { id: s.id, split: s.split, width: s.width, height: s.height, foreground: f, ...(s.classPixels ? { classes: s.classPixels.map((k) => k / px) } : {}), ...(outlier ? { outlier } : {}) };
  });

  const foreground = {} as DataCheckReport['foreground'];
  for (const split of SPLITS) {
    const ss = ds.samples.filter((s) => s.split === split && s.foreground !== undefined);
    const px = ss.reduce((a, s) => a + s.width * s.height, 0);
    foreground[split] = { masks: ss.length, fraction: px ? ss.reduce((a, s) => a + s.foreground! * s.width * s.height, 0) / px : null };
  }
  const labels = ds.labels;
  const classTable = labels && {
    count: labels.classes,
    from: opts.classes !== undefined ? ('option' as const) : ('classes.json' as const),
    ...(labels.file ? { file: labels.file } : {}),
    names: labels.table.names,
    colors: labels.table.colors,
    fractions: Object.fromEntries(
      SPLITS.map((split) => {
        const ss = ds.samples.filter((s) => s.split === split && s.classPixels);
        const px = ss.reduce((a, s) => a + s.width * s.height, 0);
        return [split, px ? labels.table.names.map((_, k) => ss.reduce((a, s) => a + s.classPixels![k], 0) / px) : null];
      }),
    ) as Record<Split, number[] | null>,
  };
  const role = (pick: (s: (typeof ds.samples)[number]) => string | undefined) => [...new Set(ds.samples.flatMap((s) => pick(s) ?? []))];
  const [images, masks, fov] = [role((s) => s.image.path), role((s) => s.mask.path), role((s) => s.fov?.path)];
  const enc = (paths: string[]) => tally(paths.flatMap((p) => (ds.files[p] ? [encodingOf(ds.files[p])] : [])));
  return {
    dir,
    trainable: scan.errors.length === 0,
    splitFrom: ds.splitFrom,
    carvedVal: ds.carvedVal,
    counts,
    sizes: tally(ds.samples.map((s) => `${s.width}x${s.height}`)).map((c) => ({ size: c.encoding, count: c.count })),
    encodings: { images: enc(images), masks: enc(masks), fov: enc(fov) },
    oriented: [...images, ...masks, ...fov].filter((p) => (ds.files[p]?.orientation ?? 1) !== 1),
    foreground,
    ...(classTable ? { classes: classTable } : {}),
    samples,
    warnings,
    errors: scan.errors,
    ignored: ds.ignored,
    unlisted: ds.unlisted,
  };
}

const pct = (f: number | null | undefined) => (f === null || f === undefined ? '-' : `${(100 * f).toFixed(f > 0 && f < 0.001 ? 3 : 1)} %`);
const list = (cs: Count[]) => cs.map((c) => `${c.encoding} (${c.count})`).join(', ') || '-';

/** The report as text: a summary line, then the details; each image's line when there are at most `perImage`, else the outliers. */
export function renderDataCheck(r: DataCheckReport, perImage = 40): string {
  const n = r.samples.length;
  const lines: string[] = [];
  const splits = SPLITS.map((s) => `${s} ${r.counts[s]}`).join(', ');
  const fg = SPLITS.filter((s) => r.foreground[s].masks).map((s) => `${s} ${pct(r.foreground[s].fraction)}`).join(', ');
  lines.push(`${r.dir}: ${n} samples (${splits}; split ${r.splitFrom === 'seeded' ? 'seeded 5:2:3' : `from ${r.splitFrom}`}${r.carvedVal.length ? ', val carved from train' : ''}), foreground ${fg || '-'}: ${r.trainable ? 'trainable' : `refused (${r.errors.length} error${r.errors.length === 1 ? '' : 's'})`}${r.warnings.length ? `, ${r.warnings.length} warning${r.warnings.length === 1 ? '' : 's'}` : ''}`);
  lines.push(`  sizes      ${r.sizes.map((s) => `${s.size} (${s.count})`).join(', ') || '-'}`);
  lines.push(`  images     ${list(r.encodings.images)}`);
  lines.push(`  masks      ${list(r.encodings.masks)}`);
  if (r.encodings.fov.length) lines.push(`  fov        ${list(r.encodings.fov)}`);
  if (r.oriented.length) lines.push(`  EXIF orientation (read upright): ${r.oriented.length} file${r.oriented.length === 1 ? '' : 's'}: ${r.oriented.slice(0, 5).join(', ')}${r.oriented.length > 5 ? ', ...' : ''}`);
  const fr = r.samples.flatMap((s) => (s.foreground === undefined ? [] : [s.foreground])).sort((a, b) => a - b);
  if (fr.length) lines.push(`  foreground per image: min ${pct(fr[0])}, median ${pct(quantile(fr, 0.5))}, max ${pct(fr[fr.length - 1])}`);
  if (r.classes) lines.push(...classLines(r.classes));
  const shown = n <= perImage ? r.samples : r.samples.filter((s) => s.outlier);
  if (shown.length) {
    lines.push(n <= perImage ? '  per image (id, split, size, foreground):' : `  outliers (${shown.length} of ${n} images; --json lists every image):`);
    for (const s of shown) lines.push(`    ${s.id.padEnd(14)} ${s.split.padEnd(5)} ${`${s.width}x${s.height}`.padEnd(10)} ${pct(s.foreground).padStart(8)}${s.outlier ? `  <- ${s.outlier}` : ''}`);
  }
  if (r.ignored.length) lines.push(`  ignored (not an image format read here): ${r.ignored.length} file${r.ignored.length === 1 ? '' : 's'}`);
  if (r.unlisted.length) lines.push(`  not in split.json (left out): ${r.unlisted.join(', ')}`);
  for (const w of r.warnings) lines.push(`${w.file}: warning[${w.code}]: ${w.message}\n  hint: ${w.hint}`);
  // a class missing from train is easy to overlook in the table: said again last, in capitals
  for (const w of r.warnings.filter((x) => x.code === 'absent-class')) lines.push(`WARNING: ${w.message}`);
  return `${lines.join('\n')}\n`;
}

/** The class table with each class's pixel fraction per split (splits without masks left out). */
function classLines(c: NonNullable<DataCheckReport['classes']>): string[] {
  const splits = SPLITS.filter((s) => c.fractions[s]);
  const from = c.from === 'option' ? (c.file ? `--classes ${c.count}, names from ${c.file}` : `--classes ${c.count}`) : `from ${c.file}`;
  const width = Math.max(12, ...c.names.map((n, k) => `${k} ${n}`.length)) + 2;
  const out = [`  classes    ${c.count === 1 ? '1 (sigmoid: background and foreground)' : c.count} (${from}); pixels per split:`];
  out.push(`    ${'class'.padEnd(width)}${splits.map((s) => s.padStart(9)).join('')}`);
  c.names.forEach((n, k) => out.push(`    ${`${k} ${n}`.padEnd(width)}${splits.map((s) => pct(c.fractions[s]![k]).padStart(9)).join('')}${splits.includes('train') && k > 0 && c.fractions.train![k] === 0 ? '  <- never in train' : ''}`));
  return out;
}
