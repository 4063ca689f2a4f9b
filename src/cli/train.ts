import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { AlcliCommand } from './base.js';
import { compileOrFail, DataFailure, jsonFlag, printJson, specFlags, UsageError } from './common.js';
import { checkOutputDir } from '../io/dir.js';
import type { Compiled } from '../frontend/compile.js';
import type { DataError } from '../train/errors.js';

export default class Train extends AlcliCommand {
  static override summary = 'Train a spec on a dataset (ONNX Runtime or TF.js engine), or resume a run';
  static override description = [
    'Trains with the spec\'s train settings (BCE + Dice, Adam, lr x lr_decay per epoch, seeded dihedral + translate augmentation on random crops of train.crop), validates on whole val images every epoch, and keeps checkpoints/last and checkpoints/best (by val IoU) in RUN, written atomically: a run killed at any moment continues exactly with --resume.',
    'Engines (--engine): ort runs the whole step (forward, loss, backward, Adam) compiled into one ONNX model in ONNX Runtime on every core; tfjs runs the TF.js executor with hand-written gradients (native TensorFlow when installed, else wasm). auto takes native TF.js when it loads, else ort, else TF.js wasm (for ops the ONNX training graph lacks). Checkpoints are the same for both: a run may resume on the other engine.',
    'RUN holds spec.resolved.yaml, run.json, checkpoints/, metrics.csv and events.jsonl. A dataset is a folder with images/ and masks/ (optional fov/, split.json) or train/ val/ test/ folders; every data error names its file and exits 4 before anything is written.',
  ].join('\n\n');
  static override examples = [
    '<%= config.bin %> <%= command.id %> architectures/alnet.yaml --data ../shared/datasets/isbi2012_em --set train.epochs=2 --set train.crop=128 --out runs/smoke',
    '<%= config.bin %> <%= command.id %> --resume runs/smoke',
  ];
  static override args = { spec: Args.string({ description: 'spec file (not with --resume)' }) };
  static override flags = {
    data: Flags.string({ char: 'd', summary: 'dataset folder', helpValue: 'DIR' }),
    out: Flags.string({ char: 'o', summary: 'run directory to create', helpValue: 'RUN' }),
    resume: Flags.string({ summary: 'continue the run in RUN from checkpoints/last (same spec, data and options)', helpValue: 'RUN' }),
    set: specFlags.set,
    'max-params': specFlags['max-params'],
    engine: Flags.string({ summary: 'training engine (auto: native TF.js when installed, else ort where the spec\'s ops allow, else TF.js wasm); a resumed run keeps its own unless given', options: ['auto', 'ort', 'tfjs'] }),
    backend: Flags.string({ summary: 'TF.js backend for --engine tfjs (auto: tensorflow when installed, else wasm)', options: ['auto', 'tensorflow', 'wasm', 'cpu'] }),
    'invert-mask': Flags.boolean({ summary: 'masks mark the foreground with 0 (black) instead of 255' }),
    force: Flags.boolean({ summary: 'replace a non-empty RUN' }),
    ...jsonFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Train);
    const json = flags.json;
    const log = (line: string) => json || process.stderr.write(`${line}\n`);
    const resuming = flags.resume !== undefined;
    if (resuming) {
      const extra = [args.spec && 'SPEC', flags.data && '--data', flags.out && '--out', flags.set?.length && '--set', flags.force && '--force', flags['invert-mask'] && '--invert-mask'].filter(Boolean);
      // --engine and --backend may change: the checkpoints are the same for every engine
      if (extra.length) throw new UsageError(`--resume takes the spec, data and options from the run; drop ${extra.join(', ')}`);
    } else {
      if (!args.spec) throw new UsageError('missing SPEC (or --resume RUN)');
      if (!flags.data) throw new UsageError('missing --data DIR');
      if (!flags.out) throw new UsageError('missing --out RUN');
    }
    const [{ RunDir, fsRunHost }, { trainSettings, loadTrainingData, trainLoop }, { scanDataset }, { DataErrors, renderDataErrors }] = await Promise.all([
      import('../train/run.js'),
      import('../train/loop.js'),
      import('../train/dataset.js'),
      import('../train/errors.js'),
    ]);
    const dataFail = (errors: DataError[]): never => {
      if (json) printJson({ ok: false, errors });
      else process.stderr.write(`${renderDataErrors(errors)}\n`);
      throw new DataFailure();
    };

    let runPath: string;
    let specPath: string;
    let sets: string[];
    let dataDir: string;
    let invertMask: boolean;
    let info: import('../train/run.js').RunInfo | undefined;
    if (resuming) {
      runPath = flags.resume!;
      const dir = new RunDir(fsRunHost(runPath));
      info = dir.readInfo();
      if (!info || !dir.host.exists('spec.resolved.yaml')) throw new UsageError(`'${runPath}' is not a run directory (no run.json or spec.resolved.yaml)`);
      if (!dir.hasCheckpoint('last')) throw new UsageError(`'${runPath}' has no checkpoint yet (killed during its first epoch?): start it again with --force`);
      specPath = `${runPath}/spec.resolved.yaml`;
      sets = [];
      dataDir = info.data.dir;
      invertMask = info.data.invert_mask;
    } else {
      runPath = flags.out!;
      checkOutputDir(runPath, flags.force, `use --resume ${runPath} to continue a run there, or --force to replace it`);
      specPath = args.spec!;
      sets = flags.set ?? [];
      dataDir = flags.data!;
      invertMask = Boolean(flags['invert-mask']);
    }
    const maxParams = flags['max-params'] === undefined ? undefined : (await import('./common.js')).parseCount(flags['max-params'], '--max-params');
    // compiled once for the settings, then at the crop size: the training graph's shapes are the batch's
    let c: Compiled = await compileOrFail(specPath, { overrides: sets, maxParams }, json);
    const settings = trainSettings(c.resolved.train as Record<string, unknown> | undefined);
    const [ch, cw] = settings.crop;
    if (ch % c.stride[0] || cw % c.stride[1])
      throw new UsageError(`train.crop ${ch}x${cw} is not a multiple of the network's stride ${c.stride.join('x')}; e.g. --set train.crop=${Math.max(1, Math.round(ch / c.stride[0])) * c.stride[0]}`);
    if (c.graph.input.size[0] !== ch || c.graph.input.size[1] !== cw) c = await compileOrFail(specPath, { overrides: sets, maxParams, size: [ch, cw] }, json);
    if (c.graph.output.classes !== 1 || c.graph.output.activation === 'softmax')
      throw new UsageError(`train supports one output class with a sigmoid (binary segmentation); this spec has ${c.graph.output.classes} classes, ${c.graph.output.activation}`);

    const scan = await scanDataset(dataDir, { need: ['train', 'val'] });
    if (!scan.dataset) return dataFail(scan.errors);
    const ds = scan.dataset;
    const channels = c.graph.input.channels;
    const normSpec = info ? info.normalize : ((c.resolved.input as { normalize?: unknown } | undefined)?.normalize as 'dataset' | 'none' | { mean: number[]; std: number[] } | undefined);
    let data: Awaited<ReturnType<typeof loadTrainingData>>;
    try {
      data = await loadTrainingData(ds.samples, { channels, invertMask, normalize: normSpec });
    } catch (e) {
      if (e instanceof DataErrors) return dataFail(e.errors);
      throw e;
    }

    const { chooseEngine } = await import('../train/engines.js');
    const { initWeights } = await import('../ir/weights.js');
    const choice = (flags.engine ?? (info ? (info.engine === 'ort' ? 'ort' : 'tfjs') : 'auto')) as 'auto' | 'ort' | 'tfjs';
    const savedBackend = info?.backend === 'wasm' || info?.backend === 'cpu' || info?.backend === 'tensorflow' ? info.backend : 'auto';
    const chosen = await chooseEngine(choice, c.graph, { optimizer: settings.optimizer, loss: settings.loss }, (flags.backend ?? savedBackend) as 'auto');
    if ('error' in chosen) throw new UsageError(chosen.error);
    for (const n of chosen.notices) log(n);
    const backend = chosen.backend;

    // nothing is written before here: the spec, the data and the engine are all good
    if (!resuming && existsSync(runPath)) rmSync(runPath, { recursive: true, force: true });
    mkdirSync(runPath, { recursive: true });
    const run = new RunDir(fsRunHost(runPath));
    const engine = await chosen.create(initWeights(c.graph, settings.seed));
    let resumeState;
    if (resuming) {
      const ck = run.readCheckpoint('last');
      engine.load(ck.weights, ck.optimizer);
      resumeState = ck.state;
      run.event('resume', { epoch: ck.state.epoch, step: ck.state.step, backend, engine: engine.name });
      log(`resume ${runPath}: after epoch ${ck.state.epoch}/${settings.epochs} (step ${ck.state.step}), engine ${engine.name}`);
    } else {
      const { resolvedSpecYaml } = await import('../render/resolved-spec.js');
      const { readFileSync } = await import('node:fs');
      const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
      info = {
        alcli: version,
        spec: { source: specPath, path: resolve(specPath) },
        data: { dir: resolve(dataDir), invert_mask: invertMask, split_from: ds.splitFrom, split_seed: 0, counts: countSplits(ds.samples) },
        normalize: data.normalize,
        input_channels: channels,
        crop: [ch, cw],
        seed: settings.seed,
        backend,
        engine: engine.name,
        started: new Date().toISOString(),
        options: { set: sets },
      };
      run.writeSpec(resolvedSpecYaml(c, { overrides: sets }));
      run.writeInfo(info);
      run.event('start', { spec: specPath, data: info.data.dir, train: data.train.length, val: data.val.length, epochs: settings.epochs, batch: settings.batch, crop: settings.crop, backend, engine: engine.name });
      log(`train ${specPath} on ${dataDir} (${data.train.length} train, ${data.val.length} val), ${settings.epochs} epochs, batch ${settings.batch}, crop ${ch}x${cw}, engine ${engine.name} -> ${runPath}/`);
    }

    const progress = json ? undefined : await progressReporter(settings.epochs);
    let result;
    try {
      result = await trainLoop({ engine, data, settings, stride: c.stride, run, resume: resumeState, onStep: progress?.step, onEpoch: progress?.epoch });
    } finally {
      progress?.stop();
      engine.dispose();
    }
    run.event('end', { epochs: result.epochs, steps: result.steps, stopped: result.stopped, best_epoch: result.best.epoch, best_val_iou: result.best.val_iou });
    if (json) printJson({ ok: true, run: runPath, ...result });
    else
      process.stdout.write(
        `${result.stopped === 'early_stop' ? 'stopped early' : 'done'}: ${result.epochs} epochs, best val IoU ${result.best.val_iou.toFixed(4)} at epoch ${result.best.epoch}; run in ${runPath}/ (checkpoints/best, metrics.csv)\n`,
      );
  }
}

function countSplits(samples: { split: string }[]): Record<string, number> {
  const out: Record<string, number> = { train: 0, val: 0, test: 0 };
  for (const s of samples) out[s.split] = (out[s.split] ?? 0) + 1;
  return out;
}


type Reporter = {
  step: (p: import('../train/loop.js').StepProgress) => void;
  epoch: (e: import('../train/loop.js').EpochReport) => void;
  stop: () => void;
};

/** A progress bar per epoch on a terminal (loss, images/s, ETA of the run); one line per epoch otherwise. */
async function progressReporter(epochs: number): Promise<Reporter> {
  const line = (e: import('../train/loop.js').EpochReport) => {
    const r = e.row;
    return `epoch ${r.epoch}/${epochs}  lr ${r.lr.toExponential(2)}  loss ${r.train_loss.toFixed(4)}  val loss ${r.val_loss.toFixed(4)}  IoU ${r.val_iou.toFixed(4)}  Dice ${r.val_dice.toFixed(4)}  acc ${r.val_accuracy.toFixed(4)}  ${r.images_per_s.toFixed(2)} img/s  ${r.seconds.toFixed(1)} s${e.best ? '  *best' : ''}`;
  };
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
