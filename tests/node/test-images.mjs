// test-images.mjs — start images for the image tests, drawn by script rather than committed: a small
// drawing as RGBA and as a PNG file, and broken files the decoder must refuse (as the CLI's
// tests/reliability/test_cli_image.py makes them).
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { PNG } from 'pngjs';

// A red disc on dark blue with a white band, half transparent unless bandAlpha says otherwise: not
// square and not the encoder's size, so the engine scales it, and with alpha, so it composites it
// over black.
export function drawing(width = 40, height = 24, { bandAlpha = 128 } = {}) {
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = (y * width + x) * 4;
      const inDisc = (x - 12) ** 2 + (y - 12) ** 2 <= 64;
      const inBand = y >= 18 && y < 21;
      rgba.set(inDisc ? [220, 30, 30, 255] : inBand ? [255, 255, 255, bandAlpha] : [10, 20, 60, 255], at);
    }
  }
  return { width, height, rgba };
}

export function pngBytes({ width, height, rgba }) {
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba);
  return new Uint8Array(PNG.sync.write(png, { colorType: 6 }));
}

function pngChunk(kind, body) {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  const tail = Buffer.alloc(4);
  tail.writeUInt32BE(zlib.crc32(Buffer.concat([Buffer.from(kind, 'latin1'), body])));
  return Buffer.concat([head, Buffer.from(kind, 'latin1'), body, tail]);
}

// A PNG that states its size and holds no pixels worth the name.
function pngHeaderOnly(width, height) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  return new Uint8Array(Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr), pngChunk('IDAT', zlib.deflateSync(Buffer.alloc(0))), pngChunk('IEND', Buffer.alloc(0))]));
}

// SOI, a baseline frame header stating the size, EOI.
function jpegHeaderOnly(width, height) {
  return new Uint8Array([0xff, 0xd8, 0xff, 0xc0, 0, 11, 8, height >> 8, height & 255, width >> 8, width & 255, 1,
    1, 0x11, 0, 0xff, 0xd9]);
}

// name -> [bytes, what the error must say after "image is "]
export function badFiles() {
  const png = pngBytes(drawing());
  const idat = Buffer.from(png).indexOf('IDAT') + 8;
  const corrupt = png.slice();
  for (let i = idat; i < idat + 6; i++) corrupt[i] ^= 0xa5;
  const gif = new TextEncoder().encode('GIF89a\x01\x00\x01\x00\x00\x00\x00;');
  return {
    gif: [gif, 'not a PNG or JPEG file'],
    text: [new TextEncoder().encode('hello, not an image\n'), 'not a PNG or JPEG file'],
    empty: [new Uint8Array(0), 'not a PNG or JPEG file'],
    corrupt: [corrupt, 'a corrupt PNG'],
    cut: [png.slice(0, png.length - 20), 'a truncated PNG'],
    zero: [pngHeaderOnly(0, 0), 'a PNG of 0x0 pixels'],
    huge: [pngHeaderOnly(20000, 20000), 'a PNG of 20000x20000 pixels: each side must be 1..8192'],
    hugeJpeg: [jpegHeaderOnly(20000, 20000), 'a JPEG of 20000x20000 pixels: each side must be 1..8192'],
    wide: [pngHeaderOnly(8193, 1), 'a PNG of 8193x1 pixels'],
  };
}

// A .kin file's bytes (format: include/kineto.h) without its VAE encoder: the vae_enc.* tensors are
// renamed, so the loader skips them as tensors it does not use, and the checksum is written anew.
export function withoutEncoder(kin) {
  const file = Buffer.from(kin);
  assert.equal(file.toString('latin1', 0, 4), 'KNTO');
  const version = file.readUInt32LE(4), vocabBytesAt = version >= 4 ? 136 : 132;
  assert.ok(version === 3 || version === 4, 'a version 3 or 4 file');
  const tableAt = vocabBytesAt + 4 + file.readUInt32LE(vocabBytesAt);
  let renamed = 0;
  for (let i = 0; i < file.readUInt32LE(20); i++) {
    const at = tableAt + 88 * i;
    if (file.toString('latin1', at, at + 8) === 'vae_enc.') file.write('dropped.', at, 'latin1'), renamed++;
  }
  assert.ok(renamed > 0, 'the file held an encoder');
  file.writeUInt32LE(zlib.crc32(file.subarray(24)), 16);
  return new Uint8Array(file);
}
