// Which mask (or FOV) file belongs to which image. Three rules, tried in order, each only on what the
// earlier ones left unmatched:
//   1. the same stem:                        images/21.png      <- masks/21.gif
//   2. the image stem plus a suffix after _ - or . (the longest image stem wins):
//                                            images/ISIC_001.jpg <- masks/ISIC_001_segmentation.png,
//                                            images/im0001.png  <- masks/im0001.ah.png
//   3. the same leading token (the stem up to its first _ - .), when exactly one image and one mask
//      left have it:                         images/21_training.tif <- masks/21_manual1.gif (DRIVE's own names)
// An image that gets two candidates is an error (e.g. 21_manual1 and 21_manual2): the user moves one away.
import { extname, parse } from 'node:path';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.tif', '.tiff', '.gif'];

export interface FileEntry {
  /** file name inside its folder */
  name: string;
  stem: string;
}

export const isImageFile = (name: string) => IMAGE_EXTENSIONS.includes(extname(name).toLowerCase());
export const entry = (name: string): FileEntry => ({ name, stem: parse(name).name });

const SEP = /[_.-]/;
const leadingToken = (stem: string) => stem.split(SEP)[0];

export interface Matching {
  /** image stem -> its file */
  matched: Map<string, FileEntry>;
  /** files that belong to no image */
  unmatched: FileEntry[];
  /** image stem -> the files that each could be its own */
  ambiguous: Map<string, FileEntry[]>;
}

export function matchByStem(imageStems: string[], files: FileEntry[]): Matching {
  const candidates = new Map<string, FileEntry[]>();
  const claim = (stem: string, f: FileEntry) => candidates.set(stem, [...(candidates.get(stem) ?? []), f]);
  const stems = new Set(imageStems);
  let left: FileEntry[] = [];
  for (const f of files) {
    if (stems.has(f.stem)) {
      claim(f.stem, f);
      continue;
    }
    let best: string | undefined;
    for (const s of imageStems) {
      if (f.stem.length > s.length && f.stem.startsWith(s) && SEP.test(f.stem[s.length]) && (!best || s.length > best.length)) best = s;
    }
    if (best) claim(best, f);
    else left.push(f);
  }
  // rule 3 on what is left, both sides unique
  const openImages = imageStems.filter((s) => !candidates.has(s));
  const count = <T>(xs: T[], key: (x: T) => string) => xs.reduce((m, x) => m.set(key(x), (m.get(key(x)) ?? 0) + 1), new Map<string, number>());
  const imageTokens = count(openImages, leadingToken);
  const fileTokens = count(left, (f) => leadingToken(f.stem));
  left = left.filter((f) => {
    const t = leadingToken(f.stem);
    if (imageTokens.get(t) !== 1 || fileTokens.get(t) !== 1) return true;
    claim(openImages.find((s) => leadingToken(s) === t)!, f);
    return false;
  });
  const matched = new Map<string, FileEntry>();
  const ambiguous = new Map<string, FileEntry[]>();
  for (const [stem, fs] of candidates) (fs.length === 1 ? matched.set(stem, fs[0]) : ambiguous.set(stem, fs));
  return { matched, unmatched: left, ambiguous };
}
