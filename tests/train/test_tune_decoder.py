"""The decoder tuning end to end on exported smoke weights: only the decoder's tensors change, and
the lowered loss shows up as a higher held-out PSNR than the untouched decoder's. Also its clip
choice: --hard-share clips turn, grow or shrink, and none is a held-out combination.
Run: /usr/bin/python3 tests/train/test_tune_decoder.py WEIGHTS.kin ENCODER.kin"""
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "train"))
import world  # noqa: E402
from export import read_kin  # noqa: E402
from tune_decoder import HARD_MOTIONS, clip_specs  # noqa: E402


def check(cond, what):
    if not cond:
        raise SystemExit("FAIL: " + what)
    print("    ok: " + what)


def combo(spec):
    return (*spec["objects"][0], spec["motion"])


plain = clip_specs(np.random.default_rng(1), 400, False, 0.0)
hard = clip_specs(np.random.default_rng(1), 400, False, 1.0)
mixed = clip_specs(np.random.default_rng(1), 400, False, 0.5)
training = set(world.combos(False))
check(all(combo(s) in training for s in plain + hard + mixed), "every clip shows a training combination")
check(all(s["motion"] in HARD_MOTIONS for s in hard), "--hard-share 1: every clip turns, grows or shrinks")
share = [sum(s["motion"] in HARD_MOTIONS for s in specs) / 400 for specs in (plain, mixed)]
check(share[0] < 0.45 < share[1], "hard motions: %.0f%% of plain clips, %.0f%% at --hard-share 0.5"
      % (100 * share[0], 100 * share[1]))

weights, encoder = sys.argv[1:3]
with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "tuned.kin")
    log = subprocess.run([sys.executable, os.path.join(HERE, "..", "..", "train", "tune_decoder.py"),
                          "--init", weights, encoder, "--run", os.path.join(tmp, "run"), "--out", out,
                          "--clips", "16", "--batch", "16", "--minutes", "0.15", "--lr", "3e-3", "--workers", "1"],
                         check=True, capture_output=True, text=True).stdout
    psnr = [float(v) for v in re.findall(r"held-out PSNR ([\d.]+) dB", log)]
    _, _, before = read_kin(weights)
    _, _, after = read_kin(out)

check(sorted(before) == sorted(after), "the tuned file holds the same tensors")
changed = sorted(n for n in before if not torch.equal(before[n], after[n]))
check(changed and all(n.startswith("vae_dec.") for n in changed),
      "only decoder tensors changed (%d of %d)" % (len(changed), len(before)))
check(len(psnr) >= 2 and psnr[-1] > psnr[0], "held-out PSNR rose: %s dB" % " -> ".join("%.2f" % v for v in psnr))
