// Seeded augmentation (the paper's: the 8 dihedral transforms and translations, plus random crops)
// and the reflect padding that makes any size fit the network's stride. Every transform only moves
// pixels (out(y, x) = in(some y', some x')), so a mask stays exactly 0/1 and stays aligned with its
// image when both get the same transform. Borders are filled by reflection (image.ts reflectIndex).
import { remap, reflectIndex, type HwcImage } from './image.js';

/**
 * Dihedral transform k in 0..7: mirror left-right when k >= 4, then rotate 90 degrees counter-clockwise
 * (k % 4) times. Odd k % 4 swaps height and width.
 */
export function dihedral(img: HwcImage, k: number): HwcImage {
  if (!Number.isInteger(k) || k < 0 || k > 7) throw new Error(`dihedral: k = ${k}, expected 0..7`);
  const { data, height: h, width: w, channels: c } = img;
  const r = k % 4;
  const flip = k >= 4;
  const [oh, ow] = r % 2 ? [w, h] : [h, w];
  // source (sy, sx) = (y0 + yy*y + yx*x, x0 + xy*y + xx*x) in the mirrored image
  const [y0, yy, yx, x0, xy, xx] = [[0, 1, 0, 0, 0, 1], [0, 0, 1, w - 1, -1, 0], [h - 1, -1, 0, w - 1, 0, -1], [h - 1, 0, -1, 0, 1, 0]][r];
  const out = new Float32Array(data.length);
  for (let y = 0; y < oh; y++)
    for (let x = 0; x < ow; x++) {
      const sy = y0 + yy * y + yx * x;
      const sx = flip ? w - 1 - (x0 + xy * y + xx * x) : x0 + xy * y + xx * x;
      const s = (sy * w + sx) * c;
      const d = (y * ow + x) * c;
      for (let q = 0; q < c; q++) out[d + q] = data[s + q];
    }
  return { data: out, height: oh, width: ow, channels: c };
}

/** The k' with dihedral(dihedral(x, k), k') = x: rotations invert to the opposite turn, reflections to themselves. */
export const inverseDihedral = (k: number) => (k >= 4 ? k : (4 - k) % 4);

/** Shift by (dy, dx) pixels: out(y, x) = in(y - dy, x - dx), reflected at the borders. */
export function translate(img: HwcImage, dy: number, dx: number): HwcImage {
  const { height: h, width: w } = img;
  return remap(img, h, w, (y) => reflectIndex(y - dy, h), (x) => reflectIndex(x - dx, w));
}

/** The height x width window at (top, left); parts outside the image are filled by reflection. */
export function crop(img: HwcImage, top: number, left: number, height: number, width: number): HwcImage {
  return remap(img, height, width, (y) => reflectIndex(top + y, img.height), (x) => reflectIndex(left + x, img.width));
}

/** Where the original image lies inside a padded one. */
export interface Box {
  top: number;
  left: number;
  height: number;
  width: number;
}

/** Reflect-pads to the next multiple of the stride in each direction, split evenly (the extra pixel at the bottom/right). */
export function padToMultiple(img: HwcImage, multiple: number | [number, number]): { image: HwcImage; box: Box } {
  const [mh, mw] = typeof multiple === 'number' ? [multiple, multiple] : multiple;
  const ph = Math.ceil(img.height / mh) * mh;
  const pw = Math.ceil(img.width / mw) * mw;
  const box = { top: Math.floor((ph - img.height) / 2), left: Math.floor((pw - img.width) / 2), height: img.height, width: img.width };
  if (ph === img.height && pw === img.width) return { image: img, box };
  return { image: crop(img, -box.top, -box.left, ph, pw), box };
}

/** The box of a padded image (or of a network output at the padded size): undoes padToMultiple. */
export const cropTo = (img: HwcImage, box: Box): HwcImage => crop(img, box.top, box.left, box.height, box.width);

export interface AugmentOptions {
  /** a random one of the 8 dihedral transforms; of the 4 that keep the shape when the (cropped) image is not square, so a batch keeps one shape */
  dihedral?: boolean;
  /** largest shift as a fraction of the height and width (train.augment.translate) */
  translate?: number;
  /** random crop [height, width] (train.crop); a smaller image is reflect-padded to it */
  crop?: [number, number];
}

export interface Views {
  image: HwcImage;
  mask: HwcImage;
  fov?: HwcImage;
}

/** The random choices of one augmentation, drawn as five uniforms in a fixed order whatever the options. */
export interface AugmentDraw {
  top: number;
  left: number;
  k: number;
  dy: number;
  dx: number;
}

export function drawAugment(height: number, width: number, opts: AugmentOptions, uniform: () => number): AugmentDraw {
  const u = [uniform(), uniform(), uniform(), uniform(), uniform()];
  const [ch, cw] = opts.crop ?? [height, width];
  const pick = (x: number, lo: number, hi: number) => lo + Math.min(hi - lo, Math.floor(x * (hi - lo + 1)));
  const top = pick(u[0], Math.min(0, height - ch), Math.max(0, height - ch));
  const left = pick(u[1], Math.min(0, width - cw), Math.max(0, width - cw));
  const k = !opts.dihedral ? 0 : ch === cw ? pick(u[2], 0, 7) : 2 * pick(u[2], 0, 3);
  const t = opts.translate ?? 0;
  const [oh, ow] = k % 2 ? [cw, ch] : [ch, cw];
  return { top, left, k, dy: Math.round((2 * u[3] - 1) * t * oh), dx: Math.round((2 * u[4] - 1) * t * ow) };
}

/** Applies one draw to one image: crop, then the dihedral transform, then the shift. */
export function applyDraw(img: HwcImage, d: AugmentDraw, opts: AugmentOptions): HwcImage {
  let out = opts.crop ? crop(img, d.top, d.left, opts.crop[0], opts.crop[1]) : img;
  if (d.k) out = dihedral(out, d.k);
  if (d.dy || d.dx) out = translate(out, d.dy, d.dx);
  return out;
}

/** One random augmentation, the same for the image, its mask and its FOV. */
export function augment(v: Views, opts: AugmentOptions, uniform: () => number): Views {
  const d = drawAugment(v.image.height, v.image.width, opts, uniform);
  return { image: applyDraw(v.image, d, opts), mask: applyDraw(v.mask, d, opts), fov: v.fov && applyDraw(v.fov, d, opts) };
}

/**
 * The seed of one sample's augmentation in one epoch: a pure function of (seed, epoch, index), so a
 * resumed run draws the same augmentations without saving generator state. (murmur3's finalizer.)
 */
export function sampleSeed(seed: number, epoch: number, index: number): number {
  const fmix = (h: number) => {
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return (h ^ (h >>> 16)) >>> 0;
  };
  return fmix(fmix(fmix(seed ^ 0x9e3779b9) ^ epoch) ^ index);
}
