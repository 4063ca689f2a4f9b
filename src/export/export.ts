// Export: the deploy form with its weights, emitted in each format and proven equal to the
// training form. Building is pure (bytes out); checking an artifact reads it back through `read`,
// which the CLI points at the files it wrote, so every check runs on what is on disk.
import type { Compiled } from '../frontend/compile.js';
import { deployForm } from '../passes/pipeline.js';
import type { TF } from '../runtime/backend.js';
import { calibratedWeights, compareOutputs, randomInput, runForm, VERIFY_TOLERANCE, withinTolerance } from '../runtime/verify.js';
import { initWeights, type WeightStore } from '../ir/weights.js';
import { emitArtifacts, runArtifact, type Check, type ExportBuild, type ExportOptions } from './formats.js';

export { EXPORT_FORMATS, type Check, type ExportBuild, type ExportFormat, type ExportOptions } from './formats.js';

export const check = (stage: string, reference: Float32Array, candidate: Float32Array, tolerance = VERIFY_TOLERANCE): Check => {
  const c = compareOutputs(reference, candidate);
  return { stage, ...c, pass: withinTolerance(c, tolerance) };
};

/** Untrained weights that behave like trained ones (BN statistics calibrated on the verification batch). */
export async function exportWeightsFromSpec(tf: TF, c: Compiled, seed: number, batch: number): Promise<WeightStore> {
  const shape = verificationShape(c, batch);
  return calibratedWeights(tf, c.graph, initWeights(c.graph, seed), shape, seed + 1);
}

export const verificationShape = (c: Compiled, batch: number): [number, number, number, number] => [batch, c.graph.input.size[0], c.graph.input.size[1], c.graph.input.channels];

/** Deploy form, its check against the training form, and every artifact's bytes. */
export async function buildExport(tf: TF, c: Compiled, weights: WeightStore, opts: ExportOptions): Promise<ExportBuild> {
  const { graph, weights: deployWeights } = deployForm(c.graph, { weights, verifyEach: opts.verifyEach });
  const shape = verificationShape(c, opts.batch);
  const input = randomInput(shape, opts.seed + 1);
  const logits = await runForm(tf, c.graph, weights, input, shape);
  const checks = [check('deploy form (TF.js executor)', logits, await runForm(tf, graph, deployWeights!, input, shape), opts.tolerance)];
  const files = new Map<string, Uint8Array | string>();
  for (const [path, data] of await emitArtifacts(c, graph, deployWeights!, opts)) files.set(path, data);
  return { deploy: { graph, weights: deployWeights! }, files, reference: { shape, input, logits }, checks };
}

/** Reloads each artifact through `read` and runs it with its own runtime. */
export async function checkArtifacts(tf: TF, build: ExportBuild, opts: Pick<ExportOptions, 'formats' | 'tolerance'>, read: (path: string) => Uint8Array): Promise<Check[]> {
  const checks: Check[] = [];
  for (const f of opts.formats) {
    const out = await runArtifact(tf, f, build, read);
    if (out) checks.push(check(out.stage, build.reference.logits, out.logits, opts.tolerance));
  }
  return checks;
}

export { VERIFY_TOLERANCE };
