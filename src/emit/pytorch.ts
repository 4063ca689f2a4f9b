// The PyTorch module emitter: a standalone model.py (torch >= 1.11 only; safetensors optional) with
// one nn.Module for a graph. The weighted nodes (conv, conv_transpose, bn) are submodules whose
// dotted paths are alcli's PyTorch names (ir/torch-names.ts), so the state_dict of the safetensors
// export loads with load_state_dict(strict=True); every other op is a functional call in forward().
// Tensors are NCHW and kernels OIHW, as the safetensors export writes them. Pure: IR in, text out.
import { INPUT_ID, nodeMap, type IrGraph, type IrNode } from '../ir/graph.js';
import { padOf, type OpKind } from '../ir/ops.js';

export interface PytorchModuleOptions {
  /** per-channel normalization the network was trained with, written as NORMALIZE (forward() does not apply it); null: none */
  normalize?: { mean: number[]; std: number[] } | null;
  /** the form whose weights sit beside the module: training (BN and branches as trained) or deploy (fused) */
  form?: 'training' | 'deploy';
  /** a line naming the tool, e.g. `alcli 0.1.0` */
  generatedBy?: string;
  /** the weights file load() reads by default, relative to model.py */
  weightsFile?: string;
}

/** What the emitter needs of a node: its own shape and its inputs' channel counts. */
interface NodeCtx {
  node: IrNode;
  /** channels of each data input */
  inChannels: number[];
}

interface PytorchOp {
  /** the submodule's constructor (ops with weights only) */
  module?(c: NodeCtx): string;
  /** the expression of the node's output: `args` are the inputs' variables, `self` the node's submodule, `ref` the `like` node's variable */
  call(c: NodeCtx, args: string[], self: string, ref?: string): string;
}

const py = (v: unknown): string => (typeof v === 'boolean' ? (v ? 'True' : 'False') : Array.isArray(v) ? `(${v.map(py).join(', ')})` : String(v));
const pair = (v: unknown) => v as readonly [number, number];
const single = (args: string[]) => args[0];

/** One entry per op of the registry: a new op without one is a type error. */
export const PYTORCH_OPS = {
  conv: {
    module: ({ node: { attrs }, inChannels }) =>
      `nn.Conv2d(${inChannels[0]}, ${attrs.out}, ${py(attrs.kernel)}, stride=${py(attrs.stride)}, padding=${py(padOf(attrs))}, dilation=${py(attrs.dilation)}, groups=${attrs.groups}, bias=${py(attrs.bias)})`,
    call: (_c, args, self) => `${self}(${single(args)})`,
  },
  conv_transpose: {
    module: ({ node: { attrs }, inChannels }) =>
      `nn.ConvTranspose2d(${inChannels[0]}, ${attrs.out}, ${py(attrs.kernel)}, stride=${py(attrs.stride)}, padding=${py(attrs.pad)}, output_padding=${py(attrs.output_pad)}, bias=${py(attrs.bias)})`,
    call: (_c, args, self) => `${self}(${single(args)})`,
  },
  bn: {
    module: ({ node: { attrs }, inChannels }) => `nn.BatchNorm2d(${inChannels[0]}, eps=${attrs.eps}, momentum=${attrs.momentum})`,
    call: (_c, args, self) => `${self}(${single(args)})`,
  },
  relu: { call: (_c, args) => `F.relu(${single(args)})` },
  relu6: { call: (_c, args) => `F.relu6(${single(args)})` },
  sigmoid: { call: (_c, args) => `torch.sigmoid(${single(args)})` },
  // the registry's formula, not F.hardsigmoid (x / 6 + 1/2 rounds differently)
  hsigmoid: { call: (_c, args) => `F.relu6(${single(args)} + 3) / 6` },
  add: { call: (_c, args) => args.join(' + ') },
  // a 1x1 input broadcasts over the other, as in the registry
  mul: { call: (_c, args) => args.join(' * ') },
  concat: { call: (_c, args) => `torch.cat([${args.join(', ')}], 1)` },
  // half-pixel (align_corners=False) like TF.js and ONNX; always to a size, so the scale is in/out as there
  resize: {
    call({ node: { attrs } }, args, _self, ref) {
      const x = single(args);
      const size = attrs.scale !== undefined ? `(${x}.shape[2] * ${attrs.scale}, ${x}.shape[3] * ${attrs.scale})` : attrs.size !== undefined ? py(attrs.size) : `${ref}.shape[2:]`;
      return attrs.mode === 'nearest' ? `F.interpolate(${x}, size=${size}, mode="nearest-exact")` : `F.interpolate(${x}, size=${size}, mode="bilinear", align_corners=False)`;
    },
  },
  // padding never wins: PyTorch pads a max pool with -inf
  maxpool: { call: ({ node: { attrs } }, args) => `F.max_pool2d(${single(args)}, ${py(attrs.kernel)}, ${py(attrs.stride)}, ${py(pair(attrs.pad))})` },
  // zero padding counted: count_include_pad=True, PyTorch's default
  avgpool: { call: ({ node: { attrs } }, args) => `F.avg_pool2d(${single(args)}, ${py(attrs.kernel)}, ${py(attrs.stride)}, ${py(pair(attrs.pad))})` },
  global_avgpool: { call: (_c, args) => `${single(args)}.mean((2, 3), keepdim=True)` },
  dropout: { call: ({ node: { attrs } }, args) => `F.dropout(${single(args)}, ${attrs.rate}, self.training)` },
  identity: { call: (_c, args) => single(args) },
} satisfies Record<OpKind, PytorchOp>;

/** Attribute names of torch.nn.Module (dir(nn.Module()) in torch 1.13, public ones): a submodule may not take one. */
const MODULE_ATTRIBUTES = new Set(
  'T_destination add_module apply bfloat16 buffers children cpu cuda double dump_patches eval extra_repr float forward get_buffer get_extra_state get_parameter get_submodule half ipu load_state_dict modules named_buffers named_children named_modules named_parameters parameters register_backward_hook register_buffer register_forward_hook register_forward_pre_hook register_full_backward_hook register_load_state_dict_post_hook register_module register_parameter requires_grad_ set_extra_state share_memory state_dict to to_empty train training type xpu zero_grad'.split(' '),
);

const PY_KEYWORDS = new Set(
  'False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield F nn torch x self m json os sys sum id min max abs len list input range type'.split(' '),
);

/** A Python string literal (JSON's escapes are Python's too). */
const str = (s: string) => JSON.stringify(s);

/**
 * The source of model.py for `g`: class Model (forward(x): N x C x H x W -> logits N x K x H x W,
 * before the output activation), load_safetensors(path) (the `safetensors` package when installed,
 * else a reader of the format's header and little-endian data) and load(path). Throws when a node's
 * PyTorch path has a segment nn.Module reserves (e.g. `eval`, `to`).
 */
export function emitPytorchModule(g: IrGraph, opts: PytorchModuleOptions = {}): string {
  const nodes = nodeMap(g);
  const channelsOf = (id: string) => (id === INPUT_ID ? g.input.channels : nodes.get(id)!.shape.c);
  const vars = new Map<string, string>([[INPUT_ID, 'x']]);
  const used = new Set(['x']);
  const varOf = (id: string) => vars.get(id)!;
  const init: string[] = [];
  const body: string[] = [];
  for (const node of g.nodes) {
    const op: PytorchOp = PYTORCH_OPS[node.op];
    const c: NodeCtx = { node, inChannels: node.inputs.map(channelsOf) };
    const path = node.id.replaceAll('/', '.');
    if (op.module) {
      const bad = path.split('.').find((s) => s === '' || s.startsWith('_') || MODULE_ATTRIBUTES.has(s));
      if (bad !== undefined) throw new Error(`node '${node.id}': '${bad}' cannot name a PyTorch submodule (nn.Module uses it): rename the node`);
      init.push(`        _attach(self, ${str(path)}, ${op.module(c)})`);
    }
    let v = node.id.replace(/[^A-Za-z0-9_]/g, '_').replace(/^(?=\d)/, 'n');
    if (used.has(v) || PY_KEYWORDS.has(v)) v = `${v}_${used.size}`;
    used.add(v);
    vars.set(node.id, v);
    const like = typeof node.attrs.like === 'string' ? varOf(node.attrs.like) : undefined;
    body.push(`        ${v} = ${op.call(c, node.inputs.map(varOf), `m(${str(path)})`, like)}  # ${node.id}: ${node.op}`);
  }
  const { normalize, form = 'training', weightsFile = 'weights.safetensors' } = opts;
  const list = (xs: number[]) => `[${xs.join(', ')}]`;
  return `# ${g.name}: a PyTorch nn.Module generated from alcli's IR${opts.generatedBy ? ` by ${opts.generatedBy}` : ''} (${form} form).
# Needs torch >= 1.11 (nearest-exact resize); the safetensors package is used when installed.
#   model = load()  # ${weightsFile} beside this file, load_state_dict(strict=True)
#   logits = model.eval()(x)  # x: N x ${g.input.channels} x H x W, normalized as in training
# Submodule paths are alcli's PyTorch names (names.json maps them to alcli's weights).
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

NAME = ${str(g.name)}
INPUT_CHANNELS = ${g.input.channels}
INPUT_SIZE = (${g.input.size.join(', ')})
CLASSES = ${g.output.classes}
# applied to the logits for probabilities: sigmoid (one class), softmax over channels, or none
ACTIVATION = ${str(g.output.activation)}
FORM = ${str(form)}
# per input channel, (x - mean) / std before forward(); None: images are used as they are
NORMALIZE = ${normalize ? `{"mean": ${list(normalize.mean)}, "std": ${list(normalize.std)}}` : 'None'}


def _attach(root, path, module):
    """Registers module at a dotted path of root, creating plain nn.Module containers on the way."""
    *parents, leaf = path.split(".")
    for p in parents:
        if p not in root._modules:
            root.add_module(p, nn.Module())
        root = root._modules[p]
    old = root._modules.get(leaf)
    if old is not None:  # a container made earlier for a deeper path: keep its children
        for k, child in old._modules.items():
            module.add_module(k, child)
    root.add_module(leaf, module)


class Model(nn.Module):
    def __init__(self):
        super().__init__()
${init.length ? init.join('\n') : '        pass'}

    def forward(self, x):
        """x: N x INPUT_CHANNELS x H x W (float32, normalized) -> logits N x CLASSES x H x W, before ACTIVATION."""
        m = self.get_submodule
${body.join('\n')}
        return ${varOf(g.output.node)}


_DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool}


def load_safetensors(path):
    """The tensors of a safetensors file by name: 8 bytes little-endian header length N, N bytes of JSON header, then the data."""
    try:
        from safetensors.torch import load_file
    except ImportError:
        load_file = None
    if load_file is not None:
        return load_file(path)
    if sys.byteorder != "little":
        raise RuntimeError("this reader needs a little-endian machine: install safetensors")
    with open(path, "rb") as f:
        data = f.read()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + n])
    body = data[8 + n :]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        dtype = _DTYPES[info["dtype"]]
        flat = torch.frombuffer(bytearray(body[begin:end]), dtype=dtype) if end > begin else torch.empty(0, dtype=dtype)
        out[name] = flat.reshape(info["shape"])
    return out


def load(path=None):
    """Model() with the weights of path (default: ${weightsFile} beside this file), loaded strictly."""
    model = Model()
    model.load_state_dict(load_safetensors(path or os.path.join(os.path.dirname(os.path.abspath(__file__)), ${str(weightsFile)})), strict=True)
    return model


if __name__ == "__main__":
    net = load(sys.argv[1] if len(sys.argv) > 1 else None).eval()
    with torch.no_grad():
        y = net(torch.zeros(1, INPUT_CHANNELS, *INPUT_SIZE))
    print(NAME, "logits", tuple(y.shape))
`;
}
