// The alcli half of scripts/pytorch-check.py (run by it; not a test): the spec at the input's size,
// the weights of an `alcli export --format pytorch` (pytorch/weights.safetensors, alcli's names) on
// the form its metadata names (training, or deploy: BN folded, RepVGG branches fused), alcli's
// logits (TF.js executor) on the input the script saved, compared with the generated model.py's
// (and both with model.py's in float64, when the script saved those).
// Prints one JSON object.
//   node --import tsx scripts/pytorch-logits.ts WEIGHTS.safetensors IO.safetensors SPEC
import { readFileSync } from 'node:fs';
import { compile } from '../src/frontend/compile.js';
import { fileSpecHost as fsHost } from '../src/frontend/load.js';
import { readSafetensors } from '../src/ir/safetensors.js';
import { nchwToNhwc } from '../src/ir/layout.js';
import { loadTf } from '../src/runtime/backend.js';
import { runForm } from '../src/runtime/verify.js';
import { initFromTensors } from '../src/train/init/init.js';

const [weightsFile, ioFile, spec] = process.argv.slice(2);
if (!weightsFile || !ioFile || !spec) throw new Error('usage: pytorch-logits.ts WEIGHTS.safetensors IO.safetensors SPEC');
const io = readSafetensors(readFileSync(ioFile)).tensors;
const x = io.get('input')!;
const torchLogits = io.get('logits')!;
const [n, ch, h, w] = x.shape;
const c = compile(spec, fsHost, { size: [h, w] }).compiled!;
const file = readSafetensors(readFileSync(weightsFile));
const form = file.metadata.form === 'deploy' ? 'deploy' : 'training';
const graph = form === 'deploy' ? c.deploy : c.graph;
const { weights, report } = initFromTensors(graph, new Map(), file.tensors, { from: weightsFile, map: 'alcli', format: 'safetensors' });
const { tf, backend } = await loadTf('auto');
const shape: [number, number, number, number] = [n, h, w, ch];
const alcli = await runForm(tf, graph, weights, nchwToNhwc(x.data, x.shape), shape);
const torch = nchwToNhwc(torchLogits.data, torchLogits.shape);
const exact = io.get('logits64');
const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const f64 = exact && nchwToNhwc(exact.data, exact.shape);
console.log(JSON.stringify({
  spec,
  form,
  backend,
  input: x.shape,
  mapped: report.mapped.length,
  unmapped_in_file: report.unmapped_in_file,
  unmapped_in_network: report.unmapped_in_network,
  max_abs_alcli_logit: alcli.reduce((m, v) => Math.max(m, Math.abs(v)), 0),
  max_abs_diff: maxDiff(alcli, torch),
  ...(f64 && { max_abs_diff_alcli_vs_float64: maxDiff(alcli, f64), max_abs_diff_torch_float32_vs_float64: maxDiff(torch, f64) }),
}));
