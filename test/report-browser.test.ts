// report.html in a real browser: the fixture study's page opened from disk (file://) in headless
// Chromium (Debian's, as test/browser.test.ts launches it), with no console error, no page error and
// no request beyond the file itself, both charts laid out, and a full-page screenshot taken.
// REPORT_SCREENSHOT=path keeps a copy of the screenshot.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { renderReportHtml } from '../src/report/render.js';
import { fixtureReport } from './fixtures/report-study.js';

const CHROMIUM = '/usr/bin/chromium';
const dir = mkdtempSync(join(tmpdir(), 'alcli-report-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('report.html opens from disk in headless Chromium: no errors, no requests, charts laid out, screenshot', async () => {
  assert.ok(existsSync(CHROMIUM), `this test needs Debian's chromium at ${CHROMIUM}: apt-get install -y chromium`);
  const file = join(dir, 'report.html');
  writeFileSync(file, await renderReportHtml(fixtureReport()));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => !r.url().startsWith('data:') && requests.push(r.url()));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    assert.equal(errors, []);
    assert.equal(requests, [pathToFileURL(file).href], 'the page loads nothing but itself');
    const svgs = await page.$$eval('svg', (els) => els.map((e) => e.getBoundingClientRect()).map((r) => [r.width, r.height]));
    assert.is(svgs.length, 2);
    assert.ok(svgs.every(([w, h]) => w > 200 && h > 150), `charts laid out: ${JSON.stringify(svgs)}`);
    const broken = await page.$$eval('img', (els) => (els as HTMLImageElement[]).filter((i) => !i.complete || i.naturalWidth === 0).length);
    assert.is(broken, 0, 'every overlay image decodes');
    const shot = join(dir, 'report.png');
    await page.screenshot({ path: shot, fullPage: true });
    const png = readFileSync(shot);
    assert.ok(png.length > 10_000 && png.subarray(1, 4).toString() === 'PNG', `screenshot ${png.length} bytes`);
    if (process.env.REPORT_SCREENSHOT) copyFileSync(shot, process.env.REPORT_SCREENSHOT);
  } finally {
    await browser.close();
  }
});

test.run();
