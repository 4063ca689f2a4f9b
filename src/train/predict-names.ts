// The output names of `alcli predict`, decided before anything is written: one name per prediction
// (each page of a multi-page input), no two alike, none an input's own path.
//
// The rule (also in `alcli predict --help` and the README):
// - an input's name is its stem: a/21.png -> 21 (21.prob.png, 21.mask.png, 21.overlay.png);
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
  /** the output name: files NAME.prob.png, NAME.mask.png and NAME.overlay.png */
  name: string;
}

/** The three files one prediction writes. */
export const PREDICTION_FILES = ['prob', 'mask', 'overlay'] as const;
export const predictionFile = (name: string, kind: (typeof PREDICTION_FILES)[number]) => `${name}.${kind}.png`;

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
export function planPredictionNames(inputs: PredictInput[], out: string): PlannedPrediction[] {
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
  for (const same of byName.values())
    if (same.length > 1) problems.push(`${same.map(label).join(', ')} would all be written as ${join(out, predictionFile(same[0].name, 'mask'))} (and .prob.png, .overlay.png)`);
  // an output that is one of the inputs
  const inputAt = new Map(unique.map((i) => [key(realish(i.path)), i.path]));
  const outDir = realish(out);
  for (const p of planned)
    for (const kind of PREDICTION_FILES) {
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
