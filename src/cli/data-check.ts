import { Args, Flags } from '@oclif/core';
import { AlcliCommand } from './base.js';
import { DataFailure, jsonFlag, maskThresholdFlag, parseMaskThreshold, printJson } from './common.js';

export default class DataCheck extends AlcliCommand {
  static override summary = 'Check a dataset before training: counts, sizes, encodings, foreground per image, and what train would refuse';
  static override description = [
    'Scans DIR as `alcli train` does: every file\'s header (size after its EXIF orientation, bit depth, colour model), every mask decoded once by the mask rule, and the sanity of the set. Prints the counts per split, image sizes, encodings, the foreground fraction per image with outliers flagged, warnings, and every error train would stop on, each naming its file. Nothing is written.',
    'Mask rule: a binary mask holds {0, max} of its bit depth (0/255, 0/65535) or {0, 1} (a palette PNG is read by index), or is black plus one colour; anything else needs --mask-threshold T (foreground = values above T x the max). A train split with no foreground pixel is refused; a set that is all foreground is a warning.',
    'Multi-class: --classes K (the spec\'s output.classes) reads the masks as a K-class task does: label maps of class indices 0..K-1 (a palette PNG by index, an RGB mask by the colours of DIR/classes.json) for K >= 3 or with a classes.json, and reports each class\'s pixel fraction per split; a class that no train mask holds is a warning. Without --classes, K comes from DIR/classes.json when there is one.',
    'Exit 0 when train would accept the dataset, 4 when it would refuse it.',
  ].join('\n\n');
  static override examples = [
    '<%= config.bin %> <%= command.id %> ../shared/datasets/isbi2012_em',
    '<%= config.bin %> <%= command.id %> data/cells --mask-threshold 0 --json',
    '<%= config.bin %> <%= command.id %> data/chest --classes 6',
  ];
  static override args = { dir: Args.string({ description: 'dataset folder', required: true }) };
  static override flags = {
    ...jsonFlag,
    masks: Flags.string({ summary: 'the mask folder\'s name', default: 'masks', helpValue: 'NAME' }),
    'invert-mask': Flags.boolean({ summary: 'as alcli train: 0 (black) marks the foreground' }),
    ...maskThresholdFlag,
    classes: Flags.integer({ summary: 'read the masks as this K-class task does (the spec\'s output.classes)', min: 1, helpValue: 'K' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(DataCheck);
    const maskThreshold = parseMaskThreshold(flags['mask-threshold']);
    const [{ checkDataset, renderDataCheck }, { renderDataErrors }] = await Promise.all([import('../train/data-check.js'), import('../train/errors.js')]);
    const report = await checkDataset(args.dir, { masks: flags.masks, maskThreshold, invertMask: flags['invert-mask'], classes: flags.classes });
    if (flags.json) printJson({ ok: report.trainable, ...report });
    else {
      process.stdout.write(renderDataCheck(report));
      if (report.errors.length) process.stderr.write(`${renderDataErrors(report.errors)}: alcli train would refuse this dataset\n`);
    }
    if (!report.trainable) throw new DataFailure();
  }
}
