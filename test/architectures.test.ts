// Every network of the paper compiles, and its parameter counts are pinned. The train-form counts
// were checked against PyTorch twins of each spec (alnet's against ../shared/peers/alnet_torch.py).
import { readdirSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile } from '../src/frontend/compile.js';
import { renderDiagnostics } from '../src/frontend/diagnostics.js';
import { verifyIr } from '../src/passes/verify-ir.js';
import { fsHost } from './helpers.js';

// spec, train params, deploy params, deploy GFLOP at 512x512
const pinned: [string, number, number, number][] = [
  ['alnet', 3_716_577, 3_384_513, 14.88],
  ['alnet-resnet34', 22_006_561, 21_997_697, 50.59],
  ['alnet-aspp', 6_011_489, 5_678_785, 16.05],
  ['alnet-udecoder', 3_910_561, 3_578_273, 18.51],
  ['unet-repvgg', 4_455_969, 4_123_745, 14.44],
  ['deeplabv3plus', 26_711_201, 26_700_593, 109.1],
  ['cenet', 31_889_752, 31_879_252, 53.67],
  ['unetpp', 9_163_329, 9_156_033, 276.89],
  ['pyconvunet', 5_772_833, 5_769_889, 85.84],
];

test('every spec in architectures/ is pinned here', () => {
  const files = readdirSync('architectures').filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, '')).sort();
  assert.equal(files, pinned.map((p) => p[0]).sort());
});

for (const [name, train, deploy, gflop] of pinned) {
  test(`${name}: ${train} params to train, ${deploy} deployed, ${gflop} GFLOP at 512x512`, () => {
    const r = compile(`architectures/${name}.yaml`, fsHost, { size: [512, 512] });
    assert.ok(r.compiled, renderDiagnostics(r.diagnostics, r.sources));
    const c = r.compiled!;
    assert.is(c.stats.params, train);
    assert.is(c.deployStats.params, deploy);
    assert.is(Math.round(c.deployStats.flops / 1e7) / 100, gflop);
    assert.equal(c.deploy.nodes.find((n) => n.id === c.deploy.output.node)!.shape, { h: 512, w: 512, c: 1 });
    assert.equal(verifyIr(c.graph), []);
    assert.equal(verifyIr(c.deploy), []);
    assert.ok(compile(`architectures/${name}.yaml`, fsHost, { size: [256, 256] }).compiled, 'compiles at the training crop too');
  });
}

test('alnet matches the PyTorch twin: FLOPs within 2 % of its 14.75 GFLOP (convs only, deploy form)', () => {
  const c = compile('architectures/alnet.yaml', fsHost, { size: [512, 512] }).compiled!;
  assert.ok(Math.abs(c.deployStats.flops / 1e9 - 14.747) / 14.747 < 0.02);
  assert.equal(c.stride, [32, 32]);
  assert.equal(Object.fromEntries(c.passes.map((p) => [p.pass, p.rewrites])), { 'fold-bn': 48, 'fuse-branches': 22, dce: 0 });
});

test.run();
