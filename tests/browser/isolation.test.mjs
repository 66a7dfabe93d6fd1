// Served without COOP/COEP, the page says threads are off and still generates on one thread.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, openApp, generate, TEST_STEPS, appUrl } from './helpers.mjs';

let server, browser;
before(async () => { server = await startServer({ isolated: false }); browser = await launch(); });
after(async () => { await browser?.close(); server?.close(); });

test('without cross-origin isolation the mode and a clear note are shown', async () => {
  const page = await browser.context.newPage();
  await openApp(page, await appUrl(server, 'nosw'));
  assert.equal(await page.evaluate(() => self.crossOriginIsolated), false);
  assert.equal(await page.isVisible('#isolation-note'), true);
  assert.match(await page.textContent('#isolation-note'), /Cross-origin isolation is off/);
  assert.doesNotMatch(await page.textContent('#mode'), /threads/);
  await generate(page, { prompt: 'a white ball falling at night', seed: 3, steps: TEST_STEPS });
  await page.close();
});

test('at phone width the controls fit without sideways scrolling', async () => {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 375, height: 800 });
  await openApp(page, await appUrl(server, 'nosw'));
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone`);
  // Every control has a name a screen reader can read.
  const unnamed = await page.evaluate(() => [...document.querySelectorAll('button, input, select, textarea')]
    .filter((el) => !(el.labels?.length || el.getAttribute('aria-label') || el.textContent.trim()))
    .map((el) => el.id || el.outerHTML.slice(0, 60)));
  assert.deepEqual(unnamed, []);
  await page.close();
});
