// Seeded augmentation and the reflect padding that makes any size fit the network's stride.
// Geometric: the paper's random crop, 8 dihedral transforms and translations (whole pixels: they only
// move pixels), and rotation, scale and elastic deformation; all of them one sampling map per sample
// (samplingMap), the image sampled bilinearly, the mask and FOV by nearest neighbour, so a mask's
// values stay its values (0/1, or class indices) and stay aligned with the image. Then intensity
// (intensity.ts) on the image only. Borders are filled by reflection (image.ts reflectIndex). Every
// sample's numbers are a pure function of its seed (sampleSeed: seed, epoch, index), drawn in one
// fixed order whatever is on.
import { padBox } from '../ir/stride.js';
import { remap, reflectIndex, type HwcImage } from './image.js';
import { applyIntensity, type IntensityDraw } from './intensity.js';
import { elasticField, reflectCoord, sampleMap, type SamplingMap } from './warp.js';

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
  const [y0, yy, yx, x0, xy, xx] = dihedralSource(k, h, w);
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

/**
 * Where output (y, x) of dihedral k comes from in an h x w input: (sy, sx) = (y0 + yy*y + yx*x,
 * x0 + xy*y + xx*x) in the input mirrored left-right when k >= 4 (sx -> w - 1 - sx).
 */
function dihedralSource(k: number, h: number, w: number): [number, number, number, number, number, number] {
  return ([[0, 1, 0, 0, 0, 1], [0, 0, 1, w - 1, -1, 0], [h - 1, -1, 0, w - 1, 0, -1], [h - 1, 0, -1, 0, 1, 0]] as const)[k % 4] as unknown as [number, number, number, number, number, number];
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

/** Reflect-pads to the next multiple of the stride in each direction, split evenly (the extra pixel at the bottom/right): ir/stride.ts padBox. */
export function padToMultiple(img: HwcImage, multiple: number | [number, number]): { image: HwcImage; box: Box } {
  const p = padBox(img.height, img.width, typeof multiple === 'number' ? [multiple, multiple] : multiple);
  const box = { top: p.top, left: p.left, height: img.height, width: img.width };
  if (p.height === img.height && p.width === img.width) return { image: img, box };
  return { image: crop(img, -box.top, -box.left, p.height, p.width), box };
}

/** The box of a padded image (or of a network output at the padded size): undoes padToMultiple. */
export const cropTo = (img: HwcImage, box: Box): HwcImage => crop(img, box.top, box.left, box.height, box.width);

/** A transform's probability per sample and its ranges; every [lo, hi] is sampled uniformly. */
export interface Chance {
  /** probability that a sample gets the transform, 0..1 */
  p: number;
}

export interface AugmentOptions {
  /** a random one of the 8 dihedral transforms; of the 4 that keep the shape when the (cropped) image is not square, so a batch keeps one shape */
  dihedral?: boolean;
  /** largest shift as a fraction of the height and width (train.augment.translate) */
  translate?: number;
  /** random crop [height, width] (train.crop); a smaller image is reflect-padded to it */
  crop?: [number, number];
  /** rotation about the crop's centre by an angle in [-degrees, degrees] */
  rotate?: Chance & { degrees: number };
  /** zoom by a factor in range (> 1: the content appears larger) */
  scale?: Chance & { range: [number, number] };
  /** elastic deformation: smoothed noise of sigma pixels times alpha (warp.ts elasticField) */
  elastic?: Chance & { alpha: [number, number]; sigma: [number, number] };
  /** additive Gaussian noise of standard deviation in std (normalized units) */
  noise?: Chance & { std: [number, number] };
  /** Gaussian blur of sigma pixels */
  blur?: Chance & { sigma: [number, number] };
  /** x * f, f in range */
  brightness?: Chance & { range: [number, number] };
  /** (x - mean) * f + mean per channel, f in range */
  contrast?: Chance & { range: [number, number] };
  /** gamma g in range on each channel's min..max */
  gamma?: Chance & { range: [number, number] };
}

/** The transforms with a probability, in the order their numbers are drawn. */
export const CHANCE_TRANSFORMS = ['rotate', 'scale', 'elastic', 'noise', 'blur', 'brightness', 'contrast', 'gamma'] as const;
export type ChanceTransform = (typeof CHANCE_TRANSFORMS)[number];

/**
 * What `true` (or a key left out of a transform's map) means: nnU-Net's 2D defaults (its
 * data-augmentation pipeline: rotation p 0.2 over the full circle, scale p 0.2 in [0.7, 1.4],
 * elastic p 0.2 with alpha 0..200 and sigma 9..13 (nnU-Net v1), noise p 0.1 (variance up to 0.1:
 * std up to 0.3), blur p 0.2 with sigma 0.5..1, brightness and contrast p 0.15 in [0.75, 1.25],
 * gamma p 0.3 in [0.7, 1.5]). A transform not named in train.augment is off.
 */
export const AUGMENT_DEFAULTS = {
  rotate: { p: 0.2, degrees: 180 },
  scale: { p: 0.2, range: [0.7, 1.4] },
  elastic: { p: 0.2, alpha: [0, 200], sigma: [9, 13] },
  noise: { p: 0.1, std: [0, 0.3] },
  blur: { p: 0.2, sigma: [0.5, 1] },
  brightness: { p: 0.15, range: [0.75, 1.25] },
  contrast: { p: 0.15, range: [0.75, 1.25] },
  gamma: { p: 0.3, range: [0.7, 1.5] },
} as const satisfies { [K in ChanceTransform]: Record<string, number | readonly [number, number]> };

/**
 * train.augment's transforms with a probability as options: `true` takes AUGMENT_DEFAULTS, a map
 * fills the keys it leaves out from them, a single number for a range is [x, x], absent or false is
 * off. A range whose low end is above its high end is a BadOptionsError-worthy message (returned).
 */
export function chanceOptions(raw: Record<string, unknown> | undefined): { options: Pick<AugmentOptions, ChanceTransform>; errors: string[] } {
  const options: Record<string, unknown> = {};
  const errors: string[] = [];
  for (const name of CHANCE_TRANSFORMS) {
    const v = raw?.[name];
    if (v === undefined || v === false) continue;
    const given = v === true ? {} : (v as Record<string, unknown>);
    const out: Record<string, unknown> = {};
    for (const [key, def] of Object.entries(AUGMENT_DEFAULTS[name])) {
      const x = given[key] ?? def;
      if (Array.isArray(def)) {
        const pair = (Array.isArray(x) ? [x[0], x[1]] : [x, x]) as [number, number];
        if (pair[0] > pair[1]) errors.push(`train.augment.${name}.${key} is [${pair.join(', ')}]: the low end is above the high end`);
        out[key] = pair;
      } else out[key] = x;
    }
    options[name] = out;
  }
  return { options: options as Pick<AugmentOptions, ChanceTransform>, errors };
}

export interface Views {
  image: HwcImage;
  mask: HwcImage;
  fov?: HwcImage;
}

/**
 * The random choices of one augmentation. Drawn as AUGMENT_DRAWS uniforms in a fixed order whatever
 * the options (crop top, left, dihedral, shift y, x; then a chance and the values of each of
 * CHANCE_TRANSFORMS), so turning one transform on or off changes no other's numbers. The fields
 * after dx are the identity when their transform did not fire.
 */
export interface AugmentDraw {
  top: number;
  left: number;
  k: number;
  dy: number;
  dx: number;
  /** radians */
  angle: number;
  scale: number;
  elastic?: { alpha: number; sigma: number; seed: number };
  intensity: IntensityDraw;
}

/** Uniforms per draw: 5 for crop, dihedral and shift; 2 + 2 + 4 + 3 + 2 + 2 + 2 + 2 for rotate .. gamma. */
export const AUGMENT_DRAWS = 24;

export function drawAugment(height: number, width: number, opts: AugmentOptions, uniform: () => number): AugmentDraw {
  const u = Array.from({ length: AUGMENT_DRAWS }, () => uniform());
  const [ch, cw] = opts.crop ?? [height, width];
  const pick = (x: number, lo: number, hi: number) => lo + Math.min(hi - lo, Math.floor(x * (hi - lo + 1)));
  const top = pick(u[0], Math.min(0, height - ch), Math.max(0, height - ch));
  const left = pick(u[1], Math.min(0, width - cw), Math.max(0, width - cw));
  const k = !opts.dihedral ? 0 : ch === cw ? pick(u[2], 0, 7) : 2 * pick(u[2], 0, 3);
  const t = opts.translate ?? 0;
  const [oh, ow] = k % 2 ? [cw, ch] : [ch, cw];
  const fires = (o: Chance | undefined, x: number): boolean => o !== undefined && x < o.p;
  const within = ([lo, hi]: [number, number], x: number) => lo + (hi - lo) * x;
  const seedOf = (x: number) => Math.floor(x * 2 ** 32) >>> 0;
  const { rotate, scale, elastic, noise, blur, brightness, contrast, gamma } = opts;
  const intensity: IntensityDraw = {};
  if (fires(noise, u[13])) intensity.noise = { std: within(noise!.std, u[14]), seed: seedOf(u[15]) };
  if (fires(blur, u[16])) intensity.blur = within(blur!.sigma, u[17]);
  if (fires(brightness, u[18])) intensity.brightness = within(brightness!.range, u[19]);
  if (fires(contrast, u[20])) intensity.contrast = within(contrast!.range, u[21]);
  if (fires(gamma, u[22])) intensity.gamma = within(gamma!.range, u[23]);
  return {
    top,
    left,
    k,
    dy: Math.round((2 * u[3] - 1) * t * oh),
    dx: Math.round((2 * u[4] - 1) * t * ow),
    angle: fires(rotate, u[5]) ? ((2 * u[6] - 1) * rotate!.degrees * Math.PI) / 180 : 0,
    scale: fires(scale, u[7]) ? within(scale!.range, u[8]) : 1,
    elastic: fires(elastic, u[9]) ? { alpha: within(elastic!.alpha, u[10]), sigma: within(elastic!.sigma, u[11]), seed: seedOf(u[12]) } : undefined,
    intensity,
  };
}

/** Applies the integer part of a draw to one image: crop, then the dihedral transform, then the shift (pixels only move). */
export function applyDraw(img: HwcImage, d: AugmentDraw, opts: AugmentOptions): HwcImage {
  let out = opts.crop ? crop(img, d.top, d.left, opts.crop[0], opts.crop[1]) : img;
  if (d.k) out = dihedral(out, d.k);
  if (d.dy || d.dx) out = translate(out, d.dy, d.dx);
  return out;
}

/** Whether a draw moves pixels by other than whole-pixel steps (rotation, scale, elastic). */
export const isContinuous = (d: AugmentDraw): boolean => d.angle !== 0 || d.scale !== 1 || d.elastic !== undefined;

/**
 * The whole geometric augmentation of a draw as one sampling map into the uncropped image of
 * height x width. Forward, the sample is: the crop window, rotated by angle and zoomed by scale
 * about its centre (pixels beyond the window come from the image around it), then the dihedral
 * transform, then the shift (reflected at the window's borders, as translate), then the elastic
 * displacement. The map inverts that per output pixel. With angle 0, scale 1 and no elastic field
 * every coordinate is an integer and the map is exactly applyDraw's.
 */
export function samplingMap(height: number, width: number, d: AugmentDraw, opts: AugmentOptions): SamplingMap {
  const [ch, cw] = opts.crop ?? [height, width];
  const [top, left] = opts.crop ? [d.top, d.left] : [0, 0];
  const [oh, ow] = d.k % 2 ? [cw, ch] : [ch, cw];
  const [y0, yy, yx, x0, xy, xx] = dihedralSource(d.k, ch, cw);
  const flip = d.k >= 4;
  const field = d.elastic && elasticField(oh, ow, d.elastic.alpha, d.elastic.sigma, d.elastic.seed);
  const cos = Math.cos(d.angle) / d.scale;
  const sin = Math.sin(d.angle) / d.scale;
  const [my, mx] = [(ch - 1) / 2, (cw - 1) / 2];
  const n = oh * ow;
  const rows = new Float64Array(n);
  const cols = new Float64Array(n);
  for (let y = 0, i = 0; y < oh; y++)
    for (let x = 0; x < ow; x++, i++) {
      const ey = field ? y + field.dy[i] : y;
      const ex = field ? x + field.dx[i] : x;
      const ty = reflectCoord(ey - d.dy, oh);
      const tx = reflectCoord(ex - d.dx, ow);
      const cy = y0 + yy * ty + yx * tx - my;
      const cxm = x0 + xy * ty + xx * tx;
      const cx = (flip ? cw - 1 - cxm : cxm) - mx;
      rows[i] = top + my + cos * cy + sin * cx;
      cols[i] = left + mx - sin * cy + cos * cx;
    }
  return { height: oh, width: ow, rows, cols };
}

/**
 * One draw applied to an image, its mask and its FOV: the geometric part as one map (image
 * bilinear; mask and FOV nearest neighbour, so their values stay the values they had), then the
 * intensity part on the image only. A draw without rotation, scale or elastic field takes the
 * integer path (applyDraw), which gives the same pixels faster.
 */
export function applyAugment(v: Views, d: AugmentDraw, opts: AugmentOptions): Views {
  let image: HwcImage;
  let mask: HwcImage;
  let fov: HwcImage | undefined;
  if (isContinuous(d)) {
    const map = samplingMap(v.image.height, v.image.width, d, opts);
    [image, mask, fov] = [sampleMap(v.image, map, 'bilinear'), sampleMap(v.mask, map, 'nearest'), v.fov && sampleMap(v.fov, map, 'nearest')];
  } else [image, mask, fov] = [applyDraw(v.image, d, opts), applyDraw(v.mask, d, opts), v.fov && applyDraw(v.fov, d, opts)];
  return { image: applyIntensity(image, d.intensity), mask, fov };
}

/** One random augmentation, the same for the image, its mask and its FOV. */
export function augment(v: Views, opts: AugmentOptions, uniform: () => number): Views {
  return applyAugment(v, drawAugment(v.image.height, v.image.width, opts, uniform), opts);
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
