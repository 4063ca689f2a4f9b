// Name maps: which tensor of a weights file initializes which alcli weight (`NODE:NAME`).
// A built-in map names, for each network weight it covers, the file tensor it reads (network ->
// file); a user map is YAML rules from file names to network weights (file -> network). Both end as
// one list of pairs (resolveMap), from which init.ts builds its report.
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { IrGraph, IrNode } from '../../ir/graph.js';
import { alcliParam, torchName, torchParam } from '../../ir/torch-names.js';
import { weightKey, weightSpecs } from '../../ir/weights.js';
import { INIT_MAPS, type InitMapName } from '../choices.js';
import { BadOptionsError } from '../errors.js';

/** A built-in map: the file name a network weight reads, or undefined when the map does not cover it. */
type Builtin = { doc: string; fileName(node: IrNode, param: string): string | undefined };

const tp = (node: IrNode, param: string) => torchParam(node.op, param);

/** The PyTorch twin (shared/peers/alnet_torch.py) on architectures/alnet.yaml. */
function twinName(node: IrNode, param: string): string | undefined {
  const p = tp(node, param);
  let m = /^e(\d)\/(down|blocks\.(\d+))\/(dense|one|id)(_bn)?$/.exec(node.id);
  if (m) {
    const block = `stages.${Number(m[1]) - 1}.${m[2] === 'down' ? 0 : Number(m[3]) + 1}`;
    if (m[4] === 'id') return m[5] ? `${block}.identity.${p}` : undefined;
    return `${block}.${m[4]}.${m[5] ? 'bn' : 'conv'}.${p}`;
  }
  if ((m = /^ctx\/a(_bn)?$/.exec(node.id))) return `ctx_a.${m[1] ? 'bn' : 'conv'}.${p}`;
  if (node.id === 'ctx/b') return `ctx_b.${p}`;
  if ((m = /^(f\d)\/cbr\/(conv|bn)$/.exec(node.id))) return `${m[1]}.${m[2]}.${p}`;
  if (node.id === 'head') return `head.${p}`;
  return undefined;
}

const RESNET_PART: Record<string, string> = { c1: 'conv1', b1: 'bn1', c2: 'conv2', b2: 'bn2', proj: 'downsample.0', proj_bn: 'downsample.1' };

/** torchvision's resnet34 state_dict on the encoder of architectures/alnet-resnet34.yaml (e1 = conv1/bn1, e2..e5 = layer1..4). */
function resnetName(node: IrNode, param: string): string | undefined {
  const p = tp(node, param);
  if (node.id === 'e1/conv') return `conv1.${p}`;
  if (node.id === 'e1/bn') return `bn1.${p}`;
  const m = /^e([2-5])\/(first|rest\.(\d+))\/(c1|b1|c2|b2|proj|proj_bn)$/.exec(node.id);
  if (!m) return undefined;
  return `layer${Number(m[1]) - 1}.${m[2] === 'first' ? 0 : Number(m[3]) + 1}.${RESNET_PART[m[4]]}.${p}`;
}

const REPVGG_BRANCH: Record<string, string> = { dense: 'conv_kxk.conv', dense_bn: 'conv_kxk.bn', one: 'conv_1x1.conv', one_bn: 'conv_1x1.bn', id_bn: 'identity' };

/**
 * timm's repvgg_a1 (byobnet RepVggBlock, training form) onto the RepVGG encoder of
 * architectures/alnet.yaml: e1 = stem, e2..e5 = stages.0..3; each block's 3x3 conv+BN (conv_kxk),
 * 1x1 conv+BN (conv_1x1) and identity BN. AL-Net halves A1's widths: load with --init-slice.
 */
function repvggName(node: IrNode, param: string): string | undefined {
  const m = /^e([1-5])\/(down|blocks\.(\d+))\/(dense|dense_bn|one|one_bn|id_bn)$/.exec(node.id);
  if (!m) return undefined;
  const stage = Number(m[1]);
  const block = m[2] === 'down' ? 0 : Number(m[3]) + 1;
  if (stage === 1) return block === 0 ? `stem.${REPVGG_BRANCH[m[4]]}.${tp(node, param)}` : undefined;
  return `stages.${stage - 2}.${block}.${REPVGG_BRANCH[m[4]]}.${tp(node, param)}`;
}

export const BUILTIN_MAPS: Record<InitMapName, Builtin> = {
  alcli: { doc: "alcli's own PyTorch naming (alcli export --format safetensors): every weight, node path with '.', OIHW kernels", fileName: (node, param) => torchName(node.id, node.op, param) },
  twin: { doc: 'the PyTorch twin shared/peers/alnet_torch.py (its state_dict) onto architectures/alnet.yaml: every weight', fileName: twinName },
  'torchvision-resnet34': { doc: "torchvision's resnet34 state_dict onto architectures/alnet-resnet34.yaml's encoder (e1..e5); fc is left out", fileName: resnetName },
  'timm-repvgg_a1': { doc: "timm's repvgg_a1 (training form) onto architectures/alnet.yaml's encoder (e1 = stem, e2..e5 = stages); AL-Net's halved widths need --init-slice; head.fc is left out", fileName: repvggName },
};

/** One file tensor -> one network weight. */
export interface MapPair {
  file: string;
  key: string;
}

/** What a map makes of a file and a network, before shapes are looked at. */
export interface ResolvedMap {
  pairs: MapPair[];
  /** network weights the map does not cover: they keep their fresh values */
  unmappedInNetwork: string[];
  /** file tensors no pair reads */
  unmappedInFile: string[];
  /** file tensors left out on purpose (BatchNorm's num_batches_tracked, a user map's ignore) */
  ignored: string[];
  /** sentences: a weight the map names that the file lacks, a rule's target that the network lacks, two tensors onto one weight */
  errors: string[];
}

interface UserRule {
  re: RegExp;
  to: string;
  text: string;
}

/** A glob over names whose segments `sep` separates (dotted by default): `*` one segment (no `sep`), `**` any run; each is a capture ($1, $2, ...). */
export function globRegExp(glob: string, sep = '.'): RegExp {
  const notSep = `([^${sep.replace(/[\\\]^-]/g, '\\$&')}]*)`;
  let src = '';
  for (let i = 0; i < glob.length; i++) {
    if (glob[i] === '*' && glob[i + 1] === '*') {
      src += '(.*)';
      i++;
    } else if (glob[i] === '*') src += notSep;
    else src += glob[i].replace(/[\\^$.|?+()[\]{}]/g, '\\$&');
  }
  return new RegExp(`^${src}$`);
}

/**
 * A user map file: YAML `{rules: [{from: GLOB | regex: RE, to: 'NODE:PARAM'}], ignore: [GLOB]}`.
 * `to` may use $1.. (the glob's stars or the regex's groups); PARAM is alcli's (kernel, gamma, ...)
 * or PyTorch's (weight, bias, running_mean, running_var). The first rule that matches a name wins.
 * Throws BadOptionsError on a malformed file.
 */
export function readUserMap(path: string): { rules: UserRule[]; ignore: RegExp[] } {
  if (!existsSync(path)) throw new BadOptionsError(`--init-map '${path}': not a built-in map (${INIT_MAPS.join(', ')}) nor a YAML file of rules`);
  let doc: unknown;
  try {
    doc = parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new BadOptionsError(`--init-map ${path}: ${(e as Error).message}`);
  }
  const bad = (why: string) => new BadOptionsError(`--init-map ${path}: ${why}; expected {rules: [{from: GLOB or regex: RE, to: 'NODE:PARAM'}], ignore: [GLOB]}`);
  if (!doc || typeof doc !== 'object' || !Array.isArray((doc as { rules?: unknown }).rules)) throw bad('no rules list');
  const { rules, ignore = [] } = doc as { rules: unknown[]; ignore?: unknown };
  if (!Array.isArray(ignore) || ignore.some((g) => typeof g !== 'string')) throw bad('ignore must be a list of globs');
  return {
    rules: rules.map((r, i) => {
      const { from, regex, to } = (r ?? {}) as { from?: unknown; regex?: unknown; to?: unknown };
      if (typeof to !== 'string' || !to.includes(':')) throw bad(`rule ${i + 1} needs to: 'NODE:PARAM'`);
      if (typeof from === 'string') return { re: globRegExp(from), to, text: `from: ${from}` };
      if (typeof regex !== 'string') throw bad(`rule ${i + 1} needs from (a glob) or regex`);
      try {
        return { re: new RegExp(`^(?:${regex})$`), to, text: `regex: ${regex}` };
      } catch (e) {
        throw bad(`rule ${i + 1}: ${(e as Error).message}`);
      }
    }),
    ignore: (ignore as string[]).map((g) => globRegExp(g)),
  };
}

/** BatchNorm's step counter: no alcli weight holds it. */
const isStepCounter = (name: string) => name.endsWith('.num_batches_tracked');

/**
 * Pairs a file's tensor names with a graph's weights by map `map`: a built-in name (BUILTIN_MAPS)
 * or the path of a user YAML map. Errors are collected, not thrown (init.ts throws them with the
 * shape mismatches).
 */
export function resolveMap(g: IrGraph, fileNames: readonly string[], map: string): ResolvedMap {
  const inFile = new Set(fileNames);
  const specs = weightSpecs(g);
  const pairs: MapPair[] = [];
  const errors: string[] = [];
  const unmappedInNetwork: string[] = [];
  const ignored = fileNames.filter(isStepCounter);
  const builtin = (BUILTIN_MAPS as Record<string, Builtin | undefined>)[map];
  if (builtin) {
    for (const { node, spec } of specs) {
      const key = weightKey(node.id, spec.name);
      const file = builtin.fileName(node, spec.name);
      if (file === undefined) unmappedInNetwork.push(key);
      else if (!inFile.has(file)) errors.push(`network weight '${key}' reads '${file}' (map ${map}), which the file does not have`);
      else pairs.push({ file, key });
    }
  } else {
    const user = readUserMap(map);
    const nodes = new Map(specs.map(({ node }) => [node.id, node]));
    const keys = new Set(specs.map(({ node, spec }) => weightKey(node.id, spec.name)));
    for (const file of fileNames) {
      if (isStepCounter(file)) continue;
      if (user.ignore.some((re) => re.test(file))) {
        ignored.push(file);
        continue;
      }
      const rule = user.rules.find((r) => r.re.test(file));
      if (!rule) continue;
      const target = file.replace(rule.re, rule.to);
      const at = target.lastIndexOf(':');
      const [nodeId, param] = [target.slice(0, at), target.slice(at + 1)];
      const node = nodes.get(nodeId);
      const key = node ? weightKey(nodeId, alcliParam(node.op, param)) : target;
      if (!keys.has(key)) errors.push(`file tensor '${file}' maps to '${target}' (rule ${rule.text}), which the network does not have`);
      else pairs.push({ file, key });
    }
    const covered = new Set(pairs.map((p) => p.key));
    for (const k of keys) if (!covered.has(k)) unmappedInNetwork.push(k);
  }
  const byKey = new Map<string, string>();
  for (const p of pairs) {
    const other = byKey.get(p.key);
    if (other) errors.push(`'${other}' and '${p.file}' both map to network weight '${p.key}'`);
    byKey.set(p.key, p.file);
  }
  const read = new Set([...pairs.map((p) => p.file), ...ignored]);
  return { pairs, unmappedInNetwork, unmappedInFile: fileNames.filter((f) => !read.has(f)), ignored, errors };
}
