// The WebAssembly engine against tests/fixtures/golden.bin, the PyTorch reference's run of the tiny
// model (format in train/golden.py): the same words left out, the same frames and preview.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { NATIVE_CLIS, ROOT, VARIANTS, loadTiny, nativeFrames, stopThreads } from './load-engine.mjs';

after(stopThreads);

const BYTE_MISMATCH_FRACTION = 0.001;   // as tests/engine/test_parity.c: a value on a rounding edge may flip

// golden.bin: "KNGT", u32 version, u32 count, then records of
// u32 name_len, name, u32 dtype (0 f32, 1 i32, 2 u8), u32 ndim, u32 dims[ndim], data.
function readGolden(file) {
  const b = fs.readFileSync(file);
  assert.equal(b.toString('latin1', 0, 4), 'KNGT');
  assert.equal(b.readUInt32LE(4), 1);
  const records = new Map();
  let at = 12;
  for (let i = b.readUInt32LE(8); i > 0; i--) {
    const nameLength = b.readUInt32LE(at);
    const name = b.toString('latin1', at + 4, at + 4 + nameLength);
    at += 4 + nameLength;
    const dtype = b.readUInt32LE(at), ndim = b.readUInt32LE(at + 4);
    const dims = [];
    for (let d = 0; d < ndim; d++) dims.push(b.readUInt32LE(at + 8 + 4 * d));
    at += 8 + 4 * ndim;
    const count = dims.reduce((x, y) => x * y, 1);
    const bytes = count * (dtype === 2 ? 1 : 4);
    const raw = new Uint8Array(b.buffer.slice(b.byteOffset + at, b.byteOffset + at + bytes));
    const data = dtype === 0 ? new Float32Array(raw.buffer) : dtype === 1 ? new Int32Array(raw.buffer) : raw;
    records.set(name, { dims, data });
    at += bytes;
  }
  return records;
}

const golden = readGolden(path.join(ROOT, 'tests/fixtures/golden.bin'));
const text = (name) => Buffer.from(golden.get(name).data).toString('latin1');
const request = {
  prompt: text('prompt'), negativePrompt: text('negative_prompt'), seed: golden.get('seed').data[0],
  steps: golden.get('steps').data[0], guidance: golden.get('guidance').data[0],
  renoise: 0,   // the golden frames come from Euler steps
};

// src/model/vae_decoder.c kn_to_byte: [-1, 1] -> 0..255
function toByte(x) {
  const clamped = x > 1 ? 1 : x >= -1 ? x : -1;
  return Math.min(255, Math.floor(Math.fround(Math.fround(clamped + 1) * 127.5) + 0.5));
}

// Compares RGB of RGBA frames with expected(frame, y, x, channel); returns a description or ''.
function compareFrames(frames, width, height, expected) {
  let offByOne = 0, worse = 0, total = 0;
  frames.forEach((frame, f) => {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        for (let c = 0; c < 3; c++) {
          const d = Math.abs(frame[(y * width + x) * 4 + c] - expected(f, y, x, c));
          if (d === 1) offByOne++;
          else if (d > 1) worse++;
          total++;
        }
      }
    }
  });
  const ok = worse === 0 && offByOne <= BYTE_MISMATCH_FRACTION * total;
  return { ok, what: `${offByOne} of ${total} bytes off by one, ${worse} by more` };
}

for (const variant of VARIANTS) {
  test(`${variant}: the tiny model's clip matches the PyTorch reference`, async () => {
    const engine = await loadTiny(variant, 2);
    const { width, height, latentH, latentW } = engine.info;
    engine.begin(request);
    assert.deepEqual(engine.unknownWords().join(' '), text('unknown'));
    while (!engine.done()) engine.step();
    const frames = engine.decode().map((b) => new Uint8Array(b));
    const preview = engine.preview().map((b) => new Uint8Array(b));
    engine.end();
    engine.free();

    const want = golden.get('frames');   // (F, H, W, 3) u8
    assert.deepEqual(want.dims, [frames.length, height, width, 3]);
    const decoded = compareFrames(frames, width, height, (f, y, x, c) => want.data[((f * height + y) * width + x) * 3 + c]);
    assert.ok(decoded.ok, `frames: ${decoded.what}`);

    const p = golden.get('preview');     // (F, 3, h, w) f32, shown upscaled by nearest neighbour
    const scale = height / latentH;
    const previewed = compareFrames(preview, width, height, (f, y, x, c) =>
      toByte(p.data[((f * 3 + c) * latentH + Math.floor(y / scale)) * latentW + Math.floor(x / scale)]));
    assert.ok(previewed.ok, `preview: ${previewed.what}`);
  });
}

// A storyboard through kineto_js_begin_clip (src/bindings/wasm_api.c): begins it, runs every step,
// returns the decoded frames, the frames ready after the first step that had any, and decode_range's
// bytes of frames first..first+1.
function storyboard(engine, prompts, shotFrames, { negativePrompt, seed, steps, guidance, renoise, seamless }, first) {
  const m = engine.m;
  const texts = prompts.map((p) => new TextEncoder().encode(p));
  const promptsPtr = engine.malloc(texts.reduce((n, t) => n + t.length + 1, 0));
  let at = promptsPtr;
  for (const t of texts) {   // each NUL-terminated, one after another
    engine.heap().set(t, at);
    engine.heap()[at + t.length] = 0;
    at += t.length + 1;
  }
  const framesPtr = engine.malloc(4 * shotFrames.length);
  new Int32Array(engine.heap().buffer, framesPtr, shotFrames.length).set(shotFrames);
  const negative = engine.cString('negativePrompt', negativePrompt);
  try {
    engine.check(m._kineto_js_begin_clip(engine.ctx, promptsPtr, framesPtr, prompts.length, negative, seed, 0, steps,
      guidance, renoise, 0, engine.threads, 0, seamless ? 1 : 0, 0, 0, 0));   // no start image
  } finally {
    [promptsPtr, framesPtr, negative].forEach((p) => m._free(p));
  }
  const frames = m._kineto_frames(engine.ctx);
  assert.equal(frames, shotFrames.reduce((x, y) => x + y, 0));
  assert.equal(m._kineto_frames_ready(engine.ctx), 0);
  let readyEarly = 0;
  while (!engine.done()) {
    engine.step();
    if (!readyEarly) readyEarly = m._kineto_frames_ready(engine.ctx);
  }
  assert.equal(m._kineto_frames_ready(engine.ctx), frames);
  const frameBytes = engine.info.width * engine.info.height * 4;
  const out = engine.malloc(frames * frameBytes);
  try {
    engine.check(m._kineto_decode(engine.ctx, out, frames * frameBytes));
    const decoded = [];
    for (let f = 0; f < frames; f++) decoded.push(engine.heap().slice(out + f * frameBytes, out + (f + 1) * frameBytes));
    engine.check(m._kineto_decode_range(engine.ctx, first, 2, out, 2 * frameBytes));
    const range = engine.heap().slice(out, out + 2 * frameBytes);
    m._kineto_end(engine.ctx);
    return { decoded, readyEarly, range };
  } finally {
    m._free(out);
  }
}

// Two shots past the tiny model's 4-frame window, seamless, with re-noising steps, against model.py
// sample_clip; and the CLI's storyboard, bit for bit.
for (const variant of VARIANTS) {
  test(`${variant}: a seamless storyboard past the window matches the PyTorch reference and the CLI`, async () => {
    const engine = await loadTiny(variant, 2);
    const { width, height } = engine.info;
    const shotFrames = Array.from(golden.get('clip.shot_frames').data);
    const prompts = [request.prompt, text('clip.prompt2')];
    const settings = { ...request, renoise: golden.get('renoise').data[0], seamless: true };
    const { decoded, readyEarly, range } = storyboard(engine, prompts, shotFrames, settings, 7);
    assert.equal(readyEarly, engine.info.frames, 'the first window is ready after its steps');
    assert.ok(Buffer.from(range).equals(Buffer.concat([decoded[7], decoded[8]])), 'decode_range gives decode\'s bytes');
    const want = golden.get('clip.frames');   // (F, H, W, 3) u8
    assert.deepEqual(want.dims, [decoded.length, height, width, 3]);
    const got = compareFrames(decoded.map((b) => new Uint8Array(b)), width, height,
      (f, y, x, c) => want.data[((f * height + y) * width + x) * 3 + c]);
    assert.ok(got.ok, `storyboard frames: ${got.what}`);

    // the CLI splits --frames 10 evenly: two shots of 5
    const even = storyboard(engine, prompts, [5, 5], settings, 0).decoded;
    engine.free();
    for (const cli of NATIVE_CLIS) {
      const native = nativeFrames({ ...settings, prompts, frames: 10 }, { cli, threads: 3 });
      assert.equal(native.length, 10);
      native.forEach((frame, f) => assert.ok(Buffer.from(frame).equals(Buffer.from(even[f])),
        `${path.relative(ROOT, cli)} frame ${f} differs from ${variant}`));
    }
  });
}
