// A Triton Inference Server model repository for an emitted ONNX model (pure: paths -> contents).
//   NAME/config.pbtxt    the model configuration (protobuf text format)
//   NAME/1/model.onnx    version 1 of the model
// With max_batch_size > 0 Triton adds the batch dimension itself, so `dims` leave it out: the
// model's symbolic N is what lets Triton's dynamic batcher stack requests. Height and width are -1
// (any size) when the ONNX model has them symbolic (onnx.ts onnxSizeForm), else the compiled size.
import type { IrGraph } from '../ir/graph.js';
import { ONNX_INPUT, ONNX_OUTPUT, onnxSizeForm } from './onnx.js';

export interface TritonOptions {
  /** largest batch the dynamic batcher forms (default 8) */
  maxBatchSize?: number;
  /** model instances (default 1) */
  instances?: number;
  /** where the instances run (default CPU: the ONNX is fp32 and runs anywhere) */
  kind?: 'KIND_CPU' | 'KIND_GPU';
  /** the size form of the ONNX model it serves (default symbolic where the network allows: emitOnnx's default) */
  size?: 'symbolic' | 'fixed';
}

export class TritonError extends Error {}

export function tritonRepository(name: string, onnx: Uint8Array, graph: IrGraph, opts: TritonOptions = {}): Map<string, string | Uint8Array> {
  // the directory name is the model name Triton serves
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name)) throw new TritonError(`'${name}' is not a usable Triton model name: use letters, digits, '_', '.', '-'`);
  return new Map<string, string | Uint8Array>([
    [`${name}/config.pbtxt`, tritonConfig(name, graph, opts)],
    [`${name}/1/model.onnx`, onnx],
  ]);
}

export function tritonConfig(name: string, graph: IrGraph, opts: TritonOptions = {}): string {
  const maxBatch = opts.maxBatchSize ?? 8;
  const instances = opts.instances ?? 1;
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new TritonError(`max_batch_size must be a positive integer (got ${maxBatch})`);
  if (!Number.isInteger(instances) || instances < 1) throw new TritonError(`the instance count must be a positive integer (got ${instances})`);
  const out = graph.nodes.find((n) => n.id === graph.output.node)!.shape;
  const symbolic = onnxSizeForm(graph, opts.size).form === 'symbolic';
  const [h, w] = symbolic ? [-1, -1] : graph.input.size;
  const [oh, ow] = symbolic ? [-1, -1] : [out.h, out.w];
  const tensor = (tname: string, dims: number[]) => [`  {`, `    name: "${tname}"`, `    data_type: TYPE_FP32`, `    dims: [ ${dims.join(', ')} ]`, `  }`];
  return [
    `# Triton model configuration written by alcli for '${graph.name}'.`,
    `# ${ONNX_OUTPUT}: scores before the output activation (${graph.output.activation}); NCHW, batch implicit${symbolic ? `; height and width any multiple of the network stride (-1)` : ''}.`,
    `name: "${name}"`,
    `platform: "onnxruntime_onnx"`,
    `max_batch_size: ${maxBatch}`,
    `input [`,
    ...tensor(ONNX_INPUT, [graph.input.channels, h, w]),
    `]`,
    `output [`,
    ...tensor(ONNX_OUTPUT, [out.c, oh, ow]),
    `]`,
    `dynamic_batching { }`,
    `instance_group [`,
    `  {`,
    `    count: ${instances}`,
    `    kind: ${opts.kind ?? 'KIND_CPU'}`,
    `  }`,
    `]`,
    ``,
  ].join('\n');
}
