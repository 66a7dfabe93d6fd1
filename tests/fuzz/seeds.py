#!/usr/bin/env python3
"""Writes the fuzz seed corpus (tests/fuzz/corpus/) from tests/fixtures/tiny.kin; run from the repository root.
The files are committed, so this only needs running again when the fixture's format changes."""
import os
import struct
import zlib

root = os.path.join("tests", "fuzz", "corpus")
tiny = open(os.path.join("tests", "fixtures", "tiny.kin"), "rb").read()


def write(kind, name, data):
    os.makedirs(os.path.join(root, kind), exist_ok=True)
    with open(os.path.join(root, kind, name), "wb") as f:
        f.write(data)


def fixed(b):
    """file_size and CRC rewritten, as the weights harness does."""
    b = bytearray(b)
    if len(b) >= 24:
        b[8:16] = struct.pack("<Q", len(b))
        b[16:20] = struct.pack("<I", zlib.crc32(bytes(b[24:])) & 0xFFFFFFFF)
    return bytes(b)


vocab_bytes = struct.unpack_from("<I", tiny, 136)[0]  # format version 4: vocab_bytes at 136, words from 140
table = 140 + vocab_bytes
write("weights", "tiny.kin", tiny)
for name, cut in [("header", 24), ("hparams", 140), ("vocab", table), ("table1", table + 88)]:
    write("weights", "cut-" + name, fixed(tiny[:cut]))
write("weights", "zeros", bytes(256))
for name, at in [("vocab-word", 140 + 8), ("dtype", table + 48), ("offset", table + 72)]:
    b = bytearray(tiny)
    b[at] ^= 0x10
    write("weights", "flip-" + name, fixed(b))

prompts = {
    "plain": b"\x03a red ball moving left on black",
    "negative": b"\x83a blue square\x00green background",
    "empty": b"\x00",
    "space": b"\x00 \t\r\n  ",
    "emoji": "\x01a red 🔴 ball ⚽ 👩‍👩‍👧 moving left".encode(),
    "unicode-lower": "\x01\u212a \u0130 BALL Ünïcödé".encode(),
    "invalid-utf8": b"\x05red \xff\xfe\xc0\x80 ball \xed\xa0\x80 \xf4\x90\x80\x80 \xe2\x84",
    "control": b"\x01red\x01\x02\x1b[31mball\x7f\x08 left",
    "html": b"\x01<img src=x onerror=alert(1)> a red ball <script>alert('x')</script>",
    "unknown": b"\x01zorbly florp wibble",
    "too-many": b"\x01" + b"a " * 13,
    "long-word": b"\x01" + b"x" * 300 + b" red",
    "apostrophe": b"\x01it's a ball's ''' ball",
    "bad-params": b"\x7fa red ball",
}
for name, data in prompts.items():
    write("prompt", name, data)
