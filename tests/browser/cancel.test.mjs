// Cancel mid-run: the page says so at once, and the worker really stops within about a step: a
// generation started right after the cancel finishes long before the cancelled one would have.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, openApp, fillSettings, waitIdle, generate, appUrl } from './helpers.mjs';

let server, browser;
before(async () => { server = await startServer(); browser = await launch(); });
after(async () => { await browser?.close(); server?.close(); });

const STEPS = 200;   // the engine's maximum: the run is long whatever the model

test('cancel stops a generation within about one step', async () => {
  const page = await browser.context.newPage();
  await openApp(page, await appUrl(server, 'nosw'));
  await fillSettings(page, { prompt: 'a blue square bouncing on white', seed: 5, steps: STEPS });
  await page.click('#generate');
  await page.waitForFunction(() => /Step ([3-9]|\d\d+) of/.test(document.getElementById('progress-text').textContent),
    null, { timeout: 300_000, polling: 20 });
  const at = await page.evaluate(() => {
    const text = document.getElementById('progress-text').textContent;
    document.getElementById('cancel').click();
    return { step: Number(/Step (\d+) of/.exec(text)[1]), elapsed: Number(/([\d.]+) s elapsed/.exec(text)[1]) };
  });
  assert.equal(await waitIdle(page, 60_000), 'cancelled');
  const text = await page.textContent('#progress-text');
  assert.match(text, new RegExp(`Cancelled at step ${at.step} of ${STEPS}`));
  assert.match(await page.textContent('#status'), /Cancelled/);
  assert.equal(await page.isEnabled('#generate'), true);
  assert.equal(await page.isEnabled('#cancel'), false);

  // The worker runs one generation at a time: a short one right after must not wait for the rest.
  const secondsPerStep = at.elapsed / at.step;
  const leftIfNotStopped = secondsPerStep * (STEPS - at.step);
  const t0 = Date.now();
  await generate(page, { prompt: 'a blue square bouncing on white', seed: 5, steps: 1 });
  const next = (Date.now() - t0) / 1000;
  console.log(`cancelled at step ${at.step} (${secondsPerStep.toFixed(3)} s per step); the next 1-step run took ` +
    `${next.toFixed(2)} s, the cancelled run had ${leftIfNotStopped.toFixed(1)} s left`);
  assert.ok(next < leftIfNotStopped / 2, 'the cancelled generation did not keep running');

  // Escape cancels too.
  await fillSettings(page, { prompt: 'a blue square bouncing on white', steps: STEPS });
  await page.click('#generate');
  await page.waitForFunction(() => document.body.dataset.state === 'running');
  await page.keyboard.press('Escape');
  assert.equal(await waitIdle(page, 60_000), 'cancelled');
  await page.close();
});
