// A 128x128 model (4-level decoder, 16x16 latents): the page and <kineto-clip> take the size from the
// weights. The page (its threads set by ?threads=3) plays the native CLI's frames at 128x128, its
// previews and thumbnail are that size, and its exports are multiples of it; the element shows the
// CLI's frames at 128x128.
// The model is KINETO_TEST_WEIGHTS_128 (a path under web/), else a full-size random one that
// bench/make_model.py --size 128 writes to web/lib/wasm/ (PyTorch; kept for later runs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseGIF } from 'gifuct-js';
import { unzipSync } from 'fflate';
import { PNG } from 'pngjs';
import { CSP, ROOT, startServer, launch, watch, openApp, generate, clipFrames, formSettings, nativeHashes,
  writeFixtures } from './helpers.mjs';

const WEB = path.join(ROOT, 'web');
const SIZE = 128;
const STEPS = 2;

function model128() {
  if (process.env.KINETO_TEST_WEIGHTS_128) {
    const url = '/' + process.env.KINETO_TEST_WEIGHTS_128.replace(/^\//, '');
    return { url, file: path.join(WEB, url) };
  }
  const file = path.join(WEB, 'lib/wasm/test-random128.kin');
  const maker = path.join(ROOT, 'bench/make_model.py');
  if (!fs.existsSync(file) || fs.statSync(file).mtimeMs < fs.statSync(maker).mtimeMs) {
    execFileSync('/usr/bin/python3', [maker, '--size', String(SIZE), '--out', file], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return { url: '/lib/wasm/test-random128.kin', file };
}

let server, browser, model;
before(async () => {
  model = model128();
  [server, browser] = await Promise.all([startServer(), launch()]);
});
after(async () => { await browser?.close(); server?.close(); });

async function exportFile(page, button, scale) {
  await page.selectOption('#export-scale', String(scale));
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: 120_000 }), page.click(button)]);
  return readFile(await download.path());
}

test('the page: a 128x128 model\'s clip, previews, thumbnail and exports at its size', async () => {
  const page = await browser.context.newPage();
  const log = watch(browser.context, page);
  // every preview's size as the player's canvas shows it
  await browser.context.addInitScript(() => {
    window.previewSizes = [];
    new MutationObserver(() => {
      const badge = document.getElementById('preview-badge');
      const canvas = document.getElementById('screen');
      if (badge && !badge.hidden && /Preview/.test(badge.textContent)) window.previewSizes.push([canvas.width, canvas.height]);
    }).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
  });
  await openApp(page, `${server.url}app/?nosw&threads=3&weights=${encodeURIComponent(model.url)}`);
  assert.equal(await page.textContent('#mode'), 'simd+threads (3)', '?threads=3 sets the engine\'s threads');
  await generate(page, { prompt: 'a red ball moving left on black', seed: 7, steps: STEPS });
  const clip = await clipFrames(page);
  assert.deepEqual([clip.width, clip.height], [SIZE, SIZE]);
  assert.deepEqual(clip.hashes, nativeHashes(await formSettings(page), model.file), 'the native CLI\'s frames');
  const previews = await page.evaluate(() => window.previewSizes);
  assert.ok(previews.length > 0, 'previews were shown');
  for (const size of previews) assert.deepEqual(size, [SIZE, SIZE], 'a preview is a full-size frame');
  assert.deepEqual(await page.evaluate(() => {
    const thumb = document.querySelector('#history-list canvas');
    return [thumb.width, thumb.height];
  }), [SIZE, SIZE], 'the thumbnail');

  assert.equal(await page.textContent('#export-scale option[value="2"]'), '2× (256×256)', 'export sizes in pixels');
  const gif = await exportFile(page, '#export-gif', 2);
  const { lsd } = parseGIF(gif.buffer.slice(gif.byteOffset, gif.byteOffset + gif.length));
  assert.deepEqual([lsd.width, lsd.height], [2 * SIZE, 2 * SIZE], 'the GIF at 2x');
  const zip = unzipSync(new Uint8Array(await exportFile(page, '#export-zip', 1)));
  const pngs = Object.keys(zip).sort();
  assert.equal(pngs.length, clip.count);
  const first = PNG.sync.read(Buffer.from(zip[pngs[0]]));
  assert.deepEqual([first.width, first.height], [SIZE, SIZE], 'the PNG frames at 1x');
  assert.deepEqual(log.errors, []);
  await page.close();
});

test('<kineto-clip>: a 128x128 model\'s frames, the native CLI\'s', async () => {
  const fixtures = writeFixtures();
  const weights = path.relative(path.join(WEB, fixtures.base), model.file);
  fs.writeFileSync(path.join(fixtures.dir, 'clip128.js'), `import { init } from '../../kineto.js';
import '../../kineto-clip.js';
init({ weightsUrl: new URL(${JSON.stringify(weights)}, import.meta.url) }).catch(() => {});
`);
  fs.writeFileSync(path.join(fixtures.dir, 'clip128.html'), `<!doctype html><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}"><title>128x128</title>
<script type="module" src="clip128.js"></script>
<kineto-clip id="big" prompt="a blue square moving up" seed="5" steps="${STEPS}"></kineto-clip>
`);
  const page = await browser.context.newPage();
  await page.goto(server.url + fixtures.base + 'clip128.html');
  await page.waitForFunction(() => {
    const el = document.getElementById('big');
    return el.shadowRoot.querySelector('.status.error') || (el.frames.length > 0 && !el.controller);
  }, null, { timeout: 120_000 });
  const shown = await page.evaluate(async () => {
    const el = document.getElementById('big');
    const canvas = el.shadowRoot.querySelector('canvas');
    return { status: el.shadowRoot.querySelector('.status').textContent, width: canvas.width, height: canvas.height,
      hashes: await Promise.all(el.frames.map(sha256Hex)) };
  });
  assert.equal(shown.status, '');
  assert.deepEqual([shown.width, shown.height], [SIZE, SIZE]);
  assert.deepEqual(shown.hashes, nativeHashes({ prompt: 'a blue square moving up', seed: 5, steps: STEPS }, model.file));
  await page.close();
});
