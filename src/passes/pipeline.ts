// src/passes/: the compiler passes that turn the training form into the deploy form, one file each.
// May import: ir.
// The deploy pipeline: a flat list of named passes (STYLE.md 4).
import type { IrGraph } from '../ir/graph.js';
import { dce } from './dce.js';
import { foldBn } from './fold-bn.js';
import { fuseBranches } from './fuse-branches.js';
import type { Pass } from './pass.js';
import { verifyIr } from './verify-ir.js';
import { checkWeights, type WeightStore } from '../ir/weights.js';

/** fold-bn must run first: fuse-branches sums conv branches that already carry their BN as a bias. */
export const DEPLOY_PASSES: readonly Pass[] = [foldBn, fuseBranches, dce];

export interface PassReport {
  pass: string;
  rewrites: number;
  nodesBefore: number;
  nodesAfter: number;
}

export class IrVerifyError extends Error {
  constructor(readonly pass: string, readonly problems: string[]) {
    super(`IR invalid after pass '${pass}': ${problems.join('; ')}`);
  }
}

export interface PassOptions {
  /** run the IR verifier (and the weight check) after every pass */
  verifyEach?: boolean;
  /** rewrite these weights along with the graph */
  weights?: WeightStore;
}

export function runPasses(g: IrGraph, passes: readonly Pass[] = DEPLOY_PASSES, opts: PassOptions = {}): { graph: IrGraph; weights?: WeightStore; report: PassReport[] } {
  const report: PassReport[] = [];
  let graph = g;
  let weights = opts.weights;
  for (const p of passes) {
    const r = p.run(graph, weights);
    report.push({ pass: p.name, rewrites: r.rewrites, nodesBefore: graph.nodes.length, nodesAfter: r.graph.nodes.length });
    graph = r.graph;
    weights = r.weights;
    if (opts.verifyEach) {
      const problems = [...verifyIr(graph), ...(weights ? checkWeights(graph, weights) : [])];
      if (problems.length) throw new IrVerifyError(p.name, problems);
    }
  }
  return { graph, weights, report };
}

/** The deploy form: what remains after BN folding and branch fusion. */
export const deployForm = (g: IrGraph, opts: PassOptions = {}) => runPasses(g, DEPLOY_PASSES, opts);
