// Shared by Kineto's browser tests: a local server for web/, Debian's chromium through playwright-core,
// and page helpers that drive the app the way a user does.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, mkdir, copyFile, access } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SCREENSHOTS = path.join(ROOT, 'build/screenshots');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];
// Few steps keep a test quick.
export const TEST_STEPS = Number(process.env.KINETO_TEST_STEPS ?? 4);
const DEFAULT_WEIGHTS = 'wasm/kineto-world.kin';

// The model the tests load: KINETO_TEST_WEIGHTS (a path under web/), else the page's default model,
// else (before a model is trained) tests/fixtures/tiny.kin copied to web/wasm/, chosen with ?weights=.
export async function testWeights() {
  if (process.env.KINETO_TEST_WEIGHTS) return process.env.KINETO_TEST_WEIGHTS;
  try {
    await access(path.join(ROOT, 'web', DEFAULT_WEIGHTS));
    return DEFAULT_WEIGHTS;
  } catch {
    await copyFile(path.join(ROOT, 'tests/fixtures/tiny.kin'), path.join(ROOT, 'web/wasm/test-tiny.kin'));
    return 'wasm/test-tiny.kin';
  }
}

// The app's URL with the test model; flags such as 'nosw' (no service worker) or 'recorder'.
export async function appUrl(server, ...flags) {
  const weights = await testWeights();
  const params = new URLSearchParams();
  if (weights !== DEFAULT_WEIGHTS) params.set('weights', weights);
  for (const flag of flags) params.set(flag, '');
  const query = params.toString().replace(/=(&|$)/g, '$1');
  return server.url + (query ? '?' + query : '');
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    }).on('error', reject);
  });
}

// Serves web/ as ./build.sh serve does (isolated = true) or without the COOP/COEP headers.
export async function startServer({ isolated = true } = {}) {
  const port = await freePort();
  const args = ['--listen', `tcp://127.0.0.1:${port}`, '--no-clipboard', '--no-port-switching', '--no-request-logging'];
  if (isolated) args.push('--config', path.join(ROOT, 'serve.json'));
  else args.push('--config', path.join(ROOT, 'tests/browser/serve-plain.json'));
  const child = spawn(path.join(ROOT, 'node_modules/.bin/serve'), [...args, path.join(ROOT, 'web')],
    { stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}/`;
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(url)).ok) return { url, close: () => child.kill() };
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error(`the server did not start on ${url}`);
}

// A fresh browser profile each time, so no service worker or cache carries over between tests.
export async function launch() {
  const profile = await mkdtemp(path.join(tmpdir(), 'kineto-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: FLAGS, acceptDownloads: true,
    viewport: { width: 1100, height: 900 },
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
      const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
      const digest = await crypto.subtle.digest('SHA-256', pixels);
      hashes.push([...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join(''));
    }
    return { count, width: canvas.width, height: canvas.height, hashes };
  });
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
