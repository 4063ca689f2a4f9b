import { openRun } from '../src/train/trained.js';
import { deployForm } from '../src/passes/pipeline.js';
import { onnxModel } from '../src/emit/onnx.js';
import { encodeModel } from '../src/emit/onnx-proto.js';
import { quantizeRun } from '../src/export/int8.js';
import { scoreOnnx, timeOnnx } from '../src/export/gate.js';
const S = Number(process.argv[2] ?? 256);
const method = (process.argv[3] ?? 'minmax') as any;
const opened = await openRun('/work/runs/isbi-sig40', 'best', { size: [S, S] } as any);
const { graph, weights } = deployForm(opened.compiled.graph, { weights: opened.checkpoint.weights });
const m: any = onnxModel(graph, weights!);
const fp = encodeModel(m);
let t = Date.now();
const f32 = await scoreOnnx(opened, 'model.onnx', fp);
console.log('fp32 val', f32, Date.now() - t);
t = Date.now();
const r = await quantizeRun(opened, m, f32, { maxIouDrop: 0.005, method, log: console.log });
console.log('quantize ms', Date.now() - t, r.ok ? r.result.row : r.row);
if (r.ok) {
  const test32 = await scoreOnnx(opened, 'model.onnx', fp, 'test'), test8 = await scoreOnnx(opened, 'model.int8.onnx', r.result.bytes, 'test');
  console.log('test', test32, test8);
  for (let k = 0; k < 2; k++) console.log('ms fp32', await timeOnnx(fp, [1, S, S, 3], { runs: 7 }), 'int8', await timeOnnx(r.result.bytes, [1, S, S, 3], { runs: 7 }));
}
if (r.ok) { (await import('node:fs')).writeFileSync('/tmp/isbi.int8.onnx', r.result.bytes); (await import('node:fs')).writeFileSync('/tmp/isbi.fp32.onnx', fp); }
