// The whole job on data alcli makes itself (`alcli demo`): a seeded synthetic segmentation set in
// OUT/data, AL-Net trained on it in OUT/run, its test split evaluated, overlays of the test images
// in OUT/overlays. Each stage calls the library function of the command a person would run.
// With `classes: 3` the masks are label maps (0 background, 1 cell, 2 vessel) with a classes.json,
// and the network is templates/alnet-multiclass.yaml (a 3-class softmax AL-Net), scaffolded into
// OUT/spec/ as `alcli init --from alnet-multiclass` does.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendChoice } from '../runtime/backend.js';
import type { TrainEngineChoice } from './choices.js';
import { BadOptionsError } from './errors.js';
import { checkOutputDir } from '../io/dir.js';
import { trainRun, type TrainHooks, type TrainRunResult } from './session.js';
import { evaluateRun, predictImages, type EvaluateRunResult, type PredictHooks, type PredictResult } from './trained.js';

/** The spec the demo trains: the package's architectures/alnet.yaml. */
export const DEMO_SPEC = fileURLToPath(new URL('../../architectures/alnet.yaml', import.meta.url));
/** The template `--classes 3` trains (templates/NAME.yaml). */
export const MULTICLASS_TEMPLATE = 'alnet-multiclass';

/** The demo's epoch: each train image once (its 12 epochs take about a minute on a laptop CPU). */
export const DEMO_SAMPLES_PER_IMAGE = 1;

export interface DemoOptions {
  /** folder for the data, the run and the overlays (default runs/demo) */
  out?: string;
  /** training epochs (default 12) */
  epochs?: number;
  /** synthetic images, split 5:2:3 into train, val, test (default 40) */
  images?: number;
  /** image size, a multiple of 32 (default 160) */
  size?: number;
  /** seed of the data and the training (default 0) */
  seed?: number;
  /** 1 (default): binary masks, cells and vessels one foreground; 3: background, cell, vessel as a 3-class softmax task */
  classes?: number;
  engine?: TrainEngineChoice;
  backend?: BackendChoice;
  /** replace a non-empty `out` */
  force?: boolean;
}

export interface DemoHooks {
  /** each stage's title as it starts (`1/4 writing ...`, `2/4 alcli train ...`) */
  stage?: (title: string) => void;
  train?: TrainHooks;
  /** after training, before evaluation */
  trained?: (r: TrainRunResult) => void | Promise<void>;
  evaluated?: (r: EvaluateRunResult) => void | Promise<void>;
  predict?: PredictHooks;
}

export interface DemoResult {
  data: string;
  run: string;
  overlays: string;
  train: TrainRunResult;
  evaluation: EvaluateRunResult;
  predictions: PredictResult;
}

export type DemoStage = 'train' | 'evaluate' | 'predict';

/** A stage of the demo failed: which one (the command it stands for), its title, and the error. */
export class DemoStageError extends Error {
  constructor(
    readonly stage: DemoStage,
    readonly title: string,
    override readonly cause: unknown,
  ) {
    super(`the demo stopped at: ${title.trim()}`);
  }
}

export async function runDemo(opts: DemoOptions = {}, hooks: DemoHooks = {}): Promise<DemoResult> {
  const { out = 'runs/demo', epochs = 12, images = 40, size = 160, seed = 0, classes = 1, engine = 'auto', backend = 'auto' } = opts;
  const stage = hooks.stage ?? (() => {});
  if (size % 32) throw new BadOptionsError(`--size ${size}: AL-Net needs a multiple of 32, e.g. ${Math.ceil(size / 32) * 32}`);
  if (classes !== 1 && classes !== 3)
    throw new BadOptionsError(`--classes ${classes}: the demo's images hold two kinds of shapes, so 1 (cells and vessels one foreground, sigmoid) or 3 (background, cell, vessel, softmax)`);
  checkOutputDir(out, Boolean(opts.force), 'use --force to replace it, or --out another folder', {
    protect: [{ path: DEMO_SPEC, what: "the demo's spec" }, { path: process.cwd(), what: 'the current folder', allowInside: true }],
  });
  rmSync(out, { recursive: true, force: true });
  const data = join(out, 'data');
  const run = join(out, 'run');
  const overlays = join(out, 'overlays');
  const { syntheticDataset, encodePng, encodeLabelPng, SYNTHETIC_CLASSES } = await import('./synthetic.js');
  let spec = DEMO_SPEC;
  let specShown = 'architectures/alnet.yaml';
  if (classes === 1) stage(`1/4 writing ${images} synthetic ${size}x${size} images with masks to ${data}/`);
  else {
    spec = join(out, 'spec', `${MULTICLASS_TEMPLATE}.yaml`);
    specShown = spec;
    stage(`1/4 writing ${images} synthetic ${size}x${size} images with label maps (${SYNTHETIC_CLASSES.map((n, k) => `${k} ${n}`).join(', ')}) and classes.json to ${data}/; alcli init ${MULTICLASS_TEMPLATE} --from ${MULTICLASS_TEMPLATE} --dir ${join(out, 'spec')}`);
    const { templateFiles } = await import('../frontend/templates.js');
    const files = templateFiles(MULTICLASS_TEMPLATE, MULTICLASS_TEMPLATE);
    for (const [rel, text] of files.libs) {
      mkdirSync(dirname(join(out, 'spec', rel)), { recursive: true });
      writeFileSync(join(out, 'spec', rel), text);
    }
    writeFileSync(spec, files.spec);
  }
  for (const sub of ['images', 'masks']) mkdirSync(join(data, sub), { recursive: true });
  for (const s of syntheticDataset(seed, { count: images, size, classes })) {
    writeFileSync(join(data, 'images', `${s.id}.png`), await encodePng(s.image));
    writeFileSync(join(data, 'masks', `${s.id}.png`), classes === 1 ? await encodePng(s.mask) : await encodeLabelPng(s.mask));
  }
  if (classes === 3) writeFileSync(join(data, 'classes.json'), `${JSON.stringify(Object.fromEntries(SYNTHETIC_CLASSES.map((n, k) => [String(k), n])), null, 2)}\n`);
  const step = async <T>(name: DemoStage, title: string, f: () => Promise<T>): Promise<T> => {
    stage(title);
    try {
      return await f();
    } catch (e) {
      throw new DemoStageError(name, title, e);
    }
  };
  const crop = Math.min(128, size);
  const trained = await step('train', `2/4 alcli train ${specShown} --data ${data} --out ${run} (${epochs} epochs, ${crop}x${crop} crops)`, () =>
    // one crop per image per epoch (not the spec's paper protocol of 8): the demo stays about a minute
    trainRun({ spec, data, out: run, set: [`train.epochs=${epochs}`, `train.crop=${crop}`, `train.seed=${seed}`, `train.samples_per_image=${DEMO_SAMPLES_PER_IMAGE}`], engine, backend }, hooks.train),
  );
  await hooks.trained?.(trained);
  const evaluation = await step('evaluate', `3/4 alcli evaluate ${run} --split test`, () => evaluateRun(run, { split: 'test' }));
  await hooks.evaluated?.(evaluation);
  // the test split's images: the ones just evaluated (ids are file stems)
  const test = evaluation.perImage.map((p) => join(data, 'images', `${p.id}.png`));
  const predictions = await step('predict', `4/4 alcli predict ${run} <${test.length} test images> --out ${overlays}`, () => predictImages(run, { images: test, out: overlays }, hooks.predict));
  return { data, run, overlays, train: trained, evaluation, predictions };
}
