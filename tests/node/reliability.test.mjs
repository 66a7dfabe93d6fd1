// Reliability of the WebAssembly engine as the worker drives it: hostile prompts through the JS
// request checks and the engine, bad parameters named with their range, cancelling at every point,
// and 200 generations in a row in one module with no growth of its heap or of the JS heap.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import vm from 'node:vm';
import { checkRequest, splitWords } from '../../web/lib/kineto-request.js';
import { loadTiny, runGeneration, stopThreads } from './load-engine.mjs';

after(stopThreads);

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

const base = { seed: 5, steps: 2, guidance: 3 };
const same = (a, b) => a.length === b.length && a.every((f, i) => Buffer.compare(f, b[i]) === 0);

test('hostile prompts: a clear message naming the prompt, or a clip whose unknown words match the engine', async () => {
  const engine = await loadTiny('simd');
  const vocab = new Set(engine.vocab);
  const info = { ...engine.info, vocab: engine.vocab };
  const refused = [
    ['', /prompt has no words/],
    [' \t\r\n\u00a0\u2003 ', /prompt has no words/],
    ['🔴 ⚽ 👩‍👩‍👧', /prompt has no words/],
    ['red '.repeat(25_000), /prompt is too long: 100000 bytes of UTF-8, at most 4096/],
    ['zorbly florp', /prompt has no word the model knows \(unknown: zorbly, florp\)/],
    ['<script>alert(1)</script>', /no word the model knows \(unknown: script, alert, 1, script\)/],
    ['a '.repeat(info.maxTokens + 1), new RegExp(`too long: ${info.maxTokens + 1} known words, at most ${info.maxTokens}`)],
    ['red \ud800 ball \udfff left', /prompt contains a lone UTF-16 surrogate/],   // not valid UTF-16: no UTF-8 form
    ['red\u0000 ball', /prompt contains a NUL character/],                           // C would read only "red"
  ];
  for (const [prompt, pattern] of refused) {
    assert.throws(() => checkRequest({ prompt }, info, vocab), (e) => e.field === 'prompt' && pattern.test(e.message),
      `prompt ${JSON.stringify(prompt.slice(0, 40))}`);
  }
  const accepted = [
    'a red 🔴 ball ⚽ moving left',
    'red\u0001\u0002 ball\u001b[31m\u007f left',
    '<img src=x onerror=alert(1)> a red ball',
    'A RED BALL, \u212Aite \u0130',
  ];
  for (const prompt of accepted) {
    const checked = checkRequest({ prompt, ...base }, info, vocab);
    const clip = runGeneration(engine, checked);
    assert.equal(clip.frames.length, info.frames);
    assert.deepEqual(clip.unknownWords, checked.unknownWords, `unknown words of ${JSON.stringify(prompt)}`);
    assert.ok(splitWords(prompt).length > 0);
  }
  engine.free();
});

test('bad parameters are named with their valid range', async () => {
  const engine = await loadTiny('simd');
  const info = { ...engine.info, vocab: engine.vocab };
  const vocab = new Set(engine.vocab);
  const cases = [
    ['steps', [-1, 0, 201, 1e9, Infinity, NaN, '3', 2 ** 53], /steps must be an integer from 1 to 200/],
    ['guidance', [NaN, Infinity, -Infinity, -0.001, 30.001, '3', null], /guidance must be a number from 0 to 30/],
    ['renoise', [NaN, Infinity, -0.001, 1.001, '0.5', null], /renoise must be a number from 0 to 1/],
    ['seed', [-1, 2 ** 53, NaN, Infinity, 1e20, 0.5, ' 7', '-7', '0x7', 2n ** 64n, -1n, null, {}],
      /seed must be a whole number from 0 to 18446744073709551615, written in decimal digits/],
    ['frames', [0, -1, 257, NaN, 1.5], /frames must be an integer from 1 to 256/],
  ];
  for (const [field, values, pattern] of cases) {
    for (const value of values) {
      if ((field === 'guidance' || field === 'renoise' || field === 'seed') && value === null) continue;   // the default
      assert.throws(() => checkRequest({ prompt: 'a red ball', [field]: value }, info, vocab),
        (e) => e.field === field && e instanceof RangeError && pattern.test(e.message), `${field} = ${String(value)}`);
    }
  }
  engine.free();
});

test('cancelled at any point, the next generation gives the same frames', async () => {
  const engine = await loadTiny('simd');
  const request = { prompt: 'a red ball moving left', ...base, steps: 3 };
  const expected = runGeneration(engine, request).frames;
  const points = {
    'before the first step': () => {},
    'after one step': () => engine.step(),
    'after two steps': () => { engine.step(); engine.step(); },
    'after a preview': () => { engine.step(); engine.preview(); },
    'after the decode': () => { while (!engine.done()) engine.step(); engine.decode(); },
    'during the decode (preview then decode of a half-done clip)': () => { engine.step(); engine.preview(); engine.decode(); },
  };
  for (const [name, cancelAt] of Object.entries(points)) {
    engine.begin({ ...request, seed: 77, prompt: 'a green square' });
    cancelAt();
    engine.end();
    assert.equal(engine.generationBytes(), 0, `buffers released when cancelled ${name}`);
    assert.ok(same(runGeneration(engine, request).frames, expected), `same frames after cancelling ${name}`);
  }
  engine.free();
});

// A leak shows as the heap's top moving up: a large block malloc'd after each generation lands
// above everything still allocated, so its address must not rise once the heap has settled.
function heapTop(engine) {
  const ptr = engine.m._malloc(8 << 20);
  engine.m._free(ptr);
  return ptr;
}

test('200 generations in a row: no growth of WebAssembly memory, the heap top or the JS heap', async () => {
  const engine = await loadTiny('simd');
  const prompts = ['a red ball moving left', 'zorbly a blue square \ufffd rising', 'green 🔴 ring'];
  let settled = null;
  for (let i = 0; i < 200; i++) {
    const request = { prompt: prompts[i % 3], seed: i, steps: 1 + (i % 2), guidance: 3, frames: 1 + (i % engine.info.frames) };
    if (i % 7 === 3) {            // and some cancelled part-way
      engine.begin(request);
      engine.step();
      engine.end();
    }
    runGeneration(engine, request);
    if (i === 19) {
      gc();
      settled = { memory: engine.heap().buffer.byteLength, top: heapTop(engine), js: process.memoryUsage().heapUsed };
    }
  }
  gc();
  const memory = engine.heap().buffer.byteLength, top = heapTop(engine), js = process.memoryUsage().heapUsed;
  assert.equal(memory, settled.memory, 'WebAssembly memory grew');
  assert.equal(top, settled.top, `heap top moved from ${settled.top} to ${top}: memory leaked per generation`);
  const JS_BOUND = 4 << 20;     // 4 MB: far below one leaked clip (64 KB) per generation over 180 runs
  assert.ok(js - settled.js < JS_BOUND, `JS heap grew by ${js - settled.js} bytes (bound ${JS_BOUND})`);
  engine.free();
});
