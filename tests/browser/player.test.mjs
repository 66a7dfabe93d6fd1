// The player's controls: every frame shown in order, looping or stopping on the last frame; fps and
// speed set the pace; scaling switches between crisp and smooth; frame buttons and Space step and play.
// The page runs on Playwright's fake clock, paused while the player is watched, so what is checked
// is the player's arithmetic, not this machine's speed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, openApp, generate, appUrl, TEST_STEPS } from './helpers.mjs';

let server, browser;
before(async () => { server = await startServer(); browser = await launch(); });
after(async () => { await browser?.close(); server?.close(); });

// From frame 1, paused, plays for `ms` of clock time; returns the frame numbers shown, in order.
async function playFor(page, ms) {
  await page.fill('#scrubber', '0');   // pauses and shows frame 1
  await page.evaluate(() => {
    window.shown = [];
    window.labels = new MutationObserver((records) => {
      for (const r of records) for (const node of r.addedNodes) window.shown.push(Number(node.textContent.split(' / ')[0]));
    });
    window.labels.observe(document.getElementById('frame-label'), { childList: true });
  });
  await page.click('#play');
  await page.clock.runFor(ms);
  return page.evaluate(() => { window.labels.disconnect(); return window.shown; });
}

// Frames 1..count from `first`, `advances` times: wrapping to 1 after count when looping.
function expectedFrames(first, advances, count) {
  return Array.from({ length: advances + 1 }, (_, i) => ((first - 1 + i) % count) + 1);
}

test('player controls', async () => {
  const page = await browser.context.newPage();
  await page.clock.install();
  await openApp(page, appUrl(server, 'nosw'));
  await generate(page, { prompt: 'a cyan box sliding left on white', seed: 8, steps: TEST_STEPS });
  const count = Number(await page.getAttribute('#scrubber', 'max')) + 1;
  assert.ok(count > 1, `a clip of ${count} frames`);
  assert.equal(await page.textContent('#play'), 'Pause', 'a new clip plays');

  assert.equal(await page.evaluate(() => getComputedStyle(document.getElementById('screen')).imageRendering), 'pixelated');
  await page.selectOption('#scaling', 'smooth');
  assert.equal(await page.evaluate(() => getComputedStyle(document.getElementById('screen')).imageRendering), 'auto');
  const box = await page.locator('#screen').boundingBox();
  assert.ok(box.width >= 256, `the clip is shown large (${box.width}px)`);

  // At 10 fps a frame lasts 100 ms; the clock's animation frames come every 16 ms, so 1020 ms of
  // play ends between 1004 and 1020 ms: 10 frames on at 1x, 20 at 2x, wrapping past the last.
  await page.clock.pauseAt(await page.evaluate(() => Date.now()) + 1000);
  await page.fill('#fps', '10');
  await page.locator('#fps').dispatchEvent('change');
  assert.deepEqual(await playFor(page, 1020), expectedFrames(1, 10, count), 'every frame in turn at 10 fps, looping');
  await page.selectOption('#speed', '2');
  assert.deepEqual(await playFor(page, 1020), expectedFrames(1, 20, count), '2x speed shows twice as many');
  await page.selectOption('#speed', '1');

  // Without loop, a run longer than the clip shows each frame once and stops on the last.
  await page.uncheck('#loop');
  assert.deepEqual(await playFor(page, count * 100 + 500), expectedFrames(1, count - 1, count),
    'without loop it plays through once');
  assert.equal(await page.textContent('#play'), 'Play', 'and stops');
  assert.equal(await page.textContent('#frame-label'), `${count} / ${count}`, 'on the last frame');

  await page.click('#prev-frame');
  assert.equal(await page.textContent('#frame-label'), `${count - 1} / ${count}`);
  await page.click('#next-frame');
  assert.equal(await page.textContent('#frame-label'), `${count} / ${count}`);
  await page.focus('#screen');
  await page.keyboard.press('Space');
  assert.equal(await page.textContent('#play'), 'Pause', 'Space plays again');
  assert.equal(await page.textContent('#frame-label'), `1 / ${count}`, 'from the start');
  await page.close();
});
