// Data errors: one type, a closed list of codes, each naming the file and what to do about it.
// Scanning collects them all (a user fixes a dataset in one pass, not one error per run); loading
// a single sample throws them wrapped in DataErrors. Rendered as text only at the edge (the CLI).
import type { Diagnostic } from '../ir/diagnostics.js';

export const DATA_ERROR_CODES = {
  'no-dataset': 'the folder does not exist or has neither images/ nor train/ val/ test/ inside',
  'missing-mask': 'an image without a mask of the same name',
  'unmatched-mask': 'a mask or FOV file without an image of the same name',
  'missing-fov': 'fov/ exists but an image has no FOV mask in it',
  'ambiguous-mask': 'an image with more than one mask or FOV file that could be its own',
  'duplicate-stem': 'two files in one folder share a name apart from the extension',
  unreadable: 'a file that cannot be read or decoded as an image',
  'size-mismatch': 'an image and its mask (or FOV) differ in width, height or page count',
  'bad-split-file': 'split.json is not valid JSON, or lists names that are not in the dataset',
  'empty-split': 'a split (train, val or test) that has no samples',
  channels: 'the network takes a channel count the data cannot be adapted to',
  'mask-values': 'a mask (or FOV) whose values are not binary by the mask rule: several values, a varying alpha, more than black and one colour',
  'no-foreground': 'a split whose masks have no foreground pixel at all (an error for train; a warning for val and test)',
  'all-foreground': 'every pixel of every mask is foreground (a warning: most often the polarity, see --invert-mask)',
  'bad-classes-file': 'classes.json is not valid JSON, or its keys are not exactly 0..K-1 for the K of the spec, or a class has no name or a bad colour',
  'label-values': 'a label map (multi-class mask) with a value or colour outside the class table, or a varying alpha',
  'absent-class': 'a class that no train mask holds (a warning: the network never sees it)',
  'duplicate-id': 'two samples with the same id: one name in two split folders, or a page id that is also a file name',
} as const;

export type DataErrorCode = keyof typeof DATA_ERROR_CODES;

export interface DataError {
  code: DataErrorCode;
  /** the file or folder at fault, as the user gave the dataset path plus the relative path */
  file: string;
  message: string;
  hint: string;
}

export const dataError = (code: DataErrorCode, file: string, message: string, hint: string): DataError => ({ code, file, message, hint });

/** Thrown by the loaders (one sample at a time); scanning returns its errors instead. */
export class DataErrors extends Error {
  constructor(readonly errors: DataError[]) {
    super(errors.map((e) => `${e.file}: ${e.message}`).join('\n'));
  }
}

export function renderDataErrors(errors: DataError[]): string {
  const body = errors.map((e) => `${e.file}: error[${e.code}]: ${e.message}\n  hint: ${e.hint}`).join('\n');
  const n = errors.length;
  return `${body}\n\n${n} data error${n === 1 ? '' : 's'}`;
}

// The library's errors a caller can act on. The CLI maps each to its exit code: BadOptionsError 2,
// BadSpecError 3, BadDataError 4, DivergedError 5 (cli/base.ts). Messages name the CLI's flags where the option is one.

/** A mistake in the options given (a run folder that is no run, a crop off the stride, an engine that cannot train the spec). */
export class BadOptionsError extends Error {}

/** The spec does not compile: its diagnostics, and the source texts they point into. */
export class BadSpecError extends Error {
  constructor(
    readonly diagnostics: Diagnostic[],
    readonly sources: ReadonlyMap<string, string>,
  ) {
    super(diagnostics.map((d) => d.message).join('\n') || 'spec error');
  }
}

/** The data a run needs has errors, each naming its file; nothing was written. */
export class BadDataError extends Error {
  constructor(readonly errors: DataError[]) {
    super(errors.map((e) => `${e.file}: ${e.message}`).join('\n'));
  }
}

/**
 * Training diverged: a loss or weight went NaN or infinite at `epoch`, `step` (1-based, the step
 * within the epoch). The run's checkpoints are those of the last finite epoch.
 */
export class DivergedError extends Error {
  constructor(
    readonly what: string,
    readonly epoch: number,
    readonly step: number,
  ) {
    super(`${what} at epoch ${epoch} step ${step}: lower train.lr`);
  }
}
