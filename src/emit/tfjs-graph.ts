// The TF.js graph-model emitter: IR (deploy form) + weights -> model.json and weight shards, as
// tfjs-converter writes them, so `tf.loadGraphModel` runs the network in a browser or in Node.
// Pure: returns the JSON and the bytes; the CLI writes them (tfjsGraphFiles names each file).
import { packWeights, type WeightDtype, type WeightsManifestEntry } from '../ir/weights-manifest.js';
import { INPUT_ID, nodeMap, type IrGraph } from '../ir/graph.js';
import type { Shape } from '../ir/graph.js';
import { checkWeights, weightKey, type WeightStore } from '../ir/weights.js';
import { fixedSizeReason } from '../ir/stride.js';
import { attr, GraphBuilder, tfName, type NodeDefJson, type ShapeJson } from './graphdef.js';
import { TFJS_GRAPH_LOWERINGS, type NodeEmitter } from './tfjs-graph-ops.js';

/** tfjs-converter's shard size: weights are concatenated and cut every 4 MiB, across tensors. */
export const SHARD_BYTES = 4 * 1024 * 1024;
/** the GraphDef version TF 2.x writes; TF.js only reports it (`model.version`) */
const GRAPHDEF_PRODUCER = 1286;

export interface TensorInfoJson {
  name: string;
  dtype: 'DT_FLOAT';
  tensorShape: ShapeJson;
}

export interface SignatureJson {
  inputs: Record<string, TensorInfoJson>;
  outputs: Record<string, TensorInfoJson>;
}


export interface GraphModelJson {
  format: 'graph-model';
  generatedBy: string;
  convertedBy: 'alcli';
  modelTopology: { node: NodeDefJson[]; library: Record<string, never>; versions: { producer: number } };
  weightsManifest: WeightsManifestEntry[];
  signature: SignatureJson;
  userDefinedMetadata: { alcli: AlcliMetadata };
}

/** What the emitted TypeScript module and `alcli predict` need to know about the network. */
export interface AlcliMetadata {
  name: string;
  input: { channels: number; size: [number, number] };
  /** true when a resize to a fixed `size` pins the input size; otherwise any size the stride divides */
  fixedSize: boolean;
  output: { classes: number; activation: IrGraph['output']['activation'] };
}

export interface TfjsGraphModel {
  modelJson: GraphModelJson;
  /** every weight in manifest order; the shards are its consecutive `shardBytes` slices */
  weightData: Uint8Array;
  shardBytes: number;
}

export interface TfjsGraphOptions {
  /** written as `generatedBy` (e.g. `alcli 0.1.0`) */
  generatedBy?: string;
  shardBytes?: number;
  /**
   * How the float32 constants are stored (int32 ones always as they are): float32 (default);
   * float16, half the bytes; uint8, a quarter, affine per tensor. Both through the manifest's
   * `quantization` field, which tf.loadGraphModel dequantizes to float32 on load, so the graph
   * and its arithmetic stay float32 (packWeights).
   */
  weightDtype?: WeightDtype;
}

/** The directory of each weight storage in an export (`tfjs/`, `tfjs.fp16/`, `tfjs.uint8/`). */
export const TFJS_WEIGHT_DIRS: Record<WeightDtype, string> = { float32: 'tfjs', float16: 'tfjs.fp16', uint8: 'tfjs.uint8' };

export const INPUT_NAME = 'input';
export const OUTPUT_NAME = 'logits';

export function emitTfjsGraphModel(graph: IrGraph, weights: WeightStore, opts: TfjsGraphOptions = {}): TfjsGraphModel {
  const problems = checkWeights(graph, weights);
  if (problems.length) throw new Error(`cannot emit '${graph.name}': ${problems.join('; ')}`);
  const b = new GraphBuilder();
  b.reserve([INPUT_NAME]);
  const names = new Map<string, string>([[INPUT_ID, INPUT_NAME]]);
  for (const n of graph.nodes) names.set(n.id, b.unique(tfName(n.id)));
  const fixedSize = fixedInputSize(graph);
  const { channels, size } = graph.input;
  const inputDims = [-1, fixedSize ? size[0] : -1, fixedSize ? size[1] : -1, channels];
  b.op(INPUT_NAME, 'Placeholder', [], { dtype: attr.type('float32'), shape: attr.shape(inputDims) });

  const shapes = new Map<string, Shape>([[INPUT_ID, { h: size[0], w: size[1], c: channels }]]);
  const refs = new Map<string, string>([[INPUT_ID, INPUT_NAME]]);
  const byId = nodeMap(graph);
  for (const node of graph.nodes) {
    const own = names.get(node.id)!;
    const sub = (suffix: string) => b.unique(`${own}/${suffix}`);
    const e: NodeEmitter = {
      node,
      inputs: node.inputs.map((i) => refs.get(i)!),
      inputShapes: node.inputs.map((i) => shapes.get(i) ?? byId.get(i)!.shape),
      like: typeof node.attrs.like === 'string' ? refs.get(node.attrs.like) : undefined,
      weight: (name) => weights.get(weightKey(node.id, name))!,
      op: (suffix, op, inputs, attrs) => b.op(sub(suffix), op, inputs, attrs),
      f32: (suffix, shape, data) => b.constant(sub(suffix), 'float32', shape, Float32Array.from(data)),
      i32: (suffix, shape, data) => b.constant(sub(suffix), 'int32', shape, Int32Array.from(data)),
    };
    const lowering = TFJS_GRAPH_LOWERINGS[node.op];
    const first = b.nodes.length;
    let ref = lowering.lower(e);
    const stray = b.nodes.slice(first).find((t) => !lowering.tfOps.includes(t.op));
    if (stray) throw new Error(`the ${node.op} lowering emitted ${stray.op}, which its entry does not list`);
    // the node's value carries its IR id, so `model.execute(x, id)` reads any intermediate
    if (!b.renameLast(ref, own)) b.op(own, 'Identity', [ref], { T: attr.type('float32') });
    ref = own;
    refs.set(node.id, ref);
    shapes.set(node.id, node.shape);
  }

  const out = byId.get(graph.output.node)!;
  const info = (name: string, dims: number[]): TensorInfoJson => ({ name: `${name}:0`, dtype: 'DT_FLOAT', tensorShape: { dim: dims.map((d) => ({ size: String(d) })) } });
  const signature: SignatureJson = {
    inputs: { [INPUT_NAME]: info(INPUT_NAME, inputDims) },
    outputs: { [OUTPUT_NAME]: info(refs.get(out.id)!, [-1, fixedSize ? out.shape.h : -1, fixedSize ? out.shape.w : -1, out.shape.c]) },
  };
  const shardBytes = opts.shardBytes ?? SHARD_BYTES;
  const { manifest, weightData } = packWeights(b.consts, shardBytes, opts.weightDtype ?? 'float32');
  return {
    modelJson: {
      format: 'graph-model',
      generatedBy: opts.generatedBy ?? 'alcli',
      convertedBy: 'alcli',
      modelTopology: { node: b.nodes, library: {}, versions: { producer: GRAPHDEF_PRODUCER } },
      weightsManifest: manifest,
      signature,
      userDefinedMetadata: {
        alcli: { name: graph.name, input: { channels, size: [size[0], size[1]] }, fixedSize, output: { classes: graph.output.classes, activation: graph.output.activation } },
      },
    },
    weightData,
    shardBytes,
  };
}

/** A resize to a fixed `size` pins the input size; otherwise the graph takes any size the stride divides. */
export const fixedInputSize = (graph: IrGraph): boolean => fixedSizeReason(graph) !== undefined;


/** The files of an emitted model by path relative to its directory: model.json and the shards. */
export function tfjsGraphFiles(model: TfjsGraphModel): Map<string, Uint8Array> {
  const { shardBytes } = model;
  const files = new Map<string, Uint8Array>([['model.json', new TextEncoder().encode(JSON.stringify(model.modelJson))]]);
  model.modelJson.weightsManifest[0].paths.forEach((p, i) => files.set(p, model.weightData.subarray(i * shardBytes, (i + 1) * shardBytes)));
  return files;
}
