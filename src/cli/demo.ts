import { Flags } from '@oclif/core';
import { BACKENDS } from '../runtime/backend.js';
import { TRAIN_ENGINES } from '../train/choices.js';
import { AlcliCommand, reportError } from './base.js';
import { UsageError } from './common.js';
import { printEvaluation } from './evaluate.js';
import { printPrediction } from './predict.js';
import { trainDoneLine, trainProgress } from './train.js';

export default class Demo extends AlcliCommand {
  static override summary = 'The whole job on data alcli makes itself: generate, train AL-Net, evaluate, draw overlays';
  static override description =
    'Writes a seeded synthetic segmentation set (thin curved vessel-like lines and blob-like cells over textured noise, with exact masks) into OUT/data, trains architectures/alnet.yaml on it (OUT/run), evaluates the test split and writes overlays of the test images (OUT/overlays). A few minutes on a laptop CPU. With --classes 3 the masks are label maps (0 background, 1 cell, 2 vessel) with a classes.json, and the network is the 3-class softmax template alnet-multiclass, written to OUT/spec/ as alcli init would; evaluate reports each class and predict writes label maps, class-coloured overlays and per-class probabilities.';
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --out runs/demo2 --epochs 20 --images 60', '<%= config.bin %> <%= command.id %> --classes 3 --out runs/demo3'];
  static override flags = {
    out: Flags.string({ char: 'o', summary: 'folder for the data, the run and the overlays', default: 'runs/demo', helpValue: 'DIR' }),
    epochs: Flags.integer({ summary: 'training epochs', default: 12, min: 1 }),
    images: Flags.integer({ summary: 'synthetic images (split 5:2:3 into train, val, test)', default: 40, min: 10 }),
    size: Flags.integer({ summary: 'image size (a multiple of 32)', default: 160, min: 64 }),
    seed: Flags.integer({ summary: 'seed of the data and the training', default: 0 }),
    classes: Flags.integer({ summary: '1: cells and vessels one foreground (binary, sigmoid); 3: background, cell, vessel as label maps, a 3-class softmax AL-Net', default: 1, min: 1 }),
    engine: Flags.option({ summary: 'training engine (see alcli train --help)', options: TRAIN_ENGINES, default: 'auto' as const })(),
    backend: Flags.option({ summary: 'TF.js backend', options: BACKENDS, default: 'auto' as const })(),
    force: Flags.boolean({ summary: 'replace a non-empty OUT' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Demo);
    const { runDemo, DemoStageError } = await import('../train/demo.js');
    // each stage reports like the command a person would run; a failed stage stops the demo (exit 2)
    const progress = trainProgress(false);
    let r;
    try {
      r = await runDemo(flags, {
        stage: (title) => process.stderr.write(`${title}\n`),
        train: { log: (line) => process.stderr.write(`${line}\n`), ...progress.hooks },
        trained: (t) => {
          progress.stop();
          process.stdout.write(trainDoneLine(t));
        },
        evaluated: (e) => printEvaluation(e),
        predict: { onImage: printPrediction },
      });
    } catch (e) {
      progress.stop();
      if (!(e instanceof DemoStageError)) throw e;
      await reportError(e.cause instanceof Error ? e.cause : new Error(String(e.cause)), e.stage, false);
      throw new UsageError(e.message);
    }
    const drawn = flags.classes === 1 ? '*.overlay.png: the predicted outline in red' : '*.overlay.png: each class in its colour; *.label.png: class indices; *.prob.CLASS.png';
    process.stdout.write(
      `\ndone. run: ${r.run}/ (metrics.csv, events.jsonl, checkpoints/)\n      overlays: ${r.overlays}/ (${drawn})\n      next: alcli evaluate ${r.run} --json; alcli predict ${r.run} IMAGE... --out DIR\n`,
    );
  }
}
