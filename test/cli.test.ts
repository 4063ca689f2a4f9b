// The built CLI end to end (node bin/run.js, so dist/ must be fresh: the runner builds first):
// exit codes 0/2/3, JSON output, the files compile writes, graph and init.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeModel } from '../src/emit/onnx-proto.js';
import { compile } from '../src/frontend/compile.js';
import { OP_KINDS } from '../src/ir/ops.js';
import type { GraphJson } from '../src/render/graph-json.js';
import { fsHost } from './helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'run.js');
const ALNET = 'architectures/alnet.yaml';
const TRAIN_PARAMS = 3_716_577;
const DEPLOY_PARAMS = 3_384_513;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function alcli(args: string[], cwd = ROOT): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', DEBUG: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A user error: the given exit code and never a stack trace. */
function expectExit(r: Run, code: number, stderr?: RegExp): void {
  assert.is(r.code, code, `exit ${r.code}, want ${code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.not.ok(r.stderr.includes('    at '), `stack trace in stderr:\n${r.stderr}`);
  if (stderr) assert.match(r.stderr, stderr);
}

const scratch = mkdtempSync(join(tmpdir(), 'alcli-cli-test-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));
let n = 0;
const tempDir = () => {
  const d = join(scratch, `t${n++}`);
  mkdirSync(d);
  return d;
};

test('--help lists every command quickly enough to matter', () => {
  const r = alcli(['--help']);
  expectExit(r, 0);
  for (const c of ['validate', 'summary', 'compile', 'graph', 'init']) assert.match(r.stdout, new RegExp(`\\n\\s+${c}\\s`));
});

for (const c of ['validate', 'summary', 'compile', 'graph', 'init']) {
  test(`${c} --help shows a description and an example`, () => {
    const r = alcli([c, '--help']);
    expectExit(r, 0);
    assert.match(r.stdout, /DESCRIPTION/);
    assert.match(r.stdout, new RegExp(`EXAMPLES\\n\\s+\\$ alcli ${c} `));
  });
}

const SMALL = `alcli: 1
name: small
input: {channels: 1, size: [32, 32]}
graph:
  a: {op: conv, in: input, out: 1, kernel: 3}
`;

test('validate: ok line per file, exit 0', () => {
  const small = join(tempDir(), 'small.yaml');
  writeFileSync(small, SMALL);
  const r = alcli(['validate', ALNET, small]);
  expectExit(r, 0);
  assert.match(r.stdout, /^ok {2}architectures\/alnet\.yaml \(175 nodes, 3\.72M params\)\n/);
  assert.ok(r.stdout.endsWith(`ok  ${small} (1 node, 9 params)\n`), r.stdout);
});

test('validate: every file in architectures/ (lib/ module libraries included) exits 0', () => {
  const files = ['architectures', 'architectures/lib'].flatMap((d) => readdirSync(join(ROOT, d)).filter((f) => f.endsWith('.yaml')).map((f) => `${d}/${f}`));
  const r = alcli(['validate', ...files]);
  expectExit(r, 0);
  assert.is(r.stdout.split('\n').filter((l) => l.startsWith('ok  ')).length, files.length);
  assert.match(r.stdout, 'ok  architectures/lib/repvgg.yaml (module library: repvgg_block, repvgg_stage)');
});

test('validate: four yes/no/on/off values and an error in a merged node, all five in one run (exit 3)', () => {
  const r = alcli(['validate', 'test/fixtures/errors/yaml11-booleans.yaml']);
  expectExit(r, 3);
  const headers = r.stderr.split('\n').filter((l) => l.includes(': error['));
  assert.equal(
    headers.map((l) => l.replace(/^test\/fixtures\/errors\/yaml11-booleans\.yaml:/, '').replace(/: error\[([\w-]+)\]: .*write (\w+)$/, ' $1 $2').replace(/: error\[([\w-]+)\]: .*$/, ' $1')),
    ['8:42 bad-type false', '9:53 bad-type true', '10:65 bad-type true', '11:53 bad-type false', '15:10 bad-value'],
    r.stderr,
  );
  assert.not.match(r.stderr, /unknown name|needs 'op'/);
});

test('validate --json: exact counts', () => {
  const r = alcli(['validate', ALNET, '--json']);
  expectExit(r, 0);
  const out = JSON.parse(r.stdout);
  assert.is(out.ok, true);
  assert.equal([out.files[0].params, out.files[0].deployParams, out.files[0].nodes], [TRAIN_PARAMS, DEPLOY_PARAMS, 175]);
});

test('a missing file is a spec error naming the file (exit 3)', () => {
  expectExit(alcli(['validate', 'no/such.yaml']), 3, /error\[file-not-found\].*no\/such\.yaml/);
});

const usageErrors: [string, string[], RegExp][] = [
  ['bad --size', ['validate', ALNET, '--size', '12y'], /--size '12y'/],
  ['zero --size', ['summary', ALNET, '--size', '0x512'], /--size/],
  ['--set without train.', ['validate', ALNET, '--set', 'epochs=3'], /expected train\.KEY=VALUE/],
  ['--set unknown key', ['validate', ALNET, '--set', 'train.epoch=3'], /did you mean 'epochs'/],
  ['--set bad value', ['validate', ALNET, '--set', 'train.epochs=abc'], /train\.epochs must be integer/],
  ['--set yes for a bool', ['validate', ALNET, '--set', 'train.augment.dihedral=yes'], /'yes' is a string in YAML 1\.2 \(alcli's YAML\); write true/],
  ['bad --max-params', ['validate', ALNET, '--max-params', 'lots'], /--max-params 'lots'/],
  ['unknown flag', ['validate', ALNET, '--bogus'], /Nonexistent flag: --bogus/],
  ['missing argument', ['summary'], /Missing 1 required arg/],
  ['unknown --format', ['graph', ALNET, '--format', 'svg'], /one of: dot, mermaid/],
  ['--depth 0', ['summary', ALNET, '--depth', '0'], /depth/],
  ['compile without -o', ['compile', ALNET], /Missing required flag/],
  ['unknown command', ['frobnicate'], /command frobnicate not found/],
];
for (const [name, args, stderr] of usageErrors) test(`usage error (exit 2): ${name}`, () => expectExit(alcli(args), 2, stderr));

test('--set before the SPEC arguments does not swallow them', () => {
  const r = alcli(['validate', '--set', 'train.epochs=3', ALNET]);
  expectExit(r, 0);
  assert.match(r.stdout, /^ok {2}architectures\/alnet\.yaml/);
});

test('--max-params below the network: spec error too-large (exit 3)', () => {
  expectExit(alcli(['validate', ALNET, '--max-params', '1M']), 3, /error\[too-large\]/);
});

test('an indivisible --size is a spec error with the fix (exit 3)', () => {
  expectExit(alcli(['validate', ALNET, '--size', '500x500']), 3, /use 512x512/);
});

const BROKEN = `alcli: 1
name: broken
input: {channels: 3, size: [64, 64]}
graph:
  a: {op: conv, in: input, out: 8, kernel: 3}
  b: {op: convv, out: 8, kernel: 3}
  c: {op: add, in: [a, d]}
`;

test('broken spec: file:line:col errors, all of them, no stack, exit 3', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'broken.yaml'), BROKEN);
  writeFileSync(join(dir, 'bad-yaml.yaml'), 'alcli: 1\ngraph: {a: [\n');
  const r = alcli(['validate', 'broken.yaml', 'bad-yaml.yaml'], dir);
  expectExit(r, 3, /broken\.yaml:6:11: error\[unknown-op\]/);
  assert.match(r.stderr, /broken\.yaml:7:\d+: error\[undefined-ref\]/);
  assert.match(r.stderr, /bad-yaml\.yaml:\d+:\d+: error\[yaml-syntax\]/);
  assert.match(r.stderr, /2 of 2 specs failed/);
});

test('broken spec --json: diagnostics with code, message, file, line, col, hint', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'broken.yaml'), BROKEN);
  const r = alcli(['summary', 'broken.yaml', '--json'], dir);
  expectExit(r, 3);
  const out = JSON.parse(r.stdout);
  assert.is(out.ok, false);
  assert.equal(
    { ...out.diagnostics[0], endLine: undefined, endCol: undefined },
    { code: 'unknown-op', message: "unknown op or module 'convv'", file: 'broken.yaml', line: 6, col: 11, endLine: undefined, endCol: undefined, hint: "did you mean 'conv'?" },
  );
});

const sum = (rows: { params: number }[]) => rows.reduce((s, r) => s + r.params, 0);

test('summary --json: totals of both forms, stride, passes, one row per node', () => {
  const r = alcli(['summary', ALNET, '--json']);
  expectExit(r, 0);
  const s = JSON.parse(r.stdout);
  assert.is(s.name, 'alnet');
  assert.equal(s.input, { channels: 3, size: [512, 512] });
  assert.equal(s.stride, [32, 32]);
  assert.is(s.train.params, TRAIN_PARAMS);
  assert.is(s.deploy.params, DEPLOY_PARAMS);
  assert.ok(Number.isInteger(s.train.flops) && Number.isInteger(s.deploy.flops));
  assert.ok(s.train.flops > s.deploy.flops);
  assert.equal(s.passes.map((p: { pass: string }) => p.pass), ['fold-bn', 'fuse-branches', 'dce']);
  assert.is(s.nodes.length, 175);
  assert.is(sum(s.nodes), TRAIN_PARAMS);
});

test('summary --deploy --depth 1 --json: deploy rows aggregated per top-level node', () => {
  const s = JSON.parse(alcli(['summary', ALNET, '--deploy', '--depth', '1', '--json']).stdout);
  assert.is(s.form, 'deploy');
  assert.equal(s.nodes.map((r: { id: string }) => r.id), ['e1', 'e2', 'e3', 'e4', 'e5', 'ctx', 'f3', 'f2', 'f1', 'ctx_up', 'cat', 'head', 'logits']);
  assert.is(sum(s.nodes), DEPLOY_PARAMS);
  assert.is(s.nodes.reduce((t: number, r: { nodes: number }) => t + r.nodes, 0), s.deploy.nodeCount);
});

test('summary text: node table and both totals', () => {
  const r = alcli(['summary', ALNET, '--size', '256x256']);
  expectExit(r, 0);
  assert.match(r.stdout, /^alnet: input 256x256x3, network stride 32/);
  assert.match(r.stdout, /\ne4\/blocks\.3\/dense\s+conv\s+16x16x128\s+147K\s+75\.5M\n/);
  assert.match(r.stdout, /\ntraining\s+3,716,577\s+\(3\.72M\)/);
  assert.match(r.stdout, /\ndeploy\s+3,384,513\s+\(3\.38M\)/);
  assert.match(r.stdout, /passes: fold-bn 48, fuse-branches 22, dce 0/);
});

test('compile: writes the four files; graph.json matches its schema', () => {
  const out = join(tempDir(), 'alnet');
  const r = alcli(['compile', ALNET, '-o', out, '--set', 'train.epochs=7']);
  expectExit(r, 0);
  for (const f of ['spec.resolved.yaml', 'graph.json', 'summary.txt', 'summary.json']) assert.ok(existsSync(join(out, f)), f);
  const schema = JSON.parse(readFileSync(join(ROOT, 'schemas', 'graph.schema.json'), 'utf8'));
  const validate = new Ajv2020({ allErrors: true }).compile(schema);
  const graph: GraphJson = JSON.parse(readFileSync(join(out, 'graph.json'), 'utf8'));
  assert.ok(validate(graph), JSON.stringify(validate.errors?.slice(0, 3)));
  assert.is(graph.nodes.length, 175);
  assert.is(graph.deploy.nodes.length, 66);
  assert.equal(graph.nodes[0].origin[0], { file: ALNET, line: 19, col: 3, endLine: 19, endCol: 5 });
  assert.is(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).deploy.params, DEPLOY_PARAMS);
  assert.match(readFileSync(join(out, 'summary.txt'), 'utf8'), /training\s+3,716,577/);
});

test('compile --emit train-onnx: the training step as one ONNX model at train.crop; a crop off the stride exits 2', () => {
  const out = join(scratch, 'train-onnx');
  const r = alcli(['compile', ALNET, '-o', out, '--emit', 'train-onnx', '--set', 'train.crop=64', '--json']);
  expectExit(r, 0);
  assert.ok(JSON.parse(r.stdout).files.some((f: string) => f.endsWith('train.onnx')));
  const model = decodeModel(new Uint8Array(readFileSync(join(out, 'train.onnx'))));
  const x = model.graph.input.find((i) => i.name === 'x')!;
  assert.equal(x.type.tensor_type.shape.dim.map((d) => d.dim_value ?? d.dim_param), ['N', 3, 64, 64]);
  const outputs = model.graph.output.map((o) => o.name);
  assert.is(outputs[0], 'loss');
  assert.ok(outputs.includes('next/e1/down/dense:kernel') && outputs.includes('next/adam/m/e1/down/dense:kernel') && outputs.includes('next/e1/down/dense_bn:mean'));
  const bad = join(scratch, 'train-onnx-bad');
  expectExit(alcli(['compile', ALNET, '-o', bad, '--emit', 'train-onnx', '--set', 'train.crop=100']), 2, /train\.crop 100x100 is not a multiple of the network's stride 32x32/);
  assert.not.ok(existsSync(bad));
});

test('graph.schema.json lists exactly the ops of the registry', () => {
  const schema = JSON.parse(readFileSync(join(ROOT, 'schemas', 'graph.schema.json'), 'utf8'));
  assert.equal([...schema.$defs.node.properties.op.enum].sort(), [...OP_KINDS].sort());
});

test('compile: spec.resolved.yaml stands alone (no lib/) with overrides and --size applied', () => {
  const out = join(tempDir(), 'o');
  expectExit(alcli(['compile', ALNET, '-o', out, '--set', 'train.epochs=7', '--size', '256x256']), 0);
  const alone = tempDir();
  cpSync(join(out, 'spec.resolved.yaml'), join(alone, 'net.yaml'));
  const text = readFileSync(join(alone, 'net.yaml'), 'utf8');
  assert.not.match(text, /^imports:/m);
  assert.match(text, /^ {2}epochs: 7$/m);
  const s = JSON.parse(alcli(['summary', 'net.yaml', '--json'], alone).stdout);
  assert.equal([s.train.params, s.deploy.params, s.input.size], [TRAIN_PARAMS, DEPLOY_PARAMS, [256, 256]]);
});

test('compile: refuses a non-empty DIR without --force (exit 2), overwrites with it', () => {
  const out = tempDir();
  writeFileSync(join(out, 'notes.txt'), 'mine');
  expectExit(alcli(['compile', ALNET, '-o', out]), 2, /--force/);
  assert.not.ok(existsSync(join(out, 'graph.json')));
  expectExit(alcli(['compile', ALNET, '-o', out, '--force']), 0);
  assert.ok(existsSync(join(out, 'graph.json')));
  assert.is(readFileSync(join(out, 'notes.txt'), 'utf8'), 'mine');
});

test('compile of a broken spec writes nothing (exit 3)', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'broken.yaml'), BROKEN);
  expectExit(alcli(['compile', 'broken.yaml', '-o', 'out'], dir), 3, /error\[unknown-op\]/);
  assert.not.ok(existsSync(join(dir, 'out')));
});

test('graph: dot by default, mermaid on request, collapsed by depth', () => {
  const dot = alcli(['graph', ALNET, '--depth', '1']);
  expectExit(dot, 0);
  assert.match(dot.stdout, /^digraph "alnet" \{/);
  assert.ok(dot.stdout.includes('"e4" [label="{e4|conv x28, bn x41, add x14, relu x14|32x32x128}"'), dot.stdout);
  assert.ok(dot.stdout.includes('"e4" -> "f3";'));
  assert.is((dot.stdout.match(/\[label=/g) ?? []).length, 14); // 13 top-level nodes + input
  const mmd = alcli(['graph', ALNET, '--format', 'mermaid', '--deploy']);
  expectExit(mmd, 0);
  assert.match(mmd.stdout, /^flowchart TD\n/);
  assert.is((mmd.stdout.match(/^\s+n\d+\[/gm) ?? []).length, 67); // 66 deploy nodes + input
});

test('graph -o FILE: the extension picks the format', () => {
  const file = join(tempDir(), 'alnet.mmd');
  expectExit(alcli(['graph', ALNET, '--depth', '2', '-o', file]), 0);
  assert.match(readFileSync(file, 'utf8'), /^flowchart TD\n/);
});

test('init: scaffolds NAME.yaml and its lib files; the result validates', () => {
  const dir = tempDir();
  const r = alcli(['init', 'my-net'], dir);
  expectExit(r, 0);
  assert.match(r.stdout, /alcli validate my-net\.yaml/);
  assert.match(r.stdout, /alcli summary my-net\.yaml/);
  assert.match(readFileSync(join(dir, 'my-net.yaml'), 'utf8'), /^name: my-net$/m);
  assert.ok(existsSync(join(dir, 'lib', 'common.yaml')));
  const v = JSON.parse(alcli(['validate', 'my-net.yaml', '--json'], dir).stdout);
  assert.equal([v.ok, v.files[0].params, v.files[0].deployParams], [true, TRAIN_PARAMS, DEPLOY_PARAMS]);
  expectExit(alcli(['init', 'my-net'], dir), 2, /already exists; use --force/);
  expectExit(alcli(['init', 'my-net', '--force'], dir), 0);
});

for (const template of ['unet-small', 'alnet-multiclass']) {
  test(`init --from ${template} --dir: validates`, () => {
    const dir = tempDir();
    expectExit(alcli(['init', 'tiny', '--from', template, '--dir', 'specs'], dir), 0);
    const r = alcli(['validate', 'specs/tiny.yaml'], dir);
    expectExit(r, 0);
    assert.match(r.stdout, /^ok {2}specs\/tiny\.yaml/);
  });
}

test('init --from an unknown template: usage error with did-you-mean and the list', () => {
  expectExit(alcli(['init', 'x', '--from', 'unet-smal'], tempDir()), 2, /did you mean 'unet-small'\?.*templates: alnet, alnet-multiclass, unet-small/);
});

test('export: every artifact verified from disk, verify.json and MODEL_CARD.md written', () => {
  const out = join(tempDir(), 'exp');
  const r = alcli(['export', ALNET, '-o', out, '--size', '64x64', '--format', 'onnx,triton', '--json']);
  expectExit(r, 0);
  const res = JSON.parse(r.stdout);
  assert.equal(res.files.sort(), ['MODEL_CARD.md', 'model.onnx', 'triton/alnet/1/model.onnx', 'triton/alnet/config.pbtxt', 'verify.json']);
  const verify = JSON.parse(readFileSync(join(out, 'verify.json'), 'utf8'));
  // each ONNX model again at 96x96: alnet takes any size the stride divides
  assert.equal(verify.checks.map((c: { stage: string }) => c.stage.replace(/ \(.*\)/, '')), ['deploy form', 'ONNX', 'ONNX at 96x96', 'Triton repository', 'Triton repository at 96x96']);
  // export's own rule (max abs diff <= 1e-4 x max(1, max |logit|)), and no worse than 1e-3 outright
  assert.ok(verify.checks.every((c: { pass: boolean; maxAbs: number; maxRef: number }) => c.pass && c.maxAbs <= 1e-4 * Math.max(1, c.maxRef) && c.maxAbs < 1e-3), JSON.stringify(verify.checks.map((c: { maxAbs: number }) => c.maxAbs)));
  const card = readFileSync(join(out, 'MODEL_CARD.md'), 'utf8');
  assert.match(card, '| parameters | 3,716,577 (3.72M) | 3,384,513 (3.38M) |');
  assert.match(card, 'not use it for clinical decisions');
});

test('export: a failed check exits 6 and leaves nothing behind', () => {
  const parent = tempDir();
  const r = alcli(['export', ALNET, '-o', join(parent, 'exp'), '--size', '64x64', '--format', 'onnx', '--tolerance', '0']);
  expectExit(r, 6, /check\(s\) failed.*nothing was written/);
  assert.equal(readdirSync(parent), []);
});

const exportUsage: [string, string[], RegExp][] = [
  ['unknown format', ['--format', 'onnx,pdf'], /--format 'onnx,pdf': choose from tfjs, onnx, ts, triton/],
  ['bad tolerance', ['--tolerance', 'tiny'], /--tolerance 'tiny'/],
];
for (const [name, extra, message] of exportUsage) {
  test(`export: ${name} is a usage error (exit 2)`, () => {
    expectExit(alcli(['export', ALNET, '-o', join(tempDir(), 'x'), ...extra]), 2, message);
  });
}

test('export: a non-empty output directory is refused without --force', () => {
  const out = tempDir();
  writeFileSync(join(out, 'keep.txt'), 'mine');
  expectExit(alcli(['export', ALNET, '-o', out, '--size', '64x64']), 2, /not empty; use --force/);
  assert.is(readFileSync(join(out, 'keep.txt'), 'utf8'), 'mine');
});

/** `actual` within 1e-9 relative of `expected` (JSON round-trips doubles exactly; the slack is for the order of operations) */
const near = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) <= 1e-9 * Math.abs(expected), `${what}: ${actual}, expected ${expected}`);

test('bench --mode infer --json: every engine timed, with images/s and GFLOP/s', () => {
  const r = alcli(['bench', ALNET, '--size', '64x64', '--batch', '2', '--runs', '3', '--warmup', '0', '--json']);
  expectExit(r, 0);
  const res = JSON.parse(r.stdout);
  assert.equal([res.size, res.batch], [[64, 64], 2]);
  assert.equal(res.timings.map((t: { engine: string; form: string }) => `${t.engine.split(' (')[0]}/${t.form}`), ['TF.js executor/train', 'TF.js executor/deploy', 'TF.js graph model/deploy', 'ONNX Runtime/deploy']);
  // the throughput is the batch over the median, and GFLOP/s the form's FLOPs (compile's count at 64x64) over it
  const c = compile(ALNET, fsHost, { size: [64, 64] }).compiled!;
  const flops = { train: c.stats.flops, deploy: c.deployStats.flops };
  for (const t of res.timings as { engine: string; form: 'train' | 'deploy'; median_ms: number; min_ms: number; max_ms: number; runs: number; images_per_s: number; gflop_per_s: number }[]) {
    assert.is(t.runs, 3, t.engine);
    assert.ok(t.min_ms > 0 && t.min_ms <= t.median_ms && t.median_ms <= t.max_ms, `${t.engine}: ${t.min_ms} <= ${t.median_ms} <= ${t.max_ms}`);
    near(t.images_per_s, (2 * 1000) / t.median_ms, `${t.engine} ${t.form} images/s`);
    near(t.gflop_per_s, (flops[t.form] * 2) / 1e9 / (t.median_ms / 1000), `${t.engine} ${t.form} GFLOP/s`);
  }
  const [trainExec, deployExec, graphModel] = res.timings.map((t: { median_ms: number }) => t.median_ms);
  near(res.ratios.deploy_vs_train_executor, trainExec / deployExec, 'deploy_vs_train_executor');
  near(res.ratios.graph_model_vs_executor_deploy, graphModel / deployExec, 'graph_model_vs_executor_deploy');
});

test('bench EXPORT_DIR --json: the exported ONNX and graph model timed at their size', () => {
  const out = join(tempDir(), 'exp');
  expectExit(alcli(['export', ALNET, '-o', out, '--size', '64x64', '--format', 'onnx,tfjs']), 0);
  const r = alcli(['bench', out, '--runs', '1', '--warmup', '0', '--json']);
  expectExit(r, 0);
  const res = JSON.parse(r.stdout);
  assert.equal(res.size, [64, 64]);
  assert.equal(res.timings.map((t: { engine: string }) => t.engine.split(' (')[0]), ['ONNX Runtime', 'TF.js graph model']);
  for (const t of res.timings as { engine: string; median_ms: number; runs: number; images_per_s: number }[]) {
    assert.is(t.runs, 1, t.engine);
    assert.ok(t.median_ms > 0, t.engine);
    near(t.images_per_s, (res.batch * 1000) / t.median_ms, `${t.engine} images/s`);
  }
  expectExit(alcli(['bench', tempDir()]), 2, /neither model\.onnx nor tfjs\/model\.json/);
});

test.run();
