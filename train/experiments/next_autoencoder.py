"""The next model's autoencoder in miniature, beside today's: does it keep the object of real clips?

Trains stage 1 of train.py (the same steps, batch and frames for each) for three autoencoders:
  today     4 latent channels, 3 levels, 64x64 frames (the shipped design)
  8ch       8 latent channels, otherwise today's
  next      8 latent channels, a 4th decoder level drawing 128x128 from the latents of 64x64 frames
then passes real held-out clips (eval.py's set) through each and reports PSNR on object pixels and,
once the judges exist (train/runs/classifier.pt), the share of clips whose object keeps its colour and shape in
every frame by eval.py's frame classifier (frames drawn at 128x128 are judged at 64x64).
It also counts the multiply-adds of one denoiser step (one clip, one pass) for today's design, the
next one and the alternative of 2x2 patches on today's latents, and of decoding one frame.

  /usr/bin/python3 train/experiments/next_autoencoder.py --run /tmp/next-ae --steps 400
Resumes: a variant already trained is only measured.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import eval as judge  # noqa: E402
import train  # noqa: E402
import world  # noqa: E402
from export import load_checkpoint  # noqa: E402

VARIANTS = {
    "today": {},
    "8ch": {"latent_channels": 8},
    "next": {"latent_channels": 8, "vae_ch": [16, 24, 48, 64], "enc_levels": 3, "height": 128, "width": 128},
}


def trained(run, changes, a):
    """The variant's autoencoder, trained by train.py's stage 1 unless its checkpoint is past it."""
    ckpt = os.path.join(run, "ckpt.pt")
    if not (os.path.exists(ckpt) and torch.load(ckpt, weights_only=False)["state"]["stage"] != "vae"):
        args = train.parse_args(["--run", run, "--config", json.dumps(changes), "--vae-steps", str(a.steps),
                                 "--vae-batch", str(a.batch), "--vae-clips", str(a.clips),
                                 "--vae-hard-share", str(a.hard_share), "--workers", str(a.workers)])
        torch.manual_seed(0)
        train.Trainer(args).train_vae()
    return load_checkpoint(ckpt, use_ema=False)[0], torch.load(ckpt, weights_only=False)["state"]


@torch.no_grad()
def denoiser_macs(changes):
    """Multiply-adds of one denoiser pass over one clip: every linear layer, plus attention's two
    products (query x key, weights x value) per block."""
    from model import Config, Kineto
    cfg = train.config_with(Config(vocab_size=len(train.VOCAB)), json.dumps(changes))
    model = Kineto(cfg).eval()
    macs = [0]
    hooks = [m.register_forward_hook(lambda m, i, o: macs.__setitem__(0, macs[0] + o.numel() * m.in_features))
             for m in model.denoiser.modules() if isinstance(m, torch.nn.Linear)]
    ids, mask = torch.ones(1, 6, dtype=torch.long), torch.ones(1, 6, dtype=torch.bool)
    tokens, pooled = model.text(ids, mask)
    model.denoiser(torch.zeros(1, cfg.frames, cfg.latent_channels, cfg.latent_h, cfg.latent_w), torch.zeros(1),
                   tokens, mask, pooled)
    for h in hooks:
        h.remove()
    T, F, D = cfg.tokens_per_frame, cfg.frames, cfg.dim
    per_block = [2 * F * T * (T if i % 2 == 0 else F) * D + 2 * F * T * 6 * D for i in range(cfg.depth)]
    return macs[0] + sum(per_block)


@torch.no_grad()
def decoder_macs(changes):
    """Multiply-adds of the VAE decoder's convolutions for one frame."""
    from model import Config, Kineto
    cfg = train.config_with(Config(vocab_size=len(train.VOCAB)), json.dumps(changes))
    dec = Kineto(cfg).vae_dec.eval()
    macs = [0]
    for m in dec.modules():
        if isinstance(m, torch.nn.Conv2d):
            m.register_forward_hook(lambda m, i, o: macs.__setitem__(
                0, macs[0] + o.numel() * m.in_channels * m.kernel_size[0] * m.kernel_size[1]))
    dec(torch.zeros(1, cfg.latent_channels, cfg.latent_h, cfg.latent_w))
    return macs[0]


@torch.no_grad()
def stable_share(frame_net, clips_u8):
    """Per clip: 1 if the frame classifier reads one colour and one shape in every frame (eval.classify)."""
    out = []
    for clip in torch.from_numpy(clips_u8).float() / 255:
        fc, fs = frame_net(clip)
        out.append(float((fc.argmax(1) == fc.argmax(1)[0]).all() & (fs.argmax(1) == fs.argmax(1)[0]).all()))
    return torch.tensor(out)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--run", required=True, help="a folder per variant goes here")
    p.add_argument("--steps", type=int, default=400)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--clips", type=int, default=150, help="clips rendered once for the autoencoder")
    p.add_argument("--hard-share", type=float, default=0.5)
    p.add_argument("--n", type=int, default=100, help="real held-out clips measured")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--classifier", default=os.path.join(judge.ROOT, "train", "runs", "classifier.pt"))
    p.add_argument("--only", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    a = p.parse_args()
    today = denoiser_macs({})
    for name, changes in (("today", {}), ("next", VARIANTS["next"]), ("2x2 patches", {"patch": 2})):
        m = denoiser_macs(changes)
        print("denoiser step, %s: %.1fM multiply-adds a clip (x%.2f today's)" % (name, m / 1e6, m / today), flush=True)
    for name, changes in (("today", {}), ("next", VARIANTS["next"])):
        print("decoder, %s: %.1fM multiply-adds a frame" % (name, decoder_macs(changes) / 1e6), flush=True)
    specs, _, labs, _ = judge.prompt_set(a.n, True, 11)  # eval.py's real held-out clips
    real = np.stack([(world.render_clip(s)[0] * 255 + 0.5).astype(np.uint8) for s in specs])
    frame_net = judge.load_classifiers(a.classifier)[1] if os.path.exists(a.classifier) else None
    results = {}
    if frame_net is not None:
        results["real"] = {"identity_stable": float(stable_share(frame_net, real).mean())}
    for name in a.only:
        model, state = trained(os.path.join(a.run, name), VARIANTS[name], a)
        out = judge.autoencode(model.eval(), real)
        err = ((out.astype(np.float32) - real) / 255) ** 2
        obj = np.stack([world.render_clip(s)[1] for s in specs]) > 0.5
        r = {"psnr": -10 * np.log10(err.mean()), "psnr_objects": -10 * np.log10(err[obj].mean()),
             "stage1_psnr_objects": state["vae_psnr"]["psnr_objects"]}
        if frame_net is not None:
            stable = stable_share(frame_net, out)
            r["identity_stable"] = float(stable.mean())
            r["identity_by_motion"] = judge.identity_by_motion(stable, labs)
        results[name] = r
        print(name, json.dumps(r), flush=True)
    with open(os.path.join(a.run, "results.json"), "w") as f:
        json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
