// src/index.ts: the library API: everything the CLI does is callable from code.
// May import: ir, io, passes, frontend, render, emit, runtime, train, export, bench, report, study.
export { compile, applyOverrides, DEFAULT_MAX_PARAMS, type Compiled, type CompileOptions, type CompileResult } from './frontend/compile.js';
export { loadSpec, fileSpecHost, type LoadedSpec, type SpecDoc, type SpecHost, type ModuleDef } from './frontend/load.js';
export { expandSpec, DEFAULT_INPUT_SIZE } from './frontend/expand.js';
export { ERROR_CODES, type Diagnostic, type ErrorCode, type SourcePos } from './ir/diagnostics.js';
export { renderDiagnostic, renderDiagnostics, suggestion, didYouMean } from './frontend/diagnostics.js';
export { architectureSchema } from './frontend/schema.js';
export { OPS, OP_KINDS, type OpKind, type OpDef } from './ir/ops.js';
export type { IrGraph, IrNode, Shape } from './ir/graph.js';
export { graphStats, type GraphStats, type NodeStats } from './ir/stats.js';
export { networkStride, fixedSizeReason, padBox, type PadBox } from './ir/stride.js';
export { DEPLOY_PASSES, runPasses, deployForm } from './passes/pipeline.js';
export { verifyIr } from './passes/verify-ir.js';
// Views of a compiled spec, as the CLI prints and writes them (pure: data in, text out).
export { summaryData, summaryText, type SummaryData } from './render/summary.js';
export { drawing, type Drawing } from './render/drawing.js';
export { renderDot } from './render/dot.js';
export { renderMermaid } from './render/mermaid.js';
export { graphJson, type GraphJson } from './render/graph-json.js';
export { resolvedSpec, resolvedSpecYaml } from './render/resolved-spec.js';
// Weights, execution, export.
export { initWeights, checkWeights, weightKey, type WeightStore, type Tensor32 } from './ir/weights.js';
export { torchName, torchNames, torchParam, alcliParam, HWIO_TO_OIHW, OIHW_TO_HWIO } from './ir/torch-names.js';
export { loadTf, BACKENDS, type BackendChoice, type TF } from './runtime/backend.js';
export { forward, toTensors } from './runtime/executor.js';
export { runForm, compareOutputs, calibratedWeights, randomInput, VERIFY_TOLERANCE } from './runtime/verify.js';
export { encodeWeights, decodeWeights } from './ir/weights-manifest.js';
export { exportArtifacts, buildExport, checkArtifacts, exportWeightsFromSpec, EXPORT_BATCH, EXPORT_FORMATS, EXPORT_IO, EXPORT_TTA, IMAGE_ONNX_FILE, INT8_IMAGE_ONNX_FILE, type ExportIo, type ExportTta, type ExportFormat, type ExportOptions, type ExportRequest, type ExportHooks, type ExportResult, type ExportVerify, type Check } from './export/export.js';
export { readSafetensors, writeSafetensors, SafetensorsError, type SafeTensor } from './ir/safetensors.js';
export { checkOutputDir, dirWriter, DirWriter, fileHost, listFiles, PathError, IoError, refuseOverlap, writeFileAtomic, type FileHost, type ReplaceMode, type Protected } from './io/dir.js';
export { DEFAULT_THRESHOLD, thresholdOf, OPTIMIZERS, type OptimizerOptions } from './train/objective.js';
export { sweepThreshold, THRESHOLD_GRID, type ThresholdSweep, type TunedThreshold } from './train/operating-point.js';
export { emitOnnx, onnxModel, onnxSizeForm, OnnxEmitError, DEFAULT_OPSET } from './emit/onnx.js';
export { withImageIo, IMAGE_INPUT, MASK_OUTPUT, PROBABILITIES_OUTPUT, type ImageIoOptions } from './emit/onnx-image.js';
export { decodeModel } from './emit/onnx-proto.js';
export { emitTfjsGraphModel, tfjsGraphFiles } from './emit/tfjs-graph.js';
export { emitTypeScriptModule } from './emit/typescript.js';
export { tritonRepository, tritonConfig } from './emit/triton.js';
export { runOnnx, runImageOnnx } from './runtime/ort.js';
export { graphModelHandler, loadGraphModelFromFiles } from './runtime/tfjs-graph-io.js';
export { benchInfer } from './bench/infer.js';
export { modelCard } from './render/model-card.js';
// Training and using a trained run: the commands' logic (alcli train, evaluate, predict, demo) as functions.
export { trainRun, compileFile, type TrainRunOptions, type NewRunOptions, type ResumeOptions, type TrainHooks, type TrainRunResult } from './train/session.js';
export { openRun, evaluateRun, predictImages, runThreshold, runOperatingPoint, runClassTable, tuneThreshold, describeDecisions, type DecisionRecord, type PostProcessRecord, type OperatingPoint, type ThresholdFrom, type TuneThresholdResult, type OpenRun, type EvaluateRunOptions, type EvaluateRunResult, type PredictOptions, type PredictHooks, type PredictResult, type PredictedImage } from './train/trained.js';
export { runDemo, DemoStageError, DEMO_SPEC, MULTICLASS_TEMPLATE, type DemoOptions, type DemoHooks, type DemoResult } from './train/demo.js';
export { TRAIN_ENGINES, INIT_MAPS, INFER_ENGINES, CHECKPOINT_NAMES, SPLITS, maskThresholdError, type TrainEngineChoice, type InitMapName, type InferEngineChoice, type CheckpointName, type Split } from './train/choices.js';
export { BadOptionsError, BadSpecError, BadDataError, DataErrors, renderDataErrors, DATA_ERROR_CODES, type DataError, type DataErrorCode } from './train/errors.js';
export { scanDataset, type Sample, type Dataset, type ScanOptions, type ScanResult } from './train/dataset.js';
export { trainSettings, trainLoop, loadTrainingData, cropStrideError, lrAt, SCHEDULES, type Schedule, type TrainSettings, type TrainingData, type LoopOptions, type LoopResult, type StepProgress, type EpochReport } from './train/loop.js';
export { chooseEngine, type ChosenEngine } from './train/engines.js';
export type { TrainEngine, Batch, EngineOptions } from './train/engine.js';
export { createPredictor, evaluateSplit, foreground, type Predictor, type PredictorOptions, type EvaluateResult } from './train/infer.js';
export { withTta, ttaTransforms, unTransformPlanes, TTA_MODES, type TtaMode } from './train/tta.js';
// postprocess.ts loads image-js: its functions are imported from there, only its options type here
export type { PostProcessOptions } from './train/postprocess.js';
export { RunDir, fsRunHost, DamagedRunError, type RunHost, type RunInfo, type Checkpoint, type CheckpointState, type MetricsRow } from './train/run.js';
export { syntheticDataset, encodePng, encodeLabelPng, SYNTHETIC_CLASSES } from './train/synthetic.js';
export { classImageMetrics, argmaxLabels, summarizeClasses, CLASS_METRICS, type ClassImageMetrics, type ClassMetric, type ClassMetrics } from './train/class-metrics.js';
export { loadImageFile } from './train/load.js';
export { decodeFile, fileInfo, toImage, toMask, encodingOf, MASK_RULE, type Decoded, type FileInfo, type ColourModel, type DecodeOptions, type MaskOptions, type MaskResult } from './train/decode.js';
export { initFromFile, describeInit, readWeightsFile, type InitOptions, type InitReport } from './train/init/init.js';
export { BUILTIN_MAPS, resolveMap, readUserMap, globRegExp, type MapPair, type ResolvedMap } from './train/init/maps.js';
export { checkDataset, renderDataCheck, type DataCheckOptions, type DataCheckReport, type CheckedSample } from './train/data-check.js';
// Studies (alcli study, alcli report): several specs on several datasets, trained, evaluated, exported, timed and reported.
export { loadStudy, studySchema, trainSets, expandEnv, type Study, type StudySpec, type StudyDataset, type LoadStudyResult } from './study/study-file.js';
export { foldOf, foldSplit, writeFoldDataset } from './study/folds.js';
export { planStudy, runState, trainStudy, exportStudy, timeDataset, networkStats, type StudyPlan, type PlannedRun, type StudyHooks, type TimingRow } from './study/run-study.js';
export { studyReport, runReport, overlayGrid, writeReport } from './study/report-data.js';
