"""Shared pieces of the CLI's reliability tests: where the binary and the models are, a run helper,
and the checks that a GIF or a PNG on disk is whole.

  /usr/bin/python3 -m pytest tests/reliability      # KINETO=build/kineto by default
"""
import os
import subprocess
import zlib

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
KINETO = os.path.abspath(os.environ.get("KINETO", os.path.join(ROOT, "build", "kineto")))
TINY = os.path.join(ROOT, "tests", "fixtures", "tiny.kin")          # 4 frames of 32x32
DEFAULT = os.path.join(ROOT, "weights", "kineto-world.kin")         # 16 frames of 64x64


def kineto(*args, check_control=True, **kw):
    """Runs the CLI; returns the CompletedProcess. Its output must never hold raw control bytes."""
    assert os.access(KINETO, os.X_OK), f"{KINETO} is missing: run ./build.sh native first"
    kw.setdefault("capture_output", True)
    kw.setdefault("timeout", 120)
    r = subprocess.run([KINETO, *map(str, args)], **kw)
    if check_control and kw["capture_output"]:
        for name, stream in (("stdout", r.stdout), ("stderr", r.stderr)):
            raw = [b for b in stream if (b < 0x20 and b not in b"\n") or b == 0x7F]
            assert not raw, f"{name} echoed control bytes {raw[:8]}: {stream[:300]!r}"
    return r


def one_line(stderr):
    """The single 'kineto: ...' line of a refusal."""
    lines = stderr.decode("utf-8", "replace").strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {lines}"
    assert lines[0].startswith("kineto: "), lines[0]
    return lines[0]


def png_is_whole(path):
    """Every chunk of the PNG is present with a matching CRC, ending in IEND."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return False
    at = 8
    while at + 12 <= len(data):
        n = int.from_bytes(data[at:at + 4], "big")
        kind = data[at + 4:at + 8]
        body = data[at + 8:at + 8 + n]
        crc = data[at + 8 + n:at + 12 + n]
        if len(body) != n or len(crc) != 4 or zlib.crc32(kind + body) != int.from_bytes(crc, "big"):
            return False
        at += 12 + n
        if kind == b"IEND":
            return at == len(data)
    return False


def gif_is_whole(path, frames):
    """Pillow reads every frame and the file ends with the GIF trailer."""
    from PIL import Image
    with open(path, "rb") as f:
        data = f.read()
    if data[:6] != b"GIF89a" or data[-1:] != b";":
        return False
    with Image.open(path) as g:
        return g.n_frames == frames


def leftovers(folder):
    """Temporary files of an unfinished write."""
    return sorted(n for n in os.listdir(folder) if n.startswith(".kineto-"))
