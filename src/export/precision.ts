// The lower-precision artifacts of a run's export (--precision fp16,int8, --weights uint8) and
// their accuracy gate: each written to the staging folder, read back, scored from its files on the
// validation split beside fp32's model.onnx (gate.ts), timed; a failed gate fails the export.
import type { OpenRun } from '../train/trained.js';
import type { TF } from '../runtime/backend.js';
import type { PrecisionRow } from './gate.js';
import { check, DEFAULT_MAX_IOU_DROP, PRECISION_ONNX_FILE, type Calibration, type Check, type ExportBuild, type ExportFormat, type ExportOptions, type Precision } from './formats.js';
import { INT8_IMAGE_ONNX_FILE, runImageCheck } from './image-io.js';

/** The fields of an ExportRequest (export.ts) the gate reads. */
export interface GateRequest {
  formats: readonly ExportFormat[];
  opset: number;
  seed: number;
  tolerance: number;
  calib?: number;
  calibration?: Calibration;
  maxIouDrop?: number;
  tfjsWeights?: 'uint8';
}

/** verify.json's `precision`: the gate's table */
export interface PrecisionGate {
  split: 'val';
  max_iou_drop: number;
  rule: string;
  rows: PrecisionRow[];
  int8?: { calibration: { crops: number; method: Calibration; size: [number, number] }; excluded: string[]; quantized: Record<string, number>; folded_relu: number };
}

/**
 * The lower-precision artifacts of a run's export, each written to the staging folder, read back and
 * scored from those files on the validation split beside fp32's model.onnx (gate.ts); a failed gate
 * is a failed check (exit 6, nothing written). int8: model.int8.onnx (int8.ts); fp16:
 * model.fp16.onnx, and tfjs.fp16/ when tfjs is a format; `tfjsWeights` uint8: tfjs.uint8/. fp32 is
 * timed and scored even when the export has no onnx format (then it is not written). With `image`
 * (--io image), a passed int8 also writes model.int8.image.onnx (withImageIo over the quantized model
 * object, the same options as model.image.onnx), read back and checked against the predictor running
 * model.int8.onnx on an odd-sized uint8 image (`checks`: comparisons, not gate rows).
 */
export async function gatePrecisions(tf: TF, opened: OpenRun, build: ExportBuild, req: GateRequest, lower: Precision[], out: { write(path: string, data: Uint8Array | string): void; read(path: string): Uint8Array | undefined }, log: (line: string) => void, image?: { normalize: ExportOptions['normalize']; threshold: number; tta?: ExportOptions['tta'] }): Promise<{ table: PrecisionGate; failed: Check[]; checks: Check[] }> {
  const [{ onnxModel }, { encodeModel }, gate, { quantizeRun }, { toFloat16Onnx }, { emitTfjsGraphModel, tfjsGraphFiles, TFJS_WEIGHT_DIRS }] = await Promise.all([
    import('../emit/onnx.js'),
    import('../emit/onnx-proto.js'),
    import('./gate.js'),
    import('./int8.js'),
    import('../emit/onnx-fp16.js'),
    import('../emit/tfjs-graph.js'),
  ]);
  const maxIouDrop = req.maxIouDrop ?? DEFAULT_MAX_IOU_DROP;
  const model = onnxModel(build.deploy.graph, build.deploy.weights, { opset: req.opset }) as import('../emit/onnx-qdq.js').ModelObject;
  // the model.onnx written (when onnx is a format: the same bytes), else its encoding here
  const fp32Bytes = out.read('model.onnx') ?? encodeModel(model);
  const [, h, w, ch] = build.reference.shape;
  const shape: [number, number, number, number] = [1, h, w, ch];
  const tfjsEngine = `TF.js (${tf.getBackend()})`;
  log(`gate: scoring fp32 (model.onnx) on the validation split`);
  const fp32 = await gate.scoreArtifact(opened, { path: 'model.onnx', bytes: fp32Bytes });
  const rows = [gate.precisionRow('model.onnx', 'fp32', gate.ORT_ENGINE, fp32Bytes.byteLength, null, fp32, fp32, maxIouDrop)];
  // the ONNX files are timed together at the end, their runs interleaved with fp32's
  const timed: { row: PrecisionRow; bytes: Uint8Array }[] = [{ row: rows[0], bytes: fp32Bytes }];
  const table: PrecisionGate = { split: 'val', max_iou_drop: maxIouDrop, rule: "mean val IoU of the artifact >= fp32 model.onnx's - max_iou_drop", rows };
  const failed: Check[] = [];
  const checks: Check[] = [];
  /** writes an ONNX file, reads it back, scores and times it */
  const onnxRow = async (path: string, precision: PrecisionRow['precision'], bytes: Uint8Array) => {
    out.write(path, bytes);
    const back = out.read(path)!;
    const row = gate.precisionRow(path, precision, gate.ORT_ENGINE, back.byteLength, null, await gate.scoreArtifact(opened, { path, bytes: back }), fp32, maxIouDrop);
    timed.push({ row, bytes: back });
    return row;
  };
  /** writes a TF.js graph model with `dtype` weights, reads it back, scores and times it */
  const tfjsRow = async (dtype: 'float16' | 'uint8') => {
    const dir = TFJS_WEIGHT_DIRS[dtype];
    let bytes = 0;
    for (const [p, d] of tfjsGraphFiles(emitTfjsGraphModel(build.deploy.graph, build.deploy.weights, { generatedBy: 'alcli 0.1.0', weightDtype: dtype }))) {
      out.write(`${dir}/${p}`, d);
      if (p !== 'model.json') bytes += d.byteLength;
    }
    const read = (p: string) => out.read(`${dir}/${p}`) ?? (() => { throw new Error(`${dir}/${p} was not written`); })();
    const path = `${dir}/model.json`;
    return gate.precisionRow(path, dtype === 'float16' ? 'fp16' : 'uint8', tfjsEngine, bytes, await gate.timeTfjs(tf, read, shape), await gate.scoreArtifact(opened, { path, read }), fp32, maxIouDrop);
  };
  const tfjs = req.formats.includes('tfjs');
  for (const p of [...lower, ...(req.tfjsWeights === 'uint8' ? ['uint8' as const] : [])]) {
    const made: PrecisionRow[] = [];
    if (p === 'int8') {
      const q = await quantizeRun(opened, model, fp32, { calib: req.calib, seed: req.seed, method: req.calibration, maxIouDrop, log });
      if (q.ok) {
        made.push(await onnxRow(PRECISION_ONNX_FILE.int8, 'int8', q.result.bytes));
        table.int8 = { calibration: q.result.calibration, excluded: q.result.excluded, quantized: q.result.report.quantized, folded_relu: q.result.report.folded };
        if (image) checks.push(await int8ImageCheck(tf, opened, build, req, q.result.model, out, image));
      } else made.push(q.row);
    } else if (p === 'fp16') {
      made.push(await onnxRow(PRECISION_ONNX_FILE.fp16, 'fp16', encodeModel(toFloat16Onnx(model))));
      if (tfjs) made.push(await tfjsRow('float16'));
    } else made.push(await tfjsRow('uint8'));
    for (const row of made) {
      rows.push(row);
      const stage = `${row.precision} gate (${row.artifact}, val IoU ${row.val_iou.toFixed(4)} vs fp32 ${fp32.iou.toFixed(4)}, drop ${row.drop.toFixed(4)} <= ${maxIouDrop}${row.precision === 'int8' && table.int8?.excluded.length ? `; ${table.int8.excluded.length} node(s) kept in float` : ''})`;
      // as a Check: the IoU drop stands in for the difference, fp32's IoU for the reference
      if (!row.pass) failed.push({ stage, maxAbs: row.drop, meanAbs: row.drop, maxRef: fp32.iou, pass: false });
      log(`  ${row.pass ? 'ok  ' : 'FAIL'} ${stage}`);
    }
  }
  const ms = await gate.timeOnnxFiles(timed.map((t) => t.bytes), shape);
  timed.forEach((t, i) => (t.row.ms = ms[i]));
  log(`  ONNX Runtime ms per image at ${shape[1]}x${shape[2]} (interleaved): ${timed.map((t) => `${t.row.artifact} ${t.row.ms!.toFixed(1)}`).join(', ')}`);
  return { table, failed, checks };
}

/**
 * model.int8.image.onnx: the quantized model object wrapped by withImageIo as model.image.onnx is,
 * written, read back and run on the odd-sized uint8 image of runImageCheck, against the predictor
 * running model.int8.onnx (ONNX Runtime both: the same int8 graph, so they agree to float rounding).
 */
async function int8ImageCheck(tf: TF, opened: OpenRun, build: ExportBuild, req: GateRequest, quantized: object, out: { write(path: string, data: Uint8Array | string): void; read(path: string): Uint8Array | undefined }, image: { normalize: ExportOptions['normalize']; threshold: number; tta?: ExportOptions['tta'] }): Promise<Check> {
  const [{ withImageIo }, { encodeModel }, { imageIoOptions }] = await Promise.all([import('../emit/onnx-image.js'), import('../emit/onnx-proto.js'), import('./image-io.js')]);
  out.write(INT8_IMAGE_ONNX_FILE, encodeModel(withImageIo(quantized, imageIoOptions(opened.compiled, build.deploy.graph, image))));
  const r = await runImageCheck(tf, build.training, out.read(INT8_IMAGE_ONNX_FILE)!, image.normalize, req.seed + 3, { tta: image.tta, onnx: { file: PRECISION_ONNX_FILE.int8, bytes: out.read(PRECISION_ONNX_FILE.int8)! }, file: INT8_IMAGE_ONNX_FILE });
  return check(r.stage, r.reference, r.probabilities, req.tolerance);
}
