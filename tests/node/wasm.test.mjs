// The WebAssembly builds against the tiny model: the model is read as its header says, clips are
// deterministic, and every build (SIMD or not, one thread or several) makes the same bits.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, WASM, LIB, WEB, TINY, VARIANTS, builtVariants, loadTiny, runGeneration, stopThreads } from './load-engine.mjs';

after(stopThreads);

const request = { prompt: 'a red ball moving left', seed: 7, steps: 3, guidance: 3 };
const sameBytes = (a, b) => a.length === b.length && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
const sameClip = (a, b) => a.length === b.length && a.every((frame, i) => sameBytes(frame, b[i]));

test('every build is there', () => {
  assert.deepEqual(builtVariants(), VARIANTS, 'run ./build.sh wasm');
});

test('model info and vocabulary match the weights file header', async () => {
  const bytes = fs.readFileSync(TINY);
  const header = (i) => bytes.readUInt32LE(24 + 4 * i);
  const engine = await loadTiny('simd');
  const { info } = engine;
  assert.deepEqual([info.frames, info.height, info.width, info.fps, info.latentChannels],
    [header(0), header(1), header(2), header(3), header(4)]);
  assert.equal(info.vocabSize, header(9));
  assert.equal(info.maxTokens, header(10));
  assert.equal(info.defaultSteps, header(21));
  assert.equal(info.defaultGuidance, bytes.readFloatLE(24 + 4 * 22));
  assert.equal(info.defaultRenoise, bytes.readFloatLE(24 + 4 * 23));
  assert.equal(engine.vocab.length, info.vocabSize - 1);
  assert.ok(engine.vocab.every((w) => /^[a-z0-9']+$/.test(w)), 'vocabulary words are lower-case ASCII');
  engine.free();
});

test('a generation gives frames of the model size that vary, the same for the same seed', async () => {
  const engine = await loadTiny('simd');
  const { width, height, frames } = engine.info;
  const first = runGeneration(engine, request);
  assert.equal(first.frames.length, frames);
  assert.equal(first.previews, request.steps, 'one preview per step');
  for (const frame of first.frames) {
    assert.equal(frame.length, width * height * 4);
    for (let i = 3; i < frame.length; i += 4) assert.equal(frame[i], 255, 'alpha is opaque');
  }
  assert.ok(new Set(first.frames[0]).size > 8, 'the frame is not flat');
  assert.ok(sameClip(first.frames, runGeneration(engine, request).frames), 'same seed, same clip');
  assert.ok(!sameClip(first.frames, runGeneration(engine, { ...request, seed: 8 }).frames), 'another seed, another clip');
  assert.ok(!sameClip(first.frames, runGeneration(engine, { ...request, guidance: 1 }).frames), 'guidance changes the clip');
  const otherRenoise = engine.info.defaultRenoise > 0 ? 0 : 0.5;
  assert.ok(!sameClip(first.frames, runGeneration(engine, { ...request, renoise: otherRenoise }).frames),
    'renoise changes the clip');
  const short = runGeneration(engine, { ...request, frames: 2 });
  assert.equal(short.frames.length, 2);
  engine.free();
});

test('the three builds make bit-identical clips', async () => {
  const clips = {};
  for (const variant of VARIANTS) {
    const engine = await loadTiny(variant, 2);
    clips[variant] = runGeneration(engine, request).frames;
    engine.free();
  }
  assert.ok(sameClip(clips.simd, clips.base), 'simd = base');
  assert.ok(sameClip(clips.simd, clips['simd-mt']), 'simd = simd+threads');
});

test('the threaded build gives the same bits with 1, 2, 3 and 4 threads', async () => {
  const reference = runGeneration(await loadTiny('simd'), request).frames;
  for (const threads of [1, 2, 3, 4]) {
    const engine = await loadTiny('simd-mt', threads);
    assert.equal(engine.threads, threads);
    assert.ok(sameClip(reference, runGeneration(engine, request).frames), `${threads} threads`);
    engine.free();
  }
});

test('a generation ended part-way leaves the engine clean', async () => {
  const engine = await loadTiny('simd');
  const expected = runGeneration(engine, request).frames;
  engine.begin({ ...request, seed: 99 });
  engine.step();
  engine.end();                           // cancelled after one step
  engine.begin({ ...request, seed: 99 });
  engine.step();
  engine.begin(request);                  // begin while running ends the old one
  while (!engine.done()) engine.step();
  assert.ok(sameClip(expected, engine.decode().map((b) => new Uint8Array(b))));
  engine.end();
  assert.equal(engine.generationBytes(), 0, 'no buffers held after end');
  engine.free();
});

test('no eval or Function constructor in the glue or the web modules (strict CSP)', () => {
  const dirs = [WASM, LIB, path.join(WEB, 'app'), path.join(WEB, 'examples')];
  const files = dirs.flatMap((dir) => fs.readdirSync(dir).filter((f) => f.endsWith('.js')).map((f) => path.join(dir, f)));
  assert.ok(files.some((f) => f.endsWith('kineto-simd-mt.worker.js')), 'the pthread worker is checked');
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    assert.doesNotMatch(text, /(^|[^\w.$-])eval\b|new\s+Function\s*\(|\bFunction\s*\(\s*["'`]/, path.relative(ROOT, file));
  }
});
