// `alcli export --format safetensors`: the weights with alcli's PyTorch names (ir/torch-names.ts),
// conv kernels OIHW, and names.json (PyTorch name -> alcli key). Read back by the `alcli` map
// (train/init/), which gives the same weights bit for bit.
import type { IrGraph } from '../ir/graph.js';
import { permute } from '../ir/layout.js';
import { HWIO_TO_OIHW, isKernel, torchNames } from '../ir/torch-names.js';
import { checkWeights, weightSpecs, weightKey, type WeightStore } from '../ir/weights.js';
import { writeSafetensors } from '../io/safetensors.js';

export const SAFETENSORS_FILE = 'weights.safetensors';
export const NAMES_FILE = 'names.json';

/**
 * The safetensors bytes of a graph's weights (every weight, the graph's order; kernels HWIO -> OIHW,
 * conv_transpose HWOI -> IOHW as PyTorch's ConvTranspose2d) and the name table. `form` is recorded
 * in the file's metadata. Throws when the weights do not fit the graph.
 */
export function safetensorsExport(g: IrGraph, weights: WeightStore, form: 'training' | 'deploy'): { bytes: Uint8Array; names: Record<string, string> } {
  const problems = checkWeights(g, weights);
  if (problems.length) throw new Error(`the weights do not fit the graph: ${problems.slice(0, 3).join('; ')}`);
  const names = torchNames(g);
  const tensors: [string, { shape: number[]; data: Float32Array }][] = [];
  for (const { node, spec } of weightSpecs(g)) {
    const key = weightKey(node.id, spec.name);
    const t = weights.get(key)!;
    tensors.push([names.get(key)!, isKernel(node.op, spec.name) ? { shape: HWIO_TO_OIHW.map((a) => t.shape[a]), data: permute(t.data, t.shape, HWIO_TO_OIHW) } : { shape: [...t.shape], data: t.data }]);
  }
  const table = Object.fromEntries([...names].map(([key, name]) => [name, key]));
  return { bytes: writeSafetensors(tensors, { format: 'pt', producer: 'alcli', form, layout: 'OIHW', graph: g.name }), names: table };
}
