// Bad weights and bad parameters reach JavaScript as the engine's error, never as a crash, and the
// engine keeps working afterwards.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Engine, EngineError } from '../../web/lib/kineto-engine.js';
import { TINY, loadModule, loadTiny, runGeneration, stopThreads } from './load-engine.mjs';

after(stopThreads);

const good = fs.readFileSync(TINY);
const request = { prompt: 'a red ball moving left', seed: 3, steps: 2, guidance: 3 };

function loadError(bytes, loaded) {
  try {
    new Engine(loaded, bytes).free();
  } catch (error) {
    return error;
  }
  assert.fail('the engine accepted bad weights');
}

function withUint32(bytes, offset, value) {
  const copy = Buffer.from(bytes);
  copy.writeUInt32LE(value, offset);
  return copy;
}

test('damaged weights files are refused with the reason', async () => {
  const loaded = await loadModule('simd');
  const cases = [
    ['an empty buffer', Buffer.alloc(0), 'weights file truncated'],
    ['the header alone', good.subarray(0, 24), 'weights file truncated'],
    ['a file cut in half', good.subarray(0, good.length >> 1), 'weights file truncated'],
    ['one byte missing', good.subarray(0, good.length - 1), 'weights file truncated'],
    ['a wrong magic', Buffer.concat([Buffer.from('GGUF'), good.subarray(4)]), 'not a Kineto weights file'],
    ['a version after this build\'s', withUint32(good, 4, 5), 'unsupported weights format version'],
  ];
  for (const bit of [200 * 8, (good.length >> 1) * 8 + 3, good.length * 8 - 1]) {
    const flipped = Buffer.from(good);
    flipped[bit >> 3] ^= 1 << (bit & 7);
    cases.push([`bit ${bit} flipped`, flipped, 'checksum mismatch']);
  }
  for (const [what, bytes, status] of cases) {
    const error = loadError(bytes, loaded);
    assert.ok(error instanceof EngineError, `${what}: ${error}`);
    assert.equal(error.status, status, `${what}: ${error.message}`);
    assert.ok(error.message.length > 0, `${what}: a detailed message`);
  }
  // The module is still sound: the intact file loads and generates.
  const engine = new Engine(loaded, good);
  assert.equal(runGeneration(engine, request).frames.length, engine.info.frames);
  engine.free();
});

test('bad parameters are refused by the engine with the field and its range', async () => {
  const engine = await loadTiny('simd');
  const expected = runGeneration(engine, request).frames;
  const { maxTokens } = engine.info;
  const known = engine.vocab.filter((w) => w !== 'a');
  const cases = [
    [{ prompt: '' }, 'the prompt has no words', /no words/],
    [{ prompt: '?!, ' }, 'the prompt has no words', /no words/],
    [{ prompt: 'zebra qwerty' }, 'no word of the prompt is known', /zebra qwerty/],
    [{ prompt: Array(maxTokens + 1).fill(known[0]).join(' ') }, 'the prompt has too many words', new RegExp(`${maxTokens + 1} known words.*at most ${maxTokens}`)],
    [{ steps: 201 }, 'parameter out of range', /steps = 201 out of range 1\.\.200/],
    [{ steps: -1 }, 'parameter out of range', /steps/],
    [{ guidance: 31 }, 'parameter out of range', /guidance = 31 out of range 0\.\.30/],
    [{ guidance: NaN }, 'parameter out of range', /guidance/],
    [{ renoise: 1.5 }, 'parameter out of range', /renoise = 1\.5 out of range 0\.\.1/],
    [{ renoise: -0.25 }, 'parameter out of range', /renoise/],
    [{ frames: 257 }, 'parameter out of range', /frames = 257 out of range 1\.\.256/],
  ];
  for (const [change, status, pattern] of cases) {
    const bad = { ...request, ...change };
    assert.throws(() => engine.begin(bad), (e) => e instanceof EngineError && e.status === status && pattern.test(e.message),
      JSON.stringify(change));
    assert.throws(() => engine.step(), (e) => e.status === 'call out of order', 'no generation after a refused begin');
  }
  assert.throws(() => engine.preview(), /no generation is running/);
  const after = runGeneration(engine, request).frames;
  assert.ok(after.every((f, i) => Buffer.compare(f, expected[i]) === 0), 'the same clip as before the errors');
  engine.free();
});

test('strings reach C as the UTF-8 of well-formed text: a NUL or a lone surrogate is refused', async () => {
  const engine = await loadTiny('simd');
  for (const field of ['prompt', 'negativePrompt']) {
    assert.throws(() => engine.begin({ ...request, [field]: 'red\u0000 ball' }),
      (e) => e instanceof EngineError && e.status === 'invalid argument' && e.message === `${field} contains a NUL character`);
    assert.throws(() => engine.begin({ ...request, [field]: 'a red\ud800ball' }),
      (e) => e instanceof EngineError && e.status === 'invalid argument' && e.message === `${field} contains a lone UTF-16 surrogate`);
  }
  // U+FFFD itself is text like any other: a separator
  const replaced = runGeneration(engine, { ...request, prompt: 'a red\ufffdball moving left' });
  assert.deepEqual(replaced.unknownWords, []);
  engine.free();
});

test('unknown words are reported and left out', async () => {
  const engine = await loadTiny('simd');
  const plain = runGeneration(engine, request);
  assert.deepEqual(plain.unknownWords, []);
  const noisy = runGeneration(engine, { ...request, prompt: `zebra ${request.prompt} qwerty zebra` });
  assert.deepEqual(noisy.unknownWords, ['zebra', 'qwerty', 'zebra']);
  assert.ok(noisy.frames.every((f, i) => Buffer.compare(f, plain.frames[i]) === 0), 'unknown words do not change the clip');
  engine.free();
});

test('running out of the 256 MB heap is an error, not a crash', async () => {
  for (const variant of ['simd', 'simd-mt']) {
    const loaded = await loadModule(variant);
    // Too big to copy into the heap at all.
    const huge = new Uint8Array(300 << 20);
    huge.set(good);
    assert.throws(() => new Engine(loaded, huge), (e) => e instanceof EngineError && e.status === 'out of memory', variant);
    const engine = new Engine(loaded, good);
    assert.equal(runGeneration(engine, request).frames.length, engine.info.frames, `${variant} works afterwards`);
    engine.free();
  }
});
