// Exports decode outside the browser with the right frame count and size: GIF (gifuct-js), WebM
// through WebCodecs and through the MediaRecorder fallback (ffprobe), PNG frames in a zip (fflate +
// pngjs, pixel-exact against the player's frames).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { parseGIF, decompressFrames } from 'gifuct-js';
import { unzipSync } from 'fflate';
import { PNG } from 'pngjs';
import { startServer, launch, watch, openApp, generate, assertSameOrigin, TEST_STEPS, appUrl } from './helpers.mjs';

let server, browser, page, clip, log;
before(async () => {
  server = await startServer();
  browser = await launch();
  page = await browser.context.newPage();
  log = watch(browser.context, page);
  await openApp(page, await appUrl(server, 'nosw'));
  await generate(page, { prompt: 'a yellow triangle moving up on grass', seed: 99, steps: TEST_STEPS });
  clip = await page.evaluate(() => {
    const canvas = document.getElementById('screen');
    const scrubber = document.getElementById('scrubber');
    scrubber.value = 0;
    scrubber.dispatchEvent(new Event('input'));
    const first = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    return { width: canvas.width, height: canvas.height, count: Number(scrubber.max) + 1, first: Array.from(first) };
  });
});
after(async () => { await browser?.close(); server?.close(); });

async function exportFile(button, scale, targetPage = page) {
  await targetPage.selectOption('#export-scale', String(scale));
  const [download] = await Promise.all([targetPage.waitForEvent('download', { timeout: 120_000 }), targetPage.click(button)]);
  return { name: download.suggestedFilename(), bytes: await readFile(await download.path()) };
}

test('GIF export has every frame at the chosen size', async () => {
  const { name, bytes } = await exportFile('#export-gif', 2);
  assert.match(name, /^kineto-a-yellow-triangle.*-99\.gif$/);
  const gif = parseGIF(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  const frames = decompressFrames(gif, true);
  assert.equal(frames.length, clip.count);
  assert.equal(gif.lsd.width, clip.width * 2);
  assert.equal(gif.lsd.height, clip.height * 2);
  for (const f of frames) assert.deepEqual([f.dims.width, f.dims.height], [clip.width * 2, clip.height * 2]);
  // Colours survive the palette: the top-left pixel of frame 0 is within a few levels.
  const [r, g, b] = frames[0].patch;
  assert.ok(Math.abs(r - clip.first[0]) + Math.abs(g - clip.first[1]) + Math.abs(b - clip.first[2]) < 24);
});

function probe(bytes) {
  const path = `/tmp/kineto-export-${process.pid}.webm`;
  execFileSync('sh', ['-c', 'cat > "$0"', path], { input: bytes });
  const out = execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries',
    'stream=codec_name,width,height,nb_read_frames', '-of', 'json', path]);
  return JSON.parse(out).streams[0];
}

test('WebM export (WebCodecs) decodes with every frame at the chosen size', async () => {
  const { name, bytes } = await exportFile('#export-webm', 4);
  assert.match(name, /\.webm$/);
  assert.match(await page.textContent('#status'), /WebCodecs/);
  const stream = probe(bytes);
  assert.match(stream.codec_name, /^vp[89]$/);
  assert.deepEqual([stream.width, stream.height], [clip.width * 4, clip.height * 4]);
  assert.equal(Number(stream.nb_read_frames), clip.count);
});

test('WebM export falls back to MediaRecorder', async () => {
  const fallback = await browser.context.newPage();
  await openApp(fallback, await appUrl(server, 'nosw', 'recorder'));
  await generate(fallback, { prompt: 'a yellow triangle moving up on grass', seed: 99, steps: TEST_STEPS });
  const { bytes } = await exportFile('#export-webm', 4, fallback);
  assert.match(await fallback.textContent('#status'), /MediaRecorder/);
  const stream = probe(bytes);
  assert.deepEqual([stream.width, stream.height], [clip.width * 4, clip.height * 4]);
  // Real-time recording may merge or repeat a frame; it must hold most of them.
  console.log(`MediaRecorder WebM: ${stream.nb_read_frames} frames for a ${clip.count}-frame clip`);
  assert.ok(Number(stream.nb_read_frames) >= Math.ceil(clip.count / 2), `frames: ${stream.nb_read_frames}`);
  await fallback.close();
});

test('PNG zip holds every frame, pixel-exact', async () => {
  const { name, bytes } = await exportFile('#export-zip', 1);
  assert.match(name, /-png\.zip$/);
  const files = unzipSync(new Uint8Array(bytes));
  const names = Object.keys(files).sort();
  assert.equal(names.length, clip.count);
  assert.match(names[0], /-0+\.png$/);
  const pngs = names.map((n) => PNG.sync.read(Buffer.from(files[n])));
  for (const png of pngs) assert.deepEqual([png.width, png.height], [clip.width, clip.height]);
  assert.deepEqual(Array.from(pngs[0].data), clip.first, 'frame 0 equals what the player shows');
  if (clip.count > 1) assert.notDeepEqual(pngs[0].data, pngs.at(-1).data, 'frames differ');
});

test('exports stay within the page: no CSP violation, no error, no outside request', () => {
  assert.deepEqual(log.csp, []);
  assert.deepEqual(log.errors, []);
  assertSameOrigin(log, server.url);
});
