"""kineto generate --image: a PNG or JPEG as the first frame. Bad files (not PNG or JPEG, corrupt, cut,
0x0, 20000x20000 stated in a header with no pixels) and weights without the VAE encoder are refused
with one line naming --image, and nothing is written; a plain drawing animates from itself."""
import io
import os
import shutil
import struct
import sys
import tempfile
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw

from cli_checks import DEFAULT, ROOT, TINY, kineto, one_line

PROMPT = "a red ball moving right on black"


@pytest.fixture
def work():
    d = tempfile.mkdtemp(prefix="kineto-image-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def red_disc(size=64):
    """A red disc on black, left of centre."""
    im = Image.new("RGB", (size, size), (0, 0, 0))
    ImageDraw.Draw(im).ellipse((10, 22, 30, 42), fill=(220, 30, 30))
    return im


def encoded(im, fmt, **options):
    out = io.BytesIO()
    im.save(out, fmt, **options)
    return out.getvalue()


def png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_header_only(width, height):
    """A PNG that states its size and has no pixel data worth the name."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(b"")) + png_chunk(b"IEND", b"")


def jpeg_header_only(width, height):
    """SOI, a baseline frame header stating the size, EOI."""
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + sof + b"\xff\xd9"


def without_huffman_table(jpg, table):
    """The JPEG with one Huffman table (class/id byte: 0x00 DC 0, 0x10 AC 0, ...) taken out of its DHT
    segments, so a scan uses a table never defined."""
    out, at = bytearray(jpg[:2]), 2
    while jpg[at + 1] != 0xDA:
        length = struct.unpack(">H", jpg[at + 2:at + 4])[0]
        segment = jpg[at:at + 2 + length]
        if segment[1] == 0xC4:
            body, kept, i = segment[4:], b"", 0
            while i < len(body):
                n = 17 + sum(body[i + 1:i + 17])
                if body[i] != table:
                    kept += body[i:i + n]
                i += n
            segment = b"\xff\xc4" + struct.pack(">H", 2 + len(kept)) + kept if kept else b""
        out += segment
        at += 2 + length
    return bytes(out + jpg[at:])


def bad_files():
    png = encoded(red_disc(), "PNG")
    jpg = encoded(red_disc().resize((96, 96)), "JPEG", quality=90)
    idat = png.index(b"IDAT") + 8
    corrupt = png[:idat] + bytes(b ^ 0xA5 for b in png[idat:idat + 6]) + png[idat + 6:]
    return {
        "gif.png": (encoded(red_disc(), "GIF"), "not a PNG or JPEG file"),
        "text.jpg": (b"hello, not an image\n", "not a PNG or JPEG file"),
        "empty.png": (b"", "not a PNG or JPEG file"),
        "corrupt.png": (corrupt, "a corrupt PNG"),
        "cut.png": (png[:len(png) - 20], "a truncated PNG"),
        "cut.jpg": (jpg[:len(jpg) // 2], "a truncated JPEG"),
        "zero.png": (png_header_only(0, 0), "a PNG of 0x0 pixels"),
        "no-ac-table.jpg": (without_huffman_table(jpg, 0x10), "a bad or missing Huffman table"),
        "no-dc-table.jpg": (without_huffman_table(encoded(red_disc(), "JPEG", progressive=True), 0x00),
                            "a bad or missing Huffman table"),
        "huge.png": (png_header_only(20000, 20000), "a PNG of 20000x20000 pixels: each side must be 1..8192"),
        "huge.jpg": (jpeg_header_only(20000, 20000), "a JPEG of 20000x20000 pixels: each side must be 1..8192"),
        "wide.png": (png_header_only(8193, 1), "a PNG of 8193x1 pixels"),
    }


@pytest.mark.parametrize("name", sorted(bad_files()))
def test_a_bad_image_is_refused_and_nothing_is_written(work, name):
    data, reason = bad_files()[name]
    path = os.path.join(work, name)
    with open(path, "wb") as f:
        f.write(data)
    out, gif = os.path.join(work, "out"), os.path.join(work, "clip.gif")
    r = kineto("generate", "--weights", TINY, "--image", path, "--prompt", "a red ball", "--out", out, "--gif", gif)
    assert r.returncode == 1, r.stderr
    line = one_line(r.stderr)
    assert line.startswith("kineto: --image ") and reason in line, line
    assert sorted(os.listdir(work)) == [name], "a refused run wrote something"


def test_weights_without_the_encoder_are_refused(work):
    pytest.importorskip("torch")
    sys.path.insert(0, os.path.join(ROOT, "train"))
    from export import ENCODER_PREFIX, read_kin, write_kin
    cfg, vocab, tensors = read_kin(TINY)
    weights = os.path.join(work, "no-encoder.kin")
    write_kin(weights, cfg, vocab, {n: t for n, t in tensors.items() if not n.startswith(ENCODER_PREFIX)})
    image = os.path.join(work, "disc.png")
    red_disc(32).save(image)
    r = kineto("generate", "--weights", weights, "--image", image, "--prompt", "a red ball", "--out",
               os.path.join(work, "out"))
    assert r.returncode == 1
    assert "--image: the weights" in one_line(r.stderr) and "no VAE encoder" in r.stderr.decode()
    assert sorted(os.listdir(work)) == ["disc.png", "no-encoder.kin"]


@pytest.mark.parametrize("flag", ["--image", "--seamless"])
def test_one_frame_is_refused(work, flag):
    image = os.path.join(work, "disc.png")
    red_disc(32).save(image)
    extra = ["--image", image] if flag == "--image" else ["--seamless"]
    r = kineto("generate", "--weights", TINY, *extra, "--frames", "1", "--prompt", "a red ball", "--out",
               os.path.join(work, "out"))
    assert r.returncode == 1
    assert f"{flag} needs at least 2 frames" in one_line(r.stderr)
    assert os.listdir(work) == ["disc.png"]


def psnr(a, b):
    return 10 * np.log10(255.0 ** 2 / np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))


def red_centre(frame):
    ys, xs = np.nonzero((frame[..., 0] > 120) & (frame[..., 1] < 100))
    assert len(xs), "no red in the frame"
    return xs.mean(), ys.mean()


@pytest.mark.parametrize("fmt", ["png", "jpg"])
def test_a_drawing_animates_from_itself(work, fmt):
    """The default model: frame 0 is the drawing as the autoencoder reproduces it, and the ball moves right."""
    image = os.path.join(work, "disc." + fmt)
    red_disc().save(image, quality=95) if fmt == "jpg" else red_disc().save(image)
    out = os.path.join(work, "out")
    r = kineto("generate", "--weights", DEFAULT, "--image", image, "--prompt", PROMPT, "--seed", "3", "--out", out,
               "--gif", os.path.join(work, "clip.gif"), timeout=300)
    assert r.returncode == 0, r.stderr
    frames = [np.asarray(Image.open(os.path.join(out, "frame_%03d.png" % i)).convert("RGB")) for i in range(16)]
    drawing = np.asarray(red_disc())
    assert psnr(frames[0], drawing) > 25, "frame 0 is not the image"
    (x0, y0), (x1, y1), (x15, _) = red_centre(frames[0]), red_centre(frames[1]), red_centre(frames[15])
    assert abs(x1 - x0) < 4 and abs(y1 - y0) < 4, "frame 1 does not follow the image"
    assert x15 > x0 + 8, f"the ball does not move right: x {x0:.1f} -> {x15:.1f}"


def test_frame_0_is_the_autoencoders_reconstruction(work):
    """Frame 0 against the drawing, within 2 dB of PyTorch's own encode-decode of it."""
    torch = pytest.importorskip("torch")
    sys.path.insert(0, os.path.join(ROOT, "train"))
    import world
    from export import model_from_kin
    from model import decode_frames
    model = model_from_kin([DEFAULT], ["<null>"] + world.vocabulary())
    drawing = np.asarray(red_disc())
    x = torch.from_numpy(drawing.copy()).float().permute(2, 0, 1)[None] / 127.5 - 1
    with torch.no_grad():
        reconstruction = decode_frames(model, model.vae_enc(x)[0] * model.cfg.latent_scale)[0].numpy()
    image = os.path.join(work, "disc.png")
    red_disc().save(image)
    out = os.path.join(work, "out")
    r = kineto("generate", "--weights", DEFAULT, "--image", image, "--prompt", PROMPT, "--steps", "2", "--out", out,
               timeout=300)
    assert r.returncode == 0, r.stderr
    frame0 = np.asarray(Image.open(os.path.join(out, "frame_000.png")).convert("RGB"))
    engine, torch_db = psnr(frame0, drawing), psnr(reconstruction, drawing)
    print(f"frame 0: {engine:.2f} dB, PyTorch's reconstruction {torch_db:.2f} dB")
    assert abs(engine - torch_db) <= 2.0
