// The choices a caller makes about a run, each declared once with its option list (the CLI's flags
// read `options` from these). No imports: the commands load it at startup.

/** The training engines (`alcli train --engine`). */
export const TRAIN_ENGINES = ['auto', 'ort', 'tfjs'] as const;
/**
 * A training engine: ort (the compiled ONNX step in ONNX Runtime), tfjs (the TF.js executor with
 * hand-written gradients), or auto: native TF.js (tfjs-node) when it loads, else ort when the ONNX
 * training graph has every op of the spec, else TF.js on wasm. Inference's auto differs: InferEngineChoice.
 */
export type TrainEngineChoice = (typeof TRAIN_ENGINES)[number];

/** The engine a run was trained on, from the name run.json records (`ort`, or `tfjs-BACKEND`). */
export const savedTrainEngine = (name: string): Exclude<TrainEngineChoice, 'auto'> => (name === 'ort' ? 'ort' : 'tfjs');

/** The inference engines (`alcli evaluate --engine`, `alcli predict --engine`). */
export const INFER_ENGINES = ['auto', 'ort', 'tfjs'] as const;
/**
 * An inference engine: ort (ONNX Runtime), tfjs (the TF.js executor), or auto: ONNX Runtime when
 * onnxruntime-node loads, else TF.js. Training's auto prefers native TF.js: TrainEngineChoice.
 */
export type InferEngineChoice = (typeof INFER_ENGINES)[number];

/** Test-time augmentation of `alcli predict` and `alcli evaluate` (tta.ts withTta). */
export const TTA_MODES = ['none', 'flips', 'dihedral'] as const;
/** none: the image as it is; flips: the mean over it and its 3 mirror images; dihedral: over the 8 symmetries of the square. */
export type TtaMode = (typeof TTA_MODES)[number];

/** A run's checkpoints: last (after every epoch) and best (by val IoU). */
export const CHECKPOINT_NAMES = ['best', 'last'] as const;
export type CheckpointName = (typeof CHECKPOINT_NAMES)[number];

/** A dataset's splits. */
export const SPLITS = ['train', 'val', 'test'] as const;
export type Split = (typeof SPLITS)[number];

/** Why a --mask-threshold is refused, or undefined: a fraction of the depth's max in [0, 1). */
export function maskThresholdError(t: number | undefined): string | undefined {
  if (t === undefined || (Number.isFinite(t) && t >= 0 && t < 1)) return undefined;
  return `--mask-threshold ${t}: expected a fraction in [0, 1) of the mask's largest value (255, 65535, or the largest palette index), e.g. 0.5`;
}

/** The built-in name maps of `alcli train --init-map` (train/init/maps.ts BUILTIN_MAPS); anything else is a YAML map file. */
export const INIT_MAPS = ['alcli', 'twin', 'torchvision-resnet34', 'timm-repvgg_a1'] as const;
export type InitMapName = (typeof INIT_MAPS)[number];
/** Whether a --init-map / train.init.map value names a built-in map (else it is a YAML file's path). */
export const isInitMap = (name: string): name is InitMapName => (INIT_MAPS as readonly string[]).includes(name);
