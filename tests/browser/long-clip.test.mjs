// Long clips on the page: a storyboard made in the editor (shots added, moved, removed, with the
// keyboard) with the Loop (seamless) checkbox gives the native CLI's frames for the same shots and
// --seamless, its share link carries both, and the first window plays while the worker still
// reports steps to go (seen in the worker's own messages). A 64-frame clip exports as GIF, WebM and
// PNG zip with every frame.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { parseGIF, decompressFrames } from 'gifuct-js';
import { unzipSync } from 'fflate';
import { startServer, launch, watch, openApp, appStarted, appUrl, fillSettings, generate, clipFrames, formSettings,
  nativeHashes, testWeights, assertSameOrigin, screenshot } from './helpers.mjs';

const STEPS = 2;   // a long clip runs every window's steps: few keep it quick
let server, browser;
before(async () => {
  server = await startServer();
  browser = await launch();
  // Each message the page gets from a worker, logged before kineto.js handles it, with what the
  // player shows at that moment (the page has handled every earlier message by then).
  await browser.context.addInitScript(() => {
    const RealWorker = window.Worker;
    window.workerLog = [];
    window.Worker = class extends RealWorker {
      constructor(...args) {
        super(...args);
        this.addEventListener('message', ({ data }) => {
          if (!['progress', 'frames', 'done'].includes(data?.type)) return;
          window.workerLog.push({ type: data.type, step: data.step, total: data.total, first: data.first,
            n: data.frames?.length, count: data.count, shown: document.getElementById('frame-label')?.textContent,
            play: document.getElementById('play')?.textContent });
        });
      }
    };
  });
});
after(async () => { await browser?.close(); server?.close(); });

const shot = (page, n) => page.locator(`#shots > li:nth-child(${n})`);

test('a storyboard with a seamless loop from the editor: the CLI\'s frames, playing before the end', async () => {
  const page = await browser.context.newPage();
  const log = watch(browser.context, page);
  await openApp(page, appUrl(server, 'nosw'));
  const window = await page.evaluate(() => Number(document.getElementById('frames').value));
  await fillSettings(page, { prompt: 'a red ball moving left on black', seed: 21, steps: STEPS });

  // The first "Add shot" makes shot 1 of the prompt; shots are edited, moved and removed by keyboard.
  await page.click('#add-shot');
  assert.equal(await page.locator('#shots > li').count(), 2);
  assert.equal(await shot(page, 1).locator('.shot-prompt input').inputValue(), 'a red ball moving left on black');
  assert.equal(await page.isVisible('#prompt'), false, 'the single prompt gives way to the shots');
  assert.equal(await page.evaluate(() => document.activeElement === document.querySelector('#shots > li:nth-child(2) input')),
    true, 'the new shot\'s prompt has the focus');
  await page.keyboard.type('a blue square moving up on black');
  await page.click('#add-shot');
  await page.keyboard.type('a green star spinning on black');
  await page.click('#add-shot');
  await page.keyboard.type('a pink ring');
  assert.equal(await page.inputValue('#frames'), String(4 * window), 'Frames shows the shots\' sum');
  assert.equal(await page.isDisabled('#frames'), true);
  await shot(page, 4).getByRole('button', { name: 'Remove shot 4' }).focus();
  await page.keyboard.press('Enter');
  await shot(page, 3).getByRole('button', { name: 'Move shot 3 up' }).focus();
  await page.keyboard.press('Enter');   // the star becomes shot 2
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Move shot 2 up',
    'the focus stays on the moved shot');
  const prompts = ['a red ball moving left on black', 'a green star spinning on black', 'a blue square moving up on black'];
  assert.deepEqual(await page.locator('#shots .shot-prompt input').evaluateAll((inputs) => inputs.map((i) => i.value)), prompts);
  assert.equal(await shot(page, 1).getByRole('button', { name: 'Move shot 1 up' }).isDisabled(), true);
  assert.equal(await page.inputValue('#frames'), String(3 * window));
  await page.check('#seamless');
  await screenshot(page, 'storyboard');

  const runs = await page.evaluate(() => Number(document.body.dataset.runs ?? 0));
  await page.evaluate(() => { window.workerLog.length = 0; });
  await page.click('#generate');
  await page.waitForFunction((runs) => Number(document.body.dataset.runs ?? 0) > runs, runs, { timeout: 300_000 });
  assert.equal(await page.evaluate(() => document.body.dataset.state), 'done', await page.textContent('#status'));

  const clip = await clipFrames(page);
  assert.equal(clip.count, 3 * window);
  const { guidance, renoise } = await formSettings(page);
  assert.deepEqual(clip.hashes, nativeHashes({ prompts, frames: 3 * window, seamless: true, seed: 21, steps: STEPS,
    guidance, renoise }, testWeights().file), 'the page\'s storyboard is build/kineto\'s, shot for shot');

  // The worker's messages: the first window's frames came, and played, while steps were left.
  const messages = await page.evaluate(() => window.workerLog);
  const firstFrames = messages.findIndex((m) => m.type === 'frames' && m.first === 0);
  assert.ok(firstFrames >= 0, 'the worker sent final frames');
  const first = messages[firstFrames];
  assert.ok(first.n < first.count, `the first window is part of the clip (${first.n} of ${first.count})`);
  const during = messages.slice(firstFrames + 1).find((m) => m.type === 'progress' && m.step < m.total);
  assert.ok(during, `steps were left after the first window: ${JSON.stringify(messages.map((m) => m.type + (m.step ?? m.first)))}`);
  assert.match(during.shown, new RegExp(` / ${first.n}$`), 'the player holds the first window\'s frames');
  assert.equal(during.play, 'Pause', 'and plays them');
  const sent = messages.filter((m) => m.type === 'frames');
  assert.equal(sent.reduce((n, m) => n + m.n, 0), 3 * window, 'every frame came once, as it became final');

  // The share link carries the shots and the loop, and opening it restores the editor.
  const link = await page.inputValue('#share-url');
  assert.match(link, /shot=16%3Aa\+red\+ball|shot=\d+%3Aa\+red/);
  assert.match(link, /loop=1/);
  const opened = await browser.context.newPage();
  assert.match(link, /\?nosw/, 'the link keeps the page\'s query (no service worker here)');
  await opened.goto(link);
  await appStarted(opened);
  assert.deepEqual(await opened.locator('#shots .shot-prompt input').evaluateAll((inputs) => inputs.map((i) => i.value)),
    prompts);
  assert.equal(await opened.isChecked('#seamless'), true);
  await opened.keyboard.press('Escape');   // the link starts a generation; it is not needed here
  await opened.close();

  // Down to one shot, the editor folds back into the single prompt.
  await shot(page, 3).getByRole('button', { name: 'Remove shot 3' }).click();
  await shot(page, 1).getByRole('button', { name: 'Remove shot 1' }).click();
  assert.equal(await page.locator('#shots > li').count(), 0);
  assert.equal(await page.inputValue('#prompt'), prompts[1]);
  assert.equal(await page.isDisabled('#frames'), false);
  assert.deepEqual(log.errors, []);
  assert.deepEqual(log.csp, []);
  assertSameOrigin(log, server.url);
  await page.close();
});

test('a shot with no prompt is named; the loop needs two frames', async () => {
  const page = await browser.context.newPage();
  await openApp(page, appUrl(server, 'nosw'));
  await fillSettings(page, { prompt: 'a red ball', seed: 1, steps: STEPS, frames: 1 });
  await page.check('#seamless');
  await page.click('#generate');
  assert.match(await page.textContent('#status'), /seamless needs a clip of at least 2 frames/);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'seamless');
  await page.click('#add-shot');
  await page.click('#generate');
  assert.match(await page.textContent('#status'), /Shot 2 needs a prompt/);
  assert.equal(await page.evaluate(() => document.activeElement === document.querySelector('#shots > li:nth-child(2) input')),
    true);
  await page.close();
});

async function exportFile(page, button, scale) {
  await page.selectOption('#export-scale', String(scale));
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: 300_000 }), page.click(button)]);
  return readFile(await download.path());
}

function probe(bytes) {
  const path = `/tmp/kineto-long-export-${process.pid}.webm`;
  execFileSync('sh', ['-c', 'cat > "$0"', path], { input: bytes });
  const out = execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries',
    'stream=codec_name,width,height,nb_read_frames', '-of', 'json', path]);
  return JSON.parse(out).streams[0];
}

test('a 64-frame clip exports every frame: GIF, WebM and PNG zip', async () => {
  const page = await browser.context.newPage();
  await openApp(page, appUrl(server, 'nosw'));
  await generate(page, { prompt: 'a yellow triangle moving up on grass', seed: 64, steps: STEPS, frames: 64 });
  const { count, width, height } = await clipFrames(page);
  assert.equal(count, 64);

  const gifBytes = await exportFile(page, '#export-gif', 1);
  const gif = parseGIF(gifBytes.buffer.slice(gifBytes.byteOffset, gifBytes.byteOffset + gifBytes.length));
  assert.equal(decompressFrames(gif, true).length, 64);
  assert.deepEqual([gif.lsd.width, gif.lsd.height], [width, height]);

  const webm = probe(await exportFile(page, '#export-webm', 2));
  assert.deepEqual([webm.width, webm.height, Number(webm.nb_read_frames)], [width * 2, height * 2, 64]);

  const files = unzipSync(new Uint8Array(await exportFile(page, '#export-zip', 1)));
  const names = Object.keys(files).sort();
  assert.equal(names.length, 64);
  assert.match(names[0], /-00\.png$/);
  assert.match(names[63], /-63\.png$/);
  await page.close();
});
