// Diagnostic (not a test): the TF.js engine's gradients on the wasm backend against the same code
// on the cpu backend, for a network given as graph lines, with a random linear loss. Prints the
// worst relative difference per trainable tensor, from the output backwards.
//   G='  e1: {op: repvgg_stage, in: input, out: 32, depth: 1}
//     h: {op: conv, out: 1, kernel: 1, bias: true}
//     u: {op: resize, scale: 2}' S=128 node --import tsx scripts/grad-drift.ts
// The session note of 2026-11-26 reports what it showed for alnet at 128x128 (up to 5e-3).
import type { Tensor, Tensor4D, Variable } from '@tensorflow/tfjs';
import { fileSpecHost as fsHost } from '../src/frontend/load.js';
import { compile } from '../src/frontend/compile.js';
import { loadTf } from '../src/runtime/backend.js';
import { forward } from '../src/runtime/executor.js';
import { randomInput } from '../src/runtime/verify.js';
import { initWeights, weightSpecs } from '../src/ir/weights.js';

const S = Number(process.env.S ?? 128);
const B = Number(process.env.B ?? 2);
const lines = process.env.G;
if (!lines) throw new Error("give the graph lines in G (see the top of this file)");
const text = `alcli: 1\nimports: [lib/repvgg.yaml, lib/lraspp.yaml, lib/adecoder.yaml]\ninput: {channels: 3, size: [${S}, ${S}]}\noutput: {classes: 1}\ngraph:\n${lines}\n`;
const r0 = compile('architectures/drift.yaml', { read: (p: string) => (p === 'architectures/drift.yaml' ? text : fsHost.read(p)) });
if (!r0.compiled) throw new Error(r0.diagnostics.map((d) => d.message).join('\n'));
const g = r0.compiled.graph;
const { tf } = await loadTf('wasm');
const store = initWeights(g, 1);
const x = randomInput([B, S, S, 3], 3);
const r = randomInput([B, S, S, 1], 4);
const keys = weightSpecs(g).filter(({ spec }) => spec.role === 'trainable').map(({ node, spec }) => `${node.id}:${spec.name}`);

function gradients(): Map<string, Float32Array> {
  const suffix = `#${tf.getBackend()}`;
  const w = new Map<string, Tensor>([...store].map(([k, t]) => [k, keys.includes(k) ? tf.variable(tf.tensor(t.data, t.shape), true, k + suffix) : tf.tensor(t.data, t.shape)]));
  const loss = () => tf.sum(tf.mul(forward(tf, g, w, tf.tensor4d(x, [B, S, S, 3]) as Tensor4D, { training: true, inputGrad: false }), tf.tensor4d(r, [B, S, S, 1])));
  const { grads } = tf.variableGrads(loss as () => import('@tensorflow/tfjs').Scalar, keys.map((k) => w.get(k) as Variable));
  return new Map(keys.map((k) => [k, Float32Array.from(grads[k + suffix].dataSync())]));
}

const wasm = gradients();
await tf.setBackend('cpu');
const cpu = gradients();
for (const k of [...keys].reverse()) {
  const a = wasm.get(k)!;
  const b = cpu.get(k)!;
  let max = 0;
  let diff = 0;
  for (let i = 0; i < a.length; i++) {
    max = Math.max(max, Math.abs(b[i]));
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
  }
  console.log(`${k.padEnd(32)} ${(diff / Math.max(max, 1e-30)).toExponential(2)}`);
}
