// A TF.js graph model with float16 weight storage in a browser: served from localhost, loaded with
// tf.loadGraphModel in headless Chromium (its own fetch and its own float16 decoding), run on a
// seeded batch and compared with the same files loaded in Node. Needs Debian's chromium (README);
// browser.test.ts has the float32 export with the TypeScript module.
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Tensor } from '@tensorflow/tfjs';
import { chromium } from 'playwright-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { emitTfjsGraphModel, TFJS_WEIGHT_DIRS, tfjsGraphFiles } from '../src/emit/tfjs-graph.js';
import { exportWeightsFromSpec } from '../src/export/export.js';
import { compile } from '../src/frontend/compile.js';
import { deployForm } from '../src/passes/pipeline.js';
import { loadTf } from '../src/runtime/backend.js';
import { graphModelHandler } from '../src/runtime/tfjs-graph-io.js';
import { randomInput } from '../src/runtime/verify.js';
import { memHost, tinySpec } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const TFJS_ESM = 'node_modules/@tensorflow/tfjs/dist/tf.fesm.min.js';
let server: Server | undefined;
test.after(() => {
  server?.close();
});

const PAGE = `<!doctype html>
<script type="module">
  import * as tf from '/tf.js';
  window.run = async (url, data, shape) => {
    await tf.setBackend('cpu');
    const model = await tf.loadGraphModel(url);
    const y = model.execute(tf.tensor4d(data, shape));
    return { backend: tf.getBackend(), shape: y.shape, data: Array.from(await y.data()) };
  };
  window.ready = true;
</script>`;

test('a float16-weight graph model loads with tf.loadGraphModel in headless Chromium and gives the logits it gives in Node', async () => {
  assert.ok(existsSync(CHROMIUM), `this test needs Debian's chromium at ${CHROMIUM}: apt-get install -y chromium`);
  const { tf } = await loadTf('cpu');
  const c = compile('tiny.yaml', memHost({ 'tiny.yaml': tinySpec({ epochs: 1, deep: true }) })).compiled!;
  const d = deployForm(c.graph, { weights: await exportWeightsFromSpec(tf, c, 0, 2) });
  const dir = TFJS_WEIGHT_DIRS.float16;
  const files = new Map([...tfjsGraphFiles(emitTfjsGraphModel(d.graph, d.weights!, { weightDtype: 'float16' }))].map(([p, b]) => [`/${dir}/${p}`, b]));
  const json = JSON.parse(new TextDecoder().decode(files.get(`/${dir}/model.json`)));
  assert.ok(json.weightsManifest[0].weights.some((w: { quantization?: { dtype: string } }) => w.quantization?.dtype === 'float16'), 'the manifest stores float16');

  const shape: [number, number, number, number] = [2, 32, 32, 1];
  const input = randomInput(shape, 5);
  const model = await tf.loadGraphModel(graphModelHandler((p) => files.get(`/${dir}/${p}`)!));
  const y = model.execute(tf.tensor4d(input, shape)) as Tensor;
  const inNode = (await y.data()) as Float32Array;

  server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    const body = url === '/' ? PAGE : url === '/tf.js' ? readFileSync(TFJS_ESM) : files.get(url);
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': url === '/' ? 'text/html' : url.endsWith('.js') ? 'text/javascript' : url.endsWith('.json') ? 'application/json' : 'application/octet-stream' });
    res.end(body);
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
    type Run = (url: string, d: number[], s: number[]) => Promise<{ backend: string; shape: number[]; data: number[] }>;
    const out = await page.evaluate(async ([url, data, s]) => (window as unknown as { run: Run }).run(url, data, s), [`/${dir}/model.json`, Array.from(input), shape] as [string, number[], number[]]);
    assert.equal(errors, []);
    assert.is(out.backend, 'cpu');
    assert.equal(out.shape, [...y.shape]);
    let max = 0;
    for (let i = 0; i < inNode.length; i++) max = Math.max(max, Math.abs(inNode[i] - out.data[i]));
    // the same float32 arithmetic on the same dequantized weights
    assert.ok(max <= 1e-5, `browser vs Node: max abs diff ${max}`);
  } finally {
    await browser.close();
    model.dispose();
  }
});

test.run();
