"""Golden fixtures for the C engine's parity test (tests/engine/test_parity.c).

Builds the tiny random model (model.tiny_config, fixed seed), rounds it to what the file stores,
writes tests/fixtures/tiny.kin (with its VAE encoder), and dumps every stage of one generation to
tests/fixtures/golden.bin, then the encoder and a clip started from an image. A second tiny model with
a 4-level decoder (x8, over an x4 encoder, 8 latent channels) goes to tiny4.kin, its decoder and
encoder to golden4.bin (tests/engine/test_vae.c):

  /usr/bin/python3 train/golden.py --out tests/fixtures

golden.bin ("KNGT", version 1), all integers little-endian u32:
  magic "KNGT", version, count; then count records of
  name_len, name (ASCII, no NUL), dtype (0 = f32, 1 = i32, 2 = u8), ndim, dims[ndim], data (row-major).
"""
import argparse
import math
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import world  # noqa: E402
from export import ENCODER_PREFIX, round_to_stored, shipped_tensors, write_kin  # noqa: E402
from model import (Kineto, decode_frames, gaussian_noise, pad_ids, sample, sample_clip,  # noqa: E402
                   timestep_embedding, tiny_config, tokenize)

VOCAB = ["<null>"] + world.vocabulary()
SEED_MODEL = 20240607
PROMPT = "A red ball, moving LEFT on black; zorbly!"
NEGATIVE = "blue square"
SEED = 7
STEPS = 3
GUIDANCE = 3.0
RENOISE = 0.6
LATENT_SCALE = 0.8  # not 1, so the engine's division by it is exercised
# A storyboard past the tiny model's 4-frame window: two shots, a seamless loop, re-noising steps
CLIP_PROMPT2 = "a red ball bouncing on grass"
CLIP_SHOT_FRAMES = (6, 4)


def randomise(model):
    """Random values everywhere, including the layers model.py zero-initialises (adaLN-Zero, the
    output projections), so every path of the engine changes the output."""
    g = torch.Generator().manual_seed(SEED_MODEL)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1 and "norm" in name and name.endswith("weight"):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
            elif p.dim() == 1:
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            elif name.endswith("tok.weight") or name.endswith(".pos"):
                p.copy_(torch.randn(p.shape, generator=g))
            else:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=g) / math.sqrt(fan_in))


class Dump:
    def __init__(self):
        self.records = []

    def add(self, name, value):
        if isinstance(value, (bytes, bytearray)):
            arr = np.frombuffer(bytes(value), np.uint8)
        elif isinstance(value, torch.Tensor):
            arr = value.detach().cpu().numpy()
        else:
            arr = np.asarray(value)
        if arr.dtype == np.uint8:
            code = 2
        elif arr.dtype.kind in "iu":
            arr, code = arr.astype("<i4"), 1
        else:
            arr, code = arr.astype("<f4"), 0
        if arr.ndim == 0:
            arr = arr.reshape(1)
        self.records.append((name, code, arr))

    def write(self, path):
        out = bytearray(b"KNGT" + struct.pack("<II", 1, len(self.records)))
        for name, code, arr in self.records:
            nb = name.encode("ascii")
            out += struct.pack("<I", len(nb)) + nb + struct.pack("<II", code, arr.ndim)
            out += struct.pack("<%dI" % arr.ndim, *arr.shape) + np.ascontiguousarray(arr).tobytes()
        with open(path, "wb") as f:
            f.write(out)


def export_with_encoder(model, path):
    """The shipped tensors and the encoder's, as export.py --with-encoder writes them."""
    tensors = shipped_tensors(model)
    tensors.update({n: t.detach().float().clone() for n, t in model.state_dict().items()
                    if n.startswith(ENCODER_PREFIX) and t.dtype.is_floating_point})
    write_kin(path, model.cfg, VOCAB, tensors)


def random_image(cfg, seed):
    """RGBA bytes (He, We, 4) at the encoder's input size, alpha included, and the encoder's input
    (1, 3, He, We) as the engine computes it: colour * alpha / 255 over black, then / 127.5 - 1, in f32."""
    g = torch.Generator().manual_seed(seed)
    side = (cfg.latent_h * cfg.enc_factor, cfg.latent_w * cfg.enc_factor)
    rgba = torch.randint(0, 256, side + (4,), generator=g, dtype=torch.int32)
    rgba[: side[0] // 2, :, 3] = 255  # half of it opaque
    over_black = (rgba[..., :3] * rgba[..., 3:]).float() / 255.0
    x = over_black / 127.5 - 1.0
    return rgba.to(torch.uint8), x.permute(2, 0, 1)[None].contiguous()


def make_model(cfg):
    torch.manual_seed(SEED_MODEL)
    model = Kineto(cfg)
    randomise(model)
    round_to_stored(model, encoder=True)
    model.eval()
    return model


def golden_four_levels(out):
    """tiny4.kin and golden4.bin: a 4-level decoder and its 3-level encoder, at 8 latent channels."""
    cfg = tiny_config(len(VOCAB))
    cfg.vae_ch, cfg.enc_levels, cfg.latent_channels, cfg.latent_scale = (8, 8, 8, 16), 3, 8, LATENT_SCALE
    model = make_model(cfg)
    export_with_encoder(model, os.path.join(out, "tiny4.kin"))
    d = Dump()
    g = torch.Generator().manual_seed(SEED + 4)
    latent = torch.randn(cfg.frames, cfg.latent_channels, cfg.latent_h, cfg.latent_w, generator=g)
    d.add("latent", latent)
    d.add("rgb", model.vae_dec(latent / cfg.latent_scale))
    d.add("frames", decode_frames(model, latent))
    rgba, x = random_image(cfg, SEED + 5)
    d.add("image", rgba)
    d.add("image.mean", model.vae_enc(x)[0][0])
    d.write(os.path.join(out, "golden4.bin"))
    return len(d.records)


@torch.no_grad()
def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", default="tests/fixtures")
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)

    cfg = tiny_config(len(VOCAB))
    cfg.latent_scale = LATENT_SCALE
    model = make_model(cfg)
    kin = os.path.join(a.out, "tiny.kin")
    export_with_encoder(model, kin)

    d = Dump()
    d.add("prompt", PROMPT.encode())
    d.add("negative_prompt", NEGATIVE.encode())
    d.add("seed", SEED)
    d.add("steps", STEPS)
    d.add("guidance", np.float32(GUIDANCE))
    d.add("renoise", np.float32(RENOISE))

    ids, unknown = tokenize(PROMPT, VOCAB)
    neg_ids, _ = tokenize(NEGATIVE, VOCAB)
    d.add("ids", np.array(ids))
    d.add("neg_ids", np.array(neg_ids))
    d.add("unknown", " ".join(unknown).encode())
    cond_ids, cond_mask = pad_ids([ids], len(ids))
    unc_ids, unc_mask = pad_ids([neg_ids], len(neg_ids))
    ct, cp = model.text(cond_ids, cond_mask)
    ut, up = model.text(unc_ids, unc_mask)
    d.add("cond.tokens", ct[0])
    d.add("cond.pooled", cp[0])
    d.add("uncond.tokens", ut[0])
    d.add("uncond.pooled", up[0])
    null_ids, null_mask = pad_ids([[]], 1)
    nt, npool = model.text(null_ids, null_mask)
    d.add("null.tokens", nt[0])
    d.add("null.pooled", npool[0])

    t_mid = torch.full((1,), 1.0 - 1.0 / STEPS)
    d.add("temb.t_mid", timestep_embedding(t_mid, cfg.dim)[0])
    shape = (1, cfg.frames, cfg.latent_channels, cfg.latent_h, cfg.latent_w)
    noise = gaussian_noise(SEED, int(np.prod(shape))).view(shape)
    d.add("noise", noise[0])
    t1 = torch.ones(1)
    d.add("v.cond.t1", model.denoiser(noise, t1, ct, cond_mask, cp)[0])
    d.add("v.uncond.t1", model.denoiser(noise, t1, ut, unc_mask, up)[0])
    d.add("v.cond.t1.no_temporal", model.denoiser(noise, t1, ct, cond_mask, cp, temporal_on=False)[0])

    trajectory = []
    final = sample(model, ids, neg_ids, SEED, STEPS, GUIDANCE, trajectory=trajectory)
    for i, z in enumerate(trajectory):
        d.add("latent.%d" % i, z)
    renoised = []
    sample(model, ids, neg_ids, SEED, STEPS, GUIDANCE, trajectory=renoised, renoise=RENOISE)
    for i, z in enumerate(renoised):
        d.add("latent.renoise.%d" % i, z)
    # the preview as the engine applies it: the file's folded 1x1 map on the diffusion latent
    w = (model.preview.weight / cfg.latent_scale).half().float()
    d.add("preview", torch.nn.functional.conv2d(final, w, model.preview.bias))
    d.add("rgb", model.vae_dec(final / cfg.latent_scale))
    d.add("frames", decode_frames(model, final))

    # appended after the one-window records, which stay as they were
    ids2, _ = tokenize(CLIP_PROMPT2, VOCAB)
    clip = sample_clip(model, [(ids, CLIP_SHOT_FRAMES[0]), (ids2, CLIP_SHOT_FRAMES[1])], neg_ids, SEED, STEPS,
                       GUIDANCE, seamless=True, renoise=RENOISE)
    d.add("clip.prompt2", CLIP_PROMPT2.encode())
    d.add("clip.shot_frames", np.array(CLIP_SHOT_FRAMES))
    d.add("clip.latent", clip)
    d.add("clip.frames", decode_frames(model, clip))

    # an image start: the encoder's mean, then one window holding frame 0 to the image's latent
    rgba, x = random_image(cfg, SEED + 1)
    mean = model.vae_enc(x)[0][0]
    d.add("image", rgba)
    d.add("image.mean", mean)
    start = sample(model, ids, neg_ids, SEED, STEPS, GUIDANCE, renoise=RENOISE, known=[0],
                   given=(mean * cfg.latent_scale)[None])
    d.add("image.latent", start)
    d.add("image.frames", decode_frames(model, start))

    # a time per frame (given frames at 0, a loop's at both ends), then the storyboard again from a
    # model that gives its known frames clean (cfg.clean_context)
    times = torch.tensor([[0.0] + [0.6] * (cfg.frames - 2) + [0.0]])
    d.add("times", times[0])
    d.add("v.cond.times", model.denoiser(noise, times, ct, cond_mask, cp)[0])
    model.cfg.clean_context = 1
    clean = sample_clip(model, [(ids, CLIP_SHOT_FRAMES[0]), (ids2, CLIP_SHOT_FRAMES[1])], neg_ids, SEED, STEPS,
                        GUIDANCE, seamless=True, renoise=RENOISE)
    model.cfg.clean_context = 0
    d.add("clean.clip.latent", clean)
    d.write(os.path.join(a.out, "golden.bin"))
    n4 = golden_four_levels(a.out)
    print("wrote %s (%d bytes) and golden.bin with %d tensors; prompt ids %s, unknown %s; tiny4.kin and golden4.bin "
          "with %d" % (kin, os.path.getsize(kin), len(d.records), ids, unknown, n4))


if __name__ == "__main__":
    main()
