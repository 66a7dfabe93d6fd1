"""The joint autoencoder tuning end to end on exported smoke weights: only the encoder, decoder and
preview change; the new latents, under the new scale, keep the spread the old ones had under the
old scale; the preview map is refit to the new latents; and the tuned pair reconstructs the frames
it trained on better than the untouched one.
Run: /usr/bin/python3 tests/train/test_tune_autoencoder.py WEIGHTS.kin ENCODER.kin"""
import os
import subprocess
import sys
import tempfile

import torch
import torch.nn.functional as F

from checks import TRAIN, check  # puts train/ on the path
from export import model_from_kin, read_kin  # noqa: E402
from train import VOCAB  # noqa: E402
from tune_decoder import frame_set, weighted_mse  # noqa: E402

weights, encoder = sys.argv[1:3]
SEED = 781  # of the tuning clips, passed as --seed
with tempfile.TemporaryDirectory() as tmp:
    out, enc_out = os.path.join(tmp, "tuned.kin"), os.path.join(tmp, "tuned-encoder.kin")
    subprocess.run([sys.executable, os.path.join(TRAIN, "tune_autoencoder.py"), "--init", weights, encoder,
                    "--run", os.path.join(tmp, "run"), "--out", out, "--encoder-out", enc_out,
                    "--clips", "16", "--seed", str(SEED), "--hard-share", "0.5", "--batch", "16",
                    "--minutes", "60", "--max-steps", "150", "--lr", "3e-3", "--workers", "1"],
                   check=True, capture_output=True, text=True)
    files = [(read_kin(a)[2], read_kin(b)[2]) for a, b in ((weights, out), (encoder, enc_out))]
    old = model_from_kin([weights, encoder], VOCAB).eval()
    new = model_from_kin([out, enc_out], VOCAB).eval()

changed = []
for before, after in files:
    check(sorted(before) == sorted(after), "the tuned files hold the same tensors")
    changed += [n for n in before if not torch.equal(before[n], after[n])]
check(all(n.startswith(("vae_enc.", "vae_dec.", "preview.")) for n in changed)
      and any(n.startswith("vae_enc.") for n in changed) and any(n.startswith("vae_dec.") for n in changed),
      "the encoder, decoder and preview changed, nothing else (%d tensors)" % len(changed))

with torch.no_grad():
    x, mask = frame_set(old, 16, SEED, False, 1, 0.5)[:2]  # the frames it trained on
    x = x.float() / 127.5 - 1
    z_old, z_new = old.vae_enc(x)[0], new.vae_enc(x)[0]
    spread_old = (z_old * old.cfg.latent_scale).std().item()
    spread_new = (z_new * new.cfg.latent_scale).std().item()
    check(abs(spread_new / spread_old - 1) < 1e-3 and abs(z_new.std() / z_old.std() - 1) > 1e-2,
          "the latents moved (std %.4f -> %.4f) but keep their scaled spread (%.4f -> %.4f)"
          % (z_old.std(), z_new.std(), spread_old, spread_new))

    def preview_error(model, z):
        target = F.avg_pool2d(x, x.shape[-1] // z.shape[-1])
        return ((model.preview(z) - target) ** 2).mean().item()

    err = preview_error(old, z_new), preview_error(new, z_new)
    check(err[1] < err[0], "the preview map was refit to the new latents: error %.4f -> %.4f" % err)

    def loss(model):
        return weighted_mse(model.vae_dec(model.vae_enc(x)[0], model.cfg.frames), x, mask.float()).item()

    before, after = loss(old), loss(new)
    check(after < before, "reconstruction loss on its training frames fell: %.4f -> %.4f" % (before, after))
