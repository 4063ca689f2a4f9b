// The export in a browser: an exported network (TF.js graph model + the emitted TypeScript module)
// served with a small page from localhost, an image segmented in headless Chromium, and the
// result compared with the same module's output in Node. Needs Debian's chromium (README).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import ts from 'typescript';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { exportArtifacts } from '../src/export/export.js';
import { loadTf } from '../src/runtime/backend.js';
import { graphModelHandler } from '../src/runtime/tfjs-graph-io.js';
import { rng } from '../src/ir/weights.js';

const CHROMIUM = '/usr/bin/chromium';
const TFJS_ESM = 'node_modules/@tensorflow/tfjs/dist/tf.fesm.min.js';
// inside node_modules so the module's `import '@tensorflow/tfjs'` resolves when Node imports it
mkdirSync('node_modules/.cache', { recursive: true });
const dir = resolve(mkdtempSync('node_modules/.cache/alcli-browser-'));
let server: Server | undefined;
test.after(() => {
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const PAGE = `<!doctype html>
<script type="importmap">{ "imports": { "@tensorflow/tfjs": "/tf.js" } }</script>
<script type="module">
  import * as tf from '@tensorflow/tfjs';
  import { load, predict } from '/model.js';
  window.segment = async (data, shape) => {
    await tf.setBackend('cpu');
    const model = await load('/tfjs/model.json');
    const y = predict(model, tf.tensor3d(data, shape));
    return { backend: tf.getBackend(), shape: y.shape, data: Array.from(await y.data()) };
  };
  window.ready = true;
</script>`;

/** A 70x60 RGB test image: smooth gradients and a bright disk (not a multiple of the stride: predict pads and crops). */
function testImage(h: number, w: number): Float32Array {
  const r = rng(11);
  const out = new Float32Array(h * w * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const disk = (y - 30) ** 2 + (x - 25) ** 2 < 150 ? 1 : 0;
      for (let c = 0; c < 3; c++) out[(y * w + x) * 3 + c] = 0.3 * (y / h) + 0.2 * (x / w) + disk * (0.5 + 0.1 * c) + 0.05 * r.normal();
    }
  return out;
}

test('an exported alnet segments an image in headless Chromium exactly as in Node', async () => {
  assert.ok(existsSync(CHROMIUM), `this test needs Debian's chromium at ${CHROMIUM}: apt-get install -y chromium`);
  const { tf } = await loadTf('cpu');
  const res = await exportArtifacts(
    'architectures/alnet.yaml',
    { output: dir, formats: ['tfjs', 'ts'], opset: 17, seed: 0, tolerance: 1e-4, backend: 'cpu', normalize: { mean: [0.4, 0.4, 0.4], std: [0.3, 0.3, 0.3] }, compile: { size: [64, 64] } },
  );
  assert.ok(res.ok, 'the export verifies');
  const js = ts.transpileModule(readFileSync(join(dir, 'model.ts'), 'utf8'), { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 } }).outputText;
  writeFileSync(join(dir, 'model.js'), js);

  const [h, w] = [70, 60];
  const image = testImage(h, w);
  // Node: the same emitted module, the graph model read from the same files
  const mod = await import(pathToFileURL(join(dir, 'model.js')).href);
  const model = await mod.load(graphModelHandler((p: string) => readFileSync(join(dir, 'tfjs', p))));
  const inNode = (await (mod.predict(model, tf.tensor3d(image, [h, w, 3])) as { data(): Promise<Float32Array> }).data()) as Float32Array;

  const types: Record<string, string> = { '.js': 'text/javascript', '.json': 'application/json', '.bin': 'application/octet-stream', '.html': 'text/html' };
  server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    const file = url === '/' ? undefined : url === '/tf.js' ? TFJS_ESM : join(dir, url);
    if (file && !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': types[file ? extname(file) : '.html'] ?? 'application/octet-stream' });
    res.end(file ? readFileSync(file) : PAGE);
  });
  await new Promise<void>((ok) => server!.listen(0, '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true, undefined, { timeout: 30_000 });
    const out = await page.evaluate(async ([data, shape]) => (window as unknown as { segment: (d: number[], s: number[]) => Promise<{ backend: string; shape: number[]; data: number[] }> }).segment(data, shape), [Array.from(image), [h, w, 3]] as [number[], number[]]);
    assert.equal(errors, []);
    assert.is(out.backend, 'cpu');
    assert.equal(out.shape, [h, w, 1], 'probabilities at the image size (padded to the stride, cropped back)');
    let max = 0;
    for (let i = 0; i < inNode.length; i++) max = Math.max(max, Math.abs(inNode[i] - out.data[i]));
    assert.ok(max <= 1e-5, `browser vs Node: max abs diff ${max}`);
    assert.ok(out.data.every((p) => p >= 0 && p <= 1), 'sigmoid probabilities');
  } finally {
    await browser.close();
  }
});

test.run();
