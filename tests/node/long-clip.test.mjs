// Long clips through the JS API's path (checkRequest, then kineto-engine.js as worker.js drives it):
// a storyboard of prompts and a seamless loop give the native CLI's bytes for the same options, and
// the frames handed out as they become final are the clip's own, the first window's well before the end.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { checkRequest } from '../../web/lib/kineto-request.js';
import { loadTiny, nativeFrames, sha256, stopThreads } from './load-engine.mjs';

after(stopThreads);

// Runs a checked request step by step, taking final frames after each step as the worker does.
// Returns {frames (decode()'s), ready: [{first, count, stepsLeft}], readyBytes (the taken frames)}.
function runLong(engine, checked) {
  engine.begin(checked);
  const ready = [];
  const readyBytes = [];
  while (!engine.done()) {
    engine.step();
    const taken = engine.takeReadyFrames();
    if (taken.frames.length) {
      ready.push({ first: taken.first, count: taken.frames.length, stepsLeft: engine.stepsTotal() - engine.stepsDone() });
      readyBytes.push(...taken.frames.map((b) => new Uint8Array(b)));
    }
  }
  const frames = engine.decode().map((b) => new Uint8Array(b));
  engine.end();
  return { frames, ready, readyBytes };
}

const same = (a, b) => a.length === b.length && a.every((f, i) => sha256(f) === sha256(b[i]));

test('a storyboard of prompts is the CLI\'s storyboard, bit for bit, its windows final as they end', async () => {
  const engine = await loadTiny('simd');
  const info = engine.info;   // the tiny model: a 4-frame window
  const options = { prompt: ['a red ball moving left', 'a blue square going up'], frames: 11, seed: 3, steps: 2 };
  const checked = checkRequest(options, info, engine.vocab);
  assert.deepEqual(checked.shots.map((s) => s.frames), [6, 5]);
  const { frames, ready, readyBytes } = runLong(engine, checked);
  assert.equal(frames.length, 11);
  const native = nativeFrames({ prompts: options.prompt, frames: 11, seed: 3, steps: 2 });
  assert.ok(same(frames, native), 'WebAssembly storyboard differs from build/kineto');
  assert.ok(same(readyBytes, frames), 'frames taken as they became final are decode()\'s');
  assert.deepEqual(ready.map((r) => r.first), ready.reduce((at, r, i) => [...at, i ? at[i - 1] + ready[i - 1].count : 0], []),
    'in order, none skipped');
  assert.equal(ready[0].first, 0);
  assert.ok(ready[0].count === info.frames && ready[0].stepsLeft > 0,
    `the first window is final before the clip is done: ${JSON.stringify(ready)}`);
  // the same plan as explicit shots gives the same clip; another split another one
  const explicit = runLong(engine, checkRequest({ shots: [{ prompt: options.prompt[0], frames: 6 },
    { prompt: options.prompt[1], frames: 5 }], seed: 3, steps: 2 }, info, engine.vocab)).frames;
  assert.ok(same(explicit, frames));
  const other = runLong(engine, checkRequest({ shots: [{ prompt: options.prompt[0], frames: 3 },
    { prompt: options.prompt[1], frames: 8 }], seed: 3, steps: 2 }, info, engine.vocab)).frames;
  assert.ok(!same(other, frames), 'shot lengths reach the engine');
  engine.free();
});

test('a seamless loop is the CLI\'s --seamless clip, bit for bit', async () => {
  const engine = await loadTiny('simd');
  const options = { prompt: 'a red ball bouncing', frames: 9, seed: 12, steps: 2, seamless: true };
  const checked = checkRequest(options, engine.info, engine.vocab);
  const { frames, readyBytes } = runLong(engine, checked);
  const native = nativeFrames(options);
  assert.equal(native.length, 9);
  assert.ok(same(frames, native), 'WebAssembly loop differs from build/kineto --seamless');
  assert.ok(same(readyBytes, frames));
  const open = runLong(engine, checkRequest({ ...options, seamless: false }, engine.info, engine.vocab)).frames;
  assert.ok(!same(open, frames), 'seamless reaches the engine');
  engine.free();
});

test('the default clip through the long-clip path is the CLI\'s and plain decode()\'s', async () => {
  const engine = await loadTiny('simd');
  const options = { prompt: 'a red ball moving left', seed: 5, steps: 2 };
  const { frames, ready, readyBytes } = runLong(engine, checkRequest(options, engine.info, engine.vocab));
  assert.deepEqual(ready, [{ first: 0, count: engine.info.frames, stepsLeft: 0 }], 'one window: final at its end');
  assert.ok(same(readyBytes, frames));
  assert.ok(same(frames, nativeFrames(options)));
  engine.free();
});
