// MODEL_CARD.md of an export: what the network is, how big, how to feed it, how it was checked.
import type { Compiled } from '../frontend/compile.js';
import { formatCount } from './format.js';

export interface ModelCardInput {
  compiled: Compiled;
  /** where the weights came from */
  source: { kind: 'spec'; seed: number } | { kind: 'run'; dir: string; data?: string; epoch?: number; metrics?: Record<string, number>; engine?: string };
  /** what the exported model expects applied to [0, 1] pixels (the TypeScript module applies it) */
  normalize: { mean: number[]; std: number[] } | null;
  formats: string[];
  verify: { stage: string; maxAbs: number; maxRef: number; pass: boolean }[];
  tolerance: number;
  threshold: number;
  /** where the threshold came from, in words (e.g. tuned on the validation split); absent: the spec's or 0.5 */
  thresholdSource?: string;
  /** the precision table of the accuracy gate (export/gate.ts), when other precisions were exported */
  precision?: { max_iou_drop: number; rows: { artifact: string; precision: string; engine: string; bytes: number; ms: number | null; val_iou: number; val_dice: number; drop: number; pass: boolean }[]; int8?: { excluded: string[]; calibration: { crops: number; method: string } } };
  /** `image`: the export holds model.image.onnx (uint8 image in, mask out) */
  io?: 'tensor' | 'image';
  /** io `image`: test-time augmentation inside the image models (flips: the 4 mirror images, averaged) */
  tta?: 'none' | 'flips';
  /** io `image` with a passed int8: model.int8.image.onnx, the same wrapping of model.int8.onnx */
  int8Image?: boolean;
  /** the ONNX models' size: `fixed`, why they only take the compiled size; `second`, the other size they were checked at */
  sizes?: { fixed?: string; second?: [number, number] };
}

/** The `--io image` section: how to call model.image.onnx. */
function imageIoSection(m: ModelCardInput): string[] {
  const c = m.compiled;
  const ch = c.graph.input.channels;
  const k = c.graph.output.classes;
  const softmax = c.graph.output.activation === 'softmax';
  const flips = m.tta === 'flips';
  const load = ch === 1 ? "np.asarray(Image.open('slice.png').convert('L'))[..., None]" : "np.asarray(Image.open('slice.png').convert('RGB'))";
  return [
    '## Image in, mask out (`model.image.onnx`)',
    '',
    `The network with its pre- and post-processing as ONNX ops, the same steps as \`alcli predict${flips ? ' --tta flips' : ''}\`: pixels / 255${m.normalize ? ', the normalization above' : ''}, reflect padding (centred) to a multiple of the stride ${c.stride.join('x')}, the network, the crop back to the image size, ${c.graph.output.activation}, then the mask.`,
    '',
    ...(flips
      ? [
          'Test-time augmentation is inside: the image and its three mirror images (left-right, top-bottom, both) run as one batch of 4, each output is mirrored back, and `probabilities` is the mean of the 4 probability maps (taken before the threshold or argmax); a call costs about 4 network passes. (Dihedral TTA, with transposed copies, is not available in the graph: use `alcli predict --tta dihedral`.)',
          '',
        ]
      : []),
    ...(m.int8Image ? ['`model.int8.image.onnx` is the same wrapping of `model.int8.onnx` (same inputs and outputs; checked against `alcli predict` running `model.int8.onnx`).', ''] : []),
    `- input \`image\`: uint8 [H, W, ${ch}] (HWC, any H and W${m.sizes?.fixed ? ` that pad to ${c.graph.input.size.join('x')}: the network has a fixed size` : ''}); 8-bit pixels. A 16-bit image must be brought to 8 bits first (v >> 8), or fed to \`model.onnx\` with your own scaling (v / 65535, then the normalization).`,
    `- output \`probabilities\`: float32 ${k === 1 ? '[H, W]' : `[${k}, H, W]`} (${c.graph.output.activation})`,
    `- output \`mask\`: uint8 ${softmax || k === 1 ? '[H, W]' : `[${k}, H, W]`}, ${softmax ? 'the most probable class index of each pixel (alcli predict\'s NAME.label.png)' : `255 where the probability >= ${m.threshold}, else 0 (alcli predict's NAME.mask.png)`}`,
    '',
    '```python',
    'import numpy as np, onnxruntime as ort',
    'from PIL import Image',
    "session = ort.InferenceSession('model.image.onnx')",
    `mask, probabilities = session.run(['mask', 'probabilities'], {'image': ${load}})`,
    '```',
    '',
  ];
}

export function modelCard(m: ModelCardInput): string {
  const c = m.compiled;
  const doc = c.resolved;
  const [h, w] = c.graph.input.size;
  const round = (xs: number[]) => `[${xs.map((x) => x.toFixed(4)).join(', ')}]`;
  const normText = m.normalize
    ? `pixels scaled to [0, 1], then (x - ${round(m.normalize.mean)}) / ${round(m.normalize.std)} per channel (model.ts applies it)`
    : 'pixels scaled to [0, 1], nothing else';
  const lines = [
    `# ${c.graph.name}`,
    '',
    doc.description ? doc.description.trim() : '',
    '',
    '## Intended use',
    '',
    'Research on medical image segmentation. Not a medical device: do not use it for clinical decisions.',
    '',
    '## Network',
    '',
    `| | training form | deploy form (exported) |`,
    `|---|---:|---:|`,
    `| parameters | ${c.stats.params.toLocaleString('en-US')} (${formatCount(c.stats.params)}) | ${c.deployStats.params.toLocaleString('en-US')} (${formatCount(c.deployStats.params)}) |`,
    `| GFLOP per ${h}x${w} image | ${(c.stats.flops / 1e9).toFixed(2)} | ${(c.deployStats.flops / 1e9).toFixed(2)} |`,
    `| nodes | ${c.graph.nodes.length} | ${c.deploy.nodes.length} |`,
    '',
    `Deploy passes: ${c.passes.map((p) => `${p.pass} (${p.rewrites} rewrites)`).join(', ')}.`,
    '',
    '## Input and output',
    '',
    `- input \`input\`: ${c.graph.input.channels} channel(s), ${h}x${w} (sizes must divide by the network stride ${c.stride[0]}: pad with reflection and crop the output back); NHWC in the TF.js model, NCHW in ONNX`,
    `- normalization: ${normText}`,
    ...(m.sizes
      ? [`- size: ${m.sizes.fixed ? `the ONNX and Triton models take ${h}x${w} only: ${m.sizes.fixed}` : `the ONNX and Triton models take any height and width that divide by ${c.stride.join('x')} (symbolic H and W; Triton dims -1)${m.sizes.second ? `, checked at ${h}x${w} and ${m.sizes.second.join('x')}` : ''}`}`]
      : []),
    `- output \`logits\`: ${c.graph.output.classes} class(es) at the input size; apply ${c.graph.output.activation} for probabilities; ${c.graph.output.activation === 'softmax' ? 'the most probable class (argmax) of each pixel for a label map' : `threshold ${m.threshold} for a mask${m.thresholdSource ? ` (${m.thresholdSource})` : ''}`}`,
    '',
    ...(m.io === 'image' ? imageIoSection(m) : []),
    '## Weights',
    '',
    m.source.kind === 'spec'
      ? `Random (seed ${m.source.seed}), BatchNorm statistics calibrated on random images: this export is for checking the toolchain, not for use.`
      : `Trained in \`${m.source.dir}\`${m.source.data ? ` on ${m.source.data}` : ''}${m.source.engine ? ` (engine ${m.source.engine})` : ''}; the best checkpoint${m.source.epoch ? ` (epoch ${m.source.epoch})` : ''}.${m.source.metrics ? ` Validation: ${Object.entries(m.source.metrics).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(', ')}; \`alcli evaluate ${m.source.dir} --split test\` gives the test metrics.` : ''}`,
    '',
    '## Verification',
    '',
    `Each artifact was reloaded from disk, run by its own runtime on seeded inputs and compared with the training-form graph in inference mode (pass: max abs diff <= ${m.tolerance} x max(1, max |logit|)).`,
    '',
    '| stage | max abs diff | max abs logit | pass |',
    '|---|---:|---:|---|',
    ...m.verify.map((v) => `| ${v.stage} | ${v.maxAbs.toExponential(2)} | ${v.maxRef.toFixed(3)} | ${v.pass ? 'yes' : 'NO'} |`),
    '',
    ...precisionSection(m.precision),
    `Formats: ${m.formats.join(', ')}. Made by alcli.`,
    '',
  ];
  return lines.join('\n').replace(/\n{3,}/g, '\n\n');
}

/** The precision table: each ONNX precision's size, speed and validation accuracy beside fp32. */
function precisionSection(p: ModelCardInput['precision']): string[] {
  if (!p) return [];
  const mb = (b: number) => `${(b / 1e6).toFixed(2)} MB`;
  return [
    '## Precision',
    '',
    `Each artifact was scored on the run's validation split from its own files and timed on one image at the export size (median of 5; the ONNX files' runs interleaved with fp32's), by the engine named. Pass: mean IoU at most ${p.max_iou_drop} below fp32's. Size: the ONNX file, or a TF.js model's weight files.`,
    '',
    '| artifact | precision | engine | size | ms per image | val IoU | val Dice | IoU drop | pass |',
    '|---|---|---|---:|---:|---:|---:|---:|---|',
    ...p.rows.map((r) => `| ${r.artifact} | ${r.precision} | ${r.engine} | ${mb(r.bytes)} | ${r.ms === null ? '-' : r.ms.toFixed(1)} | ${r.val_iou.toFixed(4)} | ${r.val_dice.toFixed(4)} | ${r.drop.toFixed(4)} | ${r.pass ? 'yes' : 'NO'} |`),
    '',
    ...(p.int8
      ? [`INT8 (model.int8.onnx): QDQ, uint8 activations per tensor, int8 weights per output channel, int32 biases; calibrated on ${p.int8.calibration.crops} crops of the training split (${p.int8.calibration.method}); ${p.int8.excluded.length ? `kept in float by sensitivity: ${p.int8.excluded.join(', ')}` : 'every quantizable node quantized'}. Feed it exactly as model.onnx (float NCHW, normalized).`, '']
      : []),
  ];
}
