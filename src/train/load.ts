// Loading one sample into HWC Float32Arrays through the one decoder (decode.ts): the image in [0, 1]
// at its own precision with the network's channel count, the mask by the mask rule (0/1) or, for a
// multi-class task, as a label map of class indices (labels.ts), the FOV by the mask rule, everything
// upright by its EXIF orientation.
import type { Sample, FileRef } from './dataset.js';
import { DataErrors, dataError } from './errors.js';
import { decodeFile, toImage, toMask, LUMA, type Decoded, type MaskOptions } from './decode.js';
import type { HwcImage } from './image.js';
import { toLabels, type Labels } from './labels.js';

export { LUMA };

export interface LoadOptions extends MaskOptions {
  /** the network's input channels: 1 or 3 */
  channels: number;
  /** the task's K and class table (scanDataset's Dataset.labels); unset: a binary 0/1 mask */
  classes?: Labels;
}

export interface LoadedSample {
  id: string;
  image: HwcImage;
  /** 1 channel: 0 or 1 (binary), or class indices 0..K-1 as floats (a multi-class task) */
  mask: HwcImage;
  /** 1 channel, 1 inside the field of view */
  fov?: HwcImage;
}

async function decodeRef(ref: FileRef, sample: Sample, indices: boolean): Promise<Decoded> {
  const d = await decodeFile(ref.path, { page: ref.page, indices });
  if (d.width !== sample.width || d.height !== sample.height)
    throw new DataErrors([dataError('size-mismatch', ref.path, `decodes to ${d.width}x${d.height}, expected ${sample.width}x${sample.height} (the file changed since the scan?)`, 'scan the dataset again')]);
  return d;
}

export async function loadSample(sample: Sample, opts: LoadOptions): Promise<LoadedSample> {
  const [img, mask, fov] = await Promise.all([
    decodeRef(sample.image, sample, false),
    decodeRef(sample.mask, sample, true),
    sample.fov ? decodeRef(sample.fov, sample, true) : undefined,
  ]);
  return {
    id: sample.id,
    image: toImage(img, opts.channels),
    mask: (opts.classes ? toLabels(mask, opts.classes, opts) : toMask(mask, opts, 'mask')).mask,
    fov: fov && toMask(fov, { maskThreshold: opts.maskThreshold }, 'FOV mask').mask,
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
  for (const s of train) acc.add(toImage(await decodeRef(s.image, s, false), opts.channels));
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

/** One image file (any format sharp reads; `page` of a multi-page file) as [0, 1] HWC with `channels` channels, upright. */
export async function loadImageFile(path: string, channels: number, page = 0): Promise<HwcImage> {
  return toImage(await decodeFile(path, { page }), channels);
}
