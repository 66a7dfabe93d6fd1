// The WebAssembly builds make exactly the pixels of the native CLI (build/kineto, and the scalar
// build/nosimd/kineto) for the same weights, prompt, seed, steps and guidance.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, VARIANTS, NATIVE_CLIS as CLIS, loadTiny, nativeFrames, runGeneration, stopThreads } from './load-engine.mjs';

after(stopThreads);

const cases = [
  { prompt: 'A red ball, moving LEFT on black; zorbly!', negativePrompt: 'blue square', seed: 7, steps: 3, guidance: 3 },
  { prompt: 'a blue square moving right', seed: 123456789, steps: 5, guidance: 1, renoise: 0 },
  { prompt: 'a yellow ring spinning', seed: 99, steps: 4, guidance: 2, renoise: 0.5 },
  { prompt: 'green ball', seed: 2 ** 40 + 5, steps: 2, guidance: 7.5, frames: 2 },   // the seed's high half
];

test('the native CLIs are built', () => {
  for (const cli of CLIS) assert.ok(fs.existsSync(cli), `${cli} missing: run ./build.sh native`);
});

for (const [i, c] of cases.entries()) {
  test(`case ${i + 1}: every WebAssembly build equals every native build, bit for bit`, async () => {
    const reference = nativeFrames(c, { cli: CLIS[0], threads: 1 });
    assert.equal(reference.length, c.frames ?? 4);
    for (const cli of CLIS) {
      for (const threads of [1, 2]) {
        const frames = nativeFrames(c, { cli, threads });
        assert.ok(frames.every((f, k) => Buffer.compare(f, reference[k]) === 0), `${path.relative(ROOT, cli)} --threads ${threads}`);
      }
    }
    for (const variant of VARIANTS) {
      const engine = await loadTiny(variant, 2);
      const { frames } = runGeneration(engine, c);
      engine.free();
      assert.equal(frames.length, reference.length, variant);
      frames.forEach((frame, k) => {
        const differing = frame.reduce((n, v, j) => n + (v !== reference[k][j]), 0);
        assert.equal(differing, 0, `${variant}, frame ${k}: ${differing} bytes differ from the native CLI`);
      });
    }
  });
}
