// Which training engine runs a spec (`alcli train --engine`): ort compiles the whole step into one
// ONNX model (src/emit/onnx-train.ts) for ONNX Runtime on every core; tfjs runs the executor with
// hand-written gradients. auto takes native TF.js (libtensorflow, possibly a GPU) when it loads,
// else ort when the ONNX training graph has every op of the spec, else TF.js on wasm.
import type { IrGraph } from '../ir/graph.js';
import type { BackendChoice } from '../runtime/backend.js';
import type { WeightStore } from '../runtime/weights.js';
import type { EngineOptions, TrainEngine } from './engine.js';

export type EngineChoice = 'auto' | 'ort' | 'tfjs';

export interface ChosenEngine {
  /** what run.json records: the TF.js backend, or 'onnxruntime' */
  backend: string;
  notices: string[];
  create(weights: WeightStore, opts: EngineOptions): Promise<TrainEngine>;
}

/** The engine for a graph, or why the asked-for one cannot train it. */
export async function chooseEngine(choice: EngineChoice, g: IrGraph, backend: BackendChoice = 'auto'): Promise<ChosenEngine | { error: string }> {
  const notices: string[] = [];
  if (choice !== 'tfjs') {
    // native TF.js wins over ort only when asked for by auto
    if (choice === 'auto' && backend !== 'wasm' && backend !== 'cpu') {
      const { loadTf } = await import('../runtime/backend.js');
      const loaded = await loadTf(backend);
      if (loaded.backend === 'tensorflow') return tfjs(g, backend, notices);
    }
    const unsupported = await ortUnsupported(g);
    if (!unsupported)
      return {
        backend: 'onnxruntime',
        notices,
        create: async (weights, opts) => (await import('./engine-ort.js')).OrtEngine.create(g, weights, opts),
      };
    if (choice === 'ort') return { error: unsupported };
    notices.push(`note: ${unsupported.replace(/: train this spec with --engine tfjs|; train with --engine tfjs/, '')}; training on the TF.js engine`);
  }
  return tfjs(g, backend, notices);
}

async function tfjs(g: IrGraph, backend: BackendChoice, notices: string[]): Promise<ChosenEngine> {
  const { loadTf } = await import('../runtime/backend.js');
  const { tf, backend: name, notice } = await loadTf(backend);
  if (notice) notices.push(notice);
  const { TfjsEngine } = await import('./engine-tfjs.js');
  return { backend: name, notices, create: async (weights, opts) => new TfjsEngine(tf, g, weights, opts) };
}

/** Why the ONNX training graph cannot take this graph, or undefined when it can. */
async function ortUnsupported(g: IrGraph): Promise<string | undefined> {
  const { trainingModel, OnnxGradError } = await import('../emit/onnx-train.js');
  try {
    trainingModel(g, { loss: { bce: 1, dice: 1 }, optimizer: { kind: 'adam' } });
    return undefined;
  } catch (e) {
    if (e instanceof OnnxGradError) return e.message;
    throw e;
  }
}
