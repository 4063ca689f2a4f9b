// Augmentation benchmark (not a test): makeBatch of 4 random 256x256 crops of 512x512 images, as a
// training step of batch 4 at train.crop 256 gets them, with the paper's augmentation only, with
// train.augment's nnU-Net-like defaults, and with every transform at p 1 (the worst case). A plain
// multiply loop is timed beside it, so a number from a busy machine can be read against an idle one.
//   node --import tsx bench/augment.ts          (BENCH_RUNS=20)
import { makeBatch, trainSettings } from '../src/train/loop.js';
import { hwc } from '../src/train/image.js';
import type { LoadedSample } from '../src/train/load.js';

const runs = Number(process.env.BENCH_RUNS ?? 20);
const NAMES = ['rotate', 'scale', 'elastic', 'noise', 'blur', 'brightness', 'contrast', 'gamma'];
const settings: [string, Record<string, unknown>][] = [
  ['paper (dihedral + translate)', {}],
  ['+ every transform at its default p', Object.fromEntries(NAMES.map((n) => [n, true]))],
  ['+ geometric ones at p 1', Object.fromEntries(NAMES.slice(0, 3).map((n) => [n, { p: 1 }]))],
  ['+ intensity ones at p 1', Object.fromEntries(NAMES.slice(3).map((n) => [n, { p: 1 }]))],
  ['+ every transform at p 1', Object.fromEntries(NAMES.map((n) => [n, { p: 1 }]))],
];

function calibrate(): number {
  const x = new Float32Array(1 << 18).fill(1.5);
  const t0 = performance.now();
  for (let r = 0; r < 50; r++) for (let i = 0; i < x.length; i++) x[i] *= 1.0001;
  return ((performance.now() - t0) * 1e6) / (50 * x.length);
}

console.log(`a plain multiply: ${calibrate().toFixed(2)} ns per element (compare with the same line on the machine being compared)`);
for (const channels of [1, 3]) {
  const data: LoadedSample[] = Array.from({ length: 4 }, (_, k) => ({
    id: String(k),
    image: hwc(512, 512, channels, Float32Array.from({ length: 512 * 512 * channels }, (_, i) => Math.sin(i * 0.001 + k))),
    mask: hwc(512, 512, 1, Float32Array.from({ length: 512 * 512 }, (_, i) => (i % 7 ? 0 : 1))),
  }));
  for (const [name, augment] of settings) {
    const s = trainSettings({ crop: 256, batch: 4, augment });
    makeBatch(data, [0, 1, 2, 3], s, 0);
    const t0 = performance.now();
    for (let e = 1; e <= runs; e++) makeBatch(data, [0, 1, 2, 3], s, e);
    console.log(`${channels} channel${channels > 1 ? 's' : ''}, ${name}: ${((performance.now() - t0) / runs).toFixed(1)} ms per batch of 4 x 256x256`);
  }
}
console.log(`a plain multiply: ${calibrate().toFixed(2)} ns per element`);
