// The one image type of the data side: a Float32Array in HWC order (row-major, channels last),
// as TF.js and the executor take it. Masks and FOV masks are images with one channel, values 0/1.

export interface HwcImage {
  data: Float32Array;
  height: number;
  width: number;
  channels: number;
}

export const hwc = (height: number, width: number, channels: number, data = new Float32Array(height * width * channels)): HwcImage => {
  if (data.length !== height * width * channels) throw new Error(`hwc: ${data.length} values for ${height}x${width}x${channels}`);
  return { data, height, width, channels };
};

/**
 * Index into [0, n) for a coordinate outside it, mirrored without repeating the edge (numpy 'reflect',
 * torch ReflectionPad): -1 -> 1, n -> n - 2. Periodic with period 2(n - 1), so any distance works.
 */
export function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let j = i % period;
  if (j < 0) j += period;
  return j < n ? j : period - j;
}

/** out(y, x) = img(rowOf(y), colOf(x)) for every channel: the shared loop of crops, shifts and pads. */
export function remap(img: HwcImage, height: number, width: number, rowOf: (y: number) => number, colOf: (x: number) => number): HwcImage {
  const { data, width: w, channels: c } = img;
  const out = new Float32Array(height * width * c);
  const cols = Int32Array.from({ length: width }, (_, x) => colOf(x));
  for (let y = 0; y < height; y++) {
    const src = rowOf(y) * w;
    const dst = y * width;
    for (let x = 0; x < width; x++) {
      const s = (src + cols[x]) * c;
      const d = (dst + x) * c;
      for (let k = 0; k < c; k++) out[d + k] = data[s + k];
    }
  }
  return { data: out, height, width, channels: c };
}
