// Reading one image or mask file as it encodes itself: the one decode function every reader calls
// (the dataset scan, training, evaluate, predict, overlays). sharp decodes at the file's own bit
// depth (8 or 16) and colour model (grey, grey+alpha, RGB, RGBA; CMYK and other spaces as sRGB),
// a page of a multi-page TIFF or GIF, and turns the pixels upright by the EXIF orientation
// (autoOrient). A palette PNG read as a mask is read by index (fast-png), never by its colours.
//
// Then two views of the decoded pixels:
//   toImage: [0, 1] floats, divided by the depth's max (255 or 65535: a 16-bit image keeps its
//            levels), alpha dropped, grey repeated to RGB or RGB to grey by BT.601 luma.
//   toMask:  0/1 by the mask rule (MASK_RULE below), or a DataError naming the file and the values.
import { readFileSync } from 'node:fs';
import sharp, { type Metadata } from 'sharp';
import { DataErrors, dataError, type DataError } from './errors.js';
import { hwc, type HwcImage } from './image.js';

export type ColourModel = 'grey' | 'grey+alpha' | 'rgb' | 'rgba' | 'palette';

/** What a file's header says, with the size after its EXIF orientation. */
export interface FileInfo {
  /** png, jpeg, tiff, gif, ... */
  format: string;
  /** upright size (after the EXIF orientation) */
  width: number;
  height: number;
  /** EXIF orientation 1..8 (1: none or upright) */
  orientation: number;
  /** size of the stored pixels, before orientation */
  storedWidth: number;
  storedHeight: number;
  pages: number;
  /** bits per sample as decoded: 8 or 16 (a 1-bit PNG decodes as 8-bit 0/255) */
  bits: 8 | 16;
  /** colour model of the file (a palette PNG is 'palette'; read as colours except as a mask) */
  model: ColourModel;
  /** bits per index of a palette PNG */
  paletteBits?: number;
}

export interface Decoded extends FileInfo {
  path: string;
  page: number;
  /** HWC samples at the decoded depth; a palette mask: 1 channel of indices */
  data: Uint8Array | Uint16Array;
  channels: number;
  /** the largest value of the samples' depth: 255, 65535, or 2^paletteBits - 1 for indices */
  max: number;
  /** the model of `data`: a palette file read as colours is rgb/rgba here */
  decodedAs: ColourModel;
}

/** Orientations 5..8 swap width and height. */
const swaps = (o: number) => o >= 5 && o <= 8;

const unreadable = (path: string, e: unknown) =>
  new DataErrors([dataError('unreadable', path, `cannot decode this image: ${(e as Error).message}`, 'replace it with a valid PNG, JPEG, TIFF or GIF')]);

/** The header of an image file: size (upright), orientation, pages, bit depth, colour model. Throws DataErrors. */
export async function fileInfo(path: string): Promise<FileInfo> {
  let m: Metadata;
  try {
    m = await sharp(path).metadata();
  } catch (e) {
    throw unreadable(path, e);
  }
  const orientation = m.orientation && m.orientation >= 1 && m.orientation <= 8 ? m.orientation : 1;
  const grey = m.space === 'b-w' || m.space === 'grey16';
  if (m.depth !== 'uchar' && m.depth !== 'ushort')
    throw new DataErrors([dataError('unreadable', path, `${m.depth} samples (${m.space}) are not read here`, 'save it as an 8- or 16-bit PNG or TIFF')]);
  const alpha = Boolean(m.hasAlpha);
  const model: ColourModel = m.isPalette && m.format === 'png' ? 'palette' : grey ? (alpha ? 'grey+alpha' : 'grey') : alpha ? 'rgba' : 'rgb';
  return {
    format: m.format,
    width: swaps(orientation) ? m.height : m.width,
    height: swaps(orientation) ? m.width : m.height,
    orientation,
    storedWidth: m.width,
    storedHeight: m.height,
    pages: m.pages ?? 1,
    bits: m.depth === 'ushort' ? 16 : 8,
    model,
    ...(model === 'palette' ? { paletteBits: m.bitsPerSample ?? 8 } : {}),
  };
}

export interface DecodeOptions {
  /** page of a multi-page file, 0-based */
  page?: number;
  /** a palette PNG as its indices (masks), not its colours */
  indices?: boolean;
  /** the header, when already read */
  info?: FileInfo;
}

/** One file (one page) at its own depth and colour model, upright. Throws DataErrors naming the file. */
export async function decodeFile(path: string, opts: DecodeOptions = {}): Promise<Decoded> {
  const info = opts.info ?? (await fileInfo(path));
  const page = opts.page ?? 0;
  try {
    if (info.model === 'palette' && opts.indices) return await decodeIndices(path, info);
    const sixteen = info.bits === 16;
    const greyish = info.model === 'grey' || info.model === 'grey+alpha';
    // sharp converts to sRGB on output unless told the space; 8-bit grey+alpha keeps its alpha only through sRGB
    const space = greyish && (sixteen || info.model === 'grey') ? (sixteen ? 'grey16' : 'b-w') : sixteen ? 'rgb16' : 'srgb';
    const out = await sharp(path, { page }).autoOrient().toColourspace(space).raw({ depth: sixteen ? 'ushort' : 'uchar' }).toBuffer({ resolveWithObject: true });
    let data: Uint8Array | Uint16Array = sixteen ? new Uint16Array(out.data.buffer, out.data.byteOffset, out.data.length / 2) : out.data;
    let channels = out.info.channels;
    if (greyish && channels === 4) [data, channels] = [pick(data, 4, [0, 3]), 2]; // 8-bit grey+alpha came as RGBA
    const decodedAs: ColourModel = channels === 1 ? 'grey' : channels === 2 ? 'grey+alpha' : channels === 3 ? 'rgb' : 'rgba';
    return { ...info, path, page, data, channels, max: sixteen ? 65535 : 255, decodedAs, width: out.info.width, height: out.info.height };
  } catch (e) {
    if (e instanceof DataErrors) throw e;
    throw unreadable(path, e);
  }
}

function pick(data: Uint8Array | Uint16Array, c: number, keep: number[]): Uint8Array | Uint16Array {
  const n = data.length / c;
  const out = data instanceof Uint16Array ? new Uint16Array(n * keep.length) : new Uint8Array(n * keep.length);
  for (let i = 0; i < n; i++) for (let k = 0; k < keep.length; k++) out[i * keep.length + k] = data[i * c + keep[k]];
  return out;
}

/** A palette PNG's indices (fast-png), unpacked from 1/2/4 bits, then turned upright by sharp. */
async function decodeIndices(path: string, info: FileInfo): Promise<Decoded> {
  const { decode } = await import('fast-png');
  const png = decode(readFileSync(path));
  const { width: w, height: h, depth } = png;
  const src = png.data as Uint8Array;
  let idx = new Uint8Array(w * h);
  if (depth === 8) idx.set(src.subarray(0, w * h));
  else {
    const stride = Math.ceil((w * depth) / 8);
    const mask = (1 << depth) - 1;
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const bit = x * depth;
        idx[y * w + x] = (src[y * stride + (bit >> 3)] >> (8 - depth - (bit & 7))) & mask;
      }
  }
  let [width, height] = [w, h];
  if (info.orientation !== 1) {
    // sharp's own orientation rule on the index plane: an 8-bit grey PNG tagged with the file's orientation
    const tagged = await sharp(idx, { raw: { width: w, height: h, channels: 1 } }).png().withMetadata({ orientation: info.orientation }).toBuffer();
    const up = await sharp(tagged).autoOrient().toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
    [idx, width, height] = [new Uint8Array(up.data), up.info.width, up.info.height];
  }
  return { ...info, paletteBits: depth, path, page: 0, data: idx, channels: 1, max: (1 << depth) - 1, decodedAs: 'palette', width, height };
}

/** ITU-R BT.601 luma, as libvips, PIL and OpenCV convert RGB to gray */
export const LUMA = [0.299, 0.587, 0.114] as const;

/** The decoded pixels as [0, 1] HWC floats with `channels` (1 or 3) channels; alpha is dropped. */
export function toImage(d: Decoded, channels: number): HwcImage {
  const { data, height, width, max } = d;
  const c = d.channels;
  const colour = c >= 3;
  const n = height * width;
  if (channels !== 1 && channels !== 3)
    throw new DataErrors([dataError('channels', d.path, `the network takes ${channels} input channels; images are read as gray (1) or RGB (3)`, 'set input.channels to 1 or 3 in the spec')]);
  const out = new Float32Array(n * channels);
  for (let i = 0; i < n; i++) {
    const p = i * c;
    if (!colour) {
      const v = data[p] / max;
      for (let k = 0; k < channels; k++) out[i * channels + k] = v;
    } else if (channels === 3) for (let k = 0; k < 3; k++) out[i * 3 + k] = data[p + k] / max;
    else out[i] = (LUMA[0] * data[p] + LUMA[1] * data[p + 1] + LUMA[2] * data[p + 2]) / max;
  }
  return hwc(height, width, channels, out);
}

export interface MaskOptions {
  /**
   * Foreground = a value above `threshold` x the depth's max (255, 65535, or the palette's largest
   * index), in [0, 1): colour masks take their largest colour channel, and an alpha channel must be
   * above it too. Unset: the strict rule (MASK_RULE), every other file a DataError.
   */
  maskThreshold?: number;
  /** foreground is the other value (0 / black / index 0); never applied to FOV masks */
  invertMask?: boolean;
}

export const MASK_RULE =
  'a binary mask holds {0, max} of its bit depth (0/255, 0/65535) or {0, 1} (any depth; a palette PNG by index), or is black plus one colour (RGB); a constant alpha channel is ignored';

export interface MaskResult {
  mask: HwcImage;
  /** foreground pixels */
  foreground: number;
}

/** The mask rule on a decoded file: 1 = foreground. `what`: 'mask' or 'FOV mask' (FOV masks are never inverted). */
export function toMask(d: Decoded, opts: MaskOptions = {}, what: 'mask' | 'FOV mask' = 'mask'): MaskResult {
  const { data, height, width, max, channels: c } = d;
  const n = height * width;
  const hasAlpha = c === 2 || c === 4;
  const cc = hasAlpha ? c - 1 : c;
  const invert = what === 'mask' && Boolean(opts.invertMask);
  const out = new Float32Array(n);
  let count = 0;
  const set = (i: number, on: boolean) => {
    if (on !== invert) {
      out[i] = 1;
      count++;
    }
  };
  const t = opts.maskThreshold;
  if (t !== undefined) {
    const cut = t * max;
    for (let i = 0; i < n; i++) {
      const p = i * c;
      let v = data[p];
      for (let k = 1; k < cc; k++) v = Math.max(v, data[p + k]);
      set(i, v > cut && (!hasAlpha || data[p + c - 1] > cut));
    }
    return { mask: hwc(height, width, 1, out), foreground: count };
  }
  const fail = (found: string, extra = '') => {
    throw new DataErrors([maskValuesError(d, what, found, extra)]);
  };
  if (hasAlpha) {
    const a0 = data[c - 1];
    for (let i = 1; i < n; i++)
      if (data[i * c + c - 1] !== a0) fail(`alpha values ${valueList(d, (i) => data[i * c + c - 1])}`, ' (the alpha channel varies)');
  }
  let grey = true;
  if (cc === 3) for (let i = 0; i < n && grey; i++) grey = data[i * c] === data[i * c + 1] && data[i * c] === data[i * c + 2];
  if (grey) {
    // one value per pixel: {0, max} or {0, 1}
    let top = 0;
    let other = -1;
    for (let i = 0; i < n; i++) {
      const v = data[i * c];
      if (v !== 0 && v !== 1 && v !== max) other = v;
      if (v > top) top = v;
    }
    const oneAndMax = max > 1 && (() => {
      for (let i = 0; i < n; i++) if (data[i * c] === 1) return true;
      return false;
    })() && top === max;
    if (other >= 0 || oneAndMax) fail(`values ${valueList(d, (i) => data[i * c])}`);
    const fg = top === 0 ? 1 : top; // all 0: empty
    for (let i = 0; i < n; i++) set(i, data[i * c] === fg);
    return { mask: hwc(height, width, 1, out), foreground: count };
  }
  // colour: black plus one colour
  let colour = -1;
  const key = (i: number) => data[i * c] * 2 ** 32 + data[i * c + 1] * 2 ** 16 + data[i * c + 2];
  for (let i = 0; i < n; i++) {
    const k = key(i);
    if (k === 0 || k === colour) continue;
    if (colour < 0) colour = k;
    else fail(`colours ${valueList(d, key, rgbText)}`, ' (more than black and one colour)');
  }
  for (let i = 0; i < n; i++) set(i, key(i) === colour);
  return { mask: hwc(height, width, 1, out), foreground: count };
}

/** The most frequent values as `v (N px)`, a few of them, and how many more there are. */
const rgbText = (v: number) => `(${Math.floor(v / 2 ** 32)},${Math.floor(v / 2 ** 16) % 2 ** 16},${v % 2 ** 16})`;

function valueList(d: Decoded, valueAt: (i: number) => number, fmt: (v: number) => string = String): string {
  const n = d.height * d.width;
  const counts = new Map<number, number>();
  let dropped = 0;
  for (let i = 0; i < n; i++) {
    const v = valueAt(i);
    const was = counts.get(v);
    if (was !== undefined) counts.set(v, was + 1);
    else if (counts.size < 4096) counts.set(v, 1);
    else dropped++;
  }
  const top = [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  const shown = top.slice(0, 5).map(([v, k]) => `${fmt(v)} (${k} px)`);
  const more = top.length - 5 + (dropped ? 1 : 0);
  return `${shown.join(', ')}${more > 0 ? `, and ${dropped ? 'over ' : ''}${more} more` : ''}`;
}

function maskValuesError(d: Decoded, what: string, found: string, extra: string): DataError {
  const depth = d.decodedAs === 'palette' ? `${d.paletteBits}-bit palette indices` : `${d.bits}-bit ${d.decodedAs}`;
  const example = d.max === 255 ? '0.5 takes values > 127.5' : d.max === 65535 ? '0.5 takes values > 32767.5' : `0 takes every index > 0`;
  return dataError(
    'mask-values',
    d.path + (d.pages > 1 ? ` (page ${d.page})` : ''),
    `not a binary ${what}${extra}: ${depth}, ${found}; a binary ${what} holds {0, ${d.max}} or {0, 1}${d.channels >= 3 ? ', or black and one colour' : ''}`,
    `to take values above a fraction T of ${d.max} as foreground, pass --mask-threshold T (e.g. ${example}; 0 takes every non-zero value)${what === 'mask' ? ', with --invert-mask if 0 is the foreground' : ''}; or re-save it as 0/${d.max === 65535 ? 65535 : 255}`,
  );
}

/** A human line for a file's encoding: `png 16-bit grey`, `png palette (4-bit)`, `jpeg 8-bit rgb, EXIF orientation 6`. */
export function encodingOf(f: FileInfo): string {
  const model = f.model === 'palette' ? `${f.paletteBits ?? 8}-bit palette` : `${f.bits}-bit ${f.model}`;
  return `${f.format} ${model}${f.pages > 1 ? `, ${f.pages} pages` : ''}`;
}
