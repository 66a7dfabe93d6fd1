// The one helper module of Kineto's browser suites (tests/browser, tests/embed): a local server for
// web/, Debian's chromium through playwright-core, page helpers that drive the app the way a user
// does, frame hashes checked against the native CLI's, and the embedding fixtures.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { mkdtemp, rm, mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { ROOT, WEB, WASM, TINY, sha256, nativeFrames } from '../node/load-engine.mjs';

export { ROOT, sha256 };
export const SCREENSHOTS = path.join(ROOT, 'build/screenshots');
export const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'";
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];
// Few steps keep a test quick.
export const TEST_STEPS = Number(process.env.KINETO_TEST_STEPS ?? 4);
const DEFAULT_WEIGHTS = '/lib/wasm/kineto-world.kin';   // the library's default model, as served

// The model the tests load, as {url (path on the server), file (on disk, for the native CLI)}:
// KINETO_TEST_WEIGHTS (a path under web/), else the library's default model, else (before a model
// is trained) tests/fixtures/tiny.kin copied to web/lib/wasm/, chosen with ?weights=.
export function testWeights() {
  const chosen = process.env.KINETO_TEST_WEIGHTS ?? DEFAULT_WEIGHTS;
  const url = '/' + chosen.replace(/^\//, '');
  if (fs.existsSync(path.join(WEB, url))) return { url, file: path.join(WEB, url) };
  fs.copyFileSync(TINY, path.join(WASM, 'test-tiny.kin'));
  return { url: '/lib/wasm/test-tiny.kin', file: path.join(WASM, 'test-tiny.kin') };
}

// The page's URL with the test model; flags such as 'nosw' (no service worker) or 'recorder'.
export function appUrl(server, ...flags) {
  const { url } = testWeights();
  const params = new URLSearchParams();
  if (url !== DEFAULT_WEIGHTS) params.set('weights', url);
  for (const flag of flags) params.set(flag, '');
  const query = params.toString().replace(/=(&|$)/g, '$1');
  return server.url + 'app/' + (query ? '?' + query : '');
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    }).on('error', reject);
  });
}

// Serves web/ as ./build.sh serve does (serve.json: COOP/COEP, / redirects to the page), without
// those headers (isolated: false), or with another config file under tests/.
export async function startServer({ isolated = true, config } = {}) {
  const port = await freePort();
  const file = config ? path.join(ROOT, 'tests', config)
    : path.join(ROOT, isolated ? 'serve.json' : 'tests/browser/serve-plain.json');
  const child = spawn(path.join(ROOT, 'node_modules/.bin/serve'), ['--listen', `tcp://127.0.0.1:${port}`, '--no-clipboard',
    '--no-port-switching', '--no-request-logging', '--config', file, WEB], { stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}/`;
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(url + 'lib/kineto.js')).ok) return { url, close: () => child.kill() };
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error(`the server did not start on ${url}`);
}

// A fresh browser profile each time, so no service worker or cache carries over between tests.
// Every page gets window.sha256Hex(bytes), so tests compare frames by their hashes.
export async function launch() {
  const profile = await mkdtemp(path.join(tmpdir(), 'kineto-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: FLAGS, acceptDownloads: true,
    viewport: { width: 1100, height: 900 },
  });
  await context.addInitScript(() => {
    window.sha256Hex = async (bytes) => [...new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))]
      .map((b) => b.toString(16).padStart(2, '0')).join('');
  });
  return { context, close: async () => { await context.close(); await rm(profile, { recursive: true, force: true }); } };
}

// Records what a page does that a test may assert on: every request, errors, CSP violations.
export function watch(context, page) {
  const log = { requests: [], errors: [], csp: [] };
  context.on('request', (r) => log.requests.push(r.url()));
  page.on('pageerror', (e) => log.errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/favicon/.test(m.text())) log.errors.push(m.text());
    if (/Content Security Policy/i.test(m.text())) log.csp.push(m.text());
  });
  return log;
}

export async function openApp(page, url) {
  await page.goto(url);
  await appStarted(page);
}

// Waits for the page's engine to start (after a goto or a reload); throws with the status if it failed.
export async function appStarted(page) {
  await page.waitForFunction(() => ['ready', 'running', 'done', 'error'].includes(document.body.dataset.state), null,
    { timeout: 60_000 });
  const state = await page.evaluate(() => document.body.dataset.state);
  if (state === 'error') throw new Error(`the app did not start: ${await page.textContent('#status')}`);
}

export async function fillSettings(page, { prompt, negativePrompt = '', seed, steps = TEST_STEPS, guidance, renoise,
  frames }) {
  await page.fill('#prompt', prompt);
  await page.fill('#negative', negativePrompt);
  if (seed !== undefined) await page.fill('#seed', String(seed));   // typing a seed locks it
  await page.fill('#steps', String(steps));
  if (guidance !== undefined) await page.fill('#guidance', String(guidance));
  if (renoise !== undefined) await page.fill('#renoise', String(renoise));
  if (frames !== undefined) await page.fill('#frames', String(frames));
}

// Waits until the app leaves 'running'; returns the final state.
export async function waitIdle(page, timeout = 300_000) {
  await page.waitForFunction(() => document.body.dataset.state !== 'running', null, { timeout, polling: 100 });
  return page.evaluate(() => document.body.dataset.state);
}

// Fills the form, clicks Generate and waits for that generation to end; throws unless it is 'done'.
export async function generate(page, settings) {
  await fillSettings(page, settings);
  const runs = await page.evaluate(() => Number(document.body.dataset.runs ?? 0));
  await page.click('#generate');
  await page.waitForFunction((runs) => Number(document.body.dataset.runs ?? 0) > runs, runs,
    { timeout: 300_000, polling: 50 });
  const state = await page.evaluate(() => document.body.dataset.state);
  if (state !== 'done') throw new Error(`generation ended '${state}': ${await page.textContent('#status')}`);
}

// Steps the player through every frame (as the scrubber does) and hashes each frame's pixels.
export function clipFrames(page) {
  return page.evaluate(async () => {
    const scrubber = document.getElementById('scrubber');
    const canvas = document.getElementById('screen');
    const context = canvas.getContext('2d');
    const count = Number(scrubber.max) + 1;
    const hashes = [];
    for (let i = 0; i < count; i++) {
      scrubber.value = i;
      scrubber.dispatchEvent(new Event('input'));
      hashes.push(await window.sha256Hex(context.getImageData(0, 0, canvas.width, canvas.height).data));
    }
    return { count, width: canvas.width, height: canvas.height, hashes };
  });
}

// The settings of the page's form as generate() received them (the model's defaults filled in).
export function formSettings(page) {
  return page.evaluate(() => {
    const value = (id) => document.getElementById(id).value.trim();
    return { prompt: value('prompt'), negativePrompt: value('negative'), seed: Number(value('seed')),
      steps: Number(value('steps')), guidance: Number(value('guidance')), renoise: Number(value('renoise')),
      frames: Number(value('frames')) };
  });
}

// SHA-256 of each RGBA frame the native CLI (build/kineto) makes for these settings and weights.
export function nativeHashes(settings, weightsFile) {
  return nativeFrames(settings, { weights: weightsFile }).map(sha256);
}

export async function screenshot(page, name) {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

export function assertSameOrigin(log, url) {
  const origin = new URL(url).origin;
  const foreign = log.requests.filter((u) => !u.startsWith(origin) && !/^(data|blob):/.test(u));
  if (foreign.length) throw new Error(`requests outside ${origin}: ${foreign.join(', ')}`);
}

// ---- The embedding fixtures: pages and files written into web/lib/wasm/embed-test/ (build output,
// not tracked), so the server serves them from the same origin as the library.

// Writes the fixtures and returns their paths under web/.
export function writeFixtures() {
  const dir = path.join(WASM, 'embed-test');
  fs.mkdirSync(dir, { recursive: true });
  const tiny = fs.readFileSync(TINY);
  fs.writeFileSync(path.join(dir, 'tiny.kin'), tiny);
  const damaged = Buffer.from(tiny);
  damaged[damaged.length >> 1] ^= 0x10;
  fs.writeFileSync(path.join(dir, 'damaged.kin'), damaged);
  // An empty page under the strict policy; tests import /lib/kineto.js into it.
  fs.writeFileSync(path.join(dir, 'blank.html'),
    `<!doctype html><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${CSP}"><title>blank</title>`);
  // The real worker, except that a prompt containing "crash" kills it and one containing "trap"
  // makes the engine trap at its second step, as an out-of-bounds access in WebAssembly would.
  fs.writeFileSync(path.join(dir, 'crash-worker.js'), `import { Engine } from '../../kineto-engine.js';
import '../../worker.js';
const realStep = Engine.prototype.step;
let prompt = '';
Engine.prototype.step = function () {
  if (prompt.includes('trap') && this.stepsDone() === 1) throw new WebAssembly.RuntimeError('memory access out of bounds');
  return realStep.call(this);
};
const real = self.onmessage;
self.onmessage = (event) => {
  if (event.data.type === 'generate') prompt = event.data.prompt;
  if (event.data.type === 'generate' && event.data.prompt.includes('crash')) setTimeout(() => { throw new Error('simulated crash'); });
  else real(event);
};
`);
  // Two clips on a page that first points Kineto at the tiny model.
  fs.writeFileSync(path.join(dir, 'clips.html'), `<!doctype html><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}"><title>clips</title>
<script type="module" src="clips.js"></script>
<kineto-clip id="one" prompt="a red ball moving left" seed="7" steps="2" autoplay loop controls></kineto-clip>
<kineto-clip id="two" prompt="a blue square" seed="8" steps="2" controls></kineto-clip>
<kineto-clip id="bad" prompt="a red ball" steps="500"></kineto-clip>
`);
  fs.writeFileSync(path.join(dir, 'clips.js'), `import { init } from '../../kineto.js';
import '../../kineto-clip.js';
init({ weightsUrl: new URL('tiny.kin', import.meta.url) }).catch(() => {});   // the clips show any failure
`);
  fs.writeFileSync(path.join(dir, 'frame.html'), `<!doctype html><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}"><title>frame</title>
<iframe id="frame" src="clips.html" width="600" height="400"></iframe>
`);
  return { dir, base: 'lib/wasm/embed-test/', tiny: 'lib/wasm/embed-test/tiny.kin' };
}
