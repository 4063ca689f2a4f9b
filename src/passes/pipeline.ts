// The deploy pipeline: a flat list of named passes (STYLE.md 4).
import type { IrGraph } from '../ir/graph.js';
import { dce } from './dce.js';
import { foldBn } from './fold-bn.js';
import { fuseBranches } from './fuse-branches.js';
import type { Pass } from './pass.js';
import { verifyIr } from './verify-ir.js';

/** fold-bn must run first: fuse-branches sums conv branches that already carry their BN as a bias. */
export const DEPLOY_PASSES: readonly Pass[] = [foldBn, fuseBranches, dce];
export const PASSES_BY_NAME = new Map(DEPLOY_PASSES.map((p) => [p.name, p]));

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

export function runPasses(g: IrGraph, passes: readonly Pass[] = DEPLOY_PASSES, opts: { verifyEach?: boolean } = {}): { graph: IrGraph; report: PassReport[] } {
  const report: PassReport[] = [];
  let graph = g;
  for (const p of passes) {
    const r = p.run(graph);
    report.push({ pass: p.name, rewrites: r.rewrites, nodesBefore: graph.nodes.length, nodesAfter: r.graph.nodes.length });
    graph = r.graph;
    if (opts.verifyEach) {
      const problems = verifyIr(graph);
      if (problems.length) throw new IrVerifyError(p.name, problems);
    }
  }
  return { graph, report };
}

/** The deploy form: what remains after BN folding and branch fusion. */
export const deployForm = (g: IrGraph, opts: { verifyEach?: boolean } = {}) => runPasses(g, DEPLOY_PASSES, opts);
