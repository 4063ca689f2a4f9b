import { Args } from '@oclif/core';
import { AlcliCommand } from './base.js';
import { compileOptions, compileSpec, diagnosticJson, jsonFlag, printDiagnostics, printJson, SpecFailure, specFlags } from './common.js';

export default class Validate extends AlcliCommand {
  static override summary = 'Check specs: schema, modules, shapes, sizes';
  static override description = 'Loads each spec and everything it imports, expands its modules and infers every shape. Reports all errors of all files, each at file:line:col; exits 3 if any spec fails.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> architectures/alnet.yaml',
    '<%= config.bin %> <%= command.id %> architectures/*.yaml --size 704x608',
    '<%= config.bin %> <%= command.id %> my-net.yaml --set train.epochs=40 --json',
  ];
  // any number of SPEC arguments
  static override strict = false;
  static override args = { spec: Args.string({ description: 'spec file(s) to check', required: true }) };
  static override flags = { ...specFlags, ...jsonFlag };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Validate);
    // a file of modules with no graph (architectures/lib/*.yaml) is checked as a library
    const opts = { ...compileOptions(flags), allowLibrary: true };
    const { formatCount } = await import('../render/format.js');
    const results = [];
    for (const path of argv as string[]) {
      const r = await compileSpec(path, opts);
      const c = r.compiled;
      results.push({
        file: path,
        ok: c !== undefined || r.library !== undefined,
        ...(r.library ? { library: r.library } : {}),
        ...(c ? { nodes: c.graph.nodes.length, params: c.stats.params, deployParams: c.deployStats.params, flops: c.stats.flops } : {}),
        diagnostics: r.diagnostics.map(diagnosticJson),
      });
      if (flags.json) continue;
      const n = c?.graph.nodes.length;
      if (c) process.stdout.write(`ok  ${path} (${n} node${n === 1 ? '' : 's'}, ${formatCount(c.stats.params)} params)\n`);
      else if (r.library) process.stdout.write(`ok  ${path} (module library: ${r.library.modules.join(', ')})\n`);
      else await printDiagnostics(r.diagnostics, r.sources);
    }
    const failed = results.filter((r) => !r.ok).length;
    if (flags.json) printJson({ ok: failed === 0, files: results });
    else if (failed && results.length > 1) process.stderr.write(`\n${failed} of ${results.length} specs failed\n`);
    if (failed) throw new SpecFailure();
  }
}
