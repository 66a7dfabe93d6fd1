"""The decoder tuning end to end on exported smoke weights: only the decoder's tensors change, and
the tuned decoder reconstructs the frames it trained on better than the untouched one. (Held-out
PSNR is printed, not checked: a smoke encoder's latents are mostly noise, and whether a decoder
tuned on 16 clips of them does better on other clips varies from one smoke model to the next.)
Also: --only-temporal moves only the TemporalMix tensors, --hard-share clips (world.sample_specs,
also train.py's) turn, grow or shrink, none of them a held-out combination, and the denoiser's
finishes (--denoised-share) give back the clip's own latent when the denoiser is an oracle.
Run: /usr/bin/python3 tests/train/test_tune_decoder.py WEIGHTS.kin ENCODER.kin"""
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import torch

from checks import TRAIN, check  # puts train/ on the path
import world  # noqa: E402
from export import read_kin  # noqa: E402
from export import model_from_kin  # noqa: E402
from train import VOCAB  # noqa: E402
from tune_decoder import denoised_latents, frame_set, weighted_mse  # noqa: E402


def combo(spec):
    return (*spec["objects"][0], spec["motion"])


plain = world.sample_specs(np.random.default_rng(1), 400, False, 0.0)
hard = world.sample_specs(np.random.default_rng(1), 400, False, 1.0)
mixed = world.sample_specs(np.random.default_rng(1), 400, False, 0.5)
rng = np.random.default_rng(1)
check(plain == [world.sample_spec(rng, held_out=False) for _ in range(400)],
      "--hard-share 0 draws as sample_spec does (a grown latent cache keeps its clips)")
training = set(world.combos(False))
check(all(combo(s) in training for s in plain + hard + mixed), "every clip shows a training combination")
check(all(s["motion"] in world.HARD_MOTIONS for s in hard), "--hard-share 1: every clip turns, grows or shrinks")
share = [sum(s["motion"] in world.HARD_MOTIONS for s in specs) / 400 for specs in (plain, mixed)]
check(share[0] < 0.45 < share[1], "hard motions: %.0f%% of plain clips, %.0f%% at --hard-share 0.5"
      % (100 * share[0], 100 * share[1]))

weights, encoder = sys.argv[1:3]
SEED = 777  # of the tuning clips, passed as --seed
with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "tuned.kin")
    log = subprocess.run([sys.executable, os.path.join(TRAIN, "tune_decoder.py"),
                          "--init", weights, encoder, "--run", os.path.join(tmp, "run"), "--out", out,
                          "--clips", "16", "--seed", str(SEED), "--batch", "16", "--minutes", "60", "--max-steps", "200",
                          "--lr", "3e-3",
                          "--workers", "1"],
                         check=True, capture_output=True, text=True).stdout
    psnr = [float(v) for v in re.findall(r"held-out PSNR ([\d.]+) dB", log)]
    _, _, before = read_kin(weights)
    _, _, after = read_kin(out)
    with torch.no_grad():
        model = model_from_kin([weights, encoder], VOCAB).eval()
        x, mask, mean, std, _ = frame_set(model, 16, SEED, False, 1)  # the clips tune_decoder trained on
        # latents drawn as in training: a barely trained smoke encoder's spread is far from zero
        z = mean + std * torch.randn(mean.shape, generator=torch.Generator().manual_seed(0))
        target = x.float() / 127.5 - 1
        loss_before = weighted_mse(model.vae_dec(z, model.cfg.frames), target, mask.float()).item()
        tuned = model_from_kin([out, encoder], VOCAB).eval()
        loss_after = weighted_mse(tuned.vae_dec(z, model.cfg.frames), target, mask.float()).item()

check(sorted(before) == sorted(after), "the tuned file holds the same tensors")
changed = sorted(n for n in before if not torch.equal(before[n], after[n]))
check(changed and all(n.startswith("vae_dec.") for n in changed),
      "only decoder tensors changed (%d of %d)" % (len(changed), len(before)))

check(loss_after < loss_before, "loss on its training frames fell: %.4f -> %.4f (held-out PSNR %s dB)"
      % (loss_before, loss_after, " -> ".join("%.2f" % v for v in psnr)))

# --only-temporal: the TemporalMix layers train, nothing else moves
with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "mixed.kin")
    subprocess.run([sys.executable, os.path.join(TRAIN, "tune_decoder.py"),
                    "--init", weights, encoder, "--run", os.path.join(tmp, "run"), "--out", out, "--clips", "4",
                    "--batch", "8", "--max-steps", "5", "--only-temporal", "--workers", "1"],
                   check=True, capture_output=True, text=True)
    _, _, mixed = read_kin(out)
changed = sorted(n for n in before if not torch.equal(before[n], mixed[n]))
check(changed and all(n.startswith("vae_dec.tmix") for n in changed),
      "--only-temporal changed only TemporalMix tensors (%d of %d)" % (len(changed), len(before)))

# denoised_latents: a denoiser that knows the clean latents answers each row with the velocity that
# leads straight to its clip's latent x (the nearest to z / (1 - t): at t <= 0.25 the noise is small
# beside the gaps between clips). Every finish, from any start, in any batch, must then land on x.
model = model_from_kin([weights, encoder], VOCAB).eval()
_, _, mean, _, specs = frame_set(model, 40, 5, False, 1)
x_all = mean.reshape(40, -1) * model.cfg.latent_scale  # clip i: its frames, flattened


def oracle(z, t, *_):
    tt = t.view(-1, 1, 1)
    flat = z.reshape(len(z), 1, -1)
    nearest = ((flat - (1 - tt) * x_all[None]) ** 2).sum(2).argmin(1)
    return ((flat[:, 0] - x_all[nearest]) / tt[:, 0]).view_as(z)


model.denoiser.forward = oracle
for every in (False, True):  # random starts (--denoised-share), or all from t = 0.25 (finish_probe.py)
    got = denoised_latents(model, mean, specs, 0.25, 3, batch=7, every_clip_from_t_max=every)
    check(got.shape == mean.shape and torch.allclose(got, mean, atol=1e-5),
          "an oracle denoiser's finishes are the clips' own latents%s (largest gap %.2g)"
          % (", all from t = 0.25" if every else "", (got - mean).abs().max()))

# --denoised-share runs end to end and moves only the decoder
with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "finished.kin")
    subprocess.run([sys.executable, os.path.join(TRAIN, "tune_decoder.py"),
                    "--init", weights, encoder, "--run", os.path.join(tmp, "run"), "--out", out, "--clips", "4",
                    "--batch", "8", "--max-steps", "5", "--denoised-share", "0.5", "--workers", "1"],
                   check=True, capture_output=True, text=True)
    _, _, finished = read_kin(out)
changed = sorted(n for n in before if not torch.equal(before[n], finished[n]))
check(changed and all(n.startswith("vae_dec.") for n in changed),
      "--denoised-share changed only decoder tensors (%d of %d)" % (len(changed), len(before)))
