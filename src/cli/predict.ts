import { Args, Flags } from '@oclif/core';
import { AlcliCommand } from './base.js';
import { CHECKPOINT_NAMES, INFER_ENGINES } from '../train/choices.js';
import { decisionFlags, jsonFlag, parseDecisions, printJson, UsageError } from './common.js';
import { parseThreshold } from './evaluate.js';

export default class Predict extends AlcliCommand {
  static override summary = 'Segment images with a trained run: probability map, binary mask and overlay per image';
  static override description =
    "Each image keeps its own size: it is padded to the network stride by reflection (and tiled when very large), run, and cropped back. Writes NAME.prob.png (probability x 255), NAME.mask.png (0/255 at the threshold) and NAME.overlay.png (the image with the mask outline in red) into --out; for a multi-class (softmax) run NAME.label.png (each pixel its most probable class index, 0..K-1), NAME.overlay.png (each class tinted and outlined in its colour from the run's class table) and NAME.prob.CLASS.png per class (probability x 255, CLASS its name); NAME being the input's stem (a/21.png -> 21). Outputs never collide: inputs that share a stem add their parent folder when their folders differ (a/21.png, b/21.png -> a_21, b_21; more trailing folders, joined by _, when one is not enough) and their extension when their extensions differ (21.png, 21.tif -> 21.png, 21.tif; all three above -> a_21.png, b_21.png, b_21.tif); a multi-page input (TIFF stack, animated GIF) gives one prediction per page, NAME.p0, NAME.p1, ...; each output line (and --json) maps input to output. Names are compared ignoring case; names that would still clash, or an output that would replace one of the inputs, are refused (exit 2) before anything is written. --tta averages the probabilities over mirror images (flips, 4 passes) or the 8 symmetries of the square (dihedral), each mapped back; --min-size, --keep-largest and --fill-holes (in that order) post-process the mask or label map (foreground components 8-connected, holes 4-connected); the probability maps stay as predicted. Uses ONNX Runtime when it loads (the fastest engine here), else TF.js.";
  static override examples = ['<%= config.bin %> <%= command.id %> runs/smoke images/*.png --out predictions', '<%= config.bin %> <%= command.id %> runs/isbi slice.tif --out pred --threshold 0.4 --json', '<%= config.bin %> <%= command.id %> runs/stare im0001.png --out pred --tta dihedral --keep-largest --fill-holes'];
  static override strict = false;
  static override args = {
    run: Args.string({ description: 'run directory (alcli train --out)', required: true }),
    images: Args.string({ description: 'image files (every page of a multi-page one)', required: true }),
  };
  static override flags = {
    ...jsonFlag,
    out: Flags.string({ char: 'o', summary: 'output folder (created; existing files of the same names are replaced, never an input)', required: true, helpValue: 'DIR' }),
    checkpoint: Flags.option({ summary: 'which checkpoint', options: CHECKPOINT_NAMES, default: 'best' as const })(),
    engine: Flags.option({ summary: 'inference engine', options: INFER_ENGINES, default: 'auto' as const })(),
    threshold: Flags.string({ summary: "probability cut (default: the run's tuned one (alcli evaluate --tune-threshold), else the spec's train.threshold, else 0.5); a softmax network takes the argmax", helpValue: 'P' }),
    ...decisionFlags,
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Predict);
    const [runDir, ...images] = argv as string[];
    if (!images.length) throw new UsageError('give at least one image file after the run directory');
    const threshold = parseThreshold(flags.threshold);
    const decided = parseDecisions(flags);
    const { openRun, predictImages, describeDecisions } = await import('../train/trained.js');
    const opened = await openRun(runDir, flags.checkpoint);
    const r = await predictImages(opened, { images, out: flags.out, engine: flags.engine, threshold, ...decided }, { onImage: flags.json ? undefined : printPrediction });
    if (flags.json) return printJson(r);
    if (r.threshold_note) process.stderr.write(`note: ${r.threshold_note}\n`);
    const how = describeDecisions(r);
    if (how) process.stdout.write(`${how}\n`);
  }
}

/** The line `alcli predict` prints per image (per page of a multi-page one); a softmax run's adds each foreground class's share. */
export function printPrediction(p: { image: string; page?: number; width: number; height: number; foreground_fraction: number; ms: number; overlay: string; classes?: { name: string; fraction: number }[] }): void {
  const page = p.page === undefined ? '' : ` page ${p.page}`;
  const pct = (f: number) => `${(100 * f).toFixed(1)} %`;
  const classes = p.classes ? ` (${p.classes.slice(1).map((c) => `${c.name} ${pct(c.fraction)}`).join(', ')})` : '';
  process.stdout.write(`${p.image}${page} (${p.width}x${p.height}): ${pct(p.foreground_fraction)} foreground${classes}, ${p.ms.toFixed(0)} ms -> ${p.overlay}\n`);
}
