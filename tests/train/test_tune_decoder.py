"""The decoder tuning end to end on exported smoke weights: only the decoder's tensors change, and
the lowered loss shows up as a higher held-out PSNR than the untouched decoder's.
Run: /usr/bin/python3 tests/train/test_tune_decoder.py WEIGHTS.kin ENCODER.kin"""
import os
import re
import subprocess
import sys
import tempfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "train"))
from export import read_kin  # noqa: E402


def check(cond, what):
    if not cond:
        raise SystemExit("FAIL: " + what)
    print("    ok: " + what)


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
