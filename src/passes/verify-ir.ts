// The IR verifier: what every pass must leave true. Run between passes with --verify-each.
import { INPUT_ID, readsOf, type IrGraph } from '../ir/graph.js';
import { isShapeFailure, opDef } from '../ir/ops.js';
import { opContext, shapesOf } from '../ir/stats.js';

/** Problems found, as sentences; empty when the graph is well-formed. */
export function verifyIr(g: IrGraph): string[] {
  const problems: string[] = [];
  const seen = new Set<string>([INPUT_ID]);
  const shapes = shapesOf(g);
  for (const n of g.nodes) {
    if (seen.has(n.id)) problems.push(`node id '${n.id}' appears twice`);
    for (const i of readsOf(n)) if (!seen.has(i)) problems.push(`'${n.id}' reads '${i}', which is not defined before it`);
    seen.add(n.id);
    if (n.inputs.some((i) => !shapes.has(i))) continue;
    const s = opDef(n.op).shape(opContext(n, shapes));
    if (isShapeFailure(s)) problems.push(`'${n.id}': ${s.message}`);
    else if (s.h !== n.shape.h || s.w !== n.shape.w || s.c !== n.shape.c) problems.push(`'${n.id}' records shape ${n.shape.h}x${n.shape.w}x${n.shape.c} but its inputs give ${s.h}x${s.w}x${s.c}`);
  }
  if (!seen.has(g.output.node)) problems.push(`the output '${g.output.node}' is not a node`);
  return problems;
}
