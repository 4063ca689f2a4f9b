// The numeric kernels of the continuous augmentations: sampling an image at real coordinates
// (bilinear for images, nearest neighbour for masks, so a label stays one of the labels), a separable
// Gaussian blur with reflected borders, and the smooth random displacement field of elastic
// deformation (Simard et al. 2003: uniform noise in [-1, 1], Gaussian-smoothed, times alpha; the
// form of batchgenerators' elastic transform that nnU-Net uses). Borders are reflected everywhere
// (image.ts reflectIndex, numpy 'reflect'), as in the integer transforms.
import { rng } from '../ir/weights.js';
import { reflectIndex, type HwcImage } from './image.js';

/** A real coordinate reflected into [0, n - 1] without repeating the edge: reflectIndex for real numbers. */
export function reflectCoord(v: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let j = v % period;
  if (j < 0) j += period;
  return j <= n - 1 ? j : period - j;
}

/** Where each output pixel comes from: (rows[i], cols[i]) in the source image, for a height x width output. */
export interface SamplingMap {
  height: number;
  width: number;
  rows: Float64Array;
  cols: Float64Array;
}

/**
 * img sampled at the map's coordinates: bilinear (images) or nearest neighbour (masks, FOV, label
 * maps: every output value is an input value). Coordinates outside the image are reflected.
 */
export function sampleMap(img: HwcImage, map: SamplingMap, mode: 'bilinear' | 'nearest'): HwcImage {
  const { data, height: h, width: w, channels: c } = img;
  const n = map.height * map.width;
  const out = new Float32Array(n * c);
  const { rows, cols } = map;
  if (mode === 'nearest') {
    for (let i = 0; i < n; i++) {
      const s = (reflectIndex(Math.round(rows[i]), h) * w + reflectIndex(Math.round(cols[i]), w)) * c;
      for (let k = 0; k < c; k++) out[i * c + k] = data[s + k];
    }
    return { data: out, height: map.height, width: map.width, channels: c };
  }
  for (let i = 0; i < n; i++) {
    const y = rows[i];
    const x = cols[i];
    const y0 = Math.floor(y);
    const x0 = Math.floor(x);
    const fy = y - y0;
    const fx = x - x0;
    const r0 = reflectIndex(y0, h) * w;
    const r1 = reflectIndex(y0 + 1, h) * w;
    const c0 = reflectIndex(x0, w);
    const c1 = reflectIndex(x0 + 1, w);
    const a = (r0 + c0) * c;
    const b = (r0 + c1) * c;
    const d = (r1 + c0) * c;
    const e = (r1 + c1) * c;
    for (let k = 0; k < c; k++) {
      // at integer coordinates the weights are exactly 1 and 0: the pixel itself
      const top = data[a + k] + fx * (data[b + k] - data[a + k]);
      const bottom = data[d + k] + fx * (data[e + k] - data[d + k]);
      out[i * c + k] = fy === 0 ? top : top + fy * (bottom - top);
    }
  }
  return { data: out, height: map.height, width: map.width, channels: c };
}

/** The normalized Gaussian kernel exp(-x²/2σ²) on [-r, r], r = ceil(3σ) (at least 1 tap). */
export function gaussianKernel(sigma: number): Float64Array {
  const r = Math.max(0, Math.ceil(3 * sigma));
  if (r === 0 || sigma <= 0) return Float64Array.of(1);
  const k = Float64Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const sum = k.reduce((a, b) => a + b, 0);
  return k.map((v) => v / sum);
}

/**
 * Gaussian blur of every channel of an h x w x c array (HWC), separable, borders reflected; in
 * place. sigma in pixels; sigma 0 leaves the data as it is.
 */
export function gaussianBlur(data: Float32Array, h: number, w: number, c: number, sigma: number): void {
  const k = gaussianKernel(sigma);
  const r = (k.length - 1) / 2;
  if (r === 0) return;
  const line = new Float64Array(Math.max(h, w) + 2 * r);
  const pass = (n: number, lines: number, at: (line: number, i: number) => number) => {
    for (let ch = 0; ch < c; ch++)
      for (let l = 0; l < lines; l++) {
        for (let i = -r; i < n + r; i++) line[i + r] = data[at(l, reflectIndex(i, n)) + ch];
        for (let i = 0; i < n; i++) {
          let s = 0;
          for (let j = 0; j < k.length; j++) s += k[j] * line[i + j];
          data[at(l, i) + ch] = s;
        }
      }
  };
  pass(w, h, (y, x) => (y * w + x) * c);
  pass(h, w, (x, y) => (y * w + x) * c);
}

/**
 * The elastic displacement field on an h x w grid: for each of (rows, cols), uniform noise in
 * [-1, 1] from rng(seed), Gaussian-smoothed with sigma, times alpha (pixels). A pure function of its
 * arguments.
 */
export function elasticField(h: number, w: number, alpha: number, sigma: number, seed: number): { dy: Float32Array; dx: Float32Array } {
  const r = rng(seed);
  const field = () => {
    const f = Float32Array.from({ length: h * w }, () => 2 * r.uniform() - 1);
    gaussianBlur(f, h, w, 1, sigma);
    for (let i = 0; i < f.length; i++) f[i] *= alpha;
    return f;
  };
  const dy = field();
  return { dy, dx: field() };
}
