// Writes the calibration crops `alcli export --precision int8` draws for a run (export/int8.ts
// calibrationImages), so a peer quantizer calibrates on exactly the same data: OUT.f32 (float32,
// little-endian, NCHW, the crops one after another) and OUT.json ({shape: [n, c, h, w]}).
//   node --import tsx scripts/calib-dump.ts RUN OUT [--calib 16] [--seed 0] [--size HxW]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { calibrationImages } from '../src/export/int8.js';
import { nhwcToNchw } from '../src/ir/layout.js';
import { openRun } from '../src/train/trained.js';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { calib: { type: 'string', default: '16' }, seed: { type: 'string', default: '0' }, size: { type: 'string' } } });
const [run, out] = positionals;
if (!run || !out) throw new Error('usage: calib-dump.ts RUN OUT [--calib N] [--seed S] [--size HxW]');
const size = values.size?.split('x').map(Number) as [number, number] | undefined;
const opened = await openRun(run, 'best', size ? { size } : {});
const crops = await calibrationImages(opened, Number(values.calib), Number(values.seed));
const [, h, w, c] = crops[0].shape;
const all = new Float32Array(crops.length * c * h * w);
crops.forEach((x, i) => all.set(nhwcToNchw(x.data, x.shape), i * c * h * w));
writeFileSync(`${out}.f32`, new Uint8Array(all.buffer));
writeFileSync(`${out}.json`, JSON.stringify({ shape: [crops.length, c, h, w] }));
console.log(JSON.stringify({ crops: crops.length, shape: [crops.length, c, h, w] }));
