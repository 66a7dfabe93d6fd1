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
  // Cancel from inside the page as soon as step 3 shows, so even a fast model is caught early.
  const cancelled = page.evaluate(() => new Promise((resolve) => {
    const text = document.getElementById('progress-text');
    const seen = {};   // step -> when it was first shown
    new MutationObserver((_, observer) => {
      const step = Number(/Step (\d+) of/.exec(text.textContent)?.[1] ?? 0);
      seen[step] ??= performance.now();
      if (step < 3) return;
      observer.disconnect();
      document.getElementById('cancel').click();
      const first = Math.min(...Object.keys(seen).map(Number).filter((s) => s > 0));
      resolve({ step, secondsPerStep: (seen[step] - seen[first]) / 1000 / Math.max(1, step - first) });
    }).observe(text, { childList: true, characterData: true, subtree: true });
  }));
  await page.click('#generate');
  const at = await cancelled;
  assert.equal(await waitIdle(page, 60_000), 'cancelled');
  const text = await page.textContent('#progress-text');
  assert.match(text, new RegExp(`Cancelled at step ${at.step} of ${STEPS}`));
  assert.match(await page.textContent('#status'), /Cancelled/);
  assert.equal(await page.isEnabled('#generate'), true);
  assert.equal(await page.isEnabled('#cancel'), false);

  // The worker runs one generation at a time: a short one right after must not wait for the rest.
  const { secondsPerStep } = at;
  const leftIfNotStopped = secondsPerStep * (STEPS - at.step);
  const t0 = Date.now();
  await generate(page, { prompt: 'a blue square bouncing on white', seed: 5, steps: 1 });
  const next = (Date.now() - t0) / 1000;
  console.log(`cancelled at step ${at.step} (${secondsPerStep.toFixed(3)} s per step); the next 1-step run took ` +
    `${next.toFixed(2)} s, the cancelled run had ${leftIfNotStopped.toFixed(1)} s left`);
  if (leftIfNotStopped > 1) assert.ok(next < leftIfNotStopped / 2, 'the cancelled generation did not keep running');
  else console.log('this model is too fast to time the stop');

  // Escape cancels too.
  await fillSettings(page, { prompt: 'a blue square bouncing on white', steps: STEPS });
  await page.click('#generate');   // the click handler starts the run before it returns
  await page.keyboard.press('Escape');
  assert.equal(await waitIdle(page, 60_000), 'cancelled');
  await page.close();
});
