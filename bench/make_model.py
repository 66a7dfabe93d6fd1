"""A full-size random Kineto model for benchmarking when no trained weights exist.

    /usr/bin/python3 bench/make_model.py --out build/bench/kineto-random.kin [--size 128]

train/model.py's default Config (--size 128: the 128x128 model, a 4-level decoder over 16x16 latents) with PyTorch's default initialisation, except that the layers the
model zero-initialises (adaLN-Zero, cross_out, final_ada, patch_out) get small random values:
with them at zero the denoiser's output would be exactly zero and an output check across engines
would compare nothing.
"""
import argparse
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "train"))
import world  # noqa: E402
from export import export_model, round_to_stored  # noqa: E402
from model import Config, Kineto  # noqa: E402

SEED = 1234
ZERO_INIT_STD = 0.02  # the usual transformer init scale
# Frame side -> the decoder's widths (finest first) and the encoder's levels; 8x8 or 16x16 latents.
SIZES = {64: dict(vae_ch=(24, 48, 64), enc_levels=0), 128: dict(vae_ch=(16, 24, 48, 64), enc_levels=3)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--size", type=int, default=64, choices=sorted(SIZES), help="frame side in pixels")
    a = p.parse_args()
    vocab = ["<null>"] + world.vocabulary()
    torch.manual_seed(SEED)
    cfg = Config(vocab_size=len(vocab), height=a.size, width=a.size, **SIZES[a.size])
    model = Kineto(cfg)
    with torch.no_grad():
        for name, t in model.named_parameters():
            if t.abs().max() == 0 and not name.startswith("vae_enc."):
                t.normal_(0.0, ZERO_INIT_STD)
    round_to_stored(model)
    model.eval()
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    n = export_model(model, vocab, a.out)
    print("wrote %s: %d bytes, %d parameters" % (a.out, n, sum(t.numel() for t in model.parameters())))


if __name__ == "__main__":
    main()
