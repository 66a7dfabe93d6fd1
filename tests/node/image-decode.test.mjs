// A clip started from an image: every WebAssembly build decodes the PNG or JPEG file's bytes with the
// CLI's decoder (kineto_js_decode_image, src/io/image_decode.c) and makes exactly the CLI's --image
// frames; bad bytes are refused with the CLI's reason.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { VARIANTS, loadTiny, nativeFrames, stopThreads } from './load-engine.mjs';

after(stopThreads);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kineto-image-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

// A red disc over a half-transparent green band, 45x29: scaled, and composited over black.
function drawing() {
  const png = new PNG({ width: 45, height: 29 });
  for (let y = 0; y < png.height; y++) {
    for (let x = 0; x < png.width; x++) {
      const at = 4 * (y * png.width + x), disc = (x - 12) ** 2 + (y - 14) ** 2 < 64;
      png.data.set(disc ? [220, 30, 30, 255] : y > 20 ? [30, 200, 90, 128] : [0, 0, 0, 0], at);
    }
  }
  return png;
}
const files = { png: path.join(dir, 'drawing.png'), jpg: path.join(dir, 'drawing.jpg') };
fs.writeFileSync(files.png, PNG.sync.write(drawing()));
// the JPEG from Pillow, as a user's camera file would come from any encoder
execFileSync('/usr/bin/python3', ['-c', 'import sys; from PIL import Image; '
  + 'Image.open(sys.argv[1]).convert("RGB").resize((80, 52)).save(sys.argv[2], quality=90)', files.png, files.jpg]);

// kineto_js_decode_image on the bytes: {rgba, width, height} in the heap, or {error}.
function decodeImage(engine, bytes) {
  const m = engine.m;
  const data = engine.malloc(bytes.length || 1);
  engine.heap().set(bytes, data);
  try {
    const rgba = m._kineto_js_decode_image(data, bytes.length);
    if (!rgba) return { error: m.UTF8ToString(m._kineto_js_image_error()) };
    return { rgba, width: m._kineto_js_image_width(), height: m._kineto_js_image_height() };
  } finally {
    m._free(data);
  }
}

function imageClip(engine, image, { prompt, seed, steps, frames }) {
  const m = engine.m;
  const prompts = engine.cString('prompt', prompt);
  try {
    engine.check(m._kineto_js_begin_clip(engine.ctx, prompts, 0, 0, 0, seed, 0, steps, -1, -1, frames,
      engine.threads, 0, 0, image.rgba, image.width, image.height));
  } finally {
    m._free(prompts);
  }
  while (!engine.done()) engine.step();
  const frameBytes = engine.info.width * engine.info.height * 4;
  const out = engine.malloc(frames * frameBytes);
  try {
    engine.check(m._kineto_decode(engine.ctx, out, frames * frameBytes));
    return Array.from({ length: frames }, (_, f) => engine.heap().slice(out + f * frameBytes, out + (f + 1) * frameBytes));
  } finally {
    m._free(out);
    m._kineto_end(engine.ctx);
  }
}

const request = { prompt: 'a red ball moving right on black', seed: 5, steps: 3, frames: 6 };

for (const [format, file] of Object.entries(files)) {
  test(`${format}: every WebAssembly build makes the CLI's --image frames, bit for bit`, async () => {
    const reference = nativeFrames({ ...request, imageFile: file });
    assert.equal(reference.length, request.frames);
    for (const variant of VARIANTS) {
      const engine = await loadTiny(variant, 2);
      const image = decodeImage(engine, fs.readFileSync(file));
      assert.ok(!image.error, `${variant}: ${image.error}`);
      assert.deepEqual([image.width, image.height], format === 'png' ? [45, 29] : [80, 52]);
      const frames = imageClip(engine, image, request);
      engine.m._free(image.rgba);
      engine.free();
      frames.forEach((frame, k) => {
        const differing = frame.reduce((n, v, j) => n + (v !== reference[k][j]), 0);
        assert.equal(differing, 0, `${variant}, frame ${k}: ${differing} bytes differ from the native CLI`);
      });
    }
  });
}

test('bad image bytes are refused with the reason the CLI gives', async () => {
  const engine = await loadTiny('simd', 1);
  const png = fs.readFileSync(files.png);
  const cases = [
    [Buffer.from('GIF89a not an image'), 'not a PNG or JPEG file'],
    [png.subarray(0, png.length - 30), 'a truncated PNG'],
    [Buffer.alloc(0), 'not a PNG or JPEG file'],
  ];
  for (const [bytes, reason] of cases) {
    const got = decodeImage(engine, bytes);
    assert.ok(got.error?.includes(reason), `${got.error} lacks "${reason}"`);
  }
  engine.free();
});
