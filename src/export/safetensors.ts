// `alcli export --format safetensors`: the weights with PyTorch-style names, conv kernels OIHW, and
// names.json (file name -> alcli key). The names are alcli's own (ir/torch-names.ts, the default) or
// a built-in map's (train/init/maps.ts, e.g. `twin`: the PyTorch twin's state_dict, loadable with
// load_state_dict(strict=True)). Read back by the same map, the weights are the same bit for bit.
import type { IrGraph, IrNode } from '../ir/graph.js';
import { permute } from '../ir/layout.js';
import { HWIO_TO_OIHW, isKernel, torchNames } from '../ir/torch-names.js';
import { checkWeights, weightSpecs, weightKey, type WeightStore } from '../ir/weights.js';
import { writeSafetensors } from '../ir/safetensors.js';
import type { InitMapName } from '../train/choices.js';
import { BadOptionsError } from '../train/errors.js';
import { BUILTIN_MAPS } from '../train/init/maps.js';

export const SAFETENSORS_FILE = 'weights.safetensors';
export const NAMES_FILE = 'names.json';

/**
 * The safetensors bytes of a graph's weights (every weight, the graph's order; kernels HWIO -> OIHW,
 * conv_transpose HWOI -> IOHW as PyTorch's ConvTranspose2d; each BatchNorm also gets PyTorch's
 * num_batches_tracked, I64 0, so that a strict load_state_dict finds it) and the name table.
 * `form` is recorded in the file's metadata. Throws when the weights do not fit the graph, and
 * BadOptionsError when map `names` does not name every weight.
 */
export function safetensorsExport(g: IrGraph, weights: WeightStore, form: 'training' | 'deploy', names: InitMapName = 'alcli'): { bytes: Uint8Array; names: Record<string, string> } {
  const alcli = torchNames(g);
  const nameOf = (node: IrNode, param: string) => (names === 'alcli' ? alcli.get(weightKey(node.id, param))! : BUILTIN_MAPS[names].fileName(node, param));
  const missing = weightSpecs(g).filter(({ node, spec }) => nameOf(node, spec.name) === undefined).map(({ node, spec }) => weightKey(node.id, spec.name));
  if (missing.length) throw new BadOptionsError(`the names of map ${names} do not cover ${missing.length} weight${missing.length === 1 ? '' : 's'} of ${g.name} (${form} form), e.g. '${missing.slice(0, 3).join("', '")}': export with the alcli names`);
  const problems = checkWeights(g, weights);
  if (problems.length) throw new Error(`the weights do not fit the graph: ${problems.slice(0, 3).join('; ')}`);
  const tensors: [string, { shape: number[]; data: Float32Array; dtype?: 'I64' }][] = [];
  const table: Record<string, string> = {};
  for (const { node, spec } of weightSpecs(g)) {
    const key = weightKey(node.id, spec.name);
    const t = weights.get(key)!;
    const name = nameOf(node, spec.name)!;
    table[name] = key;
    tensors.push([name, isKernel(node.op, spec.name) ? { shape: HWIO_TO_OIHW.map((a) => t.shape[a]), data: permute(t.data, t.shape, HWIO_TO_OIHW) } : { shape: [...t.shape], data: t.data }]);
    if (node.op === 'bn' && spec.name === 'variance') tensors.push([name.replace(/running_var$/, 'num_batches_tracked'), { shape: [], data: new Float32Array(1), dtype: 'I64' }]);
  }
  return { bytes: writeSafetensors(tensors, { format: 'pt', producer: 'alcli', form, layout: 'OIHW', graph: g.name, names }), names: table };
}
