// <kineto-clip> in Chromium under a strict Content-Security-Policy: clips render the native CLI's
// frames and play, share one worker, regenerate on attribute changes, show errors as text, work in an
// iframe; the examples load.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, startServer, launch, watch, writeFixtures, nativeHashes } from '../browser/helpers.mjs';

const fixtures = writeFixtures();
let server, browser;

before(async () => {
  [server, browser] = await Promise.all([startServer({ isolated: true }), launch()]);
});
after(async () => {
  await browser?.close();
  server?.close();
});

// In the page: the clip's status text, and a digest of its canvas (0 when blank).
const READ_CLIP = `(id, root = document) => {
  const el = root.getElementById(id);
  const canvas = el.shadowRoot.querySelector('canvas');
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let sum = 0, distinct = new Set();
  for (let i = 0; i < data.length; i += 4) { sum = (sum * 31 + data[i] + data[i + 1] * 7 + data[i + 2] * 13) >>> 0; distinct.add(data[i]); }
  const status = el.shadowRoot.querySelector('.status');
  return { status: status.textContent, error: status.classList.contains('error'), digest: sum, colours: distinct.size,
    width: canvas.width, button: el.shadowRoot.querySelector('button').hidden ? null : el.shadowRoot.querySelector('button').getAttribute('aria-label') };
}`;

// Waits for the clip to finish (or fail: then its status text is the assertion message).
async function waitReady(page, id, frame = page) {
  await frame.waitForFunction((id) => {
    const el = document.getElementById(id);
    return el?.shadowRoot?.querySelector('.status.error') || (el?.frames?.length > 0 && !el.controller);
  }, id, { timeout: 60_000 });
  const failure = await frame.evaluate((id) => document.getElementById(id).shadowRoot.querySelector('.status.error')?.textContent, id);
  assert.equal(failure, undefined, `clip ${id} failed: ${failure}`);
}

test('two clips share the worker and queue; attributes regenerate; errors show as text', async () => {
  const page = await browser.context.newPage();
  const log = watch(browser.context, page);
  const workers = [], failed = [];
  page.on('response', (r) => { if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`); });
  page.on('worker', (w) => workers.push(w.url()));
  await page.goto(server.url + fixtures.base + 'clips.html');
  await waitReady(page, 'one');
  await waitReady(page, 'two');
  await page.waitForFunction(() => document.getElementById('bad').shadowRoot.querySelector('.status.error'));
  const read = (id) => page.evaluate(`(${READ_CLIP})(${JSON.stringify(id)})`);
  const one = await read('one'), two = await read('two'), bad = await read('bad');
  assert.equal(one.width, 32);
  assert.ok(one.colours > 4 && two.colours > 4, 'both canvases show a frame');
  // Each clip is the native CLI's for its attributes (guidance, renoise and frames the model's).
  const frameHashes = (id) => page.evaluate((id) => Promise.all(document.getElementById(id).frames.map(sha256Hex)), id);
  assert.deepEqual(await frameHashes('one'), nativeHashes({ prompt: 'a red ball moving left', seed: 7, steps: 2 }, path.join(fixtures.dir, 'tiny.kin')));
  assert.deepEqual(await frameHashes('two'), nativeHashes({ prompt: 'a blue square', seed: 8, steps: 2 }, path.join(fixtures.dir, 'tiny.kin')));
  assert.notEqual(one.digest, two.digest);
  assert.equal(one.button, 'pause', 'autoplay plays');
  assert.equal(two.button, 'play', 'no autoplay: waits for the button');
  assert.equal(bad.error, true);
  assert.match(bad.status, /steps must be an integer from 1 to 200 \(got 500\)/);
  assert.equal(workers.filter((u) => u.endsWith('/worker.js')).length, 1, `one Kineto worker: ${workers.join(', ')}`);

  // Changing the seed makes a new clip.
  await page.evaluate(() => {
    const el = document.getElementById('two');
    el.addEventListener('kineto-ready', () => { window.twoAgain = true; }, { once: true });
    el.setAttribute('seed', '9');
  });
  await page.waitForFunction(() => window.twoAgain, null, { timeout: 60_000 });
  assert.notEqual((await read('two')).digest, two.digest);

  // Unknown words are ignored, and named with the known word probably meant.
  await page.evaluate(() => {
    const el = document.getElementById('two');
    el.addEventListener('kineto-ready', () => { window.twoTypo = true; }, { once: true });
    el.setAttribute('prompt', 'a red bal bounces');
  });
  await page.waitForFunction(() => window.twoTypo, null, { timeout: 60_000 });
  assert.equal((await read('two')).status, 'ignored unknown words: bal (ball?), bounces (bouncing?)');

  // Markup in attributes stays text.
  await page.evaluate(() => {
    const el = document.getElementById('bad');
    el.setAttribute('steps', '');
    el.setAttribute('prompt', '<img src=x onerror="window.owned=1"> zebra');
  });
  await page.waitForFunction(() => /zebra/.test(document.getElementById('bad').shadowRoot.querySelector('.status').textContent));
  const injected = await page.evaluate(() => ({
    owned: window.owned ?? null,
    images: document.getElementById('bad').shadowRoot.querySelectorAll('img').length,
    status: document.getElementById('bad').shadowRoot.querySelector('.status').textContent,
  }));
  assert.deepEqual([injected.owned, injected.images], [null, 0]);
  assert.match(injected.status, /no word the model knows \(unknown: img, src, x, onerror, window, owned, 1, zebra\)/);

  // The play button pauses and resumes.
  await page.evaluate(() => document.getElementById('one').shadowRoot.querySelector('button').click());
  assert.equal((await read('one')).button, 'play');
  assert.deepEqual(log.csp, [], 'no CSP violation');
  assert.deepEqual(log.errors.filter((e) => !/Failed to load resource/.test(e)), []);
  assert.deepEqual(failed, [], 'every request answered');
  assert.ok(log.requests.every((u) => u.startsWith(server.url)), 'no request outside the origin');
  await page.close();
});

test('clips work inside an iframe', async () => {
  const page = await browser.context.newPage();
  const log = watch(browser.context, page);
  await page.goto(server.url + fixtures.base + 'frame.html');
  const frame = page.frames().find((f) => /\/clips(\.html)?$/.test(f.url()));
  await waitReady(page, 'one', frame);
  const one = await frame.evaluate(`(${READ_CLIP})('one')`);
  assert.ok(one.colours > 4);
  assert.deepEqual(log.csp, []);
  await page.close();
});

test('the examples load under their CSP', async () => {
  const hasModel = fs.existsSync(path.join(ROOT, 'web/lib/wasm/kineto-world.kin'));
  for (const example of ['article.html', 'api.html']) {
    const page = await browser.context.newPage();
    const log = watch(browser.context, page);
    await page.goto(server.url + 'examples/' + example);
    if (example === 'article.html') {
      // With the default model the clips render; without it they say so, as text.
      await page.waitForFunction((hasModel) => [...document.querySelectorAll('kineto-clip')].every((el) =>
        hasModel ? el.frames.length > 0 : /weights are missing/.test(el.shadowRoot.querySelector('.status').textContent)),
      hasModel, { timeout: 120_000 });
    } else {
      await page.waitForFunction(() => document.getElementById('mode').textContent !== 'loading…', null, { timeout: 60_000 });
      const mode = await page.textContent('#mode');
      assert.match(mode, hasModel ? /simd/ : /unavailable/);
    }
    assert.deepEqual(log.csp, [], `${example}: no CSP violation`);
    assert.ok(log.requests.every((u) => u.startsWith(server.url)), `${example}: no request outside the origin`);
    await page.close();
  }
});

test('clips run with the policy sent as a header, which binds the engine workers too', async () => {
  const strict = await startServer({ config: 'embed/serve-csp.json' });
  try {
    const page = await browser.context.newPage();
    const log = watch(browser.context, page);
    await page.goto(strict.url + fixtures.base + 'clips.html');
    await waitReady(page, 'one');
    const one = await page.evaluate(`(${READ_CLIP})('one')`);
    assert.ok(one.colours > 4);
    assert.equal(await page.evaluate(() => crossOriginIsolated), true, 'the threaded build is in use');
    assert.deepEqual(log.csp, []);
    await page.close();
  } finally {
    strict.close();
  }
});

test('a policy without wasm-unsafe-eval is explained in the clip, not a hang', async () => {
  const strict = await startServer({ config: 'embed/serve-csp-no-wasm.json' });
  try {
    const page = await browser.context.newPage();
    await page.goto(strict.url + fixtures.base + 'clips.html');
    await page.waitForFunction(() => document.getElementById('one').shadowRoot.querySelector('.status.error'), null, { timeout: 30_000 });
    const status = await page.evaluate(() => document.getElementById('one').shadowRoot.querySelector('.status').textContent);
    assert.match(status, /Content-Security-Policy must allow 'wasm-unsafe-eval' in script-src/);
    await page.close();
  } finally {
    strict.close();
  }
});
