// The output names of `alcli predict`, decided before anything is written: one name per prediction
// (each page of a multi-page input), no two alike, none an input's own path.
//
// The rule (also in `alcli predict --help` and the README):
// - an input's name is its stem: a/21.png -> 21 (21.prob.png, 21.mask.png, 21.overlay.png; for a
//   softmax network 21.label.png, 21.overlay.png and 21.prob.CLASS.png per class, CLASS its name
//   in the run's class table: 21.prob.background.png, 21.prob.cell.png, ...);
// - inputs that share a stem add what tells them apart: their parent folder when their folders
//   differ (as many trailing folders as needed, joined by `_`: a/21.png, b/21.png -> a_21, b_21),
//   their extension when their extensions differ (21.png, 21.tif -> 21.png, 21.tif); both when
//   both differ (a/21.png, b/21.png, b/21.tif -> a_21.png, b_21.png, b_21.tif);
// - a multi-page input (TIFF stack, animated GIF) gives one prediction per page, NAME.p0, NAME.p1, ...
//   (pages counted from 0, as sharp's `page` does);
// - the same file given twice is predicted once;
// - names are compared ignoring case (macOS and Windows folders do). Names that still clash, or an
//   output that would replace one of the inputs, are refused (BadOptionsError) naming each.
import { existsSync, realpathSync } from 'node:fs';
import { basename, dirname, extname, join, resolve, sep } from 'node:path';
import { BadOptionsError } from './errors.js';

export interface PredictInput {
  path: string;
  /** pages in the file (1 for a single image) */
  pages: number;
}

export interface PlannedPrediction {
  /** the input file, as given */
  image: string;
  /** the page of a multi-page input; absent for a single-page one */
  page?: number;
  /** the output name: files NAME.KIND.png for each kind (PREDICTION_FILES, or classPredictionKinds) */
  name: string;
}

/** The three files one prediction of a 1-class (sigmoid) network writes. */
export const PREDICTION_FILES = ['prob', 'mask', 'overlay'] as const;
export const predictionFile = (name: string, kind: string) => `${name}.${kind}.png`;

/**
 * The file kinds of one softmax prediction: `label`, `overlay`, then `prob.CLASS` per class k in
 * order, CLASS the class name with every run of characters other than letters, digits, `_` and `-`
 * made `_`; a class whose name is then empty, or the same as another's (ignoring case), is `class_k`.
 */
export function classPredictionKinds(names: readonly string[]): string[] {
  const slugs = names.map((n) => n.replace(/[^A-Za-z0-9_-]+/g, '_'));
  const count = new Map<string, number>();
  for (const s of slugs) count.set(s.toLowerCase(), (count.get(s.toLowerCase()) ?? 0) + 1);
  return ['label', 'overlay', ...slugs.map((s, k) => `prob.${s && s !== '_' && count.get(s.toLowerCase()) === 1 ? s : `class_${k}`}`)];
}

const stemOf = (p: string) => basename(p, extname(p));
const key = (s: string) => s.toLowerCase();

/** The path with symbolic links resolved as far as it exists (the rest appended). */
function realish(p: string): string {
  const abs = resolve(p);
  if (existsSync(abs)) {
    try {
      return realpathSync(abs);
    } catch {
      return abs;
    }
  }
  const parent = dirname(abs);
  return parent === abs ? abs : join(realish(parent), basename(abs));
}

/** Names for inputs that share a stem: the fewest trailing folders that tell their folders apart, the extension when extensions differ. */
function groupNames(paths: string[]): string[] {
  const stem = stemOf(paths[0]);
  const dirs = paths.map((p) => dirname(resolve(p)));
  const folderKeys = new Set(dirs.map(key));
  const parts = dirs.map((d) => d.split(sep).filter(Boolean));
  let levels = 0;
  if (folderKeys.size > 1) {
    const most = Math.max(...parts.map((p) => p.length));
    for (levels = 1; levels < most; levels++) {
      const labels = new Map<string, string>();
      let distinct = true;
      for (let i = 0; i < paths.length; i++) {
        const label = key(parts[i].slice(-levels).join('_'));
        const prev = labels.get(label);
        if (prev !== undefined && prev !== key(dirs[i])) distinct = false;
        labels.set(label, key(dirs[i]));
      }
      if (distinct) break;
    }
  }
  const withExt = new Set(paths.map((p) => key(extname(p)))).size > 1;
  return paths.map((p, i) => {
    const folders = levels ? `${parts[i].slice(-levels).join('_')}_` : '';
    return `${folders}${stem}${withExt ? extname(p) : ''}`;
  });
}

/**
 * One output name per prediction (per page), in the order of the inputs, or a BadOptionsError
 * listing every clash: two predictions of one name, or an output file that is one of the inputs.
 */
export function planPredictionNames(inputs: PredictInput[], out: string, kinds: readonly string[] = PREDICTION_FILES): PlannedPrediction[] {
  // the same file twice is predicted once
  const seen = new Set<string>();
  const unique = inputs.filter((i) => {
    const k = realish(i.path);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  const groups = new Map<string, number[]>();
  unique.forEach((i, n) => {
    const k = key(stemOf(i.path));
    groups.set(k, [...(groups.get(k) ?? []), n]);
  });
  const names: string[] = new Array(unique.length);
  for (const members of groups.values()) {
    const got = members.length === 1 ? [stemOf(unique[members[0]].path)] : groupNames(members.map((n) => unique[n].path));
    members.forEach((n, j) => (names[n] = got[j]));
  }
  const planned: PlannedPrediction[] = unique.flatMap((input, n) =>
    input.pages > 1 ? Array.from({ length: input.pages }, (_, page) => ({ image: input.path, page, name: `${names[n]}.p${page}` })) : [{ image: input.path, name: names[n] }],
  );
  const label = (p: PlannedPrediction) => (p.page === undefined ? p.image : `${p.image} page ${p.page}`);
  const problems: string[] = [];
  const byName = new Map<string, PlannedPrediction[]>();
  for (const p of planned) byName.set(key(p.name), [...(byName.get(key(p.name)) ?? []), p]);
  const main = kinds.includes('mask') ? 'mask' : kinds[0];
  const rest = kinds.filter((k) => k !== main).map((k) => `.${k}.png`);
  const also = rest.length > 3 ? `${rest.slice(0, 2).join(', ')}, ...` : rest.join(', ');
  for (const same of byName.values())
    if (same.length > 1) problems.push(`${same.map(label).join(', ')} would all be written as ${join(out, predictionFile(same[0].name, main))} (and ${also})`);
  // different names can still share a file when a kind has dots (a.prob.x.png of a, a.prob's x)
  const byFile = new Map<string, { file: string; by: PlannedPrediction[] }>();
  for (const p of planned)
    for (const kind of kinds) {
      const file = predictionFile(p.name, kind);
      const entry = byFile.get(key(file)) ?? byFile.set(key(file), { file, by: [] }).get(key(file))!;
      entry.by.push(p);
    }
  for (const { file, by } of byFile.values())
    if (new Set(by.map((p) => key(p.name))).size > 1) problems.push(`${by.map(label).join(', ')} would all write ${join(out, file)}`);
  // an output that is one of the inputs
  const inputAt = new Map(unique.map((i) => [key(realish(i.path)), i.path]));
  const outDir = realish(out);
  for (const p of planned)
    for (const kind of kinds) {
      const file = predictionFile(p.name, kind);
      const input = inputAt.get(key(join(outDir, file)));
      if (input !== undefined) problems.push(`the ${kind} output of ${label(p)}, ${join(out, file)}, would overwrite the input ${input}`);
    }
  if (problems.length)
    throw new BadOptionsError(
      `nothing was written: outputs would collide\n${problems.map((s) => `  ${s}`).join('\n')}\nrename or move the inputs, or give another --out (outputs are named after the input's stem; inputs that share a stem add their folder and/or extension, a multi-page input .pN per page)`,
    );
  return planned;
}
