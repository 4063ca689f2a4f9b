// Post-processing of a predicted mask or label map (`alcli predict` and `alcli evaluate`
// --keep-largest, --min-size N, --fill-holes), on connected components labelled by image-js.
// Rules:
// - a class's region is split into components with 8-connectivity (pixels that touch at a corner
//   belong together: a thin diagonal vessel stays one piece); holes use the complement's
//   4-connectivity (a background region that reaches the border only through a corner gap is
//   enclosed), the pairing under which a closed 8-connected ring always encloses its inside;
// - order: --min-size removes every component of fewer than N pixels (N kept), --keep-largest keeps
//   the largest component of each class (a tie goes to the component whose first pixel in raster
//   order, top row first, comes first), both turning the removed pixels into background (0); then
//   --fill-holes: a background component (4-connected) that touches no image border and whose
//   4-neighbours outside it are all one class c >= 1 becomes class c. A background region bordering
//   two classes is left as it is, so the order of the classes never matters;
// - binary masks are label maps with classes 0 and 1; for multi-class (argmax) maps each foreground
//   class 1..K-1 is processed on its own, as above; label -1 (a NaN probability) is never touched
//   and counts as another class next to a hole;
// - the whole image counts (no field of view): a hole is enclosed by the image border, not the FOV's.
import { fromMask, Mask } from 'image-js';
import { BadOptionsError } from './errors.js';

export interface PostProcessOptions {
  /** keep only the largest 8-connected component of each foreground class */
  keepLargest?: boolean;
  /** remove components of fewer than this many pixels (0 or 1: none) */
  minSize?: number;
  /** fill background regions enclosed by one class (not touching the image border) */
  fillHoles?: boolean;
}

/** Foreground components are 8-connected; background (holes) 4-connected. */
export const CONNECTIVITY = { foreground: 8, background: 4 } as const;

/** Whether any post-processing is asked for. */
export const hasPostProcess = (o: PostProcessOptions = {}): boolean => !!(o.keepLargest || o.fillHoles || (o.minSize ?? 0) > 1);

/** The options checked: --min-size a whole number >= 0 (BadOptionsError otherwise). */
export function checkPostProcess(o: PostProcessOptions): PostProcessOptions {
  if (o.minSize !== undefined && !(Number.isInteger(o.minSize) && o.minSize >= 0))
    throw new BadOptionsError(`--min-size ${o.minSize}: expected a whole number of pixels >= 0, e.g. 20`);
  return o;
}

/** The steps in the order they run, as the flags read: `min-size 20, keep-largest, fill-holes`; `none`. */
export function describePostProcess(o: PostProcessOptions = {}): string {
  const steps = [(o.minSize ?? 0) > 1 ? `min-size ${o.minSize}` : '', o.keepLargest ? 'keep-largest' : '', o.fillHoles ? 'fill-holes' : ''].filter(Boolean);
  return steps.length ? steps.join(', ') : 'none';
}

export interface Components {
  /** per pixel (row-major): 0 outside the mask, else its component 1..count, numbered in raster order of their first pixel */
  labels: Int32Array;
  /** sizes[id] in pixels; sizes[0] = 0 */
  sizes: number[];
  /** touchesBorder[id]: a pixel of the component lies in the first or last row or column */
  touchesBorder: boolean[];
}

/**
 * Connected components of the pixels where `inside(i)` holds, in an h x w image (row-major), with
 * 4- or 8-connectivity (image-js fromMask, allowCorners for 8); renumbered in raster order.
 */
export function components(inside: (i: number) => boolean, height: number, width: number, connectivity: 4 | 8): Components {
  const n = height * width;
  const bits = new Uint8Array(n);
  for (let i = 0; i < n; i++) bits[i] = inside(i) ? 1 : 0;
  const map = fromMask(new Mask(width, height, { data: bits }), { allowCorners: connectivity === 8 }).getMap().data;
  const renumber = new Map<number, number>();
  const labels = new Int32Array(n);
  const sizes = [0];
  const touchesBorder = [false];
  for (let i = 0; i < n; i++) {
    if (!bits[i]) continue;
    let id = renumber.get(map[i]);
    if (id === undefined) {
      renumber.set(map[i], (id = sizes.length));
      sizes.push(0);
      touchesBorder.push(false);
    }
    labels[i] = id;
    sizes[id]++;
    const y = Math.floor(i / width);
    const x = i - y * width;
    if (y === 0 || x === 0 || y === height - 1 || x === width - 1) touchesBorder[id] = true;
  }
  return { labels, sizes, touchesBorder };
}

/** A binary network's mask as a label map: 1 where the probability is >= `threshold`, 0 below, -1 where it is NaN. */
export function thresholdLabels(prob: ArrayLike<number>, threshold: number): Int32Array {
  return Int32Array.from(prob, (p) => (Number.isNaN(p) ? -1 : p >= threshold ? 1 : 0));
}

/**
 * A label map [h*w] (row-major; 0 background, 1..classes-1 the foreground classes, -1 untouched)
 * post-processed by the rules at the top of this file; returns a new array of the same type
 * (the input itself when nothing is asked). A binary mask is a label map of classes 0 and 1 (classes = 2).
 */
export function postProcessLabels<T extends Uint8Array | Int32Array>(labels: T, height: number, width: number, classes: number, opts: PostProcessOptions): T {
  if (labels.length !== height * width) throw new Error(`postProcessLabels: ${labels.length} labels for ${height}x${width}`);
  checkPostProcess(opts);
  if (!hasPostProcess(opts)) return labels;
  const out = labels.slice() as T;
  const minSize = opts.minSize ?? 0;
  if (opts.keepLargest || minSize > 1)
    for (let c = 1; c < classes; c++) {
      const { labels: comp, sizes } = components((i) => out[i] === c, height, width, CONNECTIVITY.foreground);
      let largest = 0;
      for (let id = 1; id < sizes.length; id++) if (sizes[id] > sizes[largest]) largest = id; // strict: the first (raster order) wins a tie
      const keep = sizes.map((s, id) => id > 0 && s >= minSize && (!opts.keepLargest || id === largest));
      for (let i = 0; i < out.length; i++) if (comp[i] && !keep[comp[i]]) out[i] = 0;
    }
  if (opts.fillHoles) {
    const { labels: comp, sizes, touchesBorder } = components((i) => out[i] === 0, height, width, CONNECTIVITY.background);
    // the one class around each background component; -2: none seen yet, -3: more than one
    const around = new Int32Array(sizes.length).fill(-2);
    for (let i = 0; i < out.length; i++) {
      const id = comp[i];
      if (!id || touchesBorder[id]) continue;
      const x = i % width;
      for (const j of [i - width, i + width, x > 0 ? i - 1 : -1, x < width - 1 ? i + 1 : -1]) {
        if (j < 0 || j >= out.length || out[j] === 0) continue;
        const v = out[j];
        around[id] = around[id] === -2 || around[id] === v ? v : -3;
      }
    }
    for (let i = 0; i < out.length; i++) {
      const id = comp[i];
      if (id && !touchesBorder[id] && around[id] >= 1) out[i] = around[id];
    }
  }
  return out;
}
