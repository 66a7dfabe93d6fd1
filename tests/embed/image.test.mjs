// Start images through kineto.js and <kineto-clip> in Chromium under the strict CSP: a PNG Blob, the
// same pixels as an ImageData and an opaque drawing as an ImageBitmap all give the native CLI's
// `--image` clip; bad images are refused naming `image`, the caller's ImageData and ImageBitmap are
// left usable; the element's image attribute fetches a PNG and makes the CLI's clip.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, launch, watch, writeFixtures, nativeHashes, assertSameOrigin } from '../browser/helpers.mjs';
import { badFiles, drawing, pngBytes } from '../node/test-images.mjs';

const fixtures = writeFixtures();
const tiny = path.join(fixtures.dir, 'tiny.kin');
const request = { prompt: 'a red ball moving right', seed: 6, steps: 2, frames: 5 };
const seeThrough = drawing();
const opaque = drawing(40, 24, { bandAlpha: 255 });
const files = { 'see-through.png': pngBytes(seeThrough), 'opaque.png': pngBytes(opaque) };
let server, browser;

before(async () => {
  [server, browser] = await Promise.all([startServer({ isolated: true }), launch()]);
  const otherOrigin = server.url.replace('127.0.0.1', 'localhost');   // the same server, another origin
  for (const [name, bytes] of Object.entries(files)) fs.writeFileSync(path.join(fixtures.dir, name), bytes);
  fs.writeFileSync(path.join(fixtures.dir, 'image-clip.html'), `<!doctype html><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'self'; script-src 'self' 'wasm-unsafe-eval'">
<title>image clip</title>
<script type="module" src="clips.js"></script>
<kineto-clip id="drawn" image="see-through.png" prompt="${request.prompt}" seed="6" steps="2" frames="5"></kineto-clip>
<kineto-clip id="missing" image="missing.png" prompt="a red ball" steps="2"></kineto-clip>
<kineto-clip id="foreign" image="${otherOrigin}${fixtures.base}see-through.png" prompt="a red ball" steps="2"></kineto-clip>
`);
});
after(async () => {
  await browser?.close();
  server?.close();
});

const cliHashes = (name) => nativeHashes({ ...request, imageFile: path.join(fixtures.dir, name) }, tiny);

test('a PNG Blob, its ImageData and an ImageBitmap give the CLI\'s --image clip; bad images name image', async () => {
  const page = await browser.context.newPage();
  const log = watch(browser.context, page);
  await page.goto(server.url + fixtures.base + 'blank.html');
  const result = await page.evaluate(async ({ weightsUrl, request, base, seeThrough, opaque, bad }) => {
    const kineto = await import('/lib/kineto.js');
    const { info } = await kineto.init({ weightsUrl: '/' + weightsUrl });
    const hashes = async (image) => Promise.all((await kineto.generate({ ...request, image })).frames.map(sha256Hex));
    const pixels = ({ width, height, rgba }) => new ImageData(new Uint8ClampedArray(rgba), width, height);
    const failure = async (options) => {
      try {
        await kineto.generate({ ...request, ...options });
        return null;
      } catch (e) {
        return { name: e.name, field: e.field, message: e.message };
      }
    };
    const blob = await (await fetch(base + 'see-through.png')).blob();
    const imageData = pixels(seeThrough);
    const bitmap = await createImageBitmap(pixels(opaque));
    const out = { hasEncoder: info.hasEncoder, blob: await hashes(blob), imageData: await hashes(imageData),
      bitmap: await hashes(bitmap), plain: await hashes(null) };
    out.leftUsable = imageData.data.length === seeThrough.rgba.length && bitmap.width === 40;
    const order = [];   // a call with a file to read, then one without: they run in that order
    await Promise.all([kineto.generate({ ...request, image: blob }).then(() => order.push('image')),
      kineto.generate(request).then(() => order.push('plain'))]);
    out.order = order;
    out.errors = { wrongType: await failure({ image: 'see-through.png' }), oneFrame: await failure({ image: blob, frames: 1 }),
      wideImageData: await failure({ image: new ImageData(8193, 1) }) };
    bitmap.close();
    out.errors.closed = await failure({ image: bitmap });
    for (const [name, bytes] of Object.entries(bad)) out.errors[name] = await failure({ image: new Blob([new Uint8Array(bytes)]) });
    return out;
  }, { weightsUrl: fixtures.tiny, request, base: '/' + fixtures.base, seeThrough: { ...seeThrough, rgba: [...seeThrough.rgba] },
    opaque: { ...opaque, rgba: [...opaque.rgba] },
    bad: Object.fromEntries(Object.entries(badFiles()).map(([name, [bytes]]) => [name, [...bytes]])) });

  assert.equal(result.hasEncoder, true);
  const expected = cliHashes('see-through.png');
  assert.equal(expected.length, 5);
  assert.deepEqual(result.blob, expected, 'a PNG Blob differs from build/kineto --image');
  assert.deepEqual(result.imageData, expected, 'its pixels as an ImageData differ from build/kineto --image');
  assert.deepEqual(result.bitmap, cliHashes('opaque.png'), 'an ImageBitmap differs from build/kineto --image');
  assert.notDeepEqual(result.plain, expected);
  assert.ok(result.leftUsable, 'the caller\'s ImageData and ImageBitmap stay usable');
  assert.deepEqual(result.order, ['image', 'plain'], 'calls run in the order they were made');

  const { errors } = result;
  assert.deepEqual(errors.wrongType, { name: 'TypeError', field: 'image',
    message: 'image must be an ImageData, an ImageBitmap or a Blob (File) of a PNG or JPEG (got "see-through.png")' });
  assert.deepEqual(errors.oneFrame, { name: 'RangeError', field: 'image', message: 'image needs a clip of at least 2 frames (frames is 1)' });
  assert.deepEqual(errors.wideImageData, { name: 'RangeError', field: 'image', message: 'image is 8193x1 pixels: each side must be 1..8192' });
  assert.deepEqual(errors.closed, { name: 'RangeError', field: 'image',
    message: 'image is 0x0 pixels: each side must be 1..8192 (a closed ImageBitmap?)' });
  for (const [name, [, reason]] of Object.entries(badFiles())) {
    assert.equal(errors[name]?.field, 'image', `${name}: ${JSON.stringify(errors[name])}`);
    assert.ok(errors[name].message.startsWith(`image is ${reason}`), `${name}: ${errors[name].message}`);
  }
  assert.deepEqual(log.errors.filter((e) => !/Failed to load resource/.test(e)), []);   // the page's favicon
  assert.deepEqual(log.csp, []);
  await page.close();
});

test('<kineto-clip image> fetches its page\'s PNG: the CLI\'s clip; a missing or foreign one says why', async () => {
  const page = await browser.context.newPage();
  const log = watch(browser.context, page);
  await page.goto(server.url + fixtures.base + 'image-clip.html');
  await page.waitForFunction(() => {
    const [drawn, missing, foreign] = ['drawn', 'missing', 'foreign'].map((id) => document.getElementById(id));
    const failed = (el) => el.shadowRoot.querySelector('.status.error');
    return (failed(drawn) || (drawn.frames.length > 0 && !drawn.controller)) && failed(missing) && failed(foreign);
  }, null, { timeout: 60_000 });
  const status = (id) => page.evaluate((id) => document.getElementById(id).shadowRoot.querySelector('.status').textContent, id);
  assert.equal(await status('drawn'), '');
  const hashes = await page.evaluate(() => Promise.all(document.getElementById('drawn').frames.map(sha256Hex)));
  assert.deepEqual(hashes, cliHashes('see-through.png'));
  assert.match(await status('missing'), /^image could not be fetched from http:\/\/127\.0\.0\.1:\d+\/lib\/wasm\/embed-test\/missing\.png: HTTP 404$/);
  assert.match(await status('foreign'), /^image must be on this page's origin http:\/\/127\.0\.0\.1:\d+, not http:\/\/localhost:\d+$/);
  assertSameOrigin(log, server.url);   // the foreign image was never requested
  await page.close();
});
