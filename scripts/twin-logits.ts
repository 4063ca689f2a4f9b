// The alcli half of scripts/twin-safetensors.py (run by it; not a test): architectures/alnet.yaml at
// the input's size, weights from the twin's safetensors file through the `twin` map, logits on the
// input the script saved, in the training form and the deploy form (BN folded, RepVGG branches
// fused), each compared with the twin's logits. Prints one JSON object.
//   node --import tsx scripts/twin-logits.ts WEIGHTS.safetensors IO.safetensors [SPEC]   (SPEC: architectures/alnet.yaml)
import { readFileSync } from 'node:fs';
import { compile } from '../src/frontend/compile.js';
import { fileSpecHost as fsHost } from '../src/frontend/load.js';
import { readSafetensors } from '../src/ir/safetensors.js';
import { nchwToNhwc } from '../src/ir/layout.js';
import { deployForm } from '../src/passes/pipeline.js';
import { loadTf } from '../src/runtime/backend.js';
import { runForm } from '../src/runtime/verify.js';
import { initFromFile } from '../src/train/init/init.js';

const [weightsFile, ioFile, spec = 'architectures/alnet.yaml'] = process.argv.slice(2);
if (!weightsFile || !ioFile) throw new Error('usage: twin-logits.ts WEIGHTS.safetensors IO.safetensors');
const io = readSafetensors(readFileSync(ioFile)).tensors;
const x = io.get('input')!;
const want = io.get('logits')!;
const [n, ch, h, w] = x.shape;
const c = compile(spec, fsHost, { size: [h, w] }).compiled!;
const { weights, report } = initFromFile(c.graph, new Map(), { from: weightsFile, map: 'twin' });
const { tf, backend } = await loadTf('auto');
const shape: [number, number, number, number] = [n, h, w, ch];
const input = nchwToNhwc(x.data, x.shape);
const twin = nchwToNhwc(want.data, want.shape);
const maxAbs = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const train = await runForm(tf, c.graph, weights, input, shape);
const deploy = deployForm(c.graph, { weights });
const fused = await runForm(tf, deploy.graph, deploy.weights!, input, shape);
console.log(JSON.stringify({
  spec,
  backend,
  input: x.shape,
  mapped: report.mapped.length,
  unmapped_in_file: report.unmapped_in_file,
  unmapped_in_network: report.unmapped_in_network,
  ignored: report.ignored.length,
  max_abs_twin_logit: twin.reduce((m, v) => Math.max(m, Math.abs(v)), 0),
  max_abs_diff_training_form: maxAbs(train, twin),
  max_abs_diff_deploy_form: maxAbs(fused, twin),
}));
