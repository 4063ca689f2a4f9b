// Prediction PNGs: the probability map (8-bit gray, round(p * 255)), the binary mask at the
// threshold (0 / 255) and an overlay: the image in RGB with the outline of the predicted mask in
// red and, when given, the ground truth's outline in green (yellow where the two coincide).
// An outline pixel is a foreground pixel with a background 4-neighbour; pixels beyond the image
// edge do not count as background, so a mask touching the border is not framed by the edge itself.
// A softmax prediction has a label map, a colour overlay and a probability map per class instead
// (writeClassPredictionPngs). Pure apart from sharp's encoding: the caller writes the files.
import sharp from 'sharp';
import type { HwcImage } from './image.js';
import { DEFAULT_THRESHOLD } from './objective.js';
import { argmaxLabels } from './class-metrics.js';

export const PREDICTION_COLOR = [255, 0, 0] as const;
export const TRUTH_COLOR = [0, 255, 0] as const;
export const BOTH_COLOR = [255, 255, 0] as const;

export interface PredictionPngs {
  prob: Buffer;
  mask: Buffer;
  overlay: Buffer;
}

export interface OverlayOptions {
  /** the ground-truth mask (HxW, 1 = foreground), outlined in green */
  truth?: HwcImage | ArrayLike<number>;
  /** the decided mask (HxW, 1 = foreground; a post-processed one), written and outlined instead of probs >= threshold */
  mask?: ArrayLike<number>;
}

/** 1 on the inner boundary of a binary mask (foreground with a background 4-neighbour inside the image). */
export function outline(mask: ArrayLike<number>, height: number, width: number): Uint8Array {
  const out = new Uint8Array(height * width);
  const on = (y: number, x: number) => mask[y * width + x] > 0.5;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      if (!on(y, x)) continue;
      if ((y > 0 && !on(y - 1, x)) || (y < height - 1 && !on(y + 1, x)) || (x > 0 && !on(y, x - 1)) || (x < width - 1 && !on(y, x + 1))) out[y * width + x] = 1;
    }
  return out;
}

/** The image as 8-bit RGB (gray repeated in the three channels). */
export function toRgbBytes(img: HwcImage): Uint8Array {
  const { data, height, width, channels: c } = img;
  if (c !== 1 && c !== 3) throw new Error(`overlay: the image has ${c} channels, expected 1 or 3`);
  const out = new Uint8Array(height * width * 3);
  for (let i = 0; i < height * width; i++)
    for (let k = 0; k < 3; k++) out[3 * i + k] = Math.round(Math.min(1, Math.max(0, data[i * c + (c === 3 ? k : 0)])) * 255);
  return out;
}

const png = (bytes: Uint8Array, height: number, width: number, channels: 1 | 3) => {
  const s = sharp(bytes, { raw: { width, height, channels } });
  return (channels === 1 ? s.toColourspace('b-w') : s).png().toBuffer();
};

/** The three PNGs of one prediction; `probs` is the HxW foreground probability at the image's size. */
export async function writePredictionPngs(image: HwcImage, probs: ArrayLike<number>, threshold = DEFAULT_THRESHOLD, opts: OverlayOptions = {}): Promise<PredictionPngs> {
  const { height: h, width: w } = image;
  const n = h * w;
  if (probs.length !== n) throw new Error(`overlay: ${probs.length} probabilities for a ${w}x${h} image`);
  const truth = opts.truth && ('data' in opts.truth ? opts.truth.data : opts.truth);
  if (truth && truth.length !== n) throw new Error(`overlay: the truth mask has ${truth.length} pixels, the image ${n}`);
  if (opts.mask && opts.mask.length !== n) throw new Error(`overlay: the mask has ${opts.mask.length} pixels, the image ${n}`);
  const probBytes = new Uint8Array(n);
  const maskBytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    probBytes[i] = Math.round(Math.min(1, Math.max(0, probs[i])) * 255);
    maskBytes[i] = (opts.mask ? opts.mask[i] === 1 : probs[i] >= threshold) ? 255 : 0;
  }
  const rgb = toRgbBytes(image);
  const predicted = outline(maskBytes, h, w);
  const truthLine = truth ? outline(truth, h, w) : undefined;
  for (let i = 0; i < n; i++) {
    const color = predicted[i] && truthLine?.[i] ? BOTH_COLOR : predicted[i] ? PREDICTION_COLOR : truthLine?.[i] ? TRUTH_COLOR : undefined;
    if (color) rgb.set(color, 3 * i);
  }
  const [prob, mask, overlay] = await Promise.all([png(probBytes, h, w, 1), png(maskBytes, h, w, 1), png(rgb, h, w, 3)]);
  return { prob, mask, overlay };
}

// ---- softmax networks: a label map, a colour overlay and one probability map per class

/** The opacity of a class's colour over the image inside its predicted region (its outline is opaque). */
export const CLASS_FILL_ALPHA = 0.4;

export interface ClassPredictionPngs {
  /** 8-bit gray, each pixel its argmax class index 0..K-1 (a label map alcli reads back as a mask) */
  label: Buffer;
  /** the image in RGB, each foreground class k's region tinted with colors[k] and outlined in it */
  overlay: Buffer;
  /** probs[k]: class k's probability x 255, 8-bit gray */
  probs: Buffer[];
  /** the label map's values, pixel-major */
  labels: Uint8Array;
}

/**
 * The PNGs of one softmax prediction. `probs` is class-major [K, H*W] at the image's size (infer.ts
 * activate); `colors[k]` draws class k. The label is `decided` when given (a post-processed label
 * map, -1 for NaN), else the argmax (ties: the lowest class); a pixel with a NaN probability is 0. Overlay: a pixel of predicted class k >= 1 is
 * round((1 - a) image + a colors[k]) with a = CLASS_FILL_ALPHA, and exactly colors[k] on the
 * region's outline (a 4-neighbour inside the image has another class); background pixels are the image.
 */
export async function writeClassPredictionPngs(image: HwcImage, probs: Float32Array, colors: readonly (readonly number[])[], decided?: ArrayLike<number>): Promise<ClassPredictionPngs> {
  const { height: h, width: w } = image;
  const n = h * w;
  const k = probs.length / n;
  if (!Number.isInteger(k) || k < 2) throw new Error(`overlay: ${probs.length} probabilities for a ${w}x${h} image: expected 2 or more classes`);
  if (k > 256) throw new Error(`overlay: ${k} classes do not fit an 8-bit label map`);
  if (colors.length < k) throw new Error(`overlay: ${colors.length} colours for ${k} classes`);
  if (decided && decided.length !== n) throw new Error(`overlay: the label map has ${decided.length} pixels, the image ${n}`);
  const labels = decided ?? argmaxLabels(probs, k, n);
  const labelBytes = Uint8Array.from(labels, (l) => Math.max(0, l));
  const rgb = toRgbBytes(image);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const l = labelBytes[i];
      if (l === 0) continue;
      const edge = (y > 0 && labelBytes[i - w] !== l) || (y < h - 1 && labelBytes[i + w] !== l) || (x > 0 && labelBytes[i - 1] !== l) || (x < w - 1 && labelBytes[i + 1] !== l);
      for (let c = 0; c < 3; c++) rgb[3 * i + c] = edge ? colors[l][c] : Math.round((1 - CLASS_FILL_ALPHA) * rgb[3 * i + c] + CLASS_FILL_ALPHA * colors[l][c]);
    }
  const probBytes = Array.from({ length: k }, (_, c) => Uint8Array.from(probs.subarray(c * n, (c + 1) * n), (p) => Math.round(Math.min(1, Math.max(0, p)) * 255)));
  const [label, overlay, ...probPngs] = await Promise.all([png(labelBytes, h, w, 1), png(rgb, h, w, 3), ...probBytes.map((b) => png(b, h, w, 1))]);
  return { label, overlay, probs: probPngs, labels: labelBytes };
}
