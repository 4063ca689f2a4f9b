import { Args, Flags } from '@oclif/core';
import { BACKENDS } from '../runtime/backend.js';
import { INIT_MAPS, TRAIN_ENGINES } from '../train/choices.js';
import { AlcliCommand } from './base.js';
import { jsonFlag, maskThresholdFlag, parseBytes, parseCount, parseMaskThreshold, printJson, specFlags, UsageError } from './common.js';

export default class Train extends AlcliCommand {
  static override summary = 'Train a spec on a dataset (ONNX Runtime or TF.js engine), or resume a run';
  static override description = [
    'Trains with the spec\'s train settings (the loss: BCE + Dice for a 1-class sigmoid network, softmax cross-entropy + Dice over the foreground classes for output {classes: K, activation: softmax} trained on label-map masks; Adam, AdamW or SGD (nesterov); train.schedule exp (lr x lr_decay per epoch, the default), poly or cosine, with optional warmup epochs; epochs of samples_per_image (default 8) random crops of train.crop per train image, seeded augmentation: dihedral + translate, and rotate, scale, elastic, noise, blur, brightness, contrast, gamma when train.augment names them), validates on whole val images every val_every epochs (default 1) and at the last, and keeps checkpoints/last and checkpoints/best (by val IoU) in RUN, written atomically: a run killed at any moment continues exactly with --resume.',
    'Engines (--engine): ort runs the whole step (forward, loss, backward, Adam) compiled into one ONNX model in ONNX Runtime on every core; tfjs runs the TF.js executor with hand-written gradients (native TensorFlow when installed, else wasm). auto takes native TF.js when it loads, else ort, else TF.js wasm (for ops the ONNX training graph lacks). Checkpoints are the same for both: a run may resume on the other engine.',
    'Initial weights (--init FILE --init-map MAP, or the spec\'s train.init): a .safetensors file or an .onnx model\'s initializers, named by a built-in map (alcli: alcli export --format safetensors; twin; torchvision-resnet34; timm-repvgg_a1) or a YAML file of rules; conv kernels are read OIHW, every shape is checked (a mismatch exits 2 naming both sides), a 3-channel first conv is summed for a 1-channel input, wider tensors need --init-slice; the report is printed and kept in run.json. train.init.freeze_epochs N trains only the weights the file did not set for the first N epochs; train.freeze: [node-id globs] keeps those nodes\' weights for the whole run (their BatchNorm running statistics too with train.freeze_bn: true).',
    'RUN holds spec.resolved.yaml, run.json, checkpoints/, metrics.csv and events.jsonl. A dataset is a folder with images/ and masks/ (optional fov/, split.json) or train/ val/ test/ folders; every data error names its file and exits 4 before anything is written. Masks must be binary: {0, 255}, {0, 65535} or {0, 1} (a palette PNG by index), or black plus one colour; other masks need --mask-threshold T (foreground = values above T x the max). `alcli data check DIR` shows what train would read.',
  ].join('\n\n');
  static override examples = [
    '<%= config.bin %> <%= command.id %> architectures/alnet.yaml --data ../shared/datasets/isbi2012_em --set train.epochs=2 --set train.crop=128 --out runs/smoke',
    '<%= config.bin %> <%= command.id %> --resume runs/smoke',
    '<%= config.bin %> <%= command.id %> my-multiclass.yaml --data runs/demo3/data --out runs/mc --set train.samples_per_image=2 --set train.schedule=cosine --set train.warmup=2',
  ];
  static override args = { spec: Args.string({ description: 'spec file (not with --resume)' }) };
  static override flags = {
    data: Flags.string({ char: 'd', summary: 'dataset folder', helpValue: 'DIR' }),
    out: Flags.string({ char: 'o', summary: 'run directory to create', helpValue: 'RUN' }),
    resume: Flags.string({ summary: 'continue the run in RUN from checkpoints/last (same spec, data and options)', helpValue: 'RUN' }),
    set: specFlags.set,
    'max-params': specFlags['max-params'],
    'max-memory': specFlags['max-memory'],
    'allow-outside-imports': specFlags['allow-outside-imports'],
    engine: Flags.option({ summary: 'training engine (auto: native TF.js when installed, else ort where the spec\'s ops allow, else TF.js wasm); a resumed run keeps its own unless given', options: TRAIN_ENGINES })(),
    backend: Flags.option({ summary: 'TF.js backend for --engine tfjs (auto: tensorflow when installed, else wasm)', options: BACKENDS })(),
    'invert-mask': Flags.boolean({ summary: 'masks mark the foreground with 0 (black) instead of 255 (or 1, or the colour)' }),
    ...maskThresholdFlag,
    force: Flags.boolean({ summary: 'replace a non-empty RUN' }),
    init: Flags.string({ summary: "start from the weights in FILE (.safetensors, or .onnx initializers) instead of the spec's train.init or fresh ones", helpValue: 'FILE' }),
    'init-map': Flags.string({ summary: `file names -> network weights: ${INIT_MAPS.join(', ')}, or a YAML file of rules (needs --init)`, helpValue: 'MAP' }),
    'init-slice': Flags.boolean({ summary: 'with --init: keep the first channels of wider tensors instead of refusing them' }),
    ...jsonFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Train);
    const json = flags.json;
    const log = (line: string) => json || process.stderr.write(`${line}\n`);
    const resuming = flags.resume !== undefined;
    if (resuming) {
      const extra = [args.spec && 'SPEC', flags.data && '--data', flags.init && '--init', flags['init-map'] && '--init-map', flags['init-slice'] && '--init-slice', flags.out && '--out', flags.set?.length && '--set', flags.force && '--force', flags['invert-mask'] && '--invert-mask', flags['mask-threshold'] !== undefined && '--mask-threshold'].filter(Boolean);
      // --engine and --backend may change: the checkpoints are the same for every engine
      if (extra.length) throw new UsageError(`--resume takes the spec, data and options from the run; drop ${extra.join(', ')}`);
    } else {
      if (!args.spec) throw new UsageError('missing SPEC (or --resume RUN)');
      if (!flags.data) throw new UsageError('missing --data DIR');
      if (!flags.out) throw new UsageError('missing --out RUN');
      if ((flags['init-map'] !== undefined || flags['init-slice']) && !flags.init) throw new UsageError('--init-map and --init-slice go with --init FILE');
      if (flags.init && !flags['init-map']) throw new UsageError(`--init needs --init-map: ${INIT_MAPS.join(', ')}, or a YAML file of rules`);
    }
    const { trainRun } = await import('../train/session.js');
    const maxParams = flags['max-params'] === undefined ? undefined : parseCount(flags['max-params'], '--max-params');
    const maxMemory = flags['max-memory'] === undefined ? undefined : parseBytes(flags['max-memory'], '--max-memory');
    const engine = { maxParams, maxMemory, allowOutsideImports: flags['allow-outside-imports'] || undefined, engine: flags.engine, backend: flags.backend };
    const opts = resuming
      ? { resume: flags.resume!, ...engine }
      : { spec: args.spec!, data: flags.data!, out: flags.out!, set: flags.set ?? [], invertMask: flags['invert-mask'], maskThreshold: parseMaskThreshold(flags['mask-threshold']), force: flags.force, ...(flags.init ? { init: { from: flags.init, map: flags['init-map']!, slice: flags['init-slice'] } } : {}), ...engine };
    const progress = trainProgress(json);
    let result;
    try {
      result = await trainRun(opts, { log, ...progress.hooks });
    } finally {
      progress.stop();
    }
    if (json) printJson({ ok: true, ...result });
    else process.stdout.write(trainDoneLine(result));
  }
}

/** The line `alcli train` ends with. */
export const trainDoneLine = (r: import('../train/session.js').TrainRunResult): string =>
  `${r.stopped === 'early_stop' ? 'stopped early' : 'done'}: ${r.epochs} epochs, best val IoU ${r.best.val_iou.toFixed(4)} at epoch ${r.best.epoch}; run in ${r.run}/ (checkpoints/best, metrics.csv)\n`;

/** The progress display of `alcli train` as training hooks (none with --json); stop() ends it. */
export function trainProgress(json: boolean): { hooks: Pick<import('../train/session.js').TrainHooks, 'onStart' | 'onStep' | 'onEpoch'>; stop: () => void } {
  let progress: Reporter | undefined;
  if (json) return { hooks: {}, stop: () => {} };
  return {
    hooks: {
      onStart: async (settings) => {
        progress = await progressReporter(settings.epochs);
      },
      onStep: (p) => progress?.step(p),
      onEpoch: (e) => progress?.epoch(e),
    },
    stop: () => progress?.stop(),
  };
}

type Reporter = {
  step: (p: import('../train/loop.js').StepProgress) => void;
  epoch: (e: import('../train/loop.js').EpochReport) => void;
  stop: () => void;
};

/** The line an epoch gets when there is no bar: loss, val metrics, speed. */
export function epochLine(e: import('../train/loop.js').EpochReport, epochs: number): string {
  const r = e.row;
  // an epoch without validation (train.val_every) has NaN val metrics
  const val = Number.isNaN(r.val_loss) ? 'no validation this epoch' : `val loss ${r.val_loss.toFixed(4)}  IoU ${r.val_iou.toFixed(4)}  Dice ${r.val_dice.toFixed(4)}  acc ${r.val_accuracy.toFixed(4)}`;
  return `epoch ${r.epoch}/${epochs}  lr ${r.lr.toExponential(2)}  loss ${r.train_loss.toFixed(4)}  ${val}  ${r.images_per_s.toFixed(2)} img/s  ${r.seconds.toFixed(1)} s${e.best ? '  *best' : ''}`;
}

/** A progress bar per epoch on a terminal (loss, images/s, ETA of the run); one line per epoch otherwise. */
async function progressReporter(epochs: number): Promise<Reporter> {
  const line = (e: import('../train/loop.js').EpochReport) => epochLine(e, epochs);
  if (!process.stderr.isTTY) return { step: () => {}, epoch: (e) => process.stderr.write(`${line(e)}\n`), stop: () => {} };
  const { SingleBar, Presets } = (await import('cli-progress')).default;
  const bar = new SingleBar(
    { stream: process.stderr, format: 'epoch {ep}/{epochs} [{bar}] {value}/{total} steps | loss {loss} | {ips} img/s | ETA {run_eta}', hideCursor: true, clearOnComplete: true },
    Presets.shades_classic,
  );
  let active = false;
  let epochStart = 0;
  let lastEpoch: number[] = [];
  const fmt = (s: number) => (s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`);
  return {
    step(p) {
      if (!active) {
        bar.start(p.steps, 0, { ep: p.epoch, epochs, loss: '-', ips: '-', run_eta: '-' });
        active = true;
        epochStart = performance.now();
      }
      // this epoch's rest at its own pace, then each later epoch as long as the recent ones (validation included)
      const elapsed = (performance.now() - epochStart) / 1000;
      const thisEpoch = (elapsed / p.step) * p.steps;
      const perEpoch = lastEpoch.length ? lastEpoch.reduce((a, b) => a + b, 0) / lastEpoch.length : thisEpoch;
      const left = thisEpoch - elapsed + perEpoch * (p.epochs - p.epoch);
      bar.update(p.step, { ep: p.epoch, loss: p.loss.toFixed(4), ips: p.imagesPerS.toFixed(2), run_eta: fmt(left) });
    },
    epoch(e) {
      if (active) bar.stop();
      active = false;
      lastEpoch = [...lastEpoch, e.row.seconds].slice(-5);
      process.stderr.write(`${line(e)}\n`);
    },
    stop() {
      if (active) bar.stop();
      active = false;
    },
  };
}
