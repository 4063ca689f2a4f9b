import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { AlcliCommand } from './base.js';
import { checkOutputDir, dirWriter, refuseOverlap } from '../io/dir.js';
import { compileOptions, compileOrFail, jsonFlag, packagePath, printJson, specFlags, UsageError } from './common.js';

const FILES = ['spec.resolved.yaml', 'graph.json', 'summary.txt', 'summary.json'] as const;

/**
 * Writes every file into a temporary sibling directory first, so a failure or a kill never
 * leaves a half-written output: a new DIR appears by one rename; into an existing DIR (--force)
 * each file moves by its own rename, and files alcli did not write are left alone.
 */
function writeAtomically(dir: string, files: Record<string, string | Uint8Array>): void {
  // a file-system error (read-only, disk full, no permission) names its path: exit 7
  const out = dirWriter(dir).open();
  try {
    for (const [name, text] of Object.entries(files)) out.write(name, text);
    out.commit('files');
  } finally {
    out.discard();
  }
}

export default class Compile extends AlcliCommand {
  static override summary = 'Compile a spec to its resolved spec, IR and summary';
  static override description = `Writes DIR/${FILES.join(', DIR/')}: the spec standing alone (overrides applied, imported modules inlined), the IR of the training and deploy forms with source positions (schemas/graph.schema.json), and the summary as text and JSON. --emit train-onnx adds DIR/train.onnx: one training step (forward in training mode, BCE + Dice loss, backward, the optimizer update) as a single ONNX model at train.crop (or --size), the graph \`alcli train --engine ort\` runs. Its inputs are x [N, C, H, W], y [N, 1, H, W], the optimizer's scalars (Adam: step_size, bias_correction2; AdamW: those and decay_factor; SGD: lr) and every weight, optimizer slot and BatchNorm statistic under its checkpoint key; its outputs are loss and next/KEY for each of those.`;
  static override examples = [
    '<%= config.bin %> <%= command.id %> architectures/alnet.yaml -o out/alnet',
    '<%= config.bin %> <%= command.id %> architectures/alnet.yaml -o out/alnet --size 704x608 --set train.epochs=40 --force',
    '<%= config.bin %> <%= command.id %> architectures/alnet.yaml -o out/alnet --emit train-onnx',
  ];
  static override args = { spec: Args.string({ description: 'spec file', required: true }) };
  static override flags = {
    ...specFlags,
    ...jsonFlag,
    output: Flags.string({ char: 'o', summary: 'output directory', required: true, helpValue: 'DIR' }),
    force: Flags.boolean({ summary: 'write into a non-empty DIR, replacing the compiled files there' }),
    emit: Flags.string({ summary: 'also write: train-onnx (DIR/train.onnx, the training step as one ONNX model)', options: ['train-onnx'], multiple: true }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Compile);
    const opts = compileOptions(flags);
    checkOutputDir(flags.output, flags.force, 'use --force to overwrite the compiled files in it');
    const c = await compileOrFail(args.spec, opts);
    const [{ resolvedSpecYaml }, { graphJson }, { summaryData, summaryText }, { Ajv2020 }] = await Promise.all([
      import('../render/resolved-spec.js'),
      import('../render/graph-json.js'),
      import('../render/summary.js'),
      import('ajv/dist/2020.js'),
    ]);
    const graph = graphJson(c, args.spec);
    // our own output must match the published schema; a mismatch is a bug in alcli (exit 1)
    const validate = new Ajv2020({ allErrors: true }).compile(JSON.parse(readFileSync(packagePath('schemas', 'graph.schema.json'), 'utf8')));
    if (!validate(graph)) throw new Error(`graph.json does not match schemas/graph.schema.json: ${validate.errors?.slice(0, 3).map((e) => `${e.instancePath} ${e.message}`).join('; ')}`);
    const summary = summaryData(c);
    const files: Record<string, string | Uint8Array> = {
      'spec.resolved.yaml': resolvedSpecYaml(c, { size: opts.size, overrides: opts.overrides }),
      'graph.json': `${JSON.stringify(graph, null, 2)}\n`,
      'summary.txt': `${summaryText(summary)}\n`,
      'summary.json': `${JSON.stringify(summary, null, 2)}\n`,
    };
    if (flags.emit?.includes('train-onnx')) files['train.onnx'] = await trainOnnx(c, opts.size !== undefined);
    // --force replaces the files compile writes, never the spec or a file it imports
    const inputs = [...c.spec.files.keys()].map((path) => ({ path, what: path === args.spec ? 'the spec' : 'a file the spec imports' }));
    for (const name of Object.keys(files)) refuseOverlap(join(flags.output, name), inputs);
    writeAtomically(flags.output, files);
    if (flags.json) {
      printJson({ ok: true, output: flags.output, files: Object.keys(files).map((f) => join(flags.output, f)), train: summary.train, deploy: summary.deploy });
      return;
    }
    const { formatCount } = await import('../render/format.js');
    process.stdout.write(
      `compiled ${args.spec} -> ${flags.output}/ (${Object.keys(files).join(', ')})\n` +
        `  training form ${c.graph.nodes.length} nodes, ${formatCount(c.stats.params)} params; deploy form ${c.deploy.nodes.length} nodes, ${formatCount(c.deployStats.params)} params\n`,
    );
  }
}

/** The training step at train.crop (or the --size the graph was compiled at) as ONNX bytes. */
async function trainOnnx(c: import('../frontend/compile.js').Compiled, sized: boolean): Promise<Uint8Array> {
  const [{ trainingModel, OnnxGradError }, { trainSettings, cropStrideError }, { resizeGraph, ResizeGraphError }] = await Promise.all([import('../train/ort/training-model.js'), import('../train/loop.js'), import('../ir/resize-graph.js')]);
  const s = trainSettings(c.resolved.train as Record<string, unknown> | undefined);
  const cropError = sized ? undefined : cropStrideError(s.crop, c.stride);
  if (cropError) throw new UsageError(`${cropError}, or give --size`);
  try {
    return trainingModel(sized ? c.graph : resizeGraph(c.graph, s.crop), { loss: s.loss, optimizer: s.optimizer }).bytes;
  } catch (e) {
    if (e instanceof OnnxGradError || e instanceof ResizeGraphError) throw new UsageError(e.message);
    throw e;
  }
}
