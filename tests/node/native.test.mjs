// The WebAssembly builds make exactly the pixels of the native CLI (build/kineto, and the scalar
// build/nosimd/kineto) for the same weights, prompt, seed, steps and guidance.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { ROOT, TINY, VARIANTS, loadTiny, runGeneration, stopThreads } from './load-engine.mjs';

after(stopThreads);

const CLIS = ['build/kineto', 'build/nosimd/kineto'].map((p) => path.join(ROOT, p));
const cases = [
  { prompt: 'A red ball, moving LEFT on black; zorbly!', negativePrompt: 'blue square', seed: 7, steps: 3, guidance: 3 },
  { prompt: 'a blue square moving right', seed: 123456789, steps: 5, guidance: 1, renoise: 0 },
  { prompt: 'a yellow ring spinning', seed: 99, steps: 4, guidance: 2, renoise: 0.5 },
  { prompt: 'green ball', seed: 2 ** 40 + 5, steps: 2, guidance: 7.5, frames: 2 },   // the seed's high half
];

// The CLI's frames as RGBA bytes (its PNGs are RGB or RGBA; alpha is 255 either way).
function nativeFrames(cli, c, threads) {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'kineto-cli-'));
  const args = ['generate', '--weights', TINY, '--prompt', c.prompt, '--seed', String(c.seed), '--steps', String(c.steps),
    '--guidance', String(c.guidance), '--threads', String(threads), '--out', out];
  if (c.negativePrompt) args.push('--negative', c.negativePrompt);
  if (c.frames) args.push('--frames', String(c.frames));
  if (c.renoise !== undefined) args.push('--renoise', String(c.renoise));
  execFileSync(cli, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const files = fs.readdirSync(out).filter((f) => f.endsWith('.png')).sort();
  const frames = files.map((f) => new Uint8Array(PNG.sync.read(fs.readFileSync(path.join(out, f))).data));
  fs.rmSync(out, { recursive: true });
  return frames;
}

test('the native CLIs are built', () => {
  for (const cli of CLIS) assert.ok(fs.existsSync(cli), `${cli} missing: run ./build.sh native`);
});

for (const [i, c] of cases.entries()) {
  test(`case ${i + 1}: every WebAssembly build equals every native build, bit for bit`, async () => {
    const reference = nativeFrames(CLIS[0], c, 1);
    assert.equal(reference.length, c.frames ?? 4);
    for (const cli of CLIS) {
      for (const threads of [1, 2]) {
        const frames = nativeFrames(cli, c, threads);
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
