import { writeFileSync } from 'node:fs';
import { Args, Flags } from '@oclif/core';
import { AlcliCommand } from './base.js';
import { compileOptions, compileOrFail, specFlags, UsageError } from './common.js';

const FORMATS = ['dot', 'mermaid'] as const;
type Format = (typeof FORMATS)[number];

/** With -o and no --format, the file's extension picks the syntax. */
function formatFor(flag: string | undefined, out: string | undefined): Format {
  if (flag) return flag as Format;
  if (out && /\.(mmd|mermaid|md)$/i.test(out)) return 'mermaid';
  return 'dot';
}

export default class Graph extends AlcliCommand {
  static override summary = 'Draw the network as Graphviz dot or Mermaid';
  static override description =
    'Every IR node becomes a box (name, op, output shape). With --depth N, module instances deeper than N collapse into one box labelled with the module path and a summary of its ops.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> architectures/alnet.yaml --depth 1 | dot -Tsvg > alnet.svg',
    '<%= config.bin %> <%= command.id %> architectures/alnet.yaml --format mermaid --depth 2 -o alnet.mmd',
    '<%= config.bin %> <%= command.id %> architectures/alnet.yaml --deploy -o alnet-deploy.dot',
  ];
  static override args = { spec: Args.string({ description: 'spec file', required: true }) };
  static override flags = {
    ...specFlags,
    format: Flags.string({ char: 'f', summary: 'drawing syntax (default: dot, or from the -o extension)', options: [...FORMATS] }),
    depth: Flags.integer({ summary: 'collapse modules deeper than N into one box', min: 1, helpValue: 'N' }),
    deploy: Flags.boolean({ summary: 'draw the deploy form (BN folded, branches fused)' }),
    output: Flags.string({ char: 'o', summary: 'write to FILE instead of stdout', helpValue: 'FILE' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Graph);
    const format = formatFor(flags.format, flags.output);
    const c = await compileOrFail(args.spec, compileOptions(flags));
    const [{ drawing }, { renderDot }, { renderMermaid }] = await Promise.all([
      import('../render/drawing.js'),
      import('../render/dot.js'),
      import('../render/mermaid.js'),
    ]);
    const d = drawing(flags.deploy ? c.deploy : c.graph, flags.depth);
    const text = format === 'mermaid' ? renderMermaid(d) : renderDot(d);
    if (!flags.output) {
      process.stdout.write(text);
      return;
    }
    try {
      writeFileSync(flags.output, text);
    } catch (e) {
      throw new UsageError(`cannot write '${flags.output}': ${(e as Error).message}`);
    }
    process.stderr.write(`wrote ${flags.output} (${format}, ${d.boxes.length} boxes, ${d.edges.length} edges)\n`);
  }
}
