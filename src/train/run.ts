// The run directory (DESIGN.md, Artifacts), written through a small host so tests can use a temp dir:
//   spec.resolved.yaml     the standalone resolved spec (overrides applied, modules inlined)
//   run.json               spec source, data, normalization, channels, seed, backend, start time, options
//   checkpoints/last/      after every epoch  } weights.json + weights.bin (TF.js weights manifest),
//   checkpoints/best/      best val IoU       } optimizer.json + optimizer.bin, state.json
//   metrics.csv            one row per epoch (val columns empty in an epoch without validation)
//   events.jsonl           one JSON object per event: start, resume, epoch, checkpoint, best, early_stop, end
// A checkpoint is written into checkpoints/.NAME.tmp, then NAME moves to .NAME.old, .tmp to NAME and
// .old goes (io/'s DirWriter, 'whole' mode). A kill at any moment leaves a loadable checkpoint:
// reading (recoverCheckpoint) finishes or undoes an interrupted swap first. state.json is written
// last, so a folder holding it is whole.
import type { InitReport } from './init/init.js';
import type { ClassTable } from './classes.js';
import type { TunedThreshold } from './operating-point.js';
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DirWriter, fileHost, guardFs, type FileHost } from '../io/dir.js';
import { decodeWeights, encodeWeights, type WeightsManifestEntry } from '../ir/weights-manifest.js';
import type { WeightStore } from '../ir/weights.js';
import type { CheckpointName } from './choices.js';

/** File operations on paths relative to the run directory. */
export interface RunHost extends FileHost {
  append(path: string, text: string): void;
  /** the run folder as the user gave it, to name damaged files (absent: paths relative to the run) */
  root?: string;
}

export function fsRunHost(root: string): RunHost {
  return {
    ...fileHost(root),
    root,
    append(p, text) {
      guardFs(join(root, p), () => {
        mkdirSync(dirname(join(root, p)), { recursive: true });
        appendFileSync(join(root, p), text);
      });
    },
  };
}

/** A file of a run folder is missing, truncated or not what it should be: the CLI exits 4, naming it and what to do. */
export class DamagedRunError extends Error {
  constructor(
    /** the damaged file */
    readonly file: string,
    what: string,
    readonly hint: string,
  ) {
    super(`${file} ${what}`);
  }
}

export type Normalization = { mean: number[]; std: number[]; from: 'dataset' | 'spec' } | null;

export interface RunInfo {
  alcli: string;
  /** the spec as given on the command line, and its absolute path */
  spec: { source: string; path: string };
  data: { dir: string; invert_mask: boolean; /** --mask-threshold; absent: the strict mask rule */ mask_threshold?: number; split_from: string; split_seed: number; counts: Record<string, number>; /** val ids carved from train (the split had no val) */ val_carved?: string[] };
  /** (x - mean) / std per channel on [0, 1] images; null: none */
  normalize: Normalization;
  input_channels: number;
  /** train.crop as compiled (the training graph's input size) */
  crop: [number, number];
  seed: number;
  backend: string;
  engine: string;
  started: string;
  /** the command line's settings: --set overrides */
  options: { set: string[] };
  /** the task's classes (classes.ts); absent in runs made before multi-class training: defaultClassTable(1) */
  classes?: ClassTable;
  /** the operating point `alcli evaluate --tune-threshold` chose (operating-point.ts); absent: the spec's train.threshold, else 0.5 */
  threshold?: TunedThreshold;
  /** the initial weights read from a file (train.init / --init) and the report of what was mapped; absent: fresh He initialization */
  init?: InitReport;
}

export interface CheckpointState {
  /** epochs completed (1 after the first) */
  epoch: number;
  /** optimizer steps taken */
  step: number;
  /** the learning rate of the last completed epoch */
  lr: number;
  best_val_iou: number;
  best_epoch: number;
  /** validations (train.val_every) since the best one; the name is from when every epoch validated */
  epochs_without_improvement: number;
  /** metrics of the last validation */
  val?: Record<string, number>;
  saved: string;
}

export interface Checkpoint {
  weights: WeightStore;
  optimizer: WeightStore;
  state: CheckpointState;
}

export const METRICS_COLUMNS = ['epoch', 'lr', 'train_loss', 'val_loss', 'val_iou', 'val_dice', 'val_accuracy', 'seconds', 'images_per_s'] as const;
export type MetricsRow = Record<(typeof METRICS_COLUMNS)[number], number>;

export type { CheckpointName } from './choices.js';

const text = (b: Uint8Array) => new TextDecoder().decode(b);

export class RunDir {
  constructor(readonly host: RunHost) {}

  /** true when the folder has anything in it */
  nonEmpty(): boolean {
    return this.host.list('.').length > 0;
  }

  writeSpec(yaml: string): void {
    this.host.write('spec.resolved.yaml', yaml);
  }

  writeInfo(info: RunInfo): void {
    this.writeAtomic('run.json', `${JSON.stringify(info, null, 2)}\n`);
  }

  /** A path of the run as the user sees it. */
  where(path: string): string {
    return this.host.root === undefined ? path : join(this.host.root, path);
  }

  readInfo(): RunInfo | undefined {
    const b = this.host.read('run.json');
    if (!b) return undefined;
    let info: RunInfo;
    try {
      info = JSON.parse(text(b)) as RunInfo;
    } catch (e) {
      throw new DamagedRunError(this.where('run.json'), `is damaged: not valid JSON (${(e as Error).message})`, 'the run cannot be used without it: train it again (alcli train SPEC --data DIR --out RUN --force)');
    }
    if (!info || typeof info !== 'object' || typeof info.data?.dir !== 'string' || typeof info.spec?.path !== 'string')
      throw new DamagedRunError(this.where('run.json'), 'is damaged: it lacks the spec and data fields of a run', 'the run cannot be used without it: train it again (alcli train SPEC --data DIR --out RUN --force)');
    return info;
  }

  event(type: string, fields: Record<string, unknown> = {}): void {
    this.host.append('events.jsonl', `${JSON.stringify({ event: type, time: new Date().toISOString(), ...fields })}\n`);
  }

  readEvents(): Record<string, unknown>[] {
    const b = this.host.read('events.jsonl');
    if (!b) return [];
    // a kill mid-append can leave a partial last line: skip what does not parse
    return text(b)
      .split('\n')
      .filter(Boolean)
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
  }

  writeMetrics(rows: MetricsRow[]): void {
    // NaN (the val columns of an epoch without validation, train.val_every) is an empty cell
    const fmt = (v: number) => (Number.isInteger(v) ? String(v) : Number.isNaN(v) ? '' : v.toPrecision(6));
    const body = rows.map((r) => METRICS_COLUMNS.map((c) => fmt(r[c])).join(',')).join('\n');
    this.writeAtomic('metrics.csv', `${METRICS_COLUMNS.join(',')}\n${body}${rows.length ? '\n' : ''}`);
  }

  readMetrics(): MetricsRow[] {
    const b = this.host.read('metrics.csv');
    if (!b) return [];
    const [head, ...lines] = text(b).trim().split('\n');
    const cols = head.split(',');
    return lines.filter(Boolean).map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v === 'nan' || v === '' ? NaN : Number(v)])) as MetricsRow);
  }

  /** A small file replaced whole: write a temp file, then rename over. */
  private writeAtomic(path: string, data: string | Uint8Array): void {
    this.host.write(`${path}.tmp`, data);
    this.host.rename(`${path}.tmp`, path);
    this.host.syncDir?.(dirname(path));
  }

  /** The writer of checkpoint `name`: staged in checkpoints/.NAME.tmp, the old one parked in .NAME.old. */
  private checkpointWriter(name: CheckpointName): DirWriter {
    return new DirWriter(this.host, `checkpoints/${name}`, { tmp: `checkpoints/.${name}.tmp`, old: `checkpoints/.${name}.old` });
  }

  writeCheckpoint(name: CheckpointName, ckpt: Checkpoint): void {
    const out = this.checkpointWriter(name);
    out.recover((d) => this.host.exists(`${d}/state.json`));
    out.open();
    for (const [stem, store] of [['weights', ckpt.weights], ['optimizer', ckpt.optimizer]] as const) {
      const { manifest, weightData } = encodeWeights(store);
      manifest[0].paths = [`${stem}.bin`];
      out.write(`${stem}.bin`, weightData);
      out.write(`${stem}.json`, `${JSON.stringify(manifest)}\n`);
    }
    // last: a folder holding state.json is whole
    out.write('state.json', `${JSON.stringify(ckpt.state, null, 2)}\n`);
    out.commit('whole');
  }

  /** Finishes or undoes a checkpoint swap cut short by a kill (DirWriter.recover); a folder holding state.json is whole. */
  recoverCheckpoint(name: CheckpointName): void {
    this.checkpointWriter(name).recover((d) => this.host.exists(`${d}/state.json`));
  }

  hasCheckpoint(name: CheckpointName): boolean {
    this.recoverCheckpoint(name);
    return this.host.exists(`checkpoints/${name}/state.json`);
  }

  /**
   * A checkpoint as written; a missing, truncated or unparsable file of it is a DamagedRunError
   * naming the file (`RUN/checkpoints/last/weights.bin is truncated (N of M bytes)`) and what to do.
   */
  readCheckpoint(name: CheckpointName): Checkpoint {
    this.recoverCheckpoint(name);
    const dir = `checkpoints/${name}`;
    const other = name === 'last' ? 'best' : 'last';
    const hint = `use the ${other} checkpoint (--checkpoint ${other}; alcli train --resume needs last), or train the run again with --force`;
    const damaged = (p: string, what: string) => new DamagedRunError(this.where(`${dir}/${p}`), what, hint);
    const need = (p: string) => {
      const b = this.host.read(`${dir}/${p}`);
      if (!b) throw damaged(p, 'is missing');
      return b;
    };
    const json = <T>(p: string): T => {
      try {
        return JSON.parse(text(need(p))) as T;
      } catch (e) {
        if (e instanceof DamagedRunError) throw e;
        throw damaged(p, `is damaged: not valid JSON (${(e as Error).message})`);
      }
    };
    const store = (stem: string) => {
      const manifest = json<WeightsManifestEntry[]>(`${stem}.json`);
      if (!Array.isArray(manifest) || manifest.some((g) => !Array.isArray(g?.paths) || !Array.isArray(g?.weights))) throw damaged(`${stem}.json`, 'is damaged: not a weights manifest');
      for (const g of manifest) {
        const want = g.weights.reduce((s, w) => s + 4 * (Array.isArray(w.shape) ? w.shape.reduce((a, b) => a * b, 1) : NaN), 0);
        const have = g.paths.reduce((s, p) => s + need(p).length, 0);
        if (have !== want) throw damaged(g.paths.join(', '), have < want ? `is truncated (${have} of ${want} bytes)` : `is damaged (${have} bytes, its manifest lists ${want})`);
      }
      try {
        return decodeWeights(manifest, (p) => need(p));
      } catch (e) {
        if (e instanceof DamagedRunError) throw e;
        throw damaged(`${stem}.bin`, `is damaged: ${(e as Error).message}`);
      }
    };
    const state = json<CheckpointState>('state.json');
    if (!state || typeof state !== 'object' || !Number.isInteger(state.epoch) || !Number.isInteger(state.step)) throw damaged('state.json', 'is damaged: no epoch and step in it');
    return { weights: store('weights'), optimizer: store('optimizer'), state };
  }
}
