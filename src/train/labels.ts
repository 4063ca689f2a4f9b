// Multi-class masks: label maps read through the one decoder (decode.ts), and the dataset's class
// table (DATA/classes.json). A K-class softmax task (K >= 3, or K = 2 with a classes.json) reads a
// mask as a label map, one class index 0..K-1 per pixel:
//   - a palette PNG by its indices;
//   - a single-channel file (8- or 16-bit grey; without colours in classes.json, an RGB file whose
//     every pixel is grey counts as one) by its values, except that when classes.json gives every class a grey colour [v, v, v] an
//     8-bit grey mask is read by those levels (grey-coded masks such as 0/128/255);
//   - an RGB(A) file (any RGB file when classes.json gives colours) by exact match against the table's colours (classes.json's; a
//     class it gives no colour has DEFAULT_COLORS', the colours alcli draws with). 16-bit colours
//     match the 8-bit colour times 257.
// A constant alpha channel is ignored; a varying one, and every value or colour outside the table,
// is a DataError naming the file, the value and its pixel count. A binary task (K = 1, or K = 2
// without classes.json) reads masks by the binary mask rule (decode.ts toMask) as 0/1 labels, so
// a binary dataset trains as a 2-class softmax unchanged.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultClassTable, type ClassTable, type Rgb } from './classes.js';
import { toMask, type Decoded, type MaskOptions, type MaskResult } from './decode.js';
import { DataErrors, dataError, type DataError } from './errors.js';
import { hwc } from './image.js';

export const CLASSES_FILE = 'classes.json';

/** How a task's masks are read: its K and its class table. */
export interface Labels {
  /** K: the spec's output.classes (1: a sigmoid, binary) */
  classes: number;
  /** classes.json's table, or defaultClassTable(K); max(2, K) rows */
  table: ClassTable;
  /** the classes.json it came from, when there is one */
  file?: string;
  /** given[k]: classes.json gave class k a colour (the others are DEFAULT_COLORS') */
  given?: boolean[];
}

/** Masks read by the binary mask rule: K = 1, or K = 2 without a classes.json. */
export const readsBinary = (l: Labels): boolean => l.classes === 1 || (l.classes === 2 && !l.file);

/** Whether a K-class task on `dir` reads label maps (so --mask-threshold and --invert-mask do not apply). */
export const readsLabelMaps = (classes: number, dir: string): boolean => classes >= 3 || (classes === 2 && existsSync(join(dir, CLASSES_FILE)));

/** The refusal of binary-mask options on a label-map task, or undefined. */
export function labelOptionsError(classes: number, dir: string, opts: MaskOptions): string | undefined {
  if (!readsLabelMaps(classes, dir) || (opts.maskThreshold === undefined && !opts.invertMask)) return undefined;
  const flag = opts.maskThreshold !== undefined ? '--mask-threshold' : '--invert-mask';
  return `${flag} reads binary masks; this ${classes}-class task reads label maps (class indices 0..${classes - 1}${classes === 2 ? `, as ${join(dir, CLASSES_FILE)} is there` : ''}): drop ${flag}, and re-save the masks with one class index per pixel`;
}

/**
 * K from a classes.json alone (its largest integer key + 1, at least 2), for `alcli data check`
 * without --classes; 2 for a file that is there but unusable (so readClassesFile reports it);
 * undefined without the file.
 */
export function classesInFile(dir: string): number | undefined {
  const path = join(dir, CLASSES_FILE);
  if (!existsSync(path)) return undefined;
  try {
    const json = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    const keys = typeof json === 'object' && json !== null ? Object.keys(json).filter((k) => /^\d+$/.test(k)).map(Number) : [];
    return Math.max(2, ...keys.map((k) => k + 1));
  } catch {
    return 2;
  }
}

const KEY_FORMS = '{"0": "background", "1": "lung", ...} or {"1": {"name": "lung", "color": [255, 0, 0]}, ...}';

/**
 * The Labels of a K-class task on the dataset in `dir`: DIR/classes.json when there is one (its
 * keys exactly "0".."R-1", R = max(2, K); each value a name, or {name, color: [r, g, b]} with
 * 0..255 integers; colours distinct), else defaultClassTable(K). Its faults are
 * `bad-classes-file` errors (labels undefined).
 */
export function readClassesFile(dir: string, classes: number): { labels?: Labels; errors: DataError[] } {
  const path = join(dir, CLASSES_FILE);
  if (!existsSync(path)) return { labels: { classes, table: defaultClassTable(classes) }, errors: [] };
  const rows = Math.max(2, classes);
  const errors: DataError[] = [];
  const bad = (message: string, hint: string) => errors.push(dataError('bad-classes-file', path, message, hint));
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    bad(`not valid JSON: ${(e as Error).message}`, `fix the JSON: ${KEY_FORMS}`);
    return { errors };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    bad('must be an object from class index to name', `e.g. ${KEY_FORMS}`);
    return { errors };
  }
  const entries = json as Record<string, unknown>;
  const keys = Object.keys(entries);
  const want = Array.from({ length: rows }, (_, k) => String(k));
  const missing = want.filter((k) => !(k in entries));
  const extra = keys.filter((k) => !want.includes(k));
  const task = `the spec's output.classes is ${classes}${classes === 1 ? ' (a sigmoid: rows 0 background and 1 foreground)' : ''}, so the keys are "0".."${rows - 1}"`;
  if (missing.length || extra.length) {
    const has = [missing.length ? `missing ${missing.map((k) => `"${k}"`).join(', ')}` : '', extra.length ? `extra ${extra.map((k) => `"${k}"`).join(', ')}` : ''].filter(Boolean).join('; ');
    const top = keys.filter((k) => /^\d+$/.test(k)).map(Number);
    const fromFile = top.length ? Math.max(...top) + 1 : 0;
    bad(`${has}: ${task}`, `list one entry per label value 0..${rows - 1} (0 is the background)${fromFile >= 2 && fromFile !== rows ? `, or set output.classes to ${fromFile} in the spec if the masks hold ${fromFile} classes` : ''}`);
  }
  const table = defaultClassTable(classes);
  const given = new Array<boolean>(rows).fill(false);
  for (const k of want.filter((x) => x in entries)) {
    const v = entries[k];
    const i = Number(k);
    if (typeof v === 'string' && v.trim()) table.names[i] = v;
    else if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      const unknown = Object.keys(o).filter((x) => x !== 'name' && x !== 'color');
      if (unknown.length) bad(`class "${k}" has ${unknown.map((x) => `"${x}"`).join(', ')}: a class has "name" and "color" only`, `e.g. "${k}": {"name": "lung", "color": [255, 0, 0]}`);
      if (typeof o.name !== 'string' || !o.name.trim()) bad(`class "${k}" has no "name" (a non-empty string)`, `e.g. "${k}": {"name": "lung", "color": [255, 0, 0]}`);
      else table.names[i] = o.name;
      if (o.color !== undefined) {
        const c = o.color;
        if (!Array.isArray(c) || c.length !== 3 || c.some((x) => !Number.isInteger(x) || x < 0 || x > 255))
          bad(`class "${k}" has color ${JSON.stringify(c)}: a colour is [r, g, b], integers 0..255`, `e.g. "color": [255, 0, 0]`);
        else [table.colors[i], given[i]] = [c as Rgb, true];
      }
    } else bad(`class "${k}" is ${JSON.stringify(v)}: a class is a name or {"name": ..., "color": [r, g, b]}`, `e.g. ${KEY_FORMS}`);
  }
  const byColour = new Map<string, number>();
  table.colors.forEach((c, i) => {
    const was = byColour.get(String(c));
    if (was !== undefined && (given[i] || given[was]))
      bad(`classes "${was}" and "${i}" have the same colour [${c.join(', ')}]${given[was] && given[i] ? '' : ` (class "${given[i] ? was : i}" has it by default)`}: a colour-coded mask could not tell them apart`, 'give every class its own "color"');
    else byColour.set(String(c), i);
  });
  if (errors.length) return { errors };
  return { labels: { classes, table, file: path, given }, errors };
}

/** A label map: `mask` holds class indices 0..K-1 (0/1 for a binary task); `counts[k]`: pixels of class k. */
export interface LabelResult extends MaskResult {
  counts: number[];
}

/**
 * The decoded mask `d` as labels of `labels`'s task (see the header for the rules): class indices
 * as floats in a 1-channel image. A binary task goes through toMask with `opts` (threshold,
 * invert). Throws DataErrors (code label-values, or mask-values for a binary task) naming the file,
 * each value or colour outside the table and its pixel count.
 */
export function toLabels(d: Decoded, labels: Labels, opts: MaskOptions = {}): LabelResult {
  const n = d.height * d.width;
  if (readsBinary(labels)) {
    const r = toMask(d, opts, 'mask');
    return { ...r, counts: [n - r.foreground, r.foreground] };
  }
  const { data, channels: c } = d;
  const K = labels.table.names.length;
  const hasAlpha = c === 2 || c === 4;
  if (hasAlpha)
    for (let i = 1; i < n; i++)
      if (data[i * c + c - 1] !== data[c - 1]) throw new DataErrors([labelError(d, labels, 'alpha', tallyOf(n, (j) => data[j * c + c - 1], () => true))]);
  // decided per dataset, not per file: with colours in classes.json every RGB mask is read by colour
  const colour = c >= 3 && (Boolean(labels.given?.some(Boolean)) || !everyGrey(d));
  const greyCoded = !colour && d.decodedAs !== 'palette' && d.max === 255 && Boolean(labels.given?.every(Boolean)) && labels.table.colors.every(([r, g, b]) => r === g && g === b);
  // value -> class (-1: outside the table)
  let classOf: (v: number) => number;
  let valueAt: (i: number) => number;
  let mode: LabelMode;
  if (colour) {
    const scale = d.max === 65535 ? 257 : 1;
    const byKey = new Map(labels.table.colors.map(([r, g, b], k) => [rgbKey(r * scale, g * scale, b * scale), k]));
    classOf = (v) => byKey.get(v) ?? -1;
    valueAt = (i) => rgbKey(data[i * c], data[i * c + 1], data[i * c + 2]);
    mode = 'colour';
  } else if (greyCoded) {
    const byLevel = new Map(labels.table.colors.map(([v], k) => [v, k]));
    classOf = (v) => byLevel.get(v) ?? -1;
    valueAt = (i) => data[i * c];
    mode = 'grey-coded';
  } else {
    classOf = (v) => (v < K ? v : -1);
    valueAt = (i) => data[i * c];
    mode = 'index';
  }
  const out = new Float32Array(n);
  const counts = new Array<number>(K).fill(0);
  let outside = false;
  for (let i = 0; i < n; i++) {
    const k = classOf(valueAt(i));
    if (k < 0) {
      outside = true;
      break;
    }
    out[i] = k;
    counts[k]++;
  }
  if (outside) throw new DataErrors([labelError(d, labels, mode, tallyOf(n, valueAt, (v) => classOf(v) < 0))]);
  return { mask: hwc(d.height, d.width, 1, out), foreground: n - counts[0], counts };
}

type LabelMode = 'index' | 'grey-coded' | 'colour' | 'alpha';

const rgbKey = (r: number, g: number, b: number) => r * 2 ** 32 + g * 2 ** 16 + b;
const rgbText = (v: number) => `(${Math.floor(v / 2 ** 32)},${Math.floor(v / 2 ** 16) % 2 ** 16},${v % 2 ** 16})`;

function everyGrey({ data, channels: c, height, width }: Decoded): boolean {
  for (let i = 0; i < height * width; i++) if (data[i * c] !== data[i * c + 1] || data[i * c] !== data[i * c + 2]) return false;
  return true;
}

/** Pixel counts of the values that `keep` selects, most frequent first. */
function tallyOf(n: number, valueAt: (i: number) => number, keep: (v: number) => boolean): [number, number][] {
  const counts = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const v = valueAt(i);
    if (keep(v)) counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
}

function labelError(d: Decoded, labels: Labels, mode: LabelMode, bad: [number, number][]): DataError {
  const K = labels.table.names.length;
  const fmt = mode === 'colour' ? rgbText : String;
  const shown = bad.slice(0, 8).map(([v, k]) => `${fmt(v)} (${k} px)`).join(', ');
  const rest = bad.slice(8);
  const more = rest.length ? `, and ${rest.length} more (${rest.reduce((a, [, k]) => a + k, 0)} px)` : '';
  const depth = d.decodedAs === 'palette' ? `${d.paletteBits}-bit palette indices` : `${d.bits}-bit ${d.decodedAs}`;
  const from = labels.file ? labels.file : `no ${CLASSES_FILE}: class indices 0..${K - 1}`;
  const table = `the ${K}-class table (${from})`;
  const file = d.path + (d.pages > 1 ? ` (page ${d.page})` : '');
  if (mode === 'alpha') return dataError('label-values', file, `the alpha channel varies (${shown}${more}); a label map's alpha must be constant`, 're-save the mask without an alpha channel (or with a constant one)');
  const what = mode === 'colour' ? `colour${bad.length === 1 ? '' : 's'}` : `value${bad.length === 1 ? '' : 's'}`;
  const message = `${depth}, ${what} outside ${table}: ${shown}${more}`;
  const top = mode === 'index' ? Math.max(...bad.map(([v]) => v)) : 0;
  const hint =
    mode === 'colour'
      ? `each colour of a colour-coded mask must be a class's "color" in ${labels.file ?? `DATA/${CLASSES_FILE}`} (e.g. "1": {"name": "lung", "color": [255, 0, 0]}); many rare colours are blended edges (anti-aliasing, JPEG): re-save the mask as PNG without smoothing${labels.given?.some(Boolean) ? `; a label map of indices saved as RGB is read by colour when ${CLASSES_FILE} gives colours: save it as a single-channel PNG` : ''}`
      : mode === 'grey-coded'
        ? `classes.json gives every class a grey colour, so the grey levels ${labels.table.colors.map(([v]) => v).join(', ')} are the classes: add the missing levels to classes.json, or re-save the mask with those levels only`
        : top === 255 || top === 65535 || d.decodedAs === 'palette'
          ? `label values are class indices 0..${K - 1}: a binary 0/${top} mask trains as output.classes 1 (sigmoid), or 2 without ${CLASSES_FILE}; a mask drawn in grey levels (e.g. 0/128/255) needs ${CLASSES_FILE} giving each class its level as "color": [v, v, v]; or raise output.classes to ${top + 1}`
          : `label values are class indices 0..${K - 1}: if the masks hold ${top + 1} classes set output.classes to ${top + 1} in the spec${labels.file ? ` and list them in ${labels.file}` : ''}; otherwise re-save the mask with indices 0..${K - 1}`;
  return dataError('label-values', file, message, hint);
}
