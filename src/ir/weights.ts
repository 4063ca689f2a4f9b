// The named weight store: every tensor a graph owns, keyed `NODE_ID:NAME` (e.g. `e1/down/dense:kernel`),
// as plain Float32Arrays so passes and emitters work on it without a tensor library.
import type { IrGraph, IrNode } from './graph.js';
import { opDef, type WeightSpec } from './ops.js';
import { opContext, shapesOf } from './stats.js';

export interface Tensor32 {
  shape: number[];
  data: Float32Array;
}

export type WeightStore = Map<string, Tensor32>;

export const weightKey = (node: string, name: string) => `${node}:${name}`;
export const sizeOfShape = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** The weights each node declares (op registry), with its shapes resolved. */
export function weightSpecs(g: IrGraph): { node: IrNode; spec: WeightSpec }[] {
  const shapes = shapesOf(g);
  return g.nodes.flatMap((node) => opDef(node.op).weights(opContext(node, shapes)).map((spec) => ({ node, spec })));
}

/** mulberry32: small, fast, and the same sequence everywhere for a seed. */
export function rng(seed: number): { uniform(): number; normal(): number } {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  // Box-Muller gives two normals per pair of uniforms; keep the second for the next call
  let spare: number | undefined;
  const normal = () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(Math.max(uniform(), 1e-12)));
    const t = 2 * Math.PI * uniform();
    spare = r * Math.sin(t);
    return r * Math.cos(t);
  };
  return { uniform, normal };
}

/** Fresh weights: He-normal conv kernels (std sqrt(2/fan_in)), zero biases, BN gamma 1, beta 0, mean 0, var 1. */
export function initWeights(g: IrGraph, seed = 0): WeightStore {
  const r = rng(seed);
  const store: WeightStore = new Map();
  for (const { node, spec } of weightSpecs(g)) {
    const data = new Float32Array(sizeOfShape(spec.shape));
    if ('he' in spec.init) {
      const std = Math.sqrt(2 / spec.init.he);
      for (let i = 0; i < data.length; i++) data[i] = r.normal() * std;
    } else data.fill(spec.init.constant);
    store.set(weightKey(node.id, spec.name), { shape: [...spec.shape], data });
  }
  return store;
}

/**
 * Random BatchNorm parameters and statistics (gamma, var in [0.75, 1.25], beta, mean ~ N(0, 0.1)),
 * as after training: with the fresh ones (identity BN) a wrong folding would go unnoticed.
 */
export function randomizeBatchNorm(g: IrGraph, weights: WeightStore, seed = 1): WeightStore {
  const r = rng(seed);
  const out: WeightStore = new Map(weights);
  for (const n of g.nodes) {
    if (n.op !== 'bn') continue;
    const fill = (name: string, f: () => number) => {
      const t = weights.get(weightKey(n.id, name))!;
      out.set(weightKey(n.id, name), { shape: t.shape, data: Float32Array.from(t.data, f) });
    };
    fill('gamma', () => 0.75 + 0.5 * r.uniform());
    fill('beta', () => 0.1 * r.normal());
    fill('mean', () => 0.1 * r.normal());
    fill('variance', () => 0.75 + 0.5 * r.uniform());
  }
  return out;
}

/** Missing or misshapen tensors, as sentences; empty when the store fits the graph. */
export function checkWeights(g: IrGraph, weights: WeightStore): string[] {
  const problems: string[] = [];
  for (const { node, spec } of weightSpecs(g)) {
    const t = weights.get(weightKey(node.id, spec.name));
    if (!t) problems.push(`no weight '${weightKey(node.id, spec.name)}'`);
    else if (t.shape.join('x') !== spec.shape.join('x') || t.data.length !== sizeOfShape(spec.shape))
      problems.push(`'${weightKey(node.id, spec.name)}' is ${t.shape.join('x')}, the graph needs ${spec.shape.join('x')}`);
  }
  return problems;
}

