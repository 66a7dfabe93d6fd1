"""Where in sampling does the denoiser lose the object? Real held-out clips are encoded, noised to
each given t, finished by the default sampler under one of their captions, decoded and judged by
eval.py's classifiers. t = 0 is the autoencoder alone; t = 1 starts from pure noise. An experiment
(weights/README.md, "Where the denoiser loses the object"), not part of the recipe.

  /usr/bin/python3 train/experiments/finish_probe.py --t 0 0.25 0.5 1     # the shipped weights, 300 clips
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import world  # noqa: E402
from eval import ROOT, accuracy, classify, identity_by_motion, load_classifiers, prompt_set  # noqa: E402
from export import DEFAULT_GUIDANCE, DEFAULT_RENOISE, DEFAULT_STEPS, model_from_kin  # noqa: E402
from model import decode_frames, pad_ids, sampler_step, tokenize  # noqa: E402
from train import VOCAB, use_all_cores  # noqa: E402


@torch.no_grad()
def finished_latents(model, means, specs, t, seed, batch=32):
    """The latents the denoiser makes of these clips when it finishes a sampling run: each clip's
    encoder latent, noised to the step nearest t, then taken to t = 0 by the default sampler (steps,
    guidance, renoise of train/export.py) under one of the clip's captions.
    means (N, C, h, w), every frame of each clip -> the same shape, in the decoder's units."""
    c, scale, steps = model.cfg, model.cfg.latent_scale, DEFAULT_STEPS
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    x0 = means.reshape(len(specs), c.frames, *means.shape[1:]) * scale
    k = round(t * steps)
    ids = [tokenize(world.caption(sp, rng), VOCAB)[0][:c.max_tokens] for sp in specs]
    out = torch.empty_like(x0)
    ui, um = pad_ids([[]] * batch, 1)  # the null prompt, encoded once
    ut, up = model.text(ui, um)
    for j in range(0, len(specs), batch):
        part = np.arange(j, min(j + batch, len(specs)))
        n = len(part)
        ci, cm = pad_ids([ids[i] for i in part], max(len(ids[i]) for i in part))
        ct, cp = model.text(ci, cm)
        z = (1 - k / steps) * x0[part] + k / steps * torch.randn(x0[part].shape, generator=gen)
        for i in range(steps - k, steps):
            ta, tb = 1.0 - i / steps, 1.0 - (i + 1) / steps
            tt = torch.full((n,), ta)
            v = model.denoiser(z, tt, ct, cm, cp)
            vu = model.denoiser(z, tt, ut[:n], um[:n], up[:n])
            z = sampler_step(z, vu + DEFAULT_GUIDANCE * (v - vu), ta, tb, DEFAULT_RENOISE,
                             lambda: torch.randn(z.shape, generator=gen))
        out[part] = z
    return (out / scale).reshape(means.shape)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", default=os.path.join(ROOT, "weights", "kineto-world.kin"))
    p.add_argument("--encoder", default=os.path.join(ROOT, "weights", "kineto-world-encoder.kin"))
    p.add_argument("--classifier", default=os.path.join(ROOT, "train", "runs", "classifier.pt"))
    p.add_argument("--t", type=float, nargs="+", required=True, help="noise levels to start from (0..1)")
    p.add_argument("--n", type=int, default=300, help="real held-out clips")
    p.add_argument("--prompt-seed", type=int, default=111, help="seed of the clips (eval.py's own are 11, 12, 21, 22)")
    a = p.parse_args()
    use_all_cores()
    clip_net, frame_net = load_classifiers(a.classifier)
    model = model_from_kin([a.weights, a.encoder], VOCAB).eval()
    specs, _, labs, _ = prompt_set(a.n, True, a.prompt_seed)
    with torch.no_grad():
        u8 = np.stack([(world.render_clip(s)[0] * 255 + 0.5).astype(np.uint8) for s in specs])  # as eval.py's
        means = model.vae_enc(torch.from_numpy(u8).flatten(0, 1).permute(0, 3, 1, 2).float() / 127.5 - 1)[0]
        for t in a.t:
            lat = finished_latents(model, means, specs, t, a.prompt_seed)
            lat = lat.view(a.n, -1, *lat.shape[1:]) * model.cfg.latent_scale
            clips = np.stack([decode_frames(model, z).numpy() for z in lat])
            preds, _, stable = classify(clip_net, frame_net, clips)
            r = accuracy(preds, labs)
            print("from t=%.4g: shape %.3f exact %.3f identity %.3f | identity by motion %s"
                  % (t, r["shape"], r["exact"], float(stable.mean()), identity_by_motion(stable, labs)), flush=True)


if __name__ == "__main__":
    main()
