// The network stride: how much the input must divide by so every skip connection lines up.
// Computed structurally from the IR, so it does not depend on the size being checked.
import { diag, type Diagnostic, type SourcePos } from './diagnostics.js';
import { INPUT_ID, type IrGraph } from './graph.js';
import { opDef } from './ops.js';

/**
 * Downsampling factor of each node relative to the input ([fh, fw]), moved by each op's registry
 * `grid` rule (GridRule in ops.ts); the stride is the largest factor among the nodes whose spatial
 * size matters. Those are found walking back from the output, and the walk stops only where a
 * node's output size does not follow its input's:
 * - a global pool or a resize to a fixed `size:` ('free'): nothing before it counts;
 * - a `resize like: X` that is never merged (add/mul/concat, at any distance downstream) with
 *   another path: it only stretches its input to X's size (a final resize to the input), so its
 *   input path does not count;
 * - a `resize like: X, stretch: true`: a pyramid-pooling branch (CE-Net's RMP) that rounds by design.
 * Any other `resize like:` is an upsampling that is merged back with a finer path, and the merge
 * lines up without stretching only when the input divides by the coarse path's factor: its input
 * path counts exactly as it would written with `scale:`. The coarse path's own factor still resets
 * after a global pool, so an image-pooling branch (ASPP, LR-ASPP) forces no stride.
 */
export function networkStride(g: IrGraph): [number, number] {
  const factor = new Map<string, [number, number]>([[INPUT_ID, [1, 1]]]);
  const rules = new Map(g.nodes.map((n) => [n.id, opDef(n.op).grid(n.attrs)]));
  for (const n of g.nodes) {
    const ins = n.inputs.map((i) => factor.get(i) ?? [1, 1]);
    const f: [number, number] = [Math.max(...ins.map((x) => x[0])), Math.max(...ins.map((x) => x[1]))];
    const rule = rules.get(n.id)!;
    if (rule === 'same') factor.set(n.id, f);
    else if (rule === 'free') factor.set(n.id, [1, 1]);
    else if ('down' in rule) factor.set(n.id, [f[0] * rule.down[0], f[1] * rule.down[1]]);
    else if ('up' in rule) factor.set(n.id, [f[0] / rule.up[0], f[1] / rule.up[1]]);
    else factor.set(n.id, factor.get(rule.like) ?? [1, 1]);
  }
  // nodes whose output reaches a merge (a node with two or more data inputs), in reverse order
  const merged = new Set<string>();
  for (const n of [...g.nodes].reverse()) {
    if (n.inputs.length > 1 || merged.has(n.id)) n.inputs.forEach((i) => merged.add(i));
  }
  // a graph that failed to expand part-way has no output yet: its loose ends stand in for it
  const read = new Set(g.nodes.flatMap((n) => n.inputs));
  const ends = g.nodes.some((n) => n.id === g.output.node) ? [g.output.node] : g.nodes.filter((n) => !read.has(n.id)).map((n) => n.id);
  const sensitive = new Set<string>(ends);
  for (const n of [...g.nodes].reverse()) {
    if (!sensitive.has(n.id)) continue;
    const rule = rules.get(n.id)!;
    const like = typeof rule === 'object' && 'like' in rule;
    const sizeFree = rule === 'free' || (like && (n.attrs.stretch === true || !merged.has(n.id)));
    if (!sizeFree) n.inputs.forEach((i) => sensitive.add(i));
  }
  let stride: [number, number] = [1, 1];
  for (const id of sensitive) {
    const f = factor.get(id) ?? [1, 1];
    stride = [Math.max(stride[0], f[0]), Math.max(stride[1], f[1])];
  }
  return [Math.round(stride[0]), Math.round(stride[1])];
}

/** The input-stride error for an indivisible size, with the nearest larger valid size. */
export function checkInputStride(g: IrGraph, at: SourcePos | undefined, fromFlag: boolean): Diagnostic | undefined {
  const [sh, sw] = networkStride(g);
  const [h, w] = g.input.size;
  if (h % sh === 0 && w % sw === 0) return undefined;
  const fix = `${Math.ceil(h / sh) * sh}x${Math.ceil(w / sw) * sw}`;
  const strideText = sh === sw ? `${sh}` : `${sh}x${sw}`;
  return diag('input-stride', `input size ${h}x${w} does not divide by the network stride ${strideText}`, at, {
    hint: `use ${fix}${fromFlag ? ' (--size)' : ' (input.size)'}; alcli pads images to it and crops the output back`,
  });
}

/**
 * Why `g` only runs at its compiled input size, or undefined when it runs at any size its stride
 * divides. Weights never depend on the spatial size (resize-graph.ts), so the one thing that pins
 * the size is a resize to an absolute `size:` (its output is that size whatever the input, and a
 * merge or the output downstream then needs the input that matches it). A global pool, a resize
 * by `scale:` or `like:` a node are size-free. The ONNX, Triton and TF.js graph emitters write
 * symbolic height and width exactly when this is undefined.
 */
export function fixedSizeReason(g: IrGraph): string | undefined {
  const n = g.nodes.find((x) => x.op === 'resize' && x.attrs.size !== undefined);
  if (!n) return undefined;
  const [h, w] = n.attrs.size as readonly number[];
  return `'${n.id}' resizes to the absolute size ${h}x${w}, so the network only runs at ${g.input.size.join('x')} (resize by scale: or like: a node to take any size)`;
}

/** Where an h x w image lies inside its padding to the stride: offsets and the padded size, in pixels. */
export interface PadBox {
  /** rows added above and below, columns left and right */
  top: number;
  bottom: number;
  left: number;
  right: number;
  /** the padded size: the next multiples of the stride */
  height: number;
  width: number;
}

/**
 * alcli's one padding rule (training's validation, `alcli predict`, model.ts and the `--io image`
 * ONNX graph): pad h x w to the next multiple of the stride in each direction, split evenly, the
 * odd pixel at the bottom/right: top = floor((H - h) / 2), H = ceil(h / sh) * sh (and likewise
 * for the width). The padding is filled by reflection (image.ts reflectIndex).
 */
export function padBox(h: number, w: number, [sh, sw]: readonly [number, number]): PadBox {
  const height = Math.ceil(h / sh) * sh;
  const width = Math.ceil(w / sw) * sw;
  const top = Math.floor((height - h) / 2);
  const left = Math.floor((width - w) / 2);
  return { top, bottom: height - h - top, left, right: width - w - left, height, width };
}
