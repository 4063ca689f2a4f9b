// The class table of a segmentation task: what label value k means (its name) and how it is drawn
// (its colour). A binary task has two rows, background and foreground. Multi-class datasets give
// theirs in DATA/classes.json ({"0": "background", "1": "lung", ...}, or {"1": {"name": "lung",
// "color": [255, 0, 0]}}); otherwise the names are class_k and the colours DEFAULT_COLORS'. The run
// records its table in run.json, so evaluate, predict and export name and draw classes the same way.

export type Rgb = [number, number, number];

export interface ClassTable {
  /** names[k]: the name of label value k, k = 0..K-1 (0 is the background) */
  names: string[];
  /** colors[k]: its RGB colour in overlays and colour-coded masks */
  colors: Rgb[];
}

/** Distinct colours for overlays (0: black background, then a qualitative palette). */
export const DEFAULT_COLORS: Rgb[] = [
  [0, 0, 0], [230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48], [145, 30, 180], [70, 240, 240],
  [240, 50, 230], [210, 245, 60], [250, 190, 212], [0, 128, 128], [220, 190, 255], [170, 110, 40], [255, 250, 200], [128, 0, 0],
];

/** The table of a K-class task with no classes.json: background, class_1 .. class_{K-1}. K = 1 (sigmoid) counts as 2. */
export function defaultClassTable(classes: number): ClassTable {
  const k = Math.max(2, classes);
  return {
    names: Array.from({ length: k }, (_, i) => (i === 0 ? 'background' : k === 2 ? 'foreground' : `class_${i}`)),
    colors: Array.from({ length: k }, (_, i) => DEFAULT_COLORS[i % DEFAULT_COLORS.length]),
  };
}
