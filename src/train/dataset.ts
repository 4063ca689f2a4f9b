// A dataset on disk, scanned into samples with a split. Layouts:
//   DIR/images/ + DIR/masks/ [+ DIR/fov/] [+ DIR/split.json]    split from split.json, else seeded 5:2:3
//   DIR/{train,val,test}/images/ + masks/ [+ fov/]               split by folder
// A split with no val (no val/ folder; split.json with "val": [] or none, as a dataset whose protocol
// has only train and test) gets one carved from train: 2/7 of it (the 2 of 5:2:3), at least 1,
// seeded; Dataset.carvedVal lists them, and train says so and records them in run.json.
// Masks are paired to images by stem (match.ts). A multi-page TIFF (or GIF) is one sample per page,
// id `stem#page`; its mask must have as many pages (an FOV may have one, shared by all pages).
// Ids are unique: a name in two split folders (train/0.png, test/0.png) is a duplicate-id error, as the
// same name in two splits is most often the same image in both.
// Scanning reads every file's header (sizes after the EXIF orientation) and decodes every mask and FOV
// once, one at a time, by the mask rule (decode.ts), so unreadable files, size mismatches and masks
// that are not binary are found before training starts, all at once; then the sanity of the set: a
// train split with no foreground pixel is an error, an empty val or test split and a set that is all
// foreground are warnings (returned with the counts).
// Given the task's K (ScanOptions.classes), masks are read as its labels (labels.ts: label maps for
// K >= 3 or a dataset with classes.json, the binary rule otherwise), each sample gets its pixel count
// per class, and a class that no train mask holds is a warning.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { describeFsError, isFsError } from '../io/dir.js';
import { join } from 'node:path';
import { rng } from '../ir/weights.js';
import { decodeFile, fileInfo, toMask, type FileInfo, type MaskOptions } from './decode.js';
import { DataErrors, dataError, type DataError } from './errors.js';
import { readClassesFile, readsBinary, toLabels, type Labels } from './labels.js';
import { entry, isImageFile, matchByStem, type FileEntry } from './match.js';

export type Split = 'train' | 'val' | 'test';
export const SPLITS: Split[] = ['train', 'val', 'test'];
const SPLIT_FOLDERS: Record<Split, string[]> = { train: ['train'], val: ['val', 'valid', 'validation'], test: ['test'] };

export interface FileRef {
  path: string;
  /** page of a multi-page file, 0-based */
  page: number;
}

export interface Sample {
  /** the image stem, or `stem#page` for one page of a multi-page file */
  id: string;
  split: Split;
  image: FileRef;
  mask: FileRef;
  fov?: FileRef;
  height: number;
  width: number;
  /** fraction of the mask's pixels that are foreground (after --invert-mask), from the scan */
  foreground?: number;
  /** pixels of each class 0..K-1 in the mask, from the scan (scanned with ScanOptions.classes) */
  classPixels?: number[];
}

export interface Dataset {
  dir: string;
  samples: Sample[];
  /** where the split came from */
  splitFrom: 'folders' | 'split.json' | 'seeded';
  /** files skipped: not an image format this reads (other than hidden files) */
  ignored: string[];
  /** samples that split.json does not list: left out of every split */
  unlisted: string[];
  /** ids moved from train to val because the split had no val (carveVal); empty otherwise */
  carvedVal: string[];
  /** the header of every file read (image, mask, FOV), by path */
  files: Record<string, FileInfo>;
  /** how masks are read: K and the class table (scanned with ScanOptions.classes; pass it to loadSample) */
  labels?: Labels;
}

export interface ScanOptions {
  /** seed of the 5:2:3 split (and of carving val from train) */
  seed?: number;
  /** splits that must not be empty (default all three) */
  need?: Split[];
  /** the mask folder's name (default masks; e.g. masks_vk for STARE's second observer) */
  masks?: string;
  /** how mask values are read (--mask-threshold, --invert-mask); FOV masks take the threshold only */
  maskThreshold?: MaskOptions['maskThreshold'];
  invertMask?: MaskOptions['invertMask'];
  /**
   * the task's K (the spec's output.classes): reads DIR/classes.json (or the default table) and the
   * masks as this task's labels (labels.ts). Unset: binary masks, no class table, as before.
   */
  classes?: number;
}

export interface ScanResult {
  /** undefined when there are errors */
  dataset?: Dataset;
  errors: DataError[];
  /** problems that do not stop training, each with its counts (no-foreground in val/test, all-foreground) */
  warnings: DataError[];
  /** what was found even when there are errors (samples whose files could be read), for reports */
  found: Dataset;
}

interface Part {
  root: string;
  split?: Split;
}

interface Pair {
  stem: string;
  image: string;
  mask: string;
  fov?: string;
  split?: Split;
}

type Header = FileInfo;

export async function scanDataset(dir: string, opts: ScanOptions = {}): Promise<ScanResult> {
  const { seed = 0, need = SPLITS, masks = 'masks' } = opts;
  const errors: DataError[] = [];
  const warnings: DataError[] = [];
  const ignored: string[] = [];
  const nothing = (errs: DataError[]): ScanResult => ({ errors: errs, warnings, found: { dir, samples: [], splitFrom: 'seeded', ignored, unlisted: [], carvedVal: [], files: {} } });
  const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();
  const layoutHint = `a dataset is a folder with images/ and ${masks}/ (optional fov/, split.json), or with train/ val/ test/ each holding those`;
  if (!isDir(dir)) return nothing([dataError('no-dataset', dir, 'no such folder', layoutHint)]);

  let parts: Part[];
  if (isDir(join(dir, 'images'))) parts = [{ root: dir }];
  else {
    parts = SPLITS.flatMap((split) => {
      const name = SPLIT_FOLDERS[split].find((n) => isDir(join(dir, n)));
      return name ? [{ root: join(dir, name), split }] : [];
    });
    if (!parts.length) return nothing([dataError('no-dataset', dir, 'has neither images/ nor train/ val/ test/', layoutHint)]);
  }

  const stems = new Set<string>();
  const pairs = parts.flatMap((p) => pairFiles(p, masks, errors, ignored, stems));
  const headers = await readHeaders([...new Set(pairs.flatMap((p) => [p.image, p.mask, ...(p.fov ? [p.fov] : [])]))], errors);
  let samples = pairs.flatMap((p) => samplesOf(p, headers, errors));
  samples = uniqueIds(samples, errors);
  let labels: Labels | undefined;
  if (opts.classes !== undefined) {
    const table = readClassesFile(dir, opts.classes);
    errors.push(...table.errors);
    labels = table.labels;
  }
  // with a broken classes.json the masks are not judged: every value would be reported against the wrong table
  if (opts.classes === undefined || labels) await readMasks(samples, headers, { maskThreshold: opts.maskThreshold, invertMask: opts.invertMask }, labels, errors);

  const splitFile = join(dir, 'split.json');
  let splitFrom: Dataset['splitFrom'] = 'seeded';
  let unlisted: string[] = [];
  let carvedVal: string[] = [];
  if (parts[0].split) {
    splitFrom = 'folders';
    if (!parts.some((p) => p.split === 'val')) carvedVal = carveVal(samples, seed);
  } else if (existsSync(splitFile)) {
    splitFrom = 'split.json';
    unlisted = applySplitFile(splitFile, samples, stems, errors);
  } else seededSplit(samples, seed);

  const kept = samples.filter((s) => !unlisted.includes(s.id));
  // split.json without val ids: carved from its train ids (after other errors, the val it lists may have failed)
  if (splitFrom === 'split.json' && !errors.length && !kept.some((s) => s.split === 'val')) carvedVal = carveVal(kept, seed);
  // an empty split is checked only on a clean scan: after other errors it is most likely their echo
  for (const split of errors.length ? [] : need) {
    if (kept.some((s) => s.split === split) || !samples.length) continue;
    const where = splitFrom === 'split.json' ? splitFile : splitFrom === 'folders' ? join(dir, SPLIT_FOLDERS[split][0]) : join(dir, 'images');
    const hint =
      splitFrom === 'split.json' ? `list some ids under "${split}" in split.json`
      : splitFrom === 'folders' ? `put image/mask pairs in ${join(dir, SPLIT_FOLDERS[split][0], 'images')} and ${masks}/`
      : `the seeded 5:2:3 split needs at least 3 samples; there are ${samples.length}`;
    errors.push(dataError('empty-split', where, `the ${split} split has no samples`, hint));
  }
  if (!samples.length && !errors.length) errors.push(dataError('empty-split', join(dir, 'images'), 'no image/mask pairs', layoutHint));
  const splitPlace = (split: Split) => (splitFrom === 'split.json' ? splitFile : splitFrom === 'folders' ? join(dir, SPLIT_FOLDERS[split][0], masks) : join(dir, masks));
  foregroundChecks(kept, need, splitPlace, errors, warnings, labels);
  if (labels && !readsBinary(labels)) classChecks(kept, labels, splitPlace('train'), warnings);
  const found: Dataset = { dir, samples: kept, splitFrom, ignored, unlisted, carvedVal, files: Object.fromEntries(headers), ...(labels ? { labels } : {}) };
  if (errors.length) return { errors, warnings, found };
  return { dataset: found, errors, warnings, found };
}

/** Ids must be unique: a name in two split folders, or a page id (`vol#1`) that is also a file's name, is an error. */
function uniqueIds(samples: Sample[], errors: DataError[]): Sample[] {
  const byId = new Map<string, Sample[]>();
  for (const s of samples) byId.set(s.id, [...(byId.get(s.id) ?? []), s]);
  const bad = new Set<string>();
  for (const [id, ss] of byId) {
    if (ss.length < 2) continue;
    bad.add(id);
    const files = [...new Set(ss.map((s) => s.image.path))];
    errors.push(
      dataError(
        'duplicate-id',
        files[1] ?? files[0],
        `the id ${id} is used by ${files.join(' and ')}${new Set(ss.map((s) => s.split)).size > 1 ? ` (splits ${[...new Set(ss.map((s) => s.split))].join(' and ')})` : ''}`,
        'rename one of them (e.g. prefix the test images with test_); the same name in two splits is most often the same image in both, which leaks the test set into training',
      ),
    );
  }
  return samples.filter((s) => !bad.has(s.id));
}

/**
 * Decodes every mask (and FOV) page once, one at a time, by the mask rule (or as `labels`' labels):
 * values that are not binary (or not in the class table) are errors naming the file; each sample
 * gets its foreground fraction (and, with labels, its pixels per class).
 */
async function readMasks(samples: Sample[], headers: Map<string, Header>, opts: MaskOptions, labels: Labels | undefined, errors: DataError[]): Promise<void> {
  const fovDone = new Set<string>();
  const reported = new Set<string>();
  const read = async (path: string, page: number, what: 'mask' | 'FOV mask', o: MaskOptions): Promise<{ foreground: number; counts?: number[] } | undefined> => {
    if (reported.has(path)) return undefined; // one error per file, not one per page
    try {
      const d = await decodeFile(path, { page, indices: true, info: headers.get(path) });
      return what === 'mask' && labels ? toLabels(d, labels, o) : toMask(d, o, what);
    } catch (e) {
      if (!(e instanceof DataErrors)) throw e;
      reported.add(path);
      errors.push(...e.errors);
      return undefined;
    }
  };
  for (const s of samples) {
    const m = await read(s.mask.path, s.mask.page, 'mask', opts);
    if (m) s.foreground = m.foreground / (s.width * s.height);
    if (m?.counts) s.classPixels = m.counts;
    if (s.fov && !fovDone.has(`${s.fov.path}#${s.fov.page}`)) {
      fovDone.add(`${s.fov.path}#${s.fov.page}`);
      await read(s.fov.path, s.fov.page, 'FOV mask', { maskThreshold: opts.maskThreshold });
    }
  }
}

/** A train split with no foreground pixel is an error; val or test with none, or a set all foreground, a warning. */
function foregroundChecks(samples: Sample[], need: Split[], place: (s: Split) => string, errors: DataError[], warnings: DataError[], labels?: Labels) {
  const read = samples.filter((s) => s.foreground !== undefined);
  if (!read.length) return;
  for (const split of SPLITS) {
    const ss = samples.filter((s) => s.split === split);
    // a split with an unreadable mask is not judged: its error is reported already
    if (!ss.length || ss.some((s) => s.foreground === undefined || s.foreground > 0)) continue;
    const px = ss.reduce((a, s) => a + s.width * s.height, 0);
    const e = dataError(
      'no-foreground',
      place(split),
      `the ${split} split has no foreground pixel: ${ss.length} mask${ss.length === 1 ? '' : 's'}, ${px} pixels, all background${split === 'train' ? ' (a network trained on it predicts nothing and scores IoU 1.0)' : ' (its IoU and Dice say nothing)'}`,
      labels && !readsBinary(labels)
        ? `check the labels with \`alcli data check --classes ${labels.classes}\`: every pixel is class 0 (${labels.table.names[0]}); a mask holds class indices 0..${labels.classes - 1}${labels.file ? ` or the colours of ${labels.file}` : ''}`
        : 'check the mask encoding with `alcli data check`: foreground is 255 (or 65535, or 1 in a 0/1 mask); if 0 marks the foreground pass --invert-mask; for other values --mask-threshold T',
    );
    if (split === 'train' && need.includes('train')) errors.push(e);
    else warnings.push(e);
  }
  if (read.length === samples.length && read.every((s) => s.foreground === 1))
    warnings.push(
      dataError(
        'all-foreground',
        place('train'),
        `every pixel of all ${read.length} masks is foreground: nothing to tell apart (IoU 1.0 for a network that predicts everything)`,
        'if 0 marks the background in these files, drop --invert-mask (or pass it if 0 marks the foreground); check the masks with `alcli data check`',
      ),
    );
}

/** A class that no train mask holds is a warning (the network never sees it); judged when every train mask was read. */
function classChecks(samples: Sample[], labels: Labels, place: string, warnings: DataError[]) {
  const train = samples.filter((s) => s.split === 'train');
  if (!train.length || train.some((s) => !s.classPixels)) return;
  const total = labels.table.names.map((_, k) => train.reduce((a, s) => a + s.classPixels![k], 0));
  if (!total.slice(1).some((x) => x > 0)) return; // no foreground at all: no-foreground says it
  const absent = total.flatMap((x, k) => (k > 0 && x === 0 ? [k] : []));
  const named = absent.map((k) => `${k} (${labels.table.names[k]})`).join(', ');
  if (absent.length)
    warnings.push(
      dataError(
        'absent-class',
        place,
        `class${absent.length === 1 ? '' : 'es'} ${named} ${absent.length === 1 ? 'occurs' : 'occur'} in none of the ${train.length} train masks: the network never sees ${absent.length === 1 ? 'it' : 'them'}, and ${absent.length === 1 ? 'its' : 'their'} IoU will be 0`,
        `check the label values with \`alcli data check --classes ${labels.classes}\` (a class is its index 0..${labels.classes - 1}${labels.file ? ` or its colour in ${labels.file}` : ''}); move images that hold ${absent.length === 1 ? 'it' : 'them'} into train, or lower output.classes and renumber the classes`,
      ),
    );
}

/**
 * The regular files of a folder (symlinks followed), sorted, hidden ones left out. A folder or an
 * entry that cannot be read (a broken or looping link, no permission) is a DataError naming it.
 */
function listFiles(path: string, errors: DataError[]): string[] {
  const fault = (at: string, e: unknown) => {
    if (!isFsError(e)) throw e;
    const dangling = e.code === 'ENOENT' ? ' (a link to a file that does not exist)' : '';
    errors.push(dataError('unreadable', at, `${describeFsError(e, at, 'read')}${dangling}`, 'fix or remove it: a dataset holds readable files and folders only'));
  };
  let names: string[];
  try {
    names = readdirSync(path);
  } catch (e) {
    fault(path, e);
    return [];
  }
  return names
    .filter((n) => {
      if (n.startsWith('.')) return false;
      try {
        return statSync(join(path, n)).isFile();
      } catch (e) {
        fault(join(path, n), e);
        return false;
      }
    })
    .sort();
}

/** Lists one part's folders and pairs images with masks and FOV masks. */
function pairFiles(part: Part, masks: string, errors: DataError[], ignored: string[], stems: Set<string>): Pair[] {
  const list = (folder: string): FileEntry[] => {
    const path = join(part.root, folder);
    const names = listFiles(path, errors);
    ignored.push(...names.filter((n) => !isImageFile(n)).map((n) => join(path, n)));
    const files = names.filter(isImageFile).map(entry);
    const byStem = new Map<string, string[]>();
    for (const f of files) byStem.set(f.stem, [...(byStem.get(f.stem) ?? []), f.name]);
    for (const [stem, ns] of byStem)
      if (ns.length > 1) errors.push(dataError('duplicate-stem', join(path, ns[1]), `${ns.join(' and ')} share the name ${stem}`, 'keep one of them; samples are matched by name without extension'));
    return files.filter((f) => byStem.get(f.stem)![0] === f.name);
  };
  const folder = (name: string) => join(part.root, name);
  if (!existsSync(folder('images'))) {
    errors.push(dataError('no-dataset', folder('images'), `no images/ folder in ${part.root}`, `put the images in ${folder('images')} and their masks in ${folder(masks)}`));
    return [];
  }
  if (!existsSync(folder(masks))) {
    errors.push(dataError('no-dataset', folder(masks), `no ${masks}/ folder beside images/`, `put one mask per image in ${folder(masks)}, with the image's name`));
    return [];
  }
  const images = list('images');
  for (const f of images) stems.add(f.stem);
  const imageStems = images.map((f) => f.stem);
  const m = matchByStem(imageStems, list(masks));
  const fov = existsSync(folder('fov')) ? matchByStem(imageStems, list('fov')) : undefined;

  for (const [kind, dirName, matching] of [['mask', masks, m], ['FOV mask', 'fov', fov]] as const) {
    if (!matching) continue;
    for (const f of matching.unmatched)
      errors.push(dataError('unmatched-mask', join(folder(dirName), f.name), `${kind} with no image of the same name in images/`, `add the image as images/${f.stem}.png, rename the ${kind} after its image, or move it out of ${dirName}/`));
    for (const [stem, fs] of matching.ambiguous)
      errors.push(dataError('ambiguous-mask', join(folder(dirName), fs[0].name), `image ${stem} has ${fs.length} candidate ${kind}s: ${fs.map((f) => f.name).join(', ')}`, `keep one ${kind} per image in ${dirName}/ (move the others to another folder)`));
  }
  const pairs: Pair[] = [];
  for (const img of images) {
    const mask = m.matched.get(img.stem);
    const f = fov?.matched.get(img.stem);
    const imagePath = join(folder('images'), img.name);
    if (!mask && !m.ambiguous.has(img.stem))
      errors.push(dataError('missing-mask', imagePath, `no mask for this image in ${masks}/`, `add ${join(folder(masks), img.stem)}.png (255 = foreground), or move the image out of images/`));
    if (fov && !f && !fov.ambiguous.has(img.stem))
      errors.push(dataError('missing-fov', imagePath, 'no FOV mask for this image in fov/', `add ${join(folder('fov'), img.stem)}.png (255 = inside the field of view), or remove fov/ to use the whole image`));
    if (mask && (!fov || f)) pairs.push({ stem: img.stem, image: imagePath, mask: join(folder(masks), mask.name), fov: f && join(folder('fov'), f.name), split: part.split });
  }
  return pairs;
}

/** Reads the headers (size, pages) of every file, a few at a time. */
async function readHeaders(paths: string[], errors: DataError[]): Promise<Map<string, Header>> {
  const out = new Map<string, Header>();
  const queue = [...paths];
  const worker = async () => {
    for (let p = queue.shift(); p !== undefined; p = queue.shift()) {
      try {
        out.set(p, await fileInfo(p));
      } catch (e) {
        if (!(e instanceof DataErrors)) throw e;
        errors.push(...e.errors.map((x) => ({ ...x, hint: `${x.hint}, or remove it with its image and mask` })));
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return out;
}

function samplesOf(p: Pair, headers: Map<string, Header>, errors: DataError[]): Sample[] {
  const img = headers.get(p.image);
  const mask = headers.get(p.mask);
  const fov = p.fov ? headers.get(p.fov) : undefined;
  if (!img || !mask || (p.fov && !fov)) return []; // unreadable, already reported
  let ok = true;
  const check = (path: string, h: Header, what: string, pagesOk: boolean) => {
    if (h.width === img.width && h.height === img.height && pagesOk) return;
    ok = false;
    const size = (x: Header) => `${x.width}x${x.height}${x.orientation !== 1 ? ` upright (EXIF orientation ${x.orientation}; stored ${x.storedWidth}x${x.storedHeight})` : ''}${x.pages > 1 ? ` (${x.pages} pages)` : ''}`;
    const stored = h.storedWidth === img.storedWidth && h.storedHeight === img.storedHeight && pagesOk;
    if ((img.orientation !== 1 || h.orientation !== 1) && stored) {
      const [tagged, other] = img.orientation !== 1 ? [p.image, path] : [path, p.image];
      errors.push(
        dataError(
          'size-mismatch',
          path,
          `${what} is ${size(h)}, its image ${p.image} is ${size(img)}: the stored pixels match, the EXIF orientation of ${tagged} turns it and ${other} is not turned the same way`,
          `do not resize: give both files the same orientation, e.g. rotate ${other} to the upright view of ${tagged} (or save ${tagged} upright without the orientation tag, if ${other} was drawn on the stored pixels)`,
        ),
      );
      return;
    }
    errors.push(dataError('size-mismatch', path, `${what} is ${size(h)}, its image ${p.image} is ${size(img)}`, `make the ${what} the same size as the image (resize both together, or re-export the ${what})`));
  };
  check(p.mask, mask, 'mask', mask.pages === img.pages);
  if (p.fov && fov) check(p.fov, fov, 'FOV mask', fov.pages === img.pages || fov.pages === 1);
  if (!ok) return [];
  return Array.from({ length: img.pages }, (_, page) => ({
    id: img.pages > 1 ? `${p.stem}#${page}` : p.stem,
    split: p.split ?? 'train',
    image: { path: p.image, page },
    mask: { path: p.mask, page },
    fov: p.fov && fov ? { path: p.fov, page: fov.pages > 1 ? page : 0 } : undefined,
    height: img.height,
    width: img.width,
  }));
}

/** Fisher-Yates with the project's seeded generator: the same order for the same ids and seed. */
function shuffled<T>(xs: T[], seed: number): T[] {
  const r = rng(seed);
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r.uniform() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** 5:2:3 of n, each split at least one sample when n >= 3 (30 -> 15/6/9, 10 -> 5/2/3). */
export function splitCounts(n: number): Record<Split, number> {
  const atLeast = (k: number) => (n >= 3 ? Math.max(1, k) : k);
  const val = atLeast(Math.round(0.2 * n));
  const test = Math.min(n - val, atLeast(Math.round(0.3 * n)));
  return { train: n - val - test, val, test };
}

function seededSplit(samples: Sample[], seed: number) {
  const { train, val } = splitCounts(samples.length);
  shuffled(samples, seed).forEach((s, i) => (s.split = i < train ? 'train' : i < train + val ? 'val' : 'test'));
}

/**
 * No val: the 2:5 of 5:2:3 taken from train, at least 1 of 2 or more (DRIVE 20 -> 14 + 6, STARE
 * 10 -> 7 + 3), seeded; returns the ids moved, sorted.
 */
function carveVal(samples: Sample[], seed: number): string[] {
  const train = samples.filter((s) => s.split === 'train');
  const n = train.length >= 2 ? Math.max(1, Math.round((train.length * 2) / 7)) : 0;
  const moved = shuffled(train, seed).slice(0, n);
  for (const s of moved) s.split = 'val';
  return moved.map((s) => s.id).sort();
}

/**
 * Applies split.json ({"train": [ids], "val": [...], "test": [...]}, other keys ignored); returns the
 * unlisted ids. `stems` are all images found, so an id whose sample failed for another reason is not
 * reported a second time here.
 */
function applySplitFile(file: string, samples: Sample[], stems: Set<string>, errors: DataError[]): string[] {
  const bad = (message: string, hint: string) => errors.push(dataError('bad-split-file', file, message, hint));
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    bad(`not valid JSON: ${(e as Error).message}`, 'fix the JSON, or delete split.json to get a seeded 5:2:3 split');
    return [];
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    bad('must be an object with "train", "val" and "test" lists of sample names', 'e.g. {"train": ["01", "02"], "val": ["03"], "test": ["04"]}');
    return [];
  }
  const byId = new Map(samples.map((s) => [s.id, s]));
  const pagesOf = new Map<string, Sample[]>();
  for (const s of samples) {
    const stem = s.id.replace(/#\d+$/, '');
    if (stem !== s.id) pagesOf.set(stem, [...(pagesOf.get(stem) ?? []), s]);
  }
  const listed = new Map<string, Split>();
  for (const split of SPLITS) {
    const ids = (json as Record<string, unknown>)[split];
    if (ids === undefined) continue;
    if (!Array.isArray(ids) || ids.some((x) => typeof x !== 'string')) {
      bad(`"${split}" must be a list of sample names (strings)`, `e.g. "${split}": ["01", "02"]`);
      continue;
    }
    for (const id of ids as string[]) {
      const hits = byId.has(id) ? [byId.get(id)!] : (pagesOf.get(id) ?? []);
      if (!hits.length) {
        if (stems.has(id) || stems.has(id.replace(/#\d+$/, ''))) continue;
        bad(`lists "${id}" under "${split}", but there is no image ${id} with a mask`, 'names are file names without extension (a page of a multi-page file: name#page); remove the entry or add the files');
        continue;
      }
      for (const s of hits) {
        const prev = listed.get(s.id);
        if (prev) bad(`lists "${s.id}" under both "${prev}" and "${split}"`, 'each sample belongs to one split');
        else {
          listed.set(s.id, split);
          s.split = split;
        }
      }
    }
  }
  return samples.filter((s) => !listed.has(s.id)).map((s) => s.id);
}

