// Start images on the page: a PNG dropped on the page (a drop event whose DataTransfer holds a File)
// shows as a thumbnail and makes the native CLI's `--image` clip; "Continue from this frame" starts
// a new clip from the frame the player shows, which is the CLI's clip from that frame saved as a PNG.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { startServer, launch, watch, openApp, appUrl, generate, clipFrames, formSettings, nativeHashes, testWeights,
  assertSameOrigin, screenshot } from './helpers.mjs';
import { drawing, pngBytes } from '../node/test-images.mjs';

const STEPS = 2;
let server, browser, dir;
before(async () => {
  server = await startServer();
  browser = await launch();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kineto-page-image-'));
});
after(async () => {
  await browser?.close();
  server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

// Drops a file on the player, as a user dragging it from their desktop; returns whether the page took it.
function dropFile(page, bytes, name, type) {
  return page.evaluate(({ bytes, name, type }) => {
    const data = new DataTransfer();
    data.items.add(new File([new Uint8Array(bytes)], name, { type }));
    const target = document.querySelector('.stage');
    target.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
    const drop = new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true });
    target.dispatchEvent(drop);
    return drop.defaultPrevented;
  }, { bytes: [...bytes], name, type });
}

test('a dropped PNG makes the CLI\'s --image clip; Continue from this frame goes on from the frame shown', async () => {
  const page = await browser.context.newPage();
  const log = watch(browser.context, page);
  await openApp(page, appUrl(server, 'nosw'));
  const { file: weights } = testWeights();
  const png = pngBytes(drawing(48, 40));
  const pngFile = path.join(dir, 'drawing.png');
  fs.writeFileSync(pngFile, png);

  assert.equal(await dropFile(page, png, 'drawing.png', 'image/png'), true, 'the drop is taken, not opened');
  await page.waitForSelector('#image-chosen:not([hidden])');
  assert.equal(await page.textContent('#image-name'), 'drawing.png');
  assert.deepEqual(await page.evaluate(() => [document.getElementById('image-thumb').width,
    document.getElementById('image-thumb').height]), [48, 40], 'the thumbnail shows the picture');

  await generate(page, { prompt: 'a red ball moving right on black', seed: 9, steps: STEPS });
  const settings = await formSettings(page);
  const fromImage = await clipFrames(page);
  assert.deepEqual(fromImage.hashes, nativeHashes({ ...settings, imageFile: pngFile }, weights),
    'the page\'s clip differs from build/kineto --image');
  assert.notDeepEqual(fromImage.hashes, nativeHashes(settings, weights), 'the image reached the engine');
  assert.match(await page.textContent('#status'), /from drawing\.png/);
  assert.equal(await page.isVisible('#share-image-note'), true, 'the share link says it leaves the image out');
  await screenshot(page, 'start-image');

  // A late frame of the clip, as the player shows it, starts the next clip; the prompt and seed stay.
  const shown = Math.floor(fromImage.count * 3 / 4);
  const frame = await page.evaluate((index) => {
    const scrubber = document.getElementById('scrubber');
    scrubber.value = index;
    scrubber.dispatchEvent(new Event('input'));
    const canvas = document.getElementById('screen');
    return { width: canvas.width, height: canvas.height,
      rgba: [...canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data] };
  }, shown);
  const framePng = new PNG({ width: frame.width, height: frame.height });
  framePng.data = Buffer.from(frame.rgba);
  const frameFile = path.join(dir, 'frame.png');
  fs.writeFileSync(frameFile, PNG.sync.write(framePng, { colorType: 6 }));

  const runs = await page.evaluate(() => Number(document.body.dataset.runs));
  await page.click('#continue-frame');
  await page.waitForFunction((runs) => Number(document.body.dataset.runs) > runs, runs, { timeout: 300_000 });
  assert.equal(await page.evaluate(() => document.body.dataset.state), 'done', await page.textContent('#status'));
  assert.equal(await page.textContent('#image-name'), `frame ${shown + 1} of “a red ball moving right on black”`);
  const next = await clipFrames(page);
  assert.deepEqual(await formSettings(page), settings, 'the prompt and settings stay');
  assert.deepEqual(next.hashes, nativeHashes({ ...settings, imageFile: frameFile }, weights),
    'the continued clip differs from build/kineto --image with the frame');

  // Remove clears the image: the next clip starts from noise again.
  await page.click('#image-remove');
  assert.equal(await page.isHidden('#image-chosen'), true);
  await generate(page, { prompt: 'a red ball moving right on black', seed: 9, steps: STEPS });
  assert.deepEqual((await clipFrames(page)).hashes, nativeHashes(settings, weights));
  assert.equal(await page.isVisible('#share-image-note'), false);
  assert.deepEqual(log.errors, []);
  assertSameOrigin(log, server.url);
  await page.close();
});

test('a file that is not a PNG or JPEG is refused at Generate, naming the file', async () => {
  const page = await browser.context.newPage();
  await openApp(page, appUrl(server, 'nosw'));
  await dropFile(page, new TextEncoder().encode('GIF89a not really'), 'moving.gif', 'image/gif');
  await page.waitForSelector('#image-chosen:not([hidden])');
  await page.fill('#steps', String(STEPS));
  await page.click('#generate');
  await page.waitForFunction(() => document.body.dataset.state === 'error', null, { timeout: 60_000 });
  assert.equal(await page.textContent('#status'), 'moving.gif cannot start a clip: image is not a PNG or JPEG file.');
  await page.close();
});
