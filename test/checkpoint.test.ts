// Weights in the TF.js weights-manifest format: a round trip keeps every tensor bit for bit, and
// bytes that do not fit the manifest are refused with a sentence.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile } from '../src/frontend/compile.js';
import { decodeWeights, encodeWeights, packWeights } from '../src/ir/weights-manifest.js';
import { initWeights } from '../src/ir/weights.js';
import { fsHost } from './helpers.js';

test('alnet weights round-trip through manifest + bytes unchanged', () => {
  const g = compile('architectures/alnet.yaml', fsHost, { size: [64, 64] }).compiled!.graph;
  const store = initWeights(g, 4);
  const { manifest, weightData } = encodeWeights(store);
  assert.equal(manifest[0].paths, ['group1-shard1of1.bin']);
  const back = decodeWeights(manifest, () => weightData);
  assert.equal([...back.keys()].sort(), [...store.keys()].sort());
  for (const [k, t] of store) {
    assert.equal(back.get(k)!.shape, t.shape);
    assert.ok(back.get(k)!.data.every((v, i) => v === t.data[i]), k);
  }
});

const broken: [string, (b: Uint8Array) => Uint8Array, RegExp][] = [
  ['truncated', (b) => b.subarray(0, b.length - 8), /fewer than the manifest lists/],
  ['too long', (b) => new Uint8Array([...b, 0, 0, 0, 0]), /holds 7 values, the manifest lists 6/],
];
for (const [name, mangle, message] of broken) {
  test(`${name} bytes are refused`, () => {
    const store = new Map([['a:kernel', { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }]]);
    const { manifest, weightData } = encodeWeights(store);
    assert.throws(() => decodeWeights(manifest, () => mangle(weightData)), message);
  });
}

test('shards cut the bytes every shardBytes, across tensors', () => {
  const t = (name: string, n: number) => ({ name, dtype: 'float32' as const, shape: [n], data: new Float32Array(n).fill(1) });
  const { manifest, weightData } = packWeights([t('a', 3), t('b', 3)], 16);
  assert.equal(manifest[0].paths, ['group1-shard1of2.bin', 'group1-shard2of2.bin']);
  assert.is(weightData.length, 24);
});

test.run();
