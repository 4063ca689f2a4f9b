// Weights in: safetensors and ONNX initializers read back, name maps (built-in and user YAML), the
// OIHW -> HWIO conversion, the report, and the refusals (a missing name, a shape that does not fit,
// a wider tensor without --init-slice) naming both sides. No torch: the files are made here.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { emitOnnx } from '../src/emit/onnx.js';
import { readOnnxInitializers } from '../src/emit/onnx-proto.js';
import { compile } from '../src/frontend/compile.js';
import { PathError } from '../src/io/dir.js';
import { readSafetensors, writeSafetensors } from '../src/ir/safetensors.js';
import { permute } from '../src/ir/layout.js';
import { initWeights, randomizeBatchNorm } from '../src/ir/weights.js';
import { BadOptionsError } from '../src/train/errors.js';
import { initFromFile } from '../src/train/init/init.js';
import { fsHost, memHost, tinySpec, thrown } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'alcli-init-'));
const file = (name: string, bytes: Uint8Array) => (writeFileSync(join(dir, name), bytes), join(dir, name));
const tiny = (text = tinySpec({ epochs: 1, deep: false })) => compile('tiny.yaml', memHost({ 'tiny.yaml': text })).compiled!.graph;
/** a tensor whose values name their position: 0, 1, 2, ... (+ offset) */
function iota(shape: number[], offset = 0) {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = i + offset;
  return { shape, data };
}

// --- the format: what each dtype decodes to ----------------------------------------------------
/** A safetensors file from raw little-endian bytes per tensor (the writer writes F32 only). */
function rawSafetensors(entries: { name: string; dtype: string; shape: number[]; bytes: number[] }[]): Uint8Array {
  const header: Record<string, unknown> = {};
  let at = 0;
  for (const e of entries) header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [at, (at += e.bytes.length)] };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + at);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(entries.flatMap((e) => e.bytes), 8 + json.length);
  return out;
}
const dtypes: [string, number[], number[]][] = [
  // F16 0x3c00 = 1, 0xc000 = -2, 0x0001 = 2^-24 (subnormal)
  ['F16', [0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00], [1, -2, 2 ** -24]],
  // BF16 0x3f80 = 1, 0x4049 = 3.140625
  ['BF16', [0x80, 0x3f, 0x49, 0x40], [1, 3.140625]],
  ['I64', [5, 0, 0, 0, 0, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], [5, -2]],
  ['F32', [0, 0, 0xc0, 0x3f], [1.5]],
];
for (const [dtype, bytes, values] of dtypes)
  test(`safetensors ${dtype} reads as ${values.join(', ')}`, () => {
    const t = readSafetensors(rawSafetensors([{ name: 'x', dtype, shape: [values.length], bytes }])).tensors.get('x')!;
    assert.equal([t.dtype, t.shape, [...t.data]], [dtype, [values.length], values]);
  });

test('safetensors F32 write -> read keeps every bit, the order and the metadata', () => {
  const a = { shape: [2, 3], data: Float32Array.from([0.1, -0, NaN, 1e-40, 3.4e38, -7]) };
  const out = readSafetensors(writeSafetensors([['z.w', a], ['a.b', iota([4])]], { format: 'pt' }));
  assert.equal([...out.tensors.keys()], ['z.w', 'a.b']);
  assert.equal(out.metadata, { format: 'pt' });
  const bits = (x: Float32Array) => [...new Uint32Array(x.buffer, x.byteOffset, x.length)];
  assert.equal(bits(out.tensors.get('z.w')!.data), bits(a.data));
});

const badFiles: [string, Uint8Array, RegExp][] = [
  ['too short', new Uint8Array(4), /too short/],
  ['header past the end', rawSafetensors([]).map((b, i) => (i === 0 ? 200 : b)), /header says 200 bytes/],
  ['offsets past the data', rawSafetensors([{ name: 'w', dtype: 'F32', shape: [2], bytes: [0, 0, 0, 0] }]), /tensor 'w': data_offsets/],
  ['unknown dtype', rawSafetensors([{ name: 'w', dtype: 'C64', shape: [1], bytes: [0, 0, 0, 0, 0, 0, 0, 0] }]), /dtype C64 is not read/],
];
for (const [name, bytes, message] of badFiles)
  test(`a malformed safetensors file (${name}) is a BadOptionsError`, () => {
    const e = thrown(() => initFromFile(tiny(), initWeights(tiny()), { from: file(`bad-${name.replaceAll(' ', '-')}.safetensors`, bytes), map: 'alcli' }));
    assert.instance(e, BadOptionsError);
    assert.match(e.message, message);
  });

test('a missing file is a PathError', () => {
  assert.instance(thrown(() => initFromFile(tiny(), initWeights(tiny()), { from: join(dir, 'none.safetensors'), map: 'alcli' })), PathError);
});

test('ONNX initializers read back in the model layout (conv kernels OIHW)', () => {
  const g = tiny();
  const w = initWeights(g, 2);
  const { tensors } = readOnnxInitializers(emitOnnx(g, w));
  const k = w.get('head:kernel')!;
  const back = tensors.get('head:kernel')!;
  assert.equal(back.shape, [1, 8, 1, 1]);
  assert.equal([...back.data], [...permute(k.data, k.shape, [3, 2, 0, 1])]);
});

test('an .onnx model initializes through its initializers (alcli ONNX names kept by a one-rule user map), bit for bit', () => {
  const g = tiny();
  const w = randomizeBatchNorm(g, initWeights(g, 9));
  const path = file('tiny.onnx', emitOnnx(g, w));
  const mapPath = join(dir, 'identity-map.yaml');
  writeFileSync(mapPath, "rules:\n  - {regex: '(.+):(kernel|bias|gamma|beta|mean|variance)', to: '$1:$2'}\n");
  const { weights, report } = initFromFile(g, initWeights(g), { from: path, map: mapPath });
  assert.equal([report.format, report.mapped.length], ['onnx', 12]);
  for (const [k, t] of w) assert.equal([...weights.get(k)!.data], [...t.data], k);
});

/** A state_dict being written out: put(name, shape) adds a tensor of distinct values; bn(prefix, c) a BatchNorm's five (PyTorch's names). */
function stateDict() {
  const out: [string, { shape: number[]; data: Float32Array }][] = [];
  let seed = 0;
  const put = (name: string, shape: number[]) => void out.push([name, iota(shape, (seed += 1000))]);
  const bn = (p: string, c: number) => {
    for (const s of ['weight', 'bias', 'running_mean', 'running_var']) put(`${p}.${s}`, [c]);
    put(`${p}.num_batches_tracked`, []);
  };
  return { out, put, bn };
}

// --- torchvision resnet34 onto alnet-resnet34.yaml's encoder ------------------------------------
/** torchvision resnet34's state_dict names and shapes, written out from its structure: conv1, bn1, layer1..4 of 3, 4, 6, 3 basic blocks, fc. */
function resnet34StateDict(): [string, { shape: number[]; data: Float32Array }][] {
  return (R34_DICT ??= makeResnet34());
}
let R34_DICT: [string, { shape: number[]; data: Float32Array }][] | undefined;
function makeResnet34(): [string, { shape: number[]; data: Float32Array }][] {
  const { out, put, bn } = stateDict();
  put('conv1.weight', [64, 3, 7, 7]);
  bn('bn1', 64);
  let cin = 64;
  [3, 4, 6, 3].forEach((depth, l) => {
    const w = 64 << l;
    for (let b = 0; b < depth; b++) {
      const p = `layer${l + 1}.${b}`;
      put(`${p}.conv1.weight`, [w, b ? w : cin, 3, 3]);
      bn(`${p}.bn1`, w);
      put(`${p}.conv2.weight`, [w, w, 3, 3]);
      bn(`${p}.bn2`, w);
      if (b === 0 && l > 0) {
        put(`${p}.downsample.0.weight`, [w, cin, 1, 1]);
        bn(`${p}.downsample.1`, w);
      }
    }
    cin = w;
  });
  put('fc.weight', [1000, 512]);
  put('fc.bias', [1000]);
  return out;
}

const r34 = compile('architectures/alnet-resnet34.yaml', fsHost, { size: [64, 64] }).compiled!.graph;
/** He-initialized once: 21 M normals take a second or two */
const r34Base = initWeights(r34, 0);
const r34File = file('resnet34.safetensors', writeSafetensors(resnet34StateDict()));

test('torchvision resnet34 loads into alnet-resnet34.yaml encoder with a full report', () => {
  const base = r34Base;
  const { weights, report } = initFromFile(r34, base, { from: r34File, map: 'torchvision-resnet34' });
  // 36 convs + 36 BNs x 4 tensors = 180 mapped; fc unmapped; 36 step counters ignored
  assert.equal([report.mapped.length, report.unmapped_in_file, report.ignored.length, report.notes], [180, ['fc.weight', 'fc.bias'], 36, []]);
  assert.ok(report.unmapped_in_network.length > 0 && report.unmapped_in_network.every((k) => !/^e[1-5]\//.test(k)), 'only the decoder is fresh');
  assert.ok(report.mapped.every((m) => /^e[1-5]\//.test(m.key)));
  // OIHW [o, i, kh, kw] -> HWIO [kh, kw, i, o]: one value checked by hand
  const file = new Map(resnet34StateDict()).get('layer2.0.conv1.weight')!;
  const k = weights.get('e3/first/c1:kernel')!;
  assert.equal(k.shape, [3, 3, 64, 128]);
  const [o, i, y, x] = [5, 7, 2, 1];
  assert.is(k.data[((y * 3 + x) * 64 + i) * 128 + o], file.data[((o * 64 + i) * 3 + y) * 3 + x]);
  assert.equal([...weights.get('e1/bn:variance')!.data], [...new Map(resnet34StateDict()).get('bn1.running_var')!.data]);
  // an unmapped weight keeps its fresh value
  const fresh = report.unmapped_in_network[0];
  assert.is(weights.get(fresh), base.get(fresh));
});

const refusals: [string, (sd: Map<string, { shape: number[]; data: Float32Array }>) => void, RegExp[]][] = [
  ['a shape mismatch', (sd) => sd.set('layer1.0.conv1.weight', iota([32, 64, 3, 3])), [/file 'layer1\.0\.conv1\.weight' is 32x64x3x3, network 'e2\/first\/c1:kernel' needs 64x64x3x3 \(OIHW\)/]],
  ['a missing name', (sd) => sd.delete('layer2.0.downsample.0.weight'), [/network weight 'e3\/first\/proj:kernel' reads 'layer2\.0\.downsample\.0\.weight'.*does not have/]],
  ['a vector of the wrong length', (sd) => sd.set('bn1.running_mean', iota([63])), [/file 'bn1\.running_mean' is 63, network 'e1\/bn:mean' needs 64/]],
];
for (const [name, mangle, messages] of refusals)
  test(`${name} is a BadOptionsError naming both sides, and nothing is loaded`, () => {
    const sd = new Map(resnet34StateDict());
    mangle(sd);
    const e = thrown(() => initFromFile(r34, r34Base, { from: file(`r34-${name.replaceAll(' ', '-')}.safetensors`, writeSafetensors(sd)), map: 'torchvision-resnet34' }));
    assert.instance(e, BadOptionsError);
    for (const m of messages) assert.match(e.message, m);
    assert.match(e.message, /nothing loaded/);
  });

// --- timm repvgg_a1 onto alnet.yaml's encoder (AL-Net halves the widths: --init-slice) ----------
/** timm repvgg_a1's state_dict (byobnet, training form), written out from its structure: a RepVGG stem 3 -> 64, stages of 2, 4, 14, 1 blocks, 64, 128, 256, 1280 wide, head.fc. */
function repvggA1StateDict(): [string, { shape: number[]; data: Float32Array }][] {
  const { out, put, bn } = stateDict();
  const block = (p: string, cin: number, cout: number, ident: boolean) => {
    if (ident) bn(`${p}.identity`, cout);
    put(`${p}.conv_kxk.conv.weight`, [cout, cin, 3, 3]);
    bn(`${p}.conv_kxk.bn`, cout);
    put(`${p}.conv_1x1.conv.weight`, [cout, cin, 1, 1]);
    bn(`${p}.conv_1x1.bn`, cout);
  };
  block('stem', 3, 64, false);
  let cin = 64;
  [2, 4, 14, 1].forEach((depth, s) => {
    const w = [64, 128, 256, 1280][s];
    for (let b = 0; b < depth; b++) block(`stages.${s}.${b}`, b ? w : cin, w, b > 0);
    cin = w;
  });
  put('head.fc.weight', [1000, 1280]);
  put('head.fc.bias', [1000]);
  return out;
}

test('timm repvgg_a1 loads into alnet.yaml encoder with --init-slice (first channels), and is refused without it', () => {
  const g = compile('architectures/alnet.yaml', fsHost, { size: [64, 64] }).compiled!.graph;
  const sd = repvggA1StateDict();
  const path = file('repvgg_a1.safetensors', writeSafetensors(sd));
  const e = thrown(() => initFromFile(g, new Map(), { from: path, map: 'timm-repvgg_a1' }));
  assert.match(e.message, /file 'stem\.conv_kxk\.conv\.weight' is 64x3x3x3, network 'e1\/down\/dense:kernel' needs 32x3x3x3 \(OIHW\) \(--init-slice keeps the first channels\)/);
  const { weights, report } = initFromFile(g, initWeights(g), { from: path, map: 'timm-repvgg_a1', slice: true });
  // 22 blocks x (2 convs + 2 BNs x 4) + 17 identity BNs x 4 = 288 encoder tensors
  assert.equal([report.mapped.length, report.unmapped_in_file, report.ignored.length], [288, ['head.fc.weight', 'head.fc.bias'], 61]);
  assert.ok(report.unmapped_in_network.every((k) => !/^e[1-5]\//.test(k)), 'the whole encoder is loaded');
  // e3/blocks.0/dense is stages.1.1.conv_kxk: [128, 128, 3, 3] -> its first [64, 64, 3, 3], HWIO
  const src = new Map(sd).get('stages.1.1.conv_kxk.conv.weight')!;
  const k = weights.get('e3/blocks.0/dense:kernel')!;
  const [o, i, y, x] = [63, 10, 2, 0];
  assert.is(k.data[((y * 3 + x) * 64 + i) * 64 + o], src.data[((o * 128 + i) * 3 + y) * 3 + x]);
  assert.ok(report.notes.some((n) => n === "'stages.3.0.conv_1x1.bn.running_var' 1280 sliced to its first 640 for 'e5/down/one_bn:variance'"));
});

// --- the alcli map: 3 -> 1 input channels, slicing ---------------------------------------------
/** tiny's weights as alcli PyTorch names (OIHW), with c1's kernel replaced */
function tinyFile(name: string, c1: { shape: number[]; data: Float32Array }, extra: [string, { shape: number[]; data: Float32Array }][] = []): string {
  const g = tiny();
  const w = randomizeBatchNorm(g, initWeights(g, 1));
  const entries: [string, { shape: number[]; data: Float32Array }][] = [['c1.weight', c1]];
  for (const [k, t] of w) {
    if (k === 'c1:kernel') continue;
    const [node, param] = k.split(':');
    const tp = { kernel: 'weight', bias: 'bias', gamma: 'weight', beta: 'bias', mean: 'running_mean', variance: 'running_var' }[param]!;
    entries.push([`${node}.${tp}`, t.shape.length === 4 ? { shape: [3, 2, 0, 1].map((a) => t.shape[a]), data: permute(t.data, t.shape, [3, 2, 0, 1]) } : t]);
  }
  return file(name, writeSafetensors([...entries, ...extra]));
}

test('a 3-channel first conv loads into a 1-channel network summed over its input channels, and says so', () => {
  const g = tiny();
  const c1 = iota([8, 3, 3, 3]);
  const { weights, report } = initFromFile(g, initWeights(g), { from: tinyFile('rgb.safetensors', c1), map: 'alcli' });
  const k = weights.get('c1:kernel')!;
  assert.equal(k.shape, [3, 3, 1, 8]);
  // [o, c, y, x] = ((o * 3 + c) * 3 + y) * 3 + x; summed over c: 27o + 9 + ... = 3 * (27o + 3y + x) + 27
  for (const [o, y, x] of [[0, 0, 0], [7, 2, 1], [3, 1, 2]]) assert.is(k.data[(y * 3 + x) * 8 + o], 3 * (27 * o + 3 * y + x) + 27);
  assert.equal(report.notes, ["'c1.weight' 8x3x3x3 summed over its 3 input channels for the 1-channel input of 'c1:kernel'"]);
  assert.is(report.mapped.length, 12);
});

test('a wider tensor is refused without --init-slice and keeps its first channels with it', () => {
  const g = tiny();
  const wide = iota([16, 1, 3, 3]);
  const path = tinyFile('wide.safetensors', wide);
  const e = thrown(() => initFromFile(g, initWeights(g), { from: path, map: 'alcli' }));
  assert.match(e.message, /file 'c1\.weight' is 16x1x3x3, network 'c1:kernel' needs 8x1x3x3 \(OIHW\) \(--init-slice keeps the first channels\)/);
  const { weights, report } = initFromFile(g, initWeights(g), { from: path, map: 'alcli', slice: true });
  assert.equal([...weights.get('c1:kernel')!.data], [...permute(wide.data.subarray(0, 72), [8, 1, 3, 3], [2, 3, 1, 0])]);
  assert.equal(report.notes, ["'c1.weight' 16x1x3x3 sliced to its first 8x1x3x3 for 'c1:kernel'"]);
});

test('a narrower tensor is refused even with --init-slice', () => {
  const e = thrown(() => initFromFile(tiny(), initWeights(tiny()), { from: tinyFile('narrow.safetensors', iota([4, 1, 3, 3])), map: 'alcli', slice: true }));
  assert.match(e.message, /file 'c1\.weight' is 4x1x3x3, network 'c1:kernel' needs 8x1x3x3/);
});

// --- user YAML maps -----------------------------------------------------------------------------
const userMaps: [string, string, { mapped?: number; unmappedInFile?: string[]; unmappedInNetwork?: number; error?: RegExp }][] = [
  ['globs with captures, torch parameter names', "rules:\n  - {from: 'net.*.weight', to: '$1:weight'}\n  - {from: 'net.*.bias', to: '$1:bias'}\n  - {from: 'net.*.running_*', to: '$1:running_$2'}\n", { mapped: 12, unmappedInFile: ['extra.thing'], unmappedInNetwork: 0 }],
  ['a regex, alcli parameter names, an ignore', "rules:\n  - {regex: 'net\\.(c1|c2)\\.weight', to: '$1:kernel'}\nignore: ['extra.*']\n", { mapped: 2, unmappedInFile: ['b1', 'b2', 'head'].flatMap((n) => (n === 'head' ? ['weight', 'bias'] : ['weight', 'bias', 'running_mean', 'running_var']).map((p) => `net.${n}.${p}`)), unmappedInNetwork: 10 }],
  ['a target the network lacks', "rules:\n  - {from: 'net.c1.weight', to: 'c9:kernel'}\n", { error: /file tensor 'net\.c1\.weight' maps to 'c9:kernel' \(rule from: net\.c1\.weight\), which the network does not have/ }],
  ['two tensors onto one weight', "rules:\n  - {from: 'net.c*.weight', to: 'c1:kernel'}\n", { error: /'net\.c1\.weight' and 'net\.c2\.weight' both map to network weight 'c1:kernel'/ }],
  ['no rules', 'ignore: []\n', { error: /no rules list/ }],
  ['neither a built-in map nor a file', '', { error: /--init-map '.*nowhere\.yaml': not a built-in map \(alcli, twin, torchvision-resnet34, timm-repvgg_a1\) nor a YAML file of rules/ }],
];
for (const [name, yaml, want] of userMaps)
  test(`user map: ${name}`, () => {
    const g = tiny();
    const w = initWeights(g, 5);
    const entries: [string, { shape: number[]; data: Float32Array }][] = [];
    const tp: Record<string, string> = { kernel: 'weight', bias: 'bias', gamma: 'weight', beta: 'bias', mean: 'running_mean', variance: 'running_var' };
    for (const [k, t] of w) entries.push([`net.${k.split(':')[0]}.${tp[k.split(':')[1]]}`, t.shape.length === 4 ? { shape: [3, 2, 0, 1].map((a) => t.shape[a]), data: permute(t.data, t.shape, [3, 2, 0, 1]) } : t]);
    entries.push(['extra.thing', iota([2])]);
    const path = file(`user-${name.replaceAll(' ', '-')}.safetensors`, writeSafetensors(entries));
    const mapPath = join(dir, yaml ? `map-${name.replaceAll(' ', '-')}.yaml` : 'nowhere.yaml');
    if (yaml) writeFileSync(mapPath, yaml);
    if (want.error) {
      const e = thrown(() => initFromFile(g, initWeights(g), { from: path, map: mapPath }));
      assert.instance(e, BadOptionsError);
      assert.match(e.message, want.error);
      return;
    }
    const { weights, report } = initFromFile(g, initWeights(g), { from: path, map: mapPath });
    assert.equal([report.mapped.length, report.unmapped_in_file, report.unmapped_in_network.length], [want.mapped, want.unmappedInFile, want.unmappedInNetwork]);
    for (const m of report.mapped) assert.equal([...weights.get(m.key)!.data], [...w.get(m.key)!.data], m.key);
  });

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
