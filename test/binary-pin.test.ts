// Binary (1-class sigmoid) training pinned to the numbers it gave before multi-class training,
// samples per epoch, new augmentations, schedules and optimizers existed: a change to any of them
// must leave the binary paper setting bit-for-bit where it was (within float noise). The table
// below was measured on the commit that added this test; regenerate with UPDATE_GOLDEN=1 only on
// purpose.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fsRunHost, RunDir } from '../src/train/run.js';
import { trainRun } from '../src/train/session.js';
import { syntheticDataset } from '../src/train/synthetic.js';
import { matchGolden, tinySpec, writeDataset } from './helpers.js';

const scratch = mkdtempSync(join(tmpdir(), 'alcli-pin-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));
const spec = join(scratch, 'tiny.yaml');
writeFileSync(spec, tinySpec({ epochs: 2, deep: false }));
const data = join(scratch, 'data');
await writeDataset(data, syntheticDataset(7, { count: 8, size: 40, channels: 1 }));

const GOLDEN = new URL('./golden/binary-pin.json', import.meta.url).pathname;
const round = (x: number) => Number(x.toPrecision(5));

test('binary training on both engines gives the pinned per-epoch numbers', async () => {
  const got: Record<string, unknown> = {};
  for (const engine of ['ort', 'tfjs'] as const) {
    const out = join(scratch, engine);
    await trainRun({ spec, data, out, engine, backend: 'wasm' });
    got[engine] = new RunDir(fsRunHost(out)).readMetrics().map((r) => ({ epoch: r.epoch, lr: round(r.lr), train_loss: round(r.train_loss), val_loss: round(r.val_loss), val_iou: round(r.val_iou), val_dice: round(r.val_dice) }));
  }
  matchGolden(GOLDEN, JSON.stringify(got, null, 1) + '\n');
  assert.ok(true);
});

test.run();
