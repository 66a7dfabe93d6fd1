#!/usr/bin/env python3
"""Writes the start-image fuzz seeds into a folder (build.sh test_fuzz: build/fuzz/seeds-image/): small
PNGs and JPEGs of every colour type and encoding stb_image reads, a few damaged ones, so the corpus
is made here rather than committed as binary files.
  /usr/bin/python3 tests/fuzz/image_seeds.py OUT_DIR"""
import io
import os
import sys

from PIL import Image, ImageDraw


def drawing(mode, size):
    im = Image.new("RGBA", size, (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    d.ellipse((1, 1, size[0] // 2, size[1] // 2), fill=(220, 30, 30, 255))
    d.rectangle((size[0] // 2, size[1] // 3, size[0] - 1, size[1] - 1), fill=(30, 200, 90, 128))
    return im.convert(mode)


def encoded(im, fmt, **options):
    out = io.BytesIO()
    im.save(out, fmt, **options)
    return out.getvalue()


def main(folder):
    os.makedirs(folder, exist_ok=True)
    seeds = {
        "rgba.png": encoded(drawing("RGBA", (9, 7)), "PNG"),
        "rgb.png": encoded(drawing("RGB", (5, 11)), "PNG"),
        "gray.png": encoded(drawing("L", (8, 8)), "PNG"),
        "gray-alpha.png": encoded(drawing("LA", (6, 5)), "PNG"),
        "palette.png": encoded(drawing("P", (7, 7)), "PNG"),
        "bits.png": encoded(drawing("1", (13, 3)), "PNG"),
        "optimized.png": encoded(drawing("RGB", (10, 10)), "PNG", optimize=True),
        "deep16.png": encoded(drawing("L", (4, 4)).convert("I"), "PNG"),  # 16 bits a sample
        "baseline.jpg": encoded(drawing("RGB", (16, 16)), "JPEG", quality=80),
        "progressive.jpg": encoded(drawing("RGB", (17, 9)), "JPEG", quality=60, progressive=True),
        "gray.jpg": encoded(drawing("L", (8, 12)), "JPEG"),
        "subsampled.jpg": encoded(drawing("RGB", (21, 13)), "JPEG", subsampling=2),
        "cmyk.jpg": encoded(drawing("CMYK", (8, 8)), "JPEG"),
    }
    whole = seeds["rgb.png"]
    seeds["cut.png"] = whole[:len(whole) // 2]
    seeds["flipped.png"] = whole[:40] + bytes([whole[40] ^ 0x5A]) + whole[41:]
    seeds["cut.jpg"] = seeds["baseline.jpg"][:len(seeds["baseline.jpg"]) // 2]
    for name, data in seeds.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)
    print("wrote %d image seeds to %s" % (len(seeds), folder))


if __name__ == "__main__":
    main(sys.argv[1])
