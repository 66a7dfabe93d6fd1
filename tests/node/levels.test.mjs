// A 4-level decoder (tests/fixtures/tiny4.kin: 4x4 latents drawn x8 to 32x32, the layout of the
// 128x128 model): the clip's size comes from the weights, every WebAssembly build makes the native
// CLI's bytes, and the previews are full-size frames (latents upscaled), one per step.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, VARIANTS, loadModule, nativeFrames, runGeneration, stopThreads } from './load-engine.mjs';
import { Engine } from '../../web/lib/kineto-engine.js';

after(stopThreads);

const TINY4 = path.join(ROOT, 'tests/fixtures/tiny4.kin');
const request = { prompt: 'a red ball moving left on black', seed: 7, steps: 3, guidance: 2 };

test('a 4-level model: its size from the weights, the native CLI\'s bytes from every build', async () => {
  const reference = nativeFrames(request, { weights: TINY4 });
  for (const variant of VARIANTS) {
    const engine = new Engine(await loadModule(variant, 2), fs.readFileSync(TINY4));
    const { width, height, frames } = engine.info;
    assert.deepEqual([width, height, frames], [32, 32, 4], `${variant}: the size tiny4.kin states`);
    const frameBytes = width * height * 4;
    engine.begin(request);
    let previews = 0;
    while (!engine.done()) {
      engine.step();
      const preview = engine.preview();
      assert.equal(preview.length, frames, `${variant}: a preview frame per frame`);
      for (const f of preview) assert.equal(f.byteLength, frameBytes, `${variant}: previews are full-size frames`);
      // the latents are 4x4: each preview pixel is repeated over an 8x8 block
      const first = new Uint32Array(preview[0]);
      assert.equal(first[0], first[7 * width + 7], `${variant}: a preview's 8x8 block is one colour`);
      previews++;
    }
    assert.equal(previews, request.steps);
    engine.end();
    const { frames: clip } = runGeneration(engine, request);
    engine.free();
    assert.equal(clip.length, reference.length, variant);
    clip.forEach((frame, k) => {
      assert.equal(frame.length, frameBytes, `${variant}, frame ${k}: ${width}x${height} RGBA`);
      assert.equal(Buffer.compare(frame, reference[k]), 0, `${variant}, frame ${k} differs from the native CLI's`);
    });
  }
});
