// Generating from the page: the clip plays and has the native CLI's very frames, live previews
// update, the engine mode and isolation are shown, unknown words are flagged, bad input gets a clear
// message, only same-origin requests are made, no CSP violation, and the main thread keeps drawing
// during a generation (its frame gaps are printed).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, watch, openApp, fillSettings, waitIdle, generate, clipFrames, screenshot,
  assertSameOrigin, appUrl, formSettings, nativeHashes, testWeights } from './helpers.mjs';

let server, browser;
before(async () => { server = await startServer(); browser = await launch(); });
after(async () => { await browser?.close(); server?.close(); });

test('generate from the page: previews, progress, a playing clip, history', async () => {
  const page = await browser.context.newPage();
  const log = watch(browser.context, page);
  await openApp(page, await appUrl(server, 'nosw'));
  await screenshot(page, '1-before');

  assert.equal(await page.evaluate(() => self.crossOriginIsolated), true, 'serve.json makes the page isolated');
  assert.equal(await page.isVisible('#isolation-note'), false);
  assert.match(await page.textContent('#mode'), /^(simd\+threads \(\d+\)|simd|base)$/);
  assert.ok(await page.locator('.chip', { hasText: /^red$/ }).count() === 1, 'vocabulary chips are shown');

  await page.fill('#prompt', 'a red zebra');
  assert.match(await page.textContent('#unknown-words'), /zebra/);
  await page.fill('#prompt', 'a red Bal, bal');
  assert.match(await page.textContent('#unknown-words'), /“bal” \(did you mean ball\?\), “bal” \(did you mean ball\?\)/);
  await page.locator('#unknown-words .fix').first().click();
  assert.equal(await page.inputValue('#prompt'), 'a red ball, bal', 'the suggestion replaces the first unknown word');
  await page.locator('#unknown-words .fix').click();
  assert.equal(await page.inputValue('#prompt'), 'a red ball, ball');
  assert.equal(await page.textContent('#unknown-words'), '');
  await page.fill('#prompt', 'a');
  await page.locator('.chip', { hasText: /^ball$/ }).click();
  assert.equal(await page.inputValue('#prompt'), 'a ball', 'a clicked word is inserted');
  const phrase = page.locator('.chip', { hasText: /^moving left$/ });
  assert.equal(await phrase.getAttribute('title'), 'also: sliding left, going left');
  await phrase.click();
  assert.equal(await page.inputValue('#prompt'), 'a ball moving left', 'a clicked phrase is inserted whole');
  assert.equal(await page.textContent('#unknown-words'), '');

  // A warm-up run times a step, so the watched run lasts a few seconds whatever the model.
  const t0 = Date.now();
  await generate(page, { prompt: 'a red ball moving right on black', seed: 11, steps: 10 });
  const steps = Math.min(200, Math.max(8, Math.ceil(6000 / ((Date.now() - t0) / 10))));
  console.log(`watched run: ${steps} steps`);
  await fillSettings(page, { prompt: 'a red ball moving right on black', seed: 11, steps });
  // Main-thread responsiveness: gaps between animation frames while the worker computes.
  await page.evaluate(() => {
    window.gaps = { max: 0, over50: 0, frames: 0, longTasks: [], start: performance.now(), ms: 0 };
    const runs = Number(document.body.dataset.runs);
    let last = performance.now();
    const tick = (now) => {
      const gap = now - last;
      last = now;
      window.gaps.frames++;
      window.gaps.max = Math.max(window.gaps.max, gap);
      if (gap > 50) window.gaps.over50++;
      window.gaps.ms = now - window.gaps.start;
      if (Number(document.body.dataset.runs) === runs) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    new PerformanceObserver((list) => { for (const e of list.getEntries()) window.gaps.longTasks.push(Math.round(e.duration)); })
      .observe({ type: 'longtask' });
  });
  await page.evaluate(recordPreviews);
  await page.keyboard.press('Control+Enter');   // the shortcut, from anywhere in the page
  let during = null;
  while (await page.evaluate(() => Number(document.body.dataset.runs)) === 1) {
    if (!during && await page.evaluate(() => window.previews.length >= 2)) {
      await screenshot(page, '2-during');
      during = await page.evaluate(() => document.body.dataset.state);
    }
    await page.waitForTimeout(10);
  }
  console.log(`screenshot 2-during taken ${during === 'running' ? 'while running' : 'too late: the run had ended'}`);
  assert.equal(await waitIdle(page), 'done', await page.textContent('#status'));
  await screenshot(page, '3-after');
  const gaps = await page.evaluate(() => window.gaps);
  console.log(`main thread during a ${(gaps.ms / 1000).toFixed(1)} s generation: ${gaps.frames} frames, longest gap ${gaps.max.toFixed(0)} ms, ` +
    `${gaps.over50} gaps over 50 ms, long tasks ${JSON.stringify(gaps.longTasks)}`);
  assert.ok(gaps.frames > 10, 'animation frames kept coming during the generation');

  const previews = await page.evaluate(() => Promise.all(window.previews));
  const stepsSeen = previews.map((p) => Number(/step (\d+)/.exec(p.badge)?.[1])).filter(Boolean);
  assert.ok(stepsSeen.length >= 2, `at least two live previews seen (saw ${JSON.stringify(previews.map((p) => p.badge))})`);
  assert.deepEqual(stepsSeen, [...stepsSeen].sort((a, b) => a - b), 'previews come in step order');
  assert.ok(new Set(previews.map((p) => p.frame)).size >= 2, 'the preview image changes between steps');
  assert.match(await page.textContent('#progress-text'), /Done/);
  assert.equal(await page.evaluate(() => document.getElementById('progress-bar').value), steps);

  // The clip is the native CLI's, frame for frame, for the settings the page used.
  const clip = await clipFrames(page);
  const settings = await formSettings(page);
  assert.deepEqual(clip.hashes, nativeHashes(settings, testWeights().file), `the native CLI's frames for ${JSON.stringify(settings)}`);
  if (clip.count > 1) assert.ok(new Set(clip.hashes).size > 1, 'frames differ: the clip moves');
  // Playback advances frames on its own.
  await page.click('#play');
  const first = await page.textContent('#frame-label');
  if (clip.count > 1) {
    await page.waitForFunction((first) => document.getElementById('frame-label').textContent !== first, first);
  }
  await page.click('#play');
  // Frame stepping with the keyboard on the focused canvas.
  await page.fill('#scrubber', '0');
  await page.focus('#screen');
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.textContent('#frame-label'), `${clip.count > 1 ? 2 : 1} / ${clip.count}`);

  assert.equal(await page.locator('#history-list li').count(), 2);
  assert.match(await page.inputValue('#share-url'), /#p=a\+red\+ball/);


  assertSameOrigin(log, server.url);
  assert.deepEqual(log.csp, [], 'no Content-Security-Policy violation');
  assert.deepEqual(log.errors, [], 'no error in the console');
  await page.close();
});

test('bad input gets a clear message and the page keeps working', async () => {
  const page = await browser.context.newPage();
  const log = watch(browser.context, page);
  await openApp(page, await appUrl(server, 'nosw'));
  await page.fill('#prompt', '   ');
  await page.click('#generate');
  assert.match(await page.textContent('#status'), /Type a prompt/);
  await fillSettings(page, { prompt: 'a red ball', steps: 0 });
  await page.click('#generate');
  assert.match(await page.textContent('#status'), /Steps must be a number from 1 to 200/);
  await fillSettings(page, { prompt: 'a red ball', steps: 2.5 });
  await page.click('#generate');
  assert.match(await page.textContent('#status'), /Steps must be a whole number from 1 to 200/);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'steps', 'focus moves to the wrong field');
  await fillSettings(page, { prompt: 'zebra giraffe', steps: 2 });
  await page.click('#generate');
  assert.notEqual(await waitIdle(page), 'done');
  assert.match(await page.textContent('#status'), /word|vocabulary|know/i);
  assert.equal(await page.isEnabled('#generate'), true, 'the page can generate again');
  // Typed text is never markup.
  await page.fill('#prompt', '<img src=x onerror=alert(1)> a ball');
  assert.equal(await page.locator('#unknown-words img').count(), 0);
  assert.match(await page.textContent('#unknown-words'), /img/);
  assert.deepEqual(log.csp, []);
  await page.close();
});

// Records every live preview as it is shown: the badge and a hash of frame 0 (the first preview
// pauses the player there, and a paused player redraws its frame in place with each new preview).
function recordPreviews() {
  window.previews = [];
  const badge = document.getElementById('preview-badge');
  const canvas = document.getElementById('screen');
  let lastText = '';
  new MutationObserver(() => {
    if (badge.hidden || badge.textContent === lastText) return;
    const text = lastText = badge.textContent;
    if (window.previews.length === 0) {
      const scrubber = document.getElementById('scrubber');
      scrubber.value = 0;
      scrubber.dispatchEvent(new Event('input'));
    }
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    window.previews.push(crypto.subtle.digest('SHA-256', pixels)
      .then((d) => ({ badge: text, frame: new Uint8Array(d).join('.') })));
  }).observe(badge, { attributes: true, childList: true, characterData: true, subtree: true });
}
