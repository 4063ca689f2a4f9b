// alcli export: parses the flags, calls the library's exportArtifacts (src/export/export.ts), prints.
import { Args, Flags } from '@oclif/core';
import { CALIBRATIONS, DEFAULT_MAX_IOU_DROP, EXPORT_FORMATS, PRECISIONS, type ExportFormat, type Precision } from '../export/formats.js';
import { BACKENDS } from '../runtime/backend.js';
import { INIT_MAPS, TTA_MODES } from '../train/choices.js';
import { AlcliCommand } from './base.js';
import { compileOptions, jsonFlag, printJson, specFlags, UsageError, VerifyFailure } from './common.js';

export default class Export extends AlcliCommand {
  static override summary = 'Export the deploy form as TF.js graph model, ONNX, TypeScript (and Triton), or the weights as safetensors (with a PyTorch model.py), verified';
  static override description =
    'Folds BatchNorm and fuses RepVGG branches, then writes each artifact, reloads it from disk, runs it with its own runtime on seeded inputs and compares it with the training-form graph (verify.json). safetensors writes weights.safetensors (the training form with PyTorch-style names, conv kernels OIHW; --deploy: the fused form) and names.json (PyTorch name -> alcli weight), read back by `alcli train --init FILE --init-map alcli`. pytorch writes pytorch/model.py (an nn.Module generated from the graph, needing only torch; load() loads the weights beside it with load_state_dict(strict=True)) with pytorch/weights.safetensors and pytorch/names.json (the alcli names; the form --deploy chooses). ONNX and Triton models take any height and width the network stride divides (checked at two sizes) unless the network resizes to an absolute size. --io image adds model.image.onnx (8-bit pixels in, mask out; checked against alcli predict on an odd-sized image), and with --precision int8 model.int8.image.onnx (the same around model.int8.onnx, checked against predict running it); --tta flips puts predict --tta flips inside them (the image and its 3 mirror images as one batch of 4, the mean of their probabilities); --tta dihedral is refused there (its transposed copies cannot share one batch: use alcli predict --tta dihedral). --precision fp16,int8 (a run only) also writes model.fp16.onnx (and tfjs.fp16/ with tfjs) and model.int8.onnx (static QDQ quantization: per-channel int8 weights, uint8 activations calibrated on --calib crops of the training images), and --weights uint8 tfjs.uint8/; each is scored from its files on the validation split of the run beside the fp32 model.onnx and must lose at most --max-iou-drop of mean IoU (the table is in verify.json and MODEL_CARD.md; `alcli bench DIR` times them side by side). A failed check exits 6 and leaves nothing in DIR. From a spec, the weights are random (seeded), with BatchNorm statistics calibrated so the check is meaningful.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> runs/demo/run -o out/demo-export',
    '<%= config.bin %> <%= command.id %> architectures/alnet.yaml -o out/alnet-export',
    '<%= config.bin %> <%= command.id %> architectures/alnet.yaml -o out/small --size 128x128 --format onnx,triton --json',
    '<%= config.bin %> <%= command.id %> runs/demo/run -o out/demo-weights --format safetensors',
    '<%= config.bin %> <%= command.id %> runs/demo/run -o out/demo-torch --format pytorch',
    '<%= config.bin %> <%= command.id %> runs/isbi -o out/isbi-int8 --format onnx --precision fp32,int8 --size 512x512',
    '<%= config.bin %> <%= command.id %> runs/isbi -o out/isbi-web --format tfjs,ts --precision fp16',
    '<%= config.bin %> <%= command.id %> runs/demo/run -o out/demo-image --format onnx --io image',
    '<%= config.bin %> <%= command.id %> runs/isbi -o out/isbi-image --format onnx --io image --tta flips --precision fp32,int8',
  ];
  static override args = { source: Args.string({ description: 'a trained run directory (alcli train --out), or a spec file (seeded random weights)', required: true }) };
  static override flags = {
    size: specFlags.size,
    'max-params': specFlags['max-params'],
    'max-memory': specFlags['max-memory'],
    'allow-outside-imports': specFlags['allow-outside-imports'],
    ...jsonFlag,
    output: Flags.string({ char: 'o', summary: 'output directory', required: true, helpValue: 'DIR' }),
    format: Flags.string({ summary: `formats, comma-separated: ${EXPORT_FORMATS.join(', ')}`, default: 'tfjs,onnx,ts', helpValue: 'LIST' }),
    opset: Flags.integer({ summary: 'ONNX opset', default: 17, min: 13, max: 21 }),
    seed: Flags.integer({ summary: 'seed of the random weights and the verification inputs', default: 0 }),
    backend: Flags.option({ summary: 'TF.js backend for the executor', options: BACKENDS, default: 'auto' })(),
    'verify-each': Flags.boolean({ summary: 'run the IR verifier after every pass' }),
    tolerance: Flags.string({ summary: 'pass when max abs diff <= T x max(1, max |logit|)', default: '1e-4', helpValue: 'T' }),
    force: Flags.boolean({ summary: 'replace a non-empty DIR' }),
    deploy: Flags.boolean({ summary: 'safetensors, pytorch: write the deploy (fused) form instead of the training form' }),
    precision: Flags.string({ summary: 'precisions, comma-separated: fp32, fp16 (model.fp16.onnx, and tfjs.fp16/ with --format tfjs), int8 (model.int8.onnx, calibrated on the run\'s training images); each but fp32 needs a run and is gated on its val split', default: 'fp32', helpValue: 'LIST' }),
    weights: Flags.option({ summary: "also a TF.js graph model whose weights are stored as uint8 (affine per tensor: 4x smaller, computed in float32) in tfjs.uint8/, gated like --precision", options: ['uint8'] as const })(),
    calib: Flags.integer({ summary: 'int8: calibration crops drawn (seeded) from the training split', default: 16, min: 1 }),
    calibration: Flags.option({ summary: 'int8: activation ranges from the min/max seen, or the 0.001/99.999 percentiles', options: CALIBRATIONS, default: 'minmax' as const })(),
    'max-iou-drop': Flags.string({ summary: "the gate: largest drop of mean val IoU below fp32's that a lower precision may have", default: String(DEFAULT_MAX_IOU_DROP), helpValue: 'D' }),
    io: Flags.option({ summary: 'onnx: image also writes model.image.onnx: uint8 HWC image in (any size), normalization, padding, activation and threshold inside, uint8 mask and float probabilities out', options: ['tensor', 'image'] as const, default: 'tensor' })(),
    tta: Flags.option({ summary: "--io image: test-time augmentation inside the image models: flips (the image and its 3 mirror images as one batch of 4, the mean of their probabilities, as alcli predict --tta flips); dihedral is refused (its transposed copies cannot share a batch)", options: TTA_MODES, default: 'none' as const })(),
    names: Flags.option({ summary: "safetensors: the tensor names: alcli's own, or a built-in map's (twin: the PyTorch twin's state_dict)", options: INIT_MAPS, default: 'alcli' })(),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Export);
    const formats = parseFormats(flags.format);
    const tolerance = Number(flags.tolerance);
    if (!(tolerance >= 0)) throw new UsageError(`--tolerance '${flags.tolerance}': expected a number >= 0, e.g. 1e-4`);
    const precisions = parseList(flags.precision, PRECISIONS, '--precision') as Precision[];
    const maxIouDrop = Number(flags['max-iou-drop']);
    if (!(maxIouDrop >= 0 && maxIouDrop <= 1)) throw new UsageError(`--max-iou-drop '${flags['max-iou-drop']}': expected an IoU difference in [0, 1], e.g. 0.005`);
    const { exportArtifacts } = await import('../export/export.js');
    const res = await exportArtifacts(
      args.source,
      { output: flags.output, force: flags.force, formats, opset: flags.opset, seed: flags.seed, tolerance, verifyEach: flags['verify-each'], backend: flags.backend, compile: compileOptions(flags), deploy: flags.deploy, names: flags.names, precisions, tfjsWeights: flags.weights, calib: flags.calib, calibration: flags.calibration, maxIouDrop, io: flags.io, tta: flags.tta },
      { log: (line) => flags.json || process.stderr.write(`${line}\n`) },
    );
    if (!res.ok) {
      if (flags.json) printJson({ ok: false, verify: res.verify });
      process.stderr.write(`alcli export: ${res.failed.length} check(s) failed (${res.failed.map((f) => f.stage).join(', ')}); nothing was written to ${flags.output}\n`);
      throw new VerifyFailure();
    }
    if (flags.json) printJson({ ok: true, output: flags.output, files: res.files, verify: res.verify });
    else process.stdout.write(`exported ${args.source} -> ${flags.output}/ (${res.files.join(', ')})\n`);
  }
}

const parseFormats = (text: string) => parseList(text, EXPORT_FORMATS, '--format') as ExportFormat[];

/** A comma-separated flag value, each item one of `choices`, duplicates dropped; a usage error otherwise. */
function parseList(text: string, choices: readonly string[], flag: string): string[] {
  const out = text.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = out.filter((f) => !choices.includes(f));
  if (bad.length || !out.length) throw new UsageError(`${flag} '${text}': choose from ${choices.join(', ')}`);
  return [...new Set(out)];
}
