// The embedded default dataset (issue 3, item 9): images of thin curved vessel-like lines and blob-like
// cells over textured noise, with exact masks, for `alcli demo` on a clone with no data. Each shape is
// drawn from a signed distance field (distance to the shape minus its radius): the mask is field < 0
// and the image's contrast ramps over the pixel on either side of that same edge, so the mask is the
// truth of the image, not an estimate. Image i depends only on (seed, i): a larger count only adds images.
// With `classes: 3` the mask is a label map instead (0 background, 1 cell, 2 vessel; a vessel
// crossing a cell is drawn over it, so it is labelled 2), over exactly the same images: the binary
// mask is label > 0.
import sharp from 'sharp';
import { rng } from '../ir/weights.js';
import { sampleSeed } from './augment.js';
import { hwc, type HwcImage } from './image.js';

export interface SyntheticOptions {
  count: number;
  /** n or [height, width] */
  size: number | [number, number];
  /** 3 (default, a tinted colour image) or 1 */
  channels?: 1 | 3;
  /** 1 (default): 0/1 masks, cells and vessels alike; 3: label maps, SYNTHETIC_CLASSES */
  classes?: 1 | 3;
}

/** The names of the label values of `classes: 3` masks. */
export const SYNTHETIC_CLASSES = ['background', 'cell', 'vessel'] as const;

export interface SyntheticSample {
  /** img000, img001, ... */
  id: string;
  image: HwcImage;
  /** 1 channel: exactly 0 or 1; with `classes: 3` the label 0, 1 (cell) or 2 (vessel) */
  mask: HwcImage;
}

type Rng = ReturnType<typeof rng>;

export function syntheticDataset(seed: number, opts: SyntheticOptions): SyntheticSample[] {
  const [h, w] = typeof opts.size === 'number' ? [opts.size, opts.size] : opts.size;
  return Array.from({ length: opts.count }, (_, i) => ({ id: `img${String(i).padStart(3, '0')}`, ...syntheticImage(rng(sampleSeed(seed, 0, i)), h, w, opts.channels ?? 3, opts.classes ?? 1) }));
}

function syntheticImage(r: Rng, h: number, w: number, channels: number, classes: 1 | 3): { image: HwcImage; mask: HwcImage } {
  const bg = valueNoise(r, h, w);
  const vessels = new Float32Array(h * w).fill(Infinity);
  const cells = new Float32Array(h * w).fill(Infinity);
  const nVessels = 3 + Math.floor(r.uniform() * 4);
  for (let v = 0; v < nVessels; v++) drawVessel(r, vessels, h, w);
  const nCells = 3 + Math.floor(r.uniform() * 6);
  for (let c = 0; c < nCells; c++) drawCell(r, cells, h, w);

  const tint = [0.75 + 0.25 * r.uniform(), 0.45 + 0.3 * r.uniform(), 0.25 + 0.3 * r.uniform()];
  const image = new Float32Array(h * w * channels);
  const mask = new Float32Array(h * w);
  const coverage = (field: number) => Math.min(1, Math.max(0, 0.5 - field));
  for (let i = 0; i < h * w; i++) {
    const vessel = coverage(vessels[i]);
    const cell = coverage(cells[i]);
    const label = vessels[i] < 0 ? 2 : cells[i] < 0 ? 1 : 0;
    mask[i] = classes === 3 ? label : Math.min(label, 1);
    const v = bg[i] * (1 - 0.5 * vessel) + 0.35 * cell * (1 - vessel);
    for (let k = 0; k < channels; k++) {
      const t = channels === 3 ? tint[k] : 1;
      image[i * channels + k] = Math.min(1, Math.max(0, v * t + 0.03 * r.normal()));
    }
  }
  return { image: hwc(h, w, channels, image), mask: hwc(h, w, 1, mask) };
}

const smoothstep = (t: number) => t * t * (3 - 2 * t);

/** Smooth value noise: random values on coarse lattices, smoothstep-interpolated, octaves halving in amplitude; in about [0.35, 0.75]. */
function valueNoise(r: Rng, h: number, w: number): Float32Array {
  const out = new Float32Array(h * w).fill(0.55);
  for (let octave = 0, cells = 4, amp = 0.12; octave < 4; octave++, cells *= 2, amp /= 2) {
    const gw = cells + 1;
    const grid = Float32Array.from({ length: gw * gw }, () => 2 * r.uniform() - 1);
    for (let y = 0; y < h; y++) {
      const fy = (y / h) * cells;
      const y0 = Math.floor(fy);
      const ty = smoothstep(fy - y0);
      for (let x = 0; x < w; x++) {
        const fx = (x / w) * cells;
        const x0 = Math.floor(fx);
        const tx = smoothstep(fx - x0);
        const i = y0 * gw + x0;
        const top = grid[i] * (1 - tx) + grid[i + 1] * tx;
        const bottom = grid[i + gw] * (1 - tx) + grid[i + gw + 1] * tx;
        out[y * w + x] += amp * (top * (1 - ty) + bottom * ty);
      }
    }
  }
  return out;
}

/** field = min(field, distance to the segment minus its radius), over the segment's bounding box. */
function drawSegment(field: Float32Array, h: number, w: number, ax: number, ay: number, bx: number, by: number, radius: number) {
  const pad = radius + 2;
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy || 1e-9;
  for (let y = Math.max(0, Math.floor(Math.min(ay, by) - pad)); y <= Math.min(h - 1, Math.ceil(Math.max(ay, by) + pad)); y++)
    for (let x = Math.max(0, Math.floor(Math.min(ax, bx) - pad)); x <= Math.min(w - 1, Math.ceil(Math.max(ax, bx) + pad)); x++) {
      const t = Math.min(1, Math.max(0, ((x - ax) * dx + (y - ay) * dy) / len2));
      const d = Math.hypot(x - ax - t * dx, y - ay - t * dy) - radius;
      if (d < field[y * w + x]) field[y * w + x] = d;
    }
}

/** A thin curve: a walk whose heading turns smoothly, tapering from 1.2-2.7 px radius to half of it. */
function drawVessel(r: Rng, field: Float32Array, h: number, w: number) {
  let x = r.uniform() * w;
  let y = r.uniform() * h;
  let heading = r.uniform() * 2 * Math.PI;
  let turn = 0;
  const steps = Math.round(((0.4 + 0.6 * r.uniform()) * Math.max(h, w)) / 2);
  const r0 = 1.2 + 1.5 * r.uniform();
  for (let s = 0; s < steps; s++) {
    turn = Math.max(-0.08, Math.min(0.08, turn + 0.02 * r.normal()));
    heading += turn;
    const nx = x + 2 * Math.cos(heading);
    const ny = y + 2 * Math.sin(heading);
    drawSegment(field, h, w, x, y, nx, ny, r0 * (1 - (0.5 * s) / steps));
    [x, y] = [nx, ny];
  }
}

/** A blob: a circle whose radius wobbles with the angle, r(a) = r0 (1 + a2 sin(2a + p2) + a3 sin(3a + p3)). */
function drawCell(r: Rng, field: Float32Array, h: number, w: number) {
  const r0 = Math.max(3, (0.03 + 0.05 * r.uniform()) * Math.min(h, w));
  const cx = r.uniform() * w;
  const cy = r.uniform() * h;
  const [a2, p2, a3, p3] = [0.15 * r.uniform(), 2 * Math.PI * r.uniform(), 0.1 * r.uniform(), 2 * Math.PI * r.uniform()];
  const reach = r0 * 1.3 + 2;
  for (let y = Math.max(0, Math.floor(cy - reach)); y <= Math.min(h - 1, Math.ceil(cy + reach)); y++)
    for (let x = Math.max(0, Math.floor(cx - reach)); x <= Math.min(w - 1, Math.ceil(cx + reach)); x++) {
      const a = Math.atan2(y - cy, x - cx);
      // radial distance minus the radius at that angle: a signed distance along the ray, close enough at this wobble
      const d = Math.hypot(x - cx, y - cy) - r0 * (1 + a2 * Math.sin(2 * a + p2) + a3 * Math.sin(3 * a + p3));
      if (d < field[y * w + x]) field[y * w + x] = d;
    }
}

/** [0, 1] floats (or a 0/1 mask) to an 8-bit PNG, gray or RGB. */
export async function encodePng(img: HwcImage): Promise<Buffer> {
  if (img.channels !== 1 && img.channels !== 3) throw new Error(`encodePng: ${img.channels} channels, expected 1 or 3`);
  const bytes = Uint8Array.from(img.data, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
  const s = sharp(bytes, { raw: { width: img.width, height: img.height, channels: img.channels } });
  return (img.channels === 1 ? s.toColourspace('b-w') : s).png().toBuffer();
}

/** A label map (1 channel of class indices 0..255) to an 8-bit gray PNG holding the indices themselves. */
export async function encodeLabelPng(labels: HwcImage): Promise<Buffer> {
  if (labels.channels !== 1) throw new Error(`encodeLabelPng: ${labels.channels} channels, expected 1`);
  const bytes = Uint8Array.from(labels.data, (v) => {
    if (!(Number.isInteger(v) && v >= 0 && v <= 255)) throw new Error(`encodeLabelPng: label ${v} is not an integer in 0..255`);
    return v;
  });
  return sharp(bytes, { raw: { width: labels.width, height: labels.height, channels: 1 } }).toColourspace('b-w').png().toBuffer();
}
