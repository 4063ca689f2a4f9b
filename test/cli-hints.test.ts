// The hint after oclif's "Nonexistent flag": the nearest flag, or the --set for a train setting.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { unknownFlagHint } from '../src/cli/base.js';

const TRAIN_FLAGS = ['data', 'out', 'resume', 'set', 'engine', 'backend', 'json', 'force'];
for (const [message, flags, takesSet, hint] of [
  ['Nonexistent flag: --dta', TRAIN_FLAGS, true, "; did you mean '--data'?"],
  ['Nonexistent flag: --jsno', ['json', 'output'], false, "; did you mean '--json'?"],
  ['Nonexistent flag: --epoch', TRAIN_FLAGS, true, '; train settings are given as --set train.epochs=VALUE'],
  ['Nonexistent flag: --lr-decay', TRAIN_FLAGS, true, '; train settings are given as --set train.lr_decay=VALUE'],
  ['Nonexistent flag: --lr', ['json', 'output'], false, ''],
  ['Nonexistent flag: --zzzzzz', TRAIN_FLAGS, true, ''],
  ['Missing required flag output', TRAIN_FLAGS, true, ''],
] as const) {
  test(`${message} [${flags.slice(0, 2).join(', ')}...] -> ${JSON.stringify(hint)}`, () => {
    assert.is(unknownFlagHint(message, [...flags], takesSet), hint);
  });
}

test.run();
