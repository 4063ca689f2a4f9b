// K-fold cross-validation for a study: the dataset's train and val samples are pooled and cut into K
// folds stratified by foreground fraction; fold k validates on its own samples and trains on the
// others; the test split is never in the pool. Each fold is an ordinary dataset folder (links to the
// dataset's files plus a split.json), so its runs are ordinary runs: evaluate, predict, export and
// --resume read it like any dataset.
import { existsSync, mkdirSync, readdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { rng } from '../ir/weights.js';
import { BadDataError, dataError } from '../train/errors.js';
import type { Dataset, Sample } from '../train/dataset.js';

/**
 * The fold (0..k-1) of each pooled sample, stratified by foreground fraction: the samples sorted by
 * foreground, cut into consecutive blocks of k, each block dealt to the k folds in a seeded random
 * order (scikit-learn's StratifiedKFold on binned targets, with one bin per block). Fold sizes
 * differ by at most one; every fold gets one sample of each block, so the folds' foreground
 * distributions match. Errors: k < 2 or more folds than samples.
 */
export function foldOf(pool: readonly { id: string; foreground: number }[], k: number, seed: number): Map<string, number> {
  if (!Number.isInteger(k) || k < 2) throw new RangeError(`folds must be an integer >= 2, got ${k}`);
  if (pool.length < k) throw new RangeError(`${k} folds need at least ${k} train+val samples, the dataset has ${pool.length}`);
  const r = rng(seed);
  const sorted = [...pool].sort((a, b) => a.foreground - b.foreground || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const out = new Map<string, number>();
  for (let start = 0; start < sorted.length; start += k) {
    const order = Array.from({ length: k }, (_, i) => i);
    for (let i = k - 1; i > 0; i--) {
      const j = Math.floor(r.uniform() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    sorted.slice(start, start + k).forEach((s, i) => out.set(s.id, order[i]));
  }
  return out;
}

/** The split of fold `fold`: ids by split (test as the dataset has it). */
export function foldSplit(dataset: Dataset, k: number, fold: number, seed: number): { train: string[]; val: string[]; test: string[] } {
  const pool = dataset.samples.filter((s) => s.split !== 'test').map((s) => ({ id: s.id, foreground: s.foreground ?? 0 }));
  const folds = foldOf(pool, k, seed);
  const ids = (pred: (s: Sample) => boolean) => dataset.samples.filter(pred).map((s) => s.id);
  return {
    train: ids((s) => s.split !== 'test' && folds.get(s.id) !== fold),
    val: ids((s) => s.split !== 'test' && folds.get(s.id) === fold),
    test: ids((s) => s.split === 'test'),
  };
}

/**
 * Writes fold `fold` of `dataset` as a dataset folder at `dir`: images/, masks/ (and fov/) of links
 * named `<id stem><ext>` to the dataset's files, its classes.json, and split.json. Idempotent: an
 * existing complete folder (its split.json) is left as it is. Errors (BadDataError): two samples whose
 * files would take one name (a folders-layout dataset with the same stem in two splits).
 */
export function writeFoldDataset(dataset: Dataset, dir: string, split: { train: string[]; val: string[]; test: string[] }): void {
  const splitFile = join(dir, 'split.json');
  if (existsSync(splitFile)) return;
  const links = new Map<string, string>();
  for (const s of dataset.samples) {
    const name = s.id.split('#')[0];
    const add = (folder: string, path: string) => {
      const to = join(folder, `${name}${extname(path)}`);
      const prev = links.get(to);
      if (prev !== undefined && prev !== resolve(path))
        throw new BadDataError([dataError('duplicate-id', path, `two samples of ${dataset.dir} are named '${name}' (${prev} and ${path})`, 'rename one of them: a study fold folder links every file by its id')]);
      links.set(to, resolve(path));
    };
    add('images', s.image.path);
    add('masks', s.mask.path);
    if (s.fov) add('fov', s.fov.path);
  }
  for (const folder of ['images', 'masks', 'fov']) if ([...links.keys()].some((k) => k.startsWith(`${folder}/`))) mkdirSync(join(dir, folder), { recursive: true });
  for (const [to, from] of links) if (!existsSync(join(dir, to))) symlinkSync(from, join(dir, to));
  for (const f of readdirSync(dataset.dir)) if (f === 'classes.json' && !existsSync(join(dir, f))) symlinkSync(resolve(dataset.dir, f), join(dir, f));
  // the split file last, atomically: its presence marks the folder complete
  writeFileSync(`${splitFile}.tmp`, `${JSON.stringify({ note: `fold of ${basename(dataset.dir)} written by alcli study`, ...split }, null, 1)}\n`);
  renameSync(`${splitFile}.tmp`, splitFile);
}
