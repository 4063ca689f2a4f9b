// src/train/: data, augmentation, metrics, the two training engines and the loop, runs, inference on whole images.
// May import: ir, io, passes, frontend, render, emit, runtime.
// A training run from options to result, as `alcli train` does it, callable from code: check the
// options, compile the spec at train.crop, scan and load the data, choose the engine, write the run
// directory (spec.resolved.yaml, run.json, events.jsonl), then the training loop. resume reads all
// of that back from the run directory (its spec, data, options, and the engine and backend it ran
// on unless asked for others). Nothing is written before the spec, the data and the engine are
// known to be good. Errors a caller can act on are typed (errors.ts): BadOptionsError,
// BadSpecError, BadDataError; progress comes through hooks.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { compile, type Compiled, type CompileOptions } from '../frontend/compile.js';
import { fileSpecHost } from '../frontend/load.js';
import { backendChoice, type BackendChoice } from '../runtime/backend.js';
import type { Sample } from './dataset.js';
import { isInitMap, maskThresholdError, savedTrainEngine, type TrainEngineChoice } from './choices.js';
import { BadDataError, BadOptionsError, BadSpecError, DataErrors } from './errors.js';
import type { EpochReport, LoopResult, StepProgress, TrainingData, TrainSettings } from './loop.js';
import { checkOutputDir, refuseOverlap, type Protected } from '../io/dir.js';
import { lockDir } from '../io/lock.js';
import type { RunInfo } from './run.js';
import type { InitOptions, InitReport } from './init/init.js';
import { lossOutputError } from './objective.js';

/** Compiles a spec from disk: bad overrides are a BadOptionsError, spec errors a BadSpecError. */
export function compileFile(path: string, opts: CompileOptions = {}): Compiled {
  const r = compile(path, fileSpecHost, opts);
  if (r.usageErrors.length) throw new BadOptionsError(r.usageErrors.join('\n'));
  if (!r.compiled) throw new BadSpecError(r.diagnostics, r.sources);
  return r.compiled;
}

interface RunOptionsBase {
  /** refuse networks with more trainable parameters than this (default 500 M) */
  maxParams?: number;
  /** refuse specs whose estimated activation memory is over this many bytes (default: half the RAM) */
  maxMemory?: number;
  /** read spec imports outside the spec's folder tree */
  allowOutsideImports?: boolean;
  /** default: auto for a new run; a resumed run's own engine */
  engine?: TrainEngineChoice;
  /** default: auto for a new run; a resumed run's own backend (auto when it ran on ort) */
  backend?: BackendChoice;
  /** stop after this many epochs of this call, as a kill would (tests: a run cut short) */
  stopAfter?: number;
  /** intra-op threads of the ort engine (default: every core); runs side by side (alcli study --jobs) share the cores */
  threads?: number;
}

/** A new run of `spec` on the dataset in `data`, written to `out`. */
export interface NewRunOptions extends RunOptionsBase {
  spec: string;
  data: string;
  out: string;
  /** `train.KEY=VALUE` overrides */
  set?: string[];
  /** masks mark the foreground with 0 (black) instead of 255 */
  invertMask?: boolean;
  /** foreground = mask values above this fraction of the depth's max, in [0, 1) (decode.ts MaskOptions); unset: the strict mask rule */
  maskThreshold?: number;
  /** replace a non-empty `out` */
  force?: boolean;
  /** initial weights from a file (--init, --init-map, --init-slice): overrides the spec's train.init; paths relative to the current folder */
  init?: InitOptions;
}

/** Continue the run in `resume` from its last checkpoint, with its own spec, data and options. */
export interface ResumeOptions extends RunOptionsBase {
  resume: string;
}

export type TrainRunOptions = NewRunOptions | ResumeOptions;

export interface TrainHooks {
  /** one line for the user: the engine's notices, the start or resume line */
  log?: (line: string) => void;
  /** after setup, before the first step (e.g. to start a progress display) */
  onStart?: (settings: TrainSettings) => void | Promise<void>;
  onStep?: (p: StepProgress) => void;
  onEpoch?: (e: EpochReport) => void;
}

export interface TrainRunResult extends LoopResult {
  /** the run directory */
  run: string;
}

const isResume = (o: TrainRunOptions): o is ResumeOptions => 'resume' in o && o.resume !== undefined;

/**
 * A run from its options to the end of the training loop (`alcli train`, `alcli train --resume`).
 * The run folder is locked throughout (io/lock.ts): a second trainRun or export on it, in this
 * process or another, gets a LockError; a lock left by a killed process is taken over.
 */
export async function trainRun(opts: TrainRunOptions, hooks: TrainHooks = {}): Promise<TrainRunResult> {
  const lock = lockDir(isResume(opts) ? opts.resume : opts.out);
  try {
    return await lockedRun(opts, hooks);
  } finally {
    lock.release();
  }
}

async function lockedRun(opts: TrainRunOptions, hooks: TrainHooks): Promise<TrainRunResult> {
  const log = hooks.log ?? (() => {});
  const [{ RunDir, fsRunHost }, { trainSettings, loadTrainingData, trainLoop, cropStrideError, describeOptimization, epochSamples }, { scanDataset }] = await Promise.all([
    import('./run.js'),
    import('./loop.js'),
    import('./dataset.js'),
  ]);

  let runPath: string;
  let specPath: string;
  let sets: string[];
  let dataDir: string;
  let invertMask: boolean;
  let maskThreshold: number | undefined;
  let info: RunInfo | undefined;
  if (isResume(opts)) {
    runPath = opts.resume;
    const dir = new RunDir(fsRunHost(runPath));
    info = dir.readInfo();
    if (!info || !dir.host.exists('spec.resolved.yaml')) throw new BadOptionsError(`'${runPath}' is not a run directory (no run.json or spec.resolved.yaml)`);
    if (!dir.hasCheckpoint('last')) throw new BadOptionsError(`'${runPath}' has no checkpoint yet (it stopped in its first epoch: killed, or diverged — see its events.jsonl): start it again with --force`);
    specPath = `${runPath}/spec.resolved.yaml`;
    sets = [];
    dataDir = info.data.dir;
    invertMask = info.data.invert_mask;
    maskThreshold = info.data.mask_threshold;
  } else {
    runPath = opts.out;
    const protect: Protected[] = [{ path: opts.data, what: 'the data folder' }, { path: opts.spec, what: 'the spec' }, { path: process.cwd(), what: 'the current folder', allowInside: true }];
    checkOutputDir(runPath, Boolean(opts.force), `use --resume ${runPath} to continue a run there, or --force to replace it`, { protect });
    specPath = opts.spec;
    sets = opts.set ?? [];
    dataDir = opts.data;
    invertMask = Boolean(opts.invertMask);
    maskThreshold = opts.maskThreshold;
    const mt = maskThresholdError(maskThreshold);
    if (mt) throw new BadOptionsError(mt);
  }
  const { maxParams, maxMemory, allowOutsideImports } = opts;
  // compiled once for the settings, then at the crop size: the training graph's shapes are the batch's
  let c = compileFile(specPath, { overrides: sets, maxParams, maxMemory, allowOutsideImports });
  // the spec's imports too: a --force must not delete them
  if (!info) refuseOverlap(runPath, [...c.spec.files.keys()].map((path) => ({ path, what: 'a file the spec imports' })));
  const settings = trainSettings(c.resolved.train as Record<string, unknown> | undefined);
  const [ch, cw] = settings.crop;
  const cropError = cropStrideError(settings.crop, c.stride);
  if (cropError) throw new BadOptionsError(cropError);
  if (c.graph.input.size[0] !== ch || c.graph.input.size[1] !== cw) c = compileFile(specPath, { overrides: sets, maxParams, maxMemory, allowOutsideImports, size: [ch, cw] });
  const outputError = lossOutputError(c.graph.output, settings.loss);
  if (outputError) throw new BadOptionsError(outputError);

  const classes = c.graph.output.classes;
  const { labelOptionsError } = await import('./labels.js');
  const labelOpts = labelOptionsError(classes, dataDir, { invertMask, maskThreshold });
  if (labelOpts) throw new BadOptionsError(labelOpts);
  // masks are read as the task's labels (a label map for K >= 3, or K = 2 with DATA/classes.json)
  const scan = await scanDataset(dataDir, { need: ['train', 'val'], invertMask, maskThreshold, classes });
  if (!scan.dataset) throw new BadDataError(scan.errors);
  for (const w of scan.warnings) log(`warning[${w.code}]: ${w.file}: ${w.message}\n  hint: ${w.hint}`);
  const ds = scan.dataset;
  if (ds.carvedVal.length && !info) log(`val: the split has none; ${ds.carvedVal.length} of the train images carved out for validation (2/7, seeded): ${ds.carvedVal.join(', ')}`);
  const channels = c.graph.input.channels;
  const normSpec = info ? info.normalize : ((c.resolved.input as { normalize?: unknown } | undefined)?.normalize as 'dataset' | 'none' | { mean: number[]; std: number[] } | undefined);
  let data: TrainingData;
  try {
    data = await loadTrainingData(ds.samples, { channels, invertMask, maskThreshold, classes: ds.labels, normalize: normSpec });
  } catch (e) {
    if (e instanceof DataErrors) throw new BadDataError(e.errors);
    throw e;
  }
  // a resumed run's labels must mean what they meant when it started
  if (info?.classes && JSON.stringify(info.classes) !== JSON.stringify(data.classes))
    throw new BadDataError([
      {
        code: 'bad-classes-file',
        file: ds.labels?.file ?? dataDir,
        message: `the class table is now ${JSON.stringify(data.classes.names)}, the run started with ${JSON.stringify(info.classes.names)}${JSON.stringify(info.classes.names) === JSON.stringify(data.classes.names) ? ' (the colours differ)' : ''}`,
        hint: `restore the dataset's classes.json as it was (run.json records the table), or start a new run`,
      },
    ]);

  const { chooseEngine } = await import('./engines.js');
  const { initWeights } = await import('../ir/weights.js');
  // a resumed run keeps its engine and backend unless asked for others: the checkpoints are the same for every engine
  const choice = opts.engine ?? (info ? savedTrainEngine(info.engine) : 'auto');
  const backendAsked = opts.backend ?? (info && backendChoice(info.backend)) ?? 'auto';
  const chosen = await chooseEngine(choice, c.graph, { optimizer: settings.optimizer, loss: settings.loss }, backendAsked, opts.threads);
  if ('error' in chosen) throw new BadOptionsError(chosen.error);
  for (const n of chosen.notices) log(n);
  const backend = chosen.backend;
  // initial weights: fresh, or (a new run with --init or train.init) read from a file, every problem refused before anything is written
  let weights = initWeights(c.graph, settings.seed);
  let initReport: InitReport | undefined;
  const init = info ? undefined : (opts as NewRunOptions).init ?? specInit(settings.init, specPath);
  if (init) {
    const { initFromFile, describeInit } = await import('./init/init.js');
    ({ weights, report: initReport } = initFromFile(c.graph, weights, init));
    for (const line of describeInit(initReport)) log(line);
    // run.json keeps where the file was, whatever the current folder later
    initReport = { ...initReport, from: resolve(init.from) };
  }
  // freezing: a pure function of the epoch (a resumed run reads what its init loaded from run.json); bad globs refused here
  const loaded = initReport ?? info?.init;
  const freezing = settings.freeze.length > 0 || settings.freezeEpochs > 0;
  const { frozenAt } = await import('./freeze.js');
  const frozen = freezing ? (epoch: number) => frozenAt(c.graph, settings, loaded, epoch) : undefined;
  const freezeLines = frozen ? describeFreezing(settings, frozen) : [];
  if (!info) for (const line of freezeLines) log(line);

  // nothing is written before here: the spec, the data and the engine are all good
  if (!info && existsSync(runPath)) rmSync(runPath, { recursive: true, force: true });
  mkdirSync(runPath, { recursive: true });
  const run = new RunDir(fsRunHost(runPath));
  const engine = await chosen.create(weights);
  let resumeState;
  if (info) {
    const ck = run.readCheckpoint('last');
    engine.load(ck.weights, ck.optimizer);
    resumeState = ck.state;
    run.event('resume', { epoch: ck.state.epoch, step: ck.state.step, backend, engine: engine.name });
    log(`resume ${runPath}: after epoch ${ck.state.epoch}/${settings.epochs} (step ${ck.state.step}), engine ${engine.name}`);
  } else {
    const { resolvedSpecYaml } = await import('../render/resolved-spec.js');
    const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
    const newInfo: RunInfo = {
      alcli: version,
      spec: { source: specPath, path: resolve(specPath) },
      data: { dir: resolve(dataDir), invert_mask: invertMask, ...(maskThreshold !== undefined ? { mask_threshold: maskThreshold } : {}), split_from: ds.splitFrom, split_seed: 0, counts: countSplits(ds.samples), ...(ds.carvedVal.length ? { val_carved: ds.carvedVal } : {}) },
      normalize: data.normalize,
      input_channels: channels,
      crop: [ch, cw],
      seed: settings.seed,
      backend,
      engine: engine.name,
      started: new Date().toISOString(),
      options: { set: sets },
      classes: data.classes,
      ...(initReport ? { init: initReport } : {}),
    };
    run.writeSpec(resolvedSpecYaml(c, { overrides: sets }));
    run.writeInfo(newInfo);
    const samples = epochSamples(settings, data.train.length);
    run.event('start', { spec: specPath, data: newInfo.data.dir, train: data.train.length, val: data.val.length, epochs: settings.epochs, samples_per_epoch: samples, batch: settings.batch, crop: settings.crop, backend, engine: engine.name });
    const perEpoch = `${samples} samples${settings.samplesPerEpoch === undefined ? ` (${settings.samplesPerImage} per image)` : ''}`;
    const task = classes > 1 ? `, ${classes}-class ${c.graph.output.activation}` : '';
    const cadence = settings.valEvery > 1 ? `, validation every ${settings.valEvery} epochs` : '';
    log(`train ${specPath} on ${dataDir} (${data.train.length} train, ${data.val.length} val)${task}, ${settings.epochs} epoch${settings.epochs === 1 ? '' : 's'} of ${perEpoch}, batch ${settings.batch}, crop ${ch}x${cw}, ${describeOptimization(settings)}${cadence}, engine ${engine.name} -> ${runPath}/`);
  }

  let result: LoopResult;
  try {
    await hooks.onStart?.(settings);
    result = await trainLoop({ engine, data, settings, stride: c.stride, run, resume: resumeState, output: c.graph.output, frozen, onStep: hooks.onStep, onEpoch: hooks.onEpoch, stopAfter: opts.stopAfter });
  } finally {
    engine.dispose();
  }
  run.event('end', { epochs: result.epochs, steps: result.steps, stopped: result.stopped, best_epoch: result.best.epoch, best_val_iou: result.best.val_iou });
  return { run: runPath, ...result };
}

/** What freezing does, in a line or two (at train start). */
function describeFreezing(s: TrainSettings, frozen: (epoch: number) => ReadonlySet<string>): string[] {
  const always = frozen(s.epochs);
  const bn = s.freezeBn ? ', BatchNorm running statistics included' : '; their BatchNorm running statistics keep updating';
  return [
    ...(s.freeze.length ? [`freeze: ${always.size} weights of the nodes ${s.freeze.join(', ')} for the whole run${bn}`] : []),
    ...(s.freezeEpochs > 0 ? [`freeze: ${[...frozen(0)].filter((k) => !always.has(k)).length} weights the init loaded for the first ${s.freezeEpochs} epoch${s.freezeEpochs === 1 ? '' : 's'}, then they train too`] : []),
  ];
}

/** train.init with its paths read from the spec's folder (a map that is not a built-in name is a path). */
function specInit(init: TrainSettings['init'], specPath: string): InitOptions | undefined {
  if (!init) return undefined;
  const near = (p: string) => (isAbsolute(p) ? p : join(dirname(specPath), p));
  return { from: near(init.from), map: isInitMap(init.map) ? init.map : near(init.map), slice: init.slice };
}

function countSplits(samples: Sample[]): Record<string, number> {
  const out: Record<string, number> = { train: 0, val: 0, test: 0 };
  for (const s of samples) out[s.split] = (out[s.split] ?? 0) + 1;
  return out;
}
