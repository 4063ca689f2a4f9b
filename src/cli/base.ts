// The base of every command: one place that turns errors into exit codes.
// 0 ok, 1 internal error, 2 usage error, 3 spec error, 4 data error, 6 failed export check; never a stack trace for a user's mistake.
import { Command, type Interfaces } from '@oclif/core';
import { PathError } from '../io/dir.js';
import { DataFailure, EXIT, SpecFailure, UsageError, VerifyFailure } from './common.js';

// oclif's FlagOutput and ArgOutput, which its index does not export
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Output = { [name: string]: any };

const debugEnabled = () => (process.env.DEBUG ?? '').split(',').some((s) => ['alcli', '*'].includes(s.trim()));

export abstract class AlcliCommand extends Command {
  /** Anything oclif's parser rejects (unknown flag, bad value, missing argument) is a usage error. */
  protected override async parse<F extends Output, B extends Output, A extends Output>(
    options?: Interfaces.Input<F, B, A>,
    argv?: string[],
  ): Promise<Interfaces.ParserOutput<F, B, A>> {
    try {
      return await super.parse(options, argv);
    } catch (e) {
      const message = (e as Error).message
        .replace(/\nSee more help with --help/g, '')
        // oclif's note about greedy multiple flags does not apply: --set is non-greedy
        .replace(/\n\nNote: [\s\S]*$/, '')
        .replace(/\s*\n\t/g, ': ');
      throw new UsageError(message);
    }
  }

  protected override async catch(err: Error & { code?: string }): Promise<void> {
    // this.exit() throws an ExitError; let oclif finish it
    if (err.code === 'EEXIT') throw err;
    if (err instanceof SpecFailure) {
      process.exitCode = EXIT.spec;
      return;
    }
    if (err instanceof DataFailure) {
      process.exitCode = EXIT.data;
      return;
    }
    if (err instanceof VerifyFailure) {
      process.exitCode = EXIT.verify;
      return;
    }
    // a path the library cannot use (io's and train's PathError) reads as a usage error
    if (err instanceof UsageError || err instanceof PathError) {
      process.stderr.write(`alcli ${this.id}: ${err.message.trim()}\nSee more help with: alcli ${this.id} --help\n`);
      process.exitCode = EXIT.usage;
      return;
    }
    const message = (err.message || String(err)).replace(/\s*\n\s*/g, '; ');
    process.stderr.write(`alcli: internal error: ${message}\n`);
    if (debugEnabled() && err.stack) process.stderr.write(`${err.stack}\n`);
    process.exitCode = EXIT.internal;
  }
}
