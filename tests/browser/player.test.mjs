// The player's controls: loop off stops on the last frame, speed and fps change the pace, scaling
// switches between crisp and smooth, frame buttons step.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, openApp, generate, appUrl, TEST_STEPS } from './helpers.mjs';

let server, browser;
before(async () => { server = await startServer(); browser = await launch(); });
after(async () => { await browser?.close(); server?.close(); });

// Frames shown per second while playing, counted from the frame label over `ms`.
async function measureFps(page, ms) {
  return page.evaluate((ms) => new Promise((resolve) => {
    const label = document.getElementById('frame-label');
    let changes = 0;
    const observer = new MutationObserver(() => changes++);
    observer.observe(label, { childList: true, characterData: true, subtree: true });
    setTimeout(() => { observer.disconnect(); resolve(changes / (ms / 1000)); }, ms);
  }), ms);
}

test('player controls', async () => {
  const page = await browser.context.newPage();
  await openApp(page, await appUrl(server, 'nosw'));
  await generate(page, { prompt: 'a cyan box sliding left on white', seed: 8, steps: TEST_STEPS });
  const count = Number(await page.getAttribute('#scrubber', 'max')) + 1;
  assert.equal(await page.textContent('#play'), 'Pause', 'a new clip plays');

  assert.equal(await page.evaluate(() => getComputedStyle(document.getElementById('screen')).imageRendering), 'pixelated');
  await page.selectOption('#scaling', 'smooth');
  assert.equal(await page.evaluate(() => getComputedStyle(document.getElementById('screen')).imageRendering), 'auto');
  const box = await page.locator('#screen').boundingBox();
  assert.ok(box.width >= 256, `the clip is shown large (${box.width}px)`);

  await page.fill('#fps', '10');
  await page.locator('#fps').dispatchEvent('change');
  const normal = await measureFps(page, 1500);
  await page.selectOption('#speed', '2');
  const fast = await measureFps(page, 1500);
  console.log(`player: ${normal.toFixed(1)} frames/s at 10 fps 1x, ${fast.toFixed(1)} at 2x`);
  assert.ok(normal > 6 && normal < 14, `about 10 frames a second (${normal})`);
  assert.ok(fast > normal * 1.5, `2x speed is faster (${fast} vs ${normal})`);

  await page.uncheck('#loop');
  await page.waitForFunction(() => document.getElementById('play').textContent === 'Play', null, { timeout: 10_000 });
  assert.equal(await page.textContent('#frame-label'), `${count} / ${count}`, 'without loop it stops on the last frame');

  await page.click('#prev-frame');
  assert.equal(await page.textContent('#frame-label'), `${Math.max(1, count - 1)} / ${count}`);
  await page.click('#next-frame');
  assert.equal(await page.textContent('#frame-label'), `${count} / ${count}`);
  await page.focus('#screen');
  await page.keyboard.press('Space');
  assert.equal(await page.textContent('#play'), 'Pause', 'Space plays again, from the start');
  await page.close();
});
