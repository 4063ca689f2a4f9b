// The expression language of module parameters: a table of sources, scopes and results or errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { evaluate, ExprError, type Value } from '../src/frontend/expr.js';

const vars: Record<string, Value> = { out: 64, stride: 2, i: 0, deep: true };
const shapes: Record<string, Record<string, number>> = { x: { channels: 32, height: 16, width: 8 } };
const scope = (p: readonly string[]) => (p.length === 1 ? vars[p[0]] : shapes[p[0]]?.[p[1]]);

const values: [string, Value][] = [
  ['out', 64],
  ['out * 2 + 1', 129],
  ['(out + 1) * 2', 130],
  ['out // 3', 21],
  ['-7 // 2', -4],
  ['7 % 3', 1],
  ['x.channels == out', false],
  ['x.channels * 2 == out and stride == 2', true],
  ['not deep or i > 0', false],
  ['if(i == 0, 2, 1)', 2],
  ['min(out, x.channels) + max(1, 2)', 34],
  ['x.height * x.width', 128],
  ['0.5 * 4', 2],
  ['1e-5', 1e-5],
];
for (const [src, want] of values) test(`${src} = ${want}`, () => assert.is(evaluate(src, scope), want));

const errors: [string, RegExp, number][] = [
  ['outt + 1', /unknown name 'outt'/, 0],
  ['out / 2', /use '\/\/'/, 4],
  ['out +', /unexpected end/, 5],
  ['(out', /expected '\)'/, 4],
  ['out // 0', /division by zero/, 4],
  ['foo(1)', /unknown function 'foo'/, 0],
  ['min(1)', /takes 2 arguments/, 0],
  ['deep + 1', /expected a number/, 0],
  ['if(out, 1, 2)', /expected a comparison/, 0],
  ['out $ 2', /unexpected character '\$'/, 4],
  ['x.', /expected a name after '.'/, 2],
];
for (const [src, message, offset] of errors) {
  test(`${src} fails: ${message} at ${offset}`, () => {
    try {
      evaluate(src, scope);
      assert.unreachable('should throw');
    } catch (e) {
      assert.instance(e, ExprError);
      assert.match((e as ExprError).message, message);
      assert.is((e as ExprError).offset, offset);
    }
  });
}

test.run();
