import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { AlcliCommand } from './base.js';
import { jsonFlag, printJson, UsageError } from './common.js';
import { failOnDataErrors, thresholdOf } from './evaluate.js';
import { openRun } from './runs.js';

export default class Predict extends AlcliCommand {
  static override summary = 'Segment images with a trained run: probability map, binary mask and overlay per image';
  static override description =
    'Each image keeps its own size: it is padded to the network stride by reflection (and tiled when very large), run, and cropped back. Writes NAME.prob.png (probability x 255), NAME.mask.png (0/255 at the threshold) and NAME.overlay.png (the image with the mask outline in red) into --out. Uses ONNX Runtime when it loads (the fastest engine here), else TF.js.';
  static override examples = ['<%= config.bin %> <%= command.id %> runs/smoke images/*.png --out predictions', '<%= config.bin %> <%= command.id %> runs/isbi slice.tif --out pred --threshold 0.4 --json'];
  static override strict = false;
  static override args = {
    run: Args.string({ description: 'run directory (alcli train --out)', required: true }),
    images: Args.string({ description: 'image files', required: true }),
  };
  static override flags = {
    ...jsonFlag,
    out: Flags.string({ char: 'o', summary: 'output folder (created; existing files of the same names are replaced)', required: true, helpValue: 'DIR' }),
    checkpoint: Flags.string({ summary: 'which checkpoint', options: ['best', 'last'], default: 'best' }),
    engine: Flags.string({ summary: 'inference engine', options: ['auto', 'ort', 'tfjs'], default: 'auto' }),
    threshold: Flags.string({ summary: "probability cut (default: the spec's train.threshold, else 0.5)", helpValue: 'P' }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Predict);
    const [runDir, ...images] = argv as string[];
    if (!images.length) throw new UsageError('give at least one image file after the run directory');
    const { info, compiled, checkpoint } = await openRun(runDir, flags.checkpoint as 'best', flags.json);
    const threshold = thresholdOf(flags.threshold, compiled.resolved.train?.threshold);
    const [{ loadImageFile }, { DataErrors }, { createPredictor, foreground }, { writePredictionPngs }] = await Promise.all([
      import('../train/load.js'),
      import('../train/errors.js'),
      import('../train/infer.js'),
      import('../train/overlay.js'),
    ]);
    const loaded = [];
    const errors = [];
    for (const path of images) {
      try {
        loaded.push({ path, image: await loadImageFile(path, info.input_channels) });
      } catch (e) {
        if (!(e instanceof DataErrors)) throw e;
        errors.push(...e.errors);
      }
    }
    // every unreadable file is named before anything is written
    if (errors.length) await failOnDataErrors(errors, flags.json);
    const predictor = await createPredictor({ graph: compiled.graph, weights: checkpoint.weights, normalize: info.normalize, engine: flags.engine as 'auto' });
    const written: { image: string; prob: string; mask: string; overlay: string; foreground_fraction: number }[] = [];
    try {
      mkdirSync(flags.out, { recursive: true });
      for (const { path, image } of loaded) {
        const t = performance.now();
        const probs = foreground(await predictor.predict(image), predictor.classes, image.height * image.width);
        const pngs = await writePredictionPngs(image, probs, threshold);
        const stem = join(flags.out, basename(path, extname(path)));
        const files = { prob: `${stem}.prob.png`, mask: `${stem}.mask.png`, overlay: `${stem}.overlay.png` };
        writeFileSync(files.prob, pngs.prob);
        writeFileSync(files.mask, pngs.mask);
        writeFileSync(files.overlay, pngs.overlay);
        const fraction = probs.reduce((s, p) => s + (p >= threshold ? 1 : 0), 0) / probs.length;
        written.push({ image: path, ...files, foreground_fraction: fraction });
        if (!flags.json) process.stdout.write(`${path} (${image.width}x${image.height}): ${(100 * fraction).toFixed(1)} % foreground, ${(performance.now() - t).toFixed(0)} ms -> ${files.overlay}\n`);
      }
    } finally {
      predictor.dispose();
    }
    if (flags.json) printJson({ run: runDir, checkpoint: flags.checkpoint, engine: predictor.engine, threshold, images: written });
  }
}
