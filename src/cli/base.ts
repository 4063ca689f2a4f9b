// The base of every command: one place that turns errors into exit codes.
// 0 ok, 1 internal error, 2 usage error, 3 spec error, 4 data error, 5 training diverged, 6 failed export check, 7 cannot
// read or write a file; never a stack trace for a user's mistake (common.ts EXIT, README's table).
// The library's typed errors map to the same codes: BadOptionsError (train/errors.ts) and PathError
// (io/; LockError, io/lock.ts, is one) 2, BadSpecError 3, BadDataError and DamagedRunError (train/run.ts) 4, DivergedError 5, IoError (io/) and any
// of Node's fs errors 7, each naming its path. With --json every error is also a JSON object on stdout:
// {ok: false, error: {code, exit, message, ...}} (or the diagnostics, or the data errors).
import { Command, type Interfaces } from '@oclif/core';
import { suggestion } from '../frontend/diagnostics.js';
import { TRAIN_LIMITS } from '../frontend/schema.js';
import { describeFsError, IoError, isFsError, PathError } from '../io/dir.js';
import { DamagedRunError } from '../train/run.js';
import { BadDataError, BadOptionsError, BadSpecError, DivergedError, renderDataErrors } from '../train/errors.js';
import { DataFailure, diagnosticJson, EXIT, printDiagnostics, printJson, SpecFailure, UsageError, VerifyFailure } from './common.js';

// oclif's FlagOutput and ArgOutput, which its index does not export
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Output = { [name: string]: any };

const debugEnabled = () => (process.env.DEBUG ?? '').split(',').some((s) => ['alcli', '*'].includes(s.trim()));

/**
 * Reports an error the way command `id` does (its message, the spec's diagnostics or the data
 * errors, as JSON on stdout with `json`) and returns the exit code.
 */
export async function reportError(err: Error, commandId: string | undefined, json: boolean): Promise<number> {
  // oclif's ids separate topics with ':'; the user types them with a space (`alcli data check`)
  const id = commandId?.replaceAll(':', ' ');
  const name = id ? `alcli ${id}` : 'alcli';
  if (err instanceof BadSpecError) {
    if (json) printJson({ ok: false, diagnostics: err.diagnostics.map(diagnosticJson) });
    else await printDiagnostics(err.diagnostics, err.sources);
    return EXIT.spec;
  }
  if (err instanceof BadDataError) {
    if (json) printJson({ ok: false, errors: err.errors });
    else process.stderr.write(`${renderDataErrors(err.errors)}\n`);
    return EXIT.data;
  }
  if (err instanceof DivergedError) {
    if (json) printJson({ ok: false, error: { code: 'diverged', exit: EXIT.diverged, message: err.message, epoch: err.epoch, step: err.step } });
    else process.stderr.write(`${name}: ${err.message}\n`);
    return EXIT.diverged;
  }
  if (err instanceof SpecFailure) return EXIT.spec;
  if (err instanceof DataFailure) return EXIT.data;
  if (err instanceof VerifyFailure) return EXIT.verify;
  if (err instanceof UsageError || err instanceof BadOptionsError || err instanceof PathError) {
    if (json) printJson({ ok: false, error: { code: 'usage', exit: EXIT.usage, message: err.message.trim() } });
    process.stderr.write(`${name}: ${err.message.trim()}\nSee more help with: alcli ${id} --help\n`);
    return EXIT.usage;
  }
  if (err instanceof DamagedRunError) {
    if (json) printJson({ ok: false, error: { code: 'damaged-run', exit: EXIT.data, file: err.file, message: err.message, hint: err.hint } });
    process.stderr.write(`${name}: ${err.message}\n  hint: ${err.hint}\n`);
    return EXIT.data;
  }
  if (err instanceof IoError || isFsError(err)) {
    const message = err instanceof IoError ? err.message : describeFsError(err);
    const path = err instanceof IoError ? err.path : err.path;
    if (json) printJson({ ok: false, error: { code: err.code, exit: EXIT.io, path, message } });
    process.stderr.write(`${name}: ${message}\n`);
    return EXIT.io;
  }
  const message = (err.message || String(err)).replace(/\s*\n\s*/g, '; ');
  if (json) printJson({ ok: false, error: { code: 'internal', exit: EXIT.internal, message } });
  process.stderr.write(`alcli: internal error: ${message}\n`);
  if (debugEnabled() && err.stack) process.stderr.write(`${err.stack}\n`);
  return EXIT.internal;
}

/**
 * For oclif's "Nonexistent flag: --dta": the closest flag (did you mean --data?), or, for a train
 * setting given as a flag (--epochs 3), the --set that sets it. Empty when neither fits.
 */
export function unknownFlagHint(message: string, flags: string[], takesSet = false): string {
  const m = /Nonexistent flags?: --([\w-]+)/.exec(message);
  if (!m) return '';
  const near = suggestion(m[1], flags);
  if (near) return `; ${near.replace(/'([^']+)'/, "'--$1'")}`;
  const train = Object.keys(TRAIN_LIMITS).find((k) => k === m[1] || k === m[1].replace(/-/g, '_') || k === `${m[1]}s`);
  return takesSet && train ? `; train settings are given as --set train.${train}=VALUE` : '';
}

export abstract class AlcliCommand extends Command {
  /** --json was given: errors are reported as JSON on stdout */
  protected json = false;

  /** Anything oclif's parser rejects (unknown flag, bad value, missing argument) is a usage error. */
  protected override async parse<F extends Output, B extends Output, A extends Output>(
    options?: Interfaces.Input<F, B, A>,
    argv?: string[],
  ): Promise<Interfaces.ParserOutput<F, B, A>> {
    let out: Interfaces.ParserOutput<F, B, A>;
    try {
      out = await super.parse(options, argv);
    } catch (e) {
      // the flags are not known yet: --json as given on the command line (before a bare --)
      const args = argv ?? this.argv;
      const end = args.indexOf('--');
      this.json = (end < 0 ? args : args.slice(0, end)).includes('--json');
      const message = (e as Error).message
        .replace(/\nSee more help with --help/g, '')
        // oclif's note about greedy multiple flags does not apply: --set is non-greedy
        .replace(/\n\nNote: [\s\S]*$/, '')
        .replace(/\s*\n\t/g, ': ');
      throw new UsageError(message + unknownFlagHint(message, Object.keys(options?.flags ?? {}), options?.flags && 'set' in options.flags));
    }
    this.json = out.flags.json === true;
    return out;
  }

  protected override async catch(err: Error & { code?: string }): Promise<void> {
    // this.exit() throws an ExitError; let oclif finish it
    if (err.code === 'EEXIT') throw err;
    process.exitCode = await reportError(err, this.id, this.json);
  }
}
