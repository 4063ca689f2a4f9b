// Which training engine runs a spec (`alcli train --engine`): ort compiles the whole step into one
// ONNX model (ort/training-model.ts) for ONNX Runtime on every core; tfjs runs the executor with
// hand-written gradients. auto takes native TF.js (libtensorflow, possibly a GPU) when it loads,
// else ort when the ONNX training graph has every op of the spec, else TF.js on wasm.
import type { IrGraph } from '../ir/graph.js';
import type { BackendChoice } from '../runtime/backend.js';
import type { WeightStore } from '../ir/weights.js';
import type { TrainEngineChoice } from './choices.js';
import type { EngineOptions, TrainEngine } from './engine.js';

export { TRAIN_ENGINES, savedTrainEngine, type TrainEngineChoice } from './choices.js';

export interface ChosenEngine {
  /** what run.json records: the TF.js backend, or 'onnxruntime' */
  backend: string;
  notices: string[];
  create(weights: WeightStore): Promise<TrainEngine>;
}

/** The engine for a graph and its optimizer and loss, or why the asked-for one cannot train it; `threads`: the ort engine's intra-op threads (default every core; TF.js keeps its own). */
export async function chooseEngine(choice: TrainEngineChoice, g: IrGraph, opts: EngineOptions, backend: BackendChoice = 'auto', threads?: number): Promise<ChosenEngine | { error: string }> {
  const notices: string[] = [];
  if (choice !== 'tfjs') {
    // native TF.js wins over ort only when asked for by auto
    if (choice === 'auto' && backend !== 'wasm' && backend !== 'cpu') {
      const { loadTf } = await import('../runtime/backend.js');
      const loaded = await loadTf(backend);
      if (loaded.backend === 'tensorflow') return tfjs(g, opts, backend, notices);
    }
    // building the training graph is the test that ort can train the spec; the engine keeps it
    const { trainingModel, OnnxGradError } = await import('./ort/training-model.js');
    try {
      const built = trainingModel(g, opts);
      return { backend: 'onnxruntime', notices, create: async (weights) => (await import('./ort/engine.js')).OrtEngine.create(g, weights, opts, threads, built) };
    } catch (e) {
      if (!(e instanceof OnnxGradError)) throw e;
      if (choice === 'ort') return { error: e.message };
      notices.push(`note: ${e.message}; training on the TF.js engine`);
    }
  }
  return tfjs(g, opts, backend, notices);
}

async function tfjs(g: IrGraph, opts: EngineOptions, backend: BackendChoice, notices: string[]): Promise<ChosenEngine> {
  const { loadTf } = await import('../runtime/backend.js');
  const { tf, backend: name, notice } = await loadTf(backend);
  if (notice) notices.push(notice);
  const { TfjsEngine } = await import('./engine-tfjs.js');
  return { backend: name, notices, create: async (weights) => new TfjsEngine(tf, g, weights, opts) };
}
