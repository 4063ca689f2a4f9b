// Decoding one sample with sharp into HWC Float32Arrays: the image in [0, 1] with the network's
// channel count, the mask and FOV binarized at > 127. sharp decodes everything (gray, palette, 16-bit,
// CMYK) to 8-bit sRGB here, so gray arrives as R = G = B: gray -> RGB needs nothing more and RGB -> gray
// is the luminance, which leaves a gray image unchanged.
import sharp, { type OutputInfo } from 'sharp';
import type { Sample, FileRef } from './dataset.js';
import { DataErrors, dataError } from './errors.js';
import { hwc, type HwcImage } from './image.js';

export interface LoadOptions {
  /** the network's input channels: 1 or 3 */
  channels: number;
  /** 0 = foreground in the mask files (e.g. ISBI 2012 with cell contours as the class) */
  invertMask?: boolean;
}

export interface LoadedSample {
  id: string;
  image: HwcImage;
  /** 1 channel, 0 or 1 */
  mask: HwcImage;
  /** 1 channel, 1 inside the field of view */
  fov?: HwcImage;
}

/** ITU-R BT.601 luma, as libvips, PIL and OpenCV convert RGB to gray */
export const LUMA = [0.299, 0.587, 0.114] as const;

async function decodeRgb(ref: FileRef, sample: Sample): Promise<Uint8Array> {
  let out: { data: Buffer; info: OutputInfo };
  try {
    out = await sharp(ref.path, { page: ref.page }).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new DataErrors([dataError('unreadable', ref.path, `cannot decode this image: ${(e as Error).message}`, 'replace it with a valid PNG, JPEG, TIFF or GIF')]);
  }
  const { width, height, channels } = out.info;
  if (width !== sample.width || height !== sample.height || channels !== 3)
    throw new DataErrors([dataError('size-mismatch', ref.path, `decodes to ${width}x${height}x${channels}, expected ${sample.width}x${sample.height} (the file changed since the scan?)`, 'scan the dataset again')]);
  return out.data;
}

/** 8-bit RGB to [0, 1] with 1 or 3 channels. */
export function adaptChannels(rgb: Uint8Array, height: number, width: number, channels: number, file = 'image'): HwcImage {
  const n = height * width;
  if (channels === 3) return hwc(height, width, 3, Float32Array.from(rgb, (v) => v / 255));
  if (channels !== 1)
    throw new DataErrors([dataError('channels', file, `the network takes ${channels} input channels; images are read as gray (1) or RGB (3)`, 'set input.channels to 1 or 3 in the spec')]);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (LUMA[0] * rgb[3 * i] + LUMA[1] * rgb[3 * i + 1] + LUMA[2] * rgb[3 * i + 2]) / 255;
  return hwc(height, width, 1, out);
}

/** 1 where any colour channel is > 127 (a red-on-black annotation counts too), flipped by `invert`. */
export function binarize(rgb: Uint8Array, height: number, width: number, invert = false): HwcImage {
  const out = new Float32Array(height * width);
  for (let i = 0; i < out.length; i++) {
    const on = rgb[3 * i] > 127 || rgb[3 * i + 1] > 127 || rgb[3 * i + 2] > 127;
    out[i] = on !== invert ? 1 : 0;
  }
  return hwc(height, width, 1, out);
}

export async function loadSample(sample: Sample, opts: LoadOptions): Promise<LoadedSample> {
  const { height, width } = sample;
  const [img, mask, fov] = await Promise.all([
    decodeRgb(sample.image, sample),
    decodeRgb(sample.mask, sample),
    sample.fov ? decodeRgb(sample.fov, sample) : undefined,
  ]);
  return {
    id: sample.id,
    image: adaptChannels(img, height, width, opts.channels, sample.image.path),
    mask: binarize(mask, height, width, opts.invertMask),
    fov: fov && binarize(fov, height, width),
  };
}

export interface ChannelStats {
  mean: number[];
  std: number[];
  /** pixels counted per channel */
  count: number;
}

/** Sums per channel, so the stats of a whole dataset need one image in memory at a time. */
class StatsSum {
  sum: number[] = [];
  sq: number[] = [];
  count = 0;
  add({ data, channels: c }: HwcImage) {
    if (!this.sum.length) [this.sum, this.sq] = [new Array(c).fill(0), new Array(c).fill(0)];
    if (c !== this.sum.length) throw new Error(`imageStats: ${c} channels after ${this.sum.length}`);
    for (let i = 0; i < data.length; i += c)
      for (let k = 0; k < c; k++) {
        this.sum[k] += data[i + k];
        this.sq[k] += data[i + k] * data[i + k];
      }
    this.count += data.length / c;
  }
  result(): ChannelStats {
    const mean = this.sum.map((s) => s / this.count);
    return { mean, std: this.sq.map((s, k) => Math.sqrt(Math.max(0, s / this.count - mean[k] * mean[k]))), count: this.count };
  }
}

/** Per-channel mean and (population) standard deviation over every pixel of every image. */
export function imageStats(images: Iterable<HwcImage>): ChannelStats {
  const acc = new StatsSum();
  for (const img of images) acc.add(img);
  return acc.result();
}

/** Mean and std of the train split (normalize: dataset), decoding one image at a time. */
export async function datasetStats(samples: Sample[], opts: LoadOptions): Promise<ChannelStats> {
  const train = samples.filter((s) => s.split === 'train');
  if (!train.length) throw new DataErrors([dataError('empty-split', samples[0]?.image.path ?? '.', 'the train split has no samples', 'datasetStats needs train samples')]);
  const acc = new StatsSum();
  for (const s of train) acc.add(adaptChannels(await decodeRgb(s.image, s), s.height, s.width, opts.channels, s.image.path));
  return acc.result();
}

/** (x - mean) / std per channel; a constant channel (std ~ 0) is only centred. */
export function normalize(img: HwcImage, stats: Pick<ChannelStats, 'mean' | 'std'>): HwcImage {
  const c = img.channels;
  const scale = stats.std.map((s) => 1 / (s > 1e-6 ? s : 1));
  const out = new Float32Array(img.data.length);
  for (let i = 0; i < out.length; i++) out[i] = (img.data[i] - stats.mean[i % c]) * scale[i % c];
  return { ...img, data: out };
}

/** One image file (any format sharp reads; `page` of a multi-page file) as [0, 1] HWC with `channels` channels. */
export async function loadImageFile(path: string, channels: number, page = 0): Promise<HwcImage> {
  let out: { data: Buffer; info: OutputInfo };
  try {
    out = await sharp(path, { page }).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new DataErrors([dataError('unreadable', path, `cannot decode this image: ${(e as Error).message}`, 'give a PNG, JPEG, TIFF or GIF')]);
  }
  return adaptChannels(out.data, out.info.height, out.info.width, channels, path);
}
