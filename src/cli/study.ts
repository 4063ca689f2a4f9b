import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { AlcliCommand } from './base.js';
import { jsonFlag, printDiagnostics, printJson, SpecFailure } from './common.js';
import { epochLine, trainProgress } from './train.js';
import type { TrainHooks } from '../train/session.js';

export default class Study extends AlcliCommand {
  static override summary = 'Train, evaluate, export and time several specs on several datasets; write report.md and report.html';
  static override description = [
    'A study file lists specs (each with a display name and train overrides), datasets (each with its own train overrides), a protocol (train keys for every run, seeds, folds: K for K-fold cross-validation on the train+val pool with the test split held out) and deploy precisions (schemas/study.schema.json). Every (dataset, spec, fold, seed) is an ordinary run directory under OUT/runs/, evaluated on the test split (best checkpoint); the first run of each (dataset, spec) is exported (ONNX at the deploy precisions) and all of a dataset\'s models are timed together in ONNX Runtime (2 threads, batch 1, the dataset\'s image size, interleaved runs, medians).',
    'Finished steps are skipped and a stopped run resumes from its last checkpoint, so a study killed at any moment continues with the same command. --dry-run lists the runs and their estimated cost (training FLOPs = 3 x forward FLOPs x samples x epochs) and trains nothing.',
  ].join('\n\n');
  static override examples = [
    '<%= config.bin %> <%= command.id %> studies/paper.yaml --out studies/out/paper --dry-run',
    'ALCLI_DATASETS=../shared/datasets <%= config.bin %> <%= command.id %> studies/paper.yaml --out studies/out/paper',
    '<%= config.bin %> <%= command.id %> my-study.yaml --out runs/study --jobs 4 --json',
  ];
  static override args = { study: Args.string({ description: 'study file (YAML)', required: true }) };
  static override flags = {
    out: Flags.string({ summary: 'the study folder (runs, exports, timing, report.md, report.html)', required: true, helpValue: 'DIR' }),
    'dry-run': Flags.boolean({ summary: 'list the runs, their state and estimated cost; train nothing' }),
    jobs: Flags.integer({ summary: 'train this many runs side by side, each with cores / N ONNX Runtime threads (a line per epoch instead of a bar)', default: 1, min: 1, helpValue: 'N' }),
    ...jsonFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Study);
    const { loadStudy } = await import('../study/study-file.js');
    const loaded = loadStudy(args.study);
    if (!loaded.study) {
      await printDiagnostics(loaded.diagnostics, loaded.sources);
      throw new SpecFailure();
    }
    const { planStudy, runState, trainStudy, exportStudy } = await import('../study/run-study.js');
    const plan = await planStudy(loaded.study, flags.out);
    const rows = plan.runs.map((r) => ({ dataset: r.dataset.name, spec: r.spec.name, run: r.id, dir: r.dir, epochs: r.epochs, steps: r.steps, tflop: r.cost / 1e12, ...runState(r) }));
    if (flags['dry-run']) {
      const total = rows.reduce((a, r) => a + r.tflop, 0);
      if (flags.json) return printJson({ study: loaded.study.file, out: flags.out, runs: rows, total_tflop: total });
      const lines = rows.map((r) => `${`${r.dataset} / ${r.spec} / ${r.run}`.padEnd(48)} ${String(r.epochs).padStart(4)} epochs ${String(r.steps).padStart(7)} steps ${r.tflop.toFixed(1).padStart(9)} TFLOP  ${r.state}${r.state === 'partial' ? ` (epoch ${r.epoch})` : ''}`);
      process.stdout.write(`${lines.join('\n')}\n${rows.length} runs, ${total.toFixed(1)} TFLOP of training in all (3 x forward FLOPs x samples x epochs)\n`);
      return;
    }
    // the study folder grows run by run (a rerun continues it); never inside a dataset, nor over a spec or the study file
    const { checkOutputDir } = await import('../io/dir.js');
    checkOutputDir(flags.out, true, undefined, { protect: [{ path: loaded.study.file, what: 'the study file' }, ...loaded.study.specs.map((s) => ({ path: s.path, what: `the spec ${s.name}` })), ...loaded.study.datasets.map((d) => ({ path: d.path, what: `the dataset ${d.name}` }))] });
    mkdirSync(flags.out, { recursive: true });
    const log = (line: string) => process.stderr.write(`${line}\n`);
    if (flags.jobs > 1) {
      // runs side by side: one tagged line per epoch each, no bar
      const tagged = (tag: string): TrainHooks => {
        let epochs = 0;
        return { onStart: (s) => void (epochs = s.epochs), onEpoch: (e) => log(`${tag}: ${epochLine(e, epochs)}`) };
      };
      await trainStudy(plan, { log, train: tagged }, flags.jobs);
    } else {
      const progress = trainProgress(flags.json);
      try {
        await trainStudy(plan, { log, train: () => ({ log, ...progress.hooks }) });
      } finally {
        progress.stop();
      }
    }
    await exportStudy(plan, { log });
    const { studyReport, writeReport } = await import('../study/report-data.js');
    const report = await studyReport(plan, { log });
    const html = await writeReport(flags.out, report, { results: true });
    if (flags.json) return printJson({ study: loaded.study.file, out: flags.out, runs: plan.runs.length, report: html, results: report });
    process.stdout.write(`${plan.runs.length} runs done; ${join(flags.out, 'report.md')} and ${join(flags.out, 'report.html')}\n`);
  }
}
