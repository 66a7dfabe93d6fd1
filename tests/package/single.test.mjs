// The single-file page (./build.sh single -> build/kineto.html) opened from disk: it starts on one
// thread, generates the WebAssembly engine's very frames, plays, exports a GIF, takes a model file,
// and requests nothing but itself.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseGIF, decompressFrames } from 'gifuct-js';
import { launch, watch, appStarted, generate, clipFrames, formSettings, TEST_STEPS, ROOT } from '../browser/helpers.mjs';
import { Engine } from '../../web/lib/kineto-engine.js';
import { loadModule, runGeneration, sha256, stopThreads } from '../node/load-engine.mjs';

const FILE = path.join(ROOT, 'build/kineto.html');
const MAX_BYTES = 12 * 1024 * 1024;
const VERSION = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); stopThreads(); });

test('build/kineto.html is one file under 12 MB', () => {
  assert.ok(fs.existsSync(FILE), 'build/kineto.html is missing: run ./build.sh single');
  const bytes = fs.statSync(FILE).size;
  assert.ok(bytes < MAX_BYTES, `${bytes} bytes`);
});

test('from file://: generate, play, export a GIF, with no request but the page itself', async () => {
  const url = pathToFileURL(FILE).href;
  const page = await browser.context.newPage();
  const log = watch(browser.context, page);
  await page.goto(url);
  await appStarted(page);
  assert.equal(await page.textContent('#mode'), 'simd', 'one thread: a file:// page is not cross-origin isolated');
  assert.equal(await page.textContent('#version'), VERSION);

  await generate(page, { prompt: 'a red ball moving left on black', seed: 7, steps: TEST_STEPS });
  const clip = await clipFrames(page);
  const settings = await formSettings(page);
  const engine = new Engine(await loadModule('simd'), fs.readFileSync(path.join(ROOT, 'weights/kineto-world.kin')));
  const expected = runGeneration(engine, settings).frames.map(sha256);
  assert.deepEqual(clip.hashes, expected, `the WebAssembly engine's frames for ${JSON.stringify(settings)}`);
  assert.ok(new Set(clip.hashes).size > 1, 'frames differ: the clip moves');

  await page.click('#play');
  const first = await page.textContent('#frame-label');
  await page.waitForFunction((first) => document.getElementById('frame-label').textContent !== first, first);
  await page.click('#play');

  await page.selectOption('#export-scale', '2');
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: 120_000 }), page.click('#export-gif')]);
  const bytes = fs.readFileSync(await download.path());
  const frames = decompressFrames(parseGIF(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)), true);
  assert.equal(frames.length, clip.count);
  assert.deepEqual([frames[0].dims.width, frames[0].dims.height], [clip.width * 2, clip.height * 2]);

  // A model file from the device replaces the inline one, with the same inline worker.
  await page.setInputFiles('#model-file', path.join(ROOT, 'tests/fixtures/tiny.kin'));
  await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state));
  assert.match(await page.textContent('#status'), /Using the model file tiny\.kin/);

  const others = log.requests.filter((u) => u !== url && !/^(blob|data):/.test(u));
  assert.deepEqual(others, [], 'no request but the page itself');
  assert.deepEqual(log.csp, [], 'no Content-Security-Policy violation');
  assert.deepEqual(log.errors, [], 'no error in the console');
  await page.close();
});
