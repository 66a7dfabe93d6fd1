// Cancel mid-run: the page says so at once, and the worker really stops: its own messages show the
// cancelled generation ending as cancelled, long before its last step.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, openApp, fillSettings, waitIdle, generate, appUrl } from './helpers.mjs';

let server, browser;
before(async () => { server = await startServer(); browser = await launch(); });
after(async () => { await browser?.close(); server?.close(); });

const STEPS = 200;   // the engine's maximum: the run is long whatever the model

// Records in the page every message the engine's worker sends: {type, id, step}.
function recordWorkerMessages() {
  window.workerLog = [];
  const RealWorker = Worker;
  window.Worker = class extends RealWorker {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', ({ data }) => window.workerLog.push({ type: data?.type, id: data?.id, step: data?.step }));
    }
  };
}

test('cancel stops the generation in the worker', async () => {
  const page = await browser.context.newPage();
  await page.addInitScript(recordWorkerMessages);
  await openApp(page, appUrl(server, 'nosw'));
  await fillSettings(page, { prompt: 'a blue square bouncing on white', seed: 5, steps: STEPS });
  // Cancel from inside the page as soon as step 3 shows, so even a fast model is caught early.
  const cancelled = page.evaluate(() => new Promise((resolve) => {
    const text = document.getElementById('progress-text');
    new MutationObserver((_, observer) => {
      const step = Number(/Step (\d+) of/.exec(text.textContent)?.[1] ?? 0);
      if (step < 3) return;
      observer.disconnect();
      document.getElementById('cancel').click();
      const { id } = window.workerLog.findLast((m) => m.type === 'progress');
      resolve({ step, id, logged: window.workerLog.length });
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

  // The worker's messages about the cancelled job after the click: the steps it had run before the
  // cancel reached it, then 'cancelled', never 'done'. It runs one job at a time, so the next one
  // finishing shows it is free again.
  // The page says "cancelled" at once; the worker's own word on the job comes when its step ends.
  await page.waitForFunction(({ id, logged }) => window.workerLog.slice(logged)
    .some((m) => m.id === id && (m.type === 'cancelled' || m.type === 'done')), at, { timeout: 60_000 });
  const after = await page.evaluate(({ id, logged }) => window.workerLog.slice(logged).filter((m) => m.id === id), at);
  assert.equal(after.at(-1)?.type, 'cancelled', `the worker ended the job: ${JSON.stringify(after)}`);
  const steps = after.filter((m) => m.type === 'progress').map((m) => m.step);
  assert.ok(Math.max(at.step, ...steps) < STEPS / 2, `the job stopped early: steps after the cancel ${JSON.stringify(steps)}`);
  await generate(page, { prompt: 'a blue square bouncing on white', seed: 5, steps: 1 });
  console.log(`cancelled at step ${at.step} of ${STEPS}; the worker reported steps ${JSON.stringify(steps)} after the click`);

  // Escape cancels too.
  await fillSettings(page, { prompt: 'a blue square bouncing on white', steps: STEPS });
  await page.click('#generate');   // the click handler starts the run before it returns
  await page.keyboard.press('Escape');
  assert.equal(await waitIdle(page, 60_000), 'cancelled');
  await page.close();
});
