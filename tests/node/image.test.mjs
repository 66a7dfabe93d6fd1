// Image starts through the JS API's path (checkRequest, then kineto-engine.js as worker.js drives
// it): a PNG file's bytes give the CLI's `generate --image` bytes, its pixels give the same clip, and
// bad images are refused with errors naming `image`.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkRequest } from '../../web/lib/kineto-request.js';
import { Engine } from '../../web/lib/kineto-engine.js';
import { NATIVE_CLIS, TINY, VARIANTS, loadModule, loadTiny, nativeFrames, runGeneration, sha256, stopThreads } from './load-engine.mjs';
import { badFiles, drawing, pngBytes, withoutEncoder } from './test-images.mjs';

after(stopThreads);

const same = (a, b) => a.length === b.length && a.every((f, i) => sha256(f) === sha256(b[i]));
const OPTIONS = { prompt: 'a red ball moving right', seed: 4, steps: 2, frames: 6 };

// The worker's message for a checked request's image, as kineto.js makes it.
async function withImage(checked) {
  const { image, imageKind, ...rest } = checked;
  assert.equal(imageKind, 'file');
  return { ...rest, image: { bytes: await image.arrayBuffer() } };
}

test('a PNG start is the CLI\'s --image clip, bit for bit, in every build and the scalar CLI; its pixels too', async () => {
  const png = pngBytes(drawing());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kineto-image-'));
  const file = path.join(dir, 'drawing.png');
  fs.writeFileSync(file, png);
  try {
    const native = nativeFrames({ ...OPTIONS, imageFile: file });
    assert.equal(native.length, 6);
    assert.ok(same(nativeFrames({ ...OPTIONS, imageFile: file }, { cli: NATIVE_CLIS[1] }), native),
      'build/nosimd/kineto --image differs from build/kineto --image');
    for (const variant of VARIANTS) {
      const engine = await loadTiny(variant);
      assert.equal(engine.info.hasEncoder, true);
      const checked = checkRequest({ ...OPTIONS, image: new Blob([png]) }, engine.info, engine.vocab);
      const { frames } = runGeneration(engine, await withImage(checked));
      assert.ok(same(frames, native), `${variant}: the image start differs from build/kineto --image`);
      const pixels = runGeneration(engine, { ...checked, image: drawing() }).frames;
      assert.ok(same(pixels, native), `${variant}: the decoded pixels give another clip than the file`);
      const plain = runGeneration(engine, { ...checked, image: null }).frames;
      assert.ok(!same(plain, frames), 'the image reaches the engine');
      engine.free();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a bad image file is refused before the clip starts, naming image', async () => {
  const engine = await loadTiny('simd');
  const checked = checkRequest(OPTIONS, engine.info, engine.vocab);
  for (const [name, [bytes, reason]] of Object.entries(badFiles())) {
    assert.throws(() => engine.begin({ ...checked, image: { bytes } }), (error) => {
      assert.equal(error.name, 'EngineError', name);
      assert.equal(error.field, 'image', name);
      assert.ok(error.message.startsWith(`image is ${reason}`), `${name}: ${error.message}`);
      return true;
    });
    engine.end();
  }
  // the engine is still usable, and the default clip unchanged by the image path
  assert.ok(same(runGeneration(engine, checked).frames, nativeFrames(OPTIONS)));
  engine.free();
});

test('checkRequest refuses what is not an image, a 1-frame clip and weights without the encoder', async () => {
  const engine = await loadTiny('simd');
  const { info, vocab } = engine;
  const refuses = (request, ErrorType, pattern, modelInfo = info) => assert.throws(
    () => checkRequest({ prompt: 'a red ball', ...request }, modelInfo, vocab),
    (error) => error instanceof ErrorType && error.field === 'image' && pattern.test(error.message));
  for (const wrong of ['drawing.png', 7, {}, new Uint8Array(4), [1, 2]]) {
    refuses({ image: wrong }, TypeError, /^image must be an ImageData, an ImageBitmap or a Blob \(File\) of a PNG or JPEG/);
  }
  refuses({ image: new Blob([pngBytes(drawing())]), frames: 1 }, RangeError, /^image needs a clip of at least 2 frames/);
  refuses({ image: new Blob([]) }, RangeError, /^image needs weights that hold the VAE encoder/,
    { ...info, hasEncoder: false });
  assert.equal(checkRequest({ prompt: 'a red ball', image: null }, info, vocab).image, undefined, 'null: no image');
  engine.free();
});

test('weights without the encoder load, say so, and refuse an image start naming the encoder', async () => {
  const engine = new Engine(await loadModule('simd'), withoutEncoder(fs.readFileSync(TINY)));
  assert.equal(engine.info.hasEncoder, false);
  const checked = checkRequest(OPTIONS, engine.info, engine.vocab);
  assert.throws(() => engine.begin({ ...checked, image: drawing() }),
    (error) => error.name === 'EngineError' && /no VAE encoder/.test(error.message) && /image start/.test(error.message));
  engine.end();
  assert.ok(same(runGeneration(engine, checked).frames, nativeFrames(OPTIONS)), 'it makes the same clips otherwise');
  engine.free();
});
