import { Args, Flags } from '@oclif/core';
import { AlcliCommand } from './base.js';
import { compileOptions, compileOrFail, jsonFlag, printJson, specFlags } from './common.js';

export default class Summary extends AlcliCommand {
  static override summary = 'Per-node table of shapes, parameters and FLOPs';
  static override description =
    'One row per node (op, output shape HxWxC, params, FLOPs), then the totals of the training form and of the deploy form (after BN folding and branch fusion), the network stride and how many rewrites each pass made.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> architectures/alnet.yaml',
    '<%= config.bin %> <%= command.id %> architectures/alnet.yaml --depth 1 --size 704x608',
    '<%= config.bin %> <%= command.id %> architectures/alnet.yaml --deploy --json',
  ];
  static override args = { spec: Args.string({ description: 'spec file', required: true }) };
  static override flags = {
    ...specFlags,
    ...jsonFlag,
    deploy: Flags.boolean({ summary: 'list the deploy-form nodes instead of the training form' }),
    depth: Flags.integer({ summary: 'one row per module instance N levels deep (1: per top-level node)', min: 1, helpValue: 'N' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Summary);
    const c = await compileOrFail(args.spec, compileOptions(flags));
    const { summaryData, summaryText } = await import('../render/summary.js');
    const data = summaryData(c, { deploy: flags.deploy, depth: flags.depth });
    if (flags.json) printJson(data);
    else process.stdout.write(`${summaryText(data)}\n`);
  }
}
