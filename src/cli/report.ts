import { join } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { AlcliCommand } from './base.js';
import { jsonFlag, printJson } from './common.js';

export default class Report extends AlcliCommand {
  static override summary = "One run's page: curves, test metrics, overlays (and an export's model card), as report.md and a self-contained report.html";
  static override description =
    "The page `alcli study` writes, for a single training run: loss and val IoU per epoch (metrics.csv), accuracy, IoU, Dice and AUC on the test split (evaluate, best checkpoint), parameters and GFLOP at the test images' size, and an overlay grid of the first test images (image, truth, prediction). --export adds that export folder's MODEL_CARD.md. report.html is one file (inline SVG charts and images, no scripts, no network).";
  static override examples = ['<%= config.bin %> <%= command.id %> runs/isbi --out runs/isbi/report', '<%= config.bin %> <%= command.id %> runs/isbi --out report --export out/isbi --overlays 6'];
  static override args = { run: Args.string({ description: 'run directory (alcli train --out)', required: true }) };
  static override flags = {
    out: Flags.string({ summary: 'folder for report.md and report.html (created)', required: true, helpValue: 'DIR' }),
    export: Flags.string({ summary: 'an `alcli export` folder of this run: its MODEL_CARD.md goes on the page', helpValue: 'DIR' }),
    overlays: Flags.integer({ summary: 'test images in the overlay grid', default: 4, min: 0, max: 16 }),
    ...jsonFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Report);
    const [{ runReport, writeReport }, { checkOutputDir }] = await Promise.all([import('../study/report-data.js'), import('../io/dir.js')]);
    checkOutputDir(flags.out, true, undefined, { protect: [{ path: args.run, what: 'the run folder', allowInside: true }] });
    const report = await runReport(args.run, { overlays: flags.overlays, exportDir: flags.export });
    const html = await writeReport(flags.out, report);
    if (flags.json) return printJson({ run: args.run, report: html, results: report });
    process.stdout.write(`${join(flags.out, 'report.md')} and ${join(flags.out, 'report.html')}\n`);
  }
}
