// Offline: after one visit the service worker has the app, wasm and weights; with the network off a
// reload still generates. Damaged cached weights are dropped and fetched again, not used.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, watch, openApp, appStarted, generate, clipFrames, assertSameOrigin, TEST_STEPS, appUrl,
  testWeights } from './helpers.mjs';

let server, browser;
before(async () => { server = await startServer(); browser = await launch(); });
after(async () => { await browser?.close(); server?.close(); });

const settings = { prompt: 'a purple ring growing under water', seed: 7, steps: TEST_STEPS };

// Waits until the service worker controls the page and its cache holds the weights.
async function waitOfflineReady(page) {
  await page.waitForFunction(() => document.getElementById('offline').textContent === 'Works offline', null,
    { timeout: 120_000 });
  const weights = testWeights().url;
  await page.waitForFunction(async (weights) => {
    if (!navigator.serviceWorker.controller) return false;
    const cache = await caches.open('kineto-v1');
    const keys = (await cache.keys()).map((r) => new URL(r.url).pathname);
    return keys.includes(weights) && keys.includes('/app/app.js') && keys.includes('/lib/worker.js') &&
      keys.some((k) => k.endsWith('.wasm'));
  }, weights, { timeout: 120_000, polling: 250 });
}

test('after one visit, the page generates with the network off', async () => {
  const page = await browser.context.newPage();
  const log = watch(browser.context, page);
  await openApp(page, await appUrl(server));
  await waitOfflineReady(page);
  await generate(page, settings);
  const online = await clipFrames(page);

  await browser.context.setOffline(true);
  try {
    // web/ itself (the root URL) sends the visitor on to the page, offline too; the hash the first
    // clip set is dropped, as it would start that clip again.
    await page.goto(appUrl(server).replace('/app/', '/'));
    await page.waitForURL(appUrl(server));
    await appStarted(page);
    assert.equal(await page.evaluate(() => navigator.onLine), false, 'the browser is offline');
    assert.equal(await page.evaluate(() => self.crossOriginIsolated), true, 'cached responses keep COOP/COEP');
    await generate(page, settings);
    assert.deepEqual(await clipFrames(page), online, 'the offline clip is the same clip');
  } finally {
    await browser.context.setOffline(false);
  }
  assertSameOrigin(log, server.url);
  await page.close();
});

// Weights are cache-first with a background refresh (web/app/sw.js): every fetch of them also stores a
// fresh copy. A copy damaged while such a refresh is in flight would be quietly replaced, so the
// test damages it only once none is, and checks that the damage stays.
function weightsFetchesInFlight(context) {
  const inFlight = new Set();
  context.on('request', (r) => { if (r.url().endsWith('.kin')) inFlight.add(r); });
  for (const end of ['requestfinished', 'requestfailed']) context.on(end, (r) => inFlight.delete(r));
  return inFlight;
}

async function damageCachedWeights(page, weights, inFlight) {
  for (let attempt = 0; attempt < 5; attempt++) {
    for (let i = 0; inFlight.size && i < 600; i++) await new Promise((r) => setTimeout(r, 100));
    // Flips one byte inside the checksummed part; -> its length, or 0 if a refresh replaced it.
    const size = await page.evaluate(async (weights) => {
      const cache = await caches.open('kineto-v1');
      const key = new URL(weights, location.href).href;
      const read = async () => new Uint8Array(await (await cache.match(key)).arrayBuffer());
      const bytes = await read();
      bytes[bytes.length - 1] ^= 0xff;
      await cache.put(key, new Response(bytes, { headers: { 'Content-Type': 'application/octet-stream' } }));
      await new Promise((r) => setTimeout(r, 500));
      const now = await read();
      return now.length === bytes.length && now.every((b, i) => b === bytes[i]) ? bytes.length : 0;
    }, weights);
    if (size) return size;
  }
  throw new Error('the cached weights kept being replaced before the reload');
}

test('damaged cached weights are dropped and fetched again', async () => {
  const inFlight = weightsFetchesInFlight(browser.context);
  const page = await browser.context.newPage();
  await openApp(page, await appUrl(server));
  await waitOfflineReady(page);
  const weights = testWeights().url;
  const size = await damageCachedWeights(page, weights, inFlight);
  await page.reload();  // one load only: a second would find the copy the first one fetched again
  await appStarted(page);
  assert.match(await page.textContent('#status'), /Ready\. The saved copy of the model was damaged, so it was downloaded again/);
  await generate(page, settings);
  // The cache now holds the server's copy again.
  const same = await page.evaluate(async (weights) => {
    const key = new URL(weights, location.href).href;
    const cached = new Uint8Array(await (await (await caches.open('kineto-v1')).match(key)).arrayBuffer());
    const served = new Uint8Array(await (await fetch(key, { cache: 'no-store' })).arrayBuffer());
    return cached.length === served.length && cached.every((b, i) => b === served[i]);
  }, weights);
  assert.ok(size > 0);
  assert.equal(same, true, 'the damaged copy was replaced');
  await page.close();
});
