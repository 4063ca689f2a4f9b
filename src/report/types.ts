// The report's input: what a study (or one run) measured, as plain data. The report functions are
// pure views of it (data in, text out); the study runner fills it from run directories.

/** One test image's metrics from one run (evaluate's perImage). auc null where undefined (one class only). */
export interface ImageMetrics { image: string; accuracy: number; iou: number; dice: number; auc: number | null }
export interface EpochRow { epoch: number; train_loss: number; val_loss: number; val_iou: number }
/** One trained run: a (fold, seed) of one network on one dataset. */
export interface RunResult { id: string /* 'fold0-seed0' */; dir: string /* relative to the study dir */; epochs: EpochRow[]; test: ImageMetrics[] }
export interface Timing { precision: string /* 'fp32', 'int8', ... */; file: string; ms: number /* median ms per image, ONNX Runtime, 2 threads, batch 1 */; bytes: number }
/** A precision the export gate refused: its val IoU fell more than the allowed drop below fp32's. */
export interface Refusal { precision: string; val_iou: number; fp32_val_iou: number; drop: number; max_drop: number }
export interface NetworkResult {
  name: string; spec: string;
  params: { train: number; deploy: number };
  gflop: number;              // deploy form, one image at the dataset's timing size
  timing: Timing[];           // may be empty (not exported/benchmarked yet); fp32 first when present
  refused?: Refusal[];        // precisions the export's accuracy gate refused: not timed
  runs: RunResult[];
}
/** Thumbnails as data: URLs (PNG), so the page is one self-contained file. */
export interface Overlay { image: string; input: string; truth: string; predictions: Record<string, string> /* network name -> data URL */ }
export interface DatasetResult { name: string; timingSize: [number, number] /* H, W */; networks: NetworkResult[]; overlays: Overlay[] }
export interface StudyReport { title: string; source: string /* study file or run dir */; protocol: string /* one line */; datasets: DatasetResult[]; notes?: string[] /* e.g. the model card, as markdown lines */ }
