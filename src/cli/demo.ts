import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Flags } from '@oclif/core';
import { AlcliCommand } from './base.js';
import { packagePath, UsageError } from './common.js';
import { checkOutputDir } from '../io/dir.js';
import Evaluate from './evaluate.js';
import Predict from './predict.js';
import Train from './train.js';

export default class Demo extends AlcliCommand {
  static override summary = 'The whole job on data alcli makes itself: generate, train AL-Net, evaluate, draw overlays';
  static override description =
    'Writes a seeded synthetic segmentation set (thin curved vessel-like lines and blob-like cells over textured noise, with exact masks) into OUT/data, trains architectures/alnet.yaml on it (OUT/run), evaluates the test split and writes overlays of the test images (OUT/overlays). A few minutes on a laptop CPU.';
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --out runs/demo2 --epochs 20 --images 60'];
  static override flags = {
    out: Flags.string({ char: 'o', summary: 'folder for the data, the run and the overlays', default: 'runs/demo', helpValue: 'DIR' }),
    epochs: Flags.integer({ summary: 'training epochs', default: 12, min: 1 }),
    images: Flags.integer({ summary: 'synthetic images (split 5:2:3 into train, val, test)', default: 40, min: 10 }),
    size: Flags.integer({ summary: 'image size (a multiple of 32)', default: 160, min: 64 }),
    seed: Flags.integer({ summary: 'seed of the data and the training', default: 0 }),
    engine: Flags.string({ summary: 'training engine (see alcli train --help)', options: ['auto', 'ort', 'tfjs'], default: 'auto' }),
    backend: Flags.string({ summary: 'TF.js backend', options: ['auto', 'tensorflow', 'wasm', 'cpu'], default: 'auto' }),
    force: Flags.boolean({ summary: 'replace a non-empty OUT' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Demo);
    if (flags.size % 32) throw new UsageError(`--size ${flags.size}: AL-Net needs a multiple of 32, e.g. ${Math.ceil(flags.size / 32) * 32}`);
    checkOutputDir(flags.out, flags.force, 'use --force to replace it, or --out another folder');
    rmSync(flags.out, { recursive: true, force: true });
    const data = join(flags.out, 'data');
    const run = join(flags.out, 'run');
    const overlays = join(flags.out, 'overlays');
    const { syntheticDataset, encodePng } = await import('../train/synthetic.js');
    process.stderr.write(`1/4 writing ${flags.images} synthetic ${flags.size}x${flags.size} images with masks to ${data}/\n`);
    for (const sub of ['images', 'masks']) mkdirSync(join(data, sub), { recursive: true });
    for (const s of syntheticDataset(flags.seed, { count: flags.images, size: flags.size })) {
      writeFileSync(join(data, 'images', `${s.id}.png`), await encodePng(s.image));
      writeFileSync(join(data, 'masks', `${s.id}.png`), await encodePng(s.mask));
    }
    // each step is the command a person would run; a failed step stops the demo with its exit code
    const step = async (title: string, run: () => Promise<unknown>) => {
      process.stderr.write(`${title}\n`);
      await run();
      if (process.exitCode) throw new UsageError(`the demo stopped at: ${title.trim()}`);
    };
    const crop = Math.min(128, flags.size);
    const spec = packagePath('architectures', 'alnet.yaml');
    await step(`2/4 alcli train architectures/alnet.yaml --data ${data} --out ${run} (${flags.epochs} epochs, ${crop}x${crop} crops)`, () =>
      Train.run([spec, '--data', data, '--out', run, '--set', `train.epochs=${flags.epochs}`, '--set', `train.crop=${crop}`, '--set', `train.seed=${flags.seed}`, '--engine', flags.engine, '--backend', flags.backend], this.config),
    );
    await step(`3/4 alcli evaluate ${run} --split test`, () => Evaluate.run([run, '--split', 'test'], this.config));
    const { scanDataset } = await import('../train/dataset.js');
    const test = (await scanDataset(data, { seed: 0 })).dataset!.samples.filter((s) => s.split === 'test').map((s) => s.image.path);
    await step(`4/4 alcli predict ${run} <${test.length} test images> --out ${overlays}`, () => Predict.run([run, ...test, '--out', overlays], this.config));
    process.stdout.write(
      `\ndone. run: ${run}/ (metrics.csv, events.jsonl, checkpoints/)\n      overlays: ${overlays}/ (*.overlay.png: the predicted outline in red)\n      next: alcli evaluate ${run} --json; alcli predict ${run} IMAGE... --out DIR\n`,
    );
  }
}
