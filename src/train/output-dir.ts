// The rule for a folder a run writes (a run directory, the demo's folder, a command's output):
// new or empty, or replaced only when asked. Light on purpose: the CLI checks flags with it before
// loading anything heavy.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { BadOptionsError } from './errors.js';

/**
 * An output folder may be new or empty; a non-empty one only with `force` (`remedy` says what else
 * the user can do). Nothing is removed here: each caller replaces the folder its own way.
 */
export function checkOutputDir(dir: string, force: boolean, remedy = 'use --force to replace it'): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new BadOptionsError(`'${dir}' exists and is not a directory`);
  if (!force && readdirSync(dir).length > 0) throw new BadOptionsError(`'${dir}' is not empty; ${remedy}`);
}
