"""The joint autoencoder tuning end to end on exported smoke weights: only the encoder, decoder and
preview change; the new latents, under the new scale, keep the spread the old ones had under the
old scale; the preview map is refit to the new latents; and the tuned pair reconstructs the frames
it trained on better than the untouched one."""
import torch
import torch.nn.functional as F

from conftest import run_train
from export import model_from_kin, read_kin
from train import VOCAB
from tune_decoder import frame_set, weighted_mse

SEED = 781  # of the tuning clips, passed as --seed


def test_tuning_moves_the_autoencoder_and_keeps_the_latent_spread(smoke_weights, tmp_path):
    weights, encoder = smoke_weights
    out, enc_out = str(tmp_path / "tuned.kin"), str(tmp_path / "tuned-encoder.kin")
    run_train("tune_autoencoder.py", "--init", weights, encoder, "--run", tmp_path / "run", "--out", out,
              "--encoder-out", enc_out, "--clips", 16, "--seed", SEED, "--hard-share", 0.5, "--batch", 16,
              "--minutes", 60, "--max-steps", 150, "--lr", "3e-3", "--workers", 1)
    changed = []
    for a, b in ((weights, out), (encoder, enc_out)):
        before, after = read_kin(a)[2], read_kin(b)[2]
        assert sorted(before) == sorted(after), "the tuned files hold the same tensors"
        changed += [n for n in before if not torch.equal(before[n], after[n])]
    assert all(n.startswith(("vae_enc.", "vae_dec.", "preview.")) for n in changed), changed
    assert any(n.startswith("vae_enc.") for n in changed) and any(n.startswith("vae_dec.") for n in changed)

    old = model_from_kin([weights, encoder], VOCAB).eval()
    new = model_from_kin([out, enc_out], VOCAB).eval()
    with torch.no_grad():
        x, mask = frame_set(old, 16, SEED, False, 1, 0.5)[:2]  # the frames it trained on
        x = x.float() / 127.5 - 1
        z_old, z_new = old.vae_enc(x)[0], new.vae_enc(x)[0]
        spread_old = (z_old * old.cfg.latent_scale).std().item()
        spread_new = (z_new * new.cfg.latent_scale).std().item()
        assert abs(z_new.std() / z_old.std() - 1) > 1e-2, "the latents moved"
        assert abs(spread_new / spread_old - 1) < 1e-3, "but keep their scaled spread"

        def preview_error(model, z):
            target = F.avg_pool2d(x, x.shape[-1] // z.shape[-1])
            return ((model.preview(z) - target) ** 2).mean().item()

        assert preview_error(new, z_new) < preview_error(old, z_new), "the preview map was refit to the new latents"

        def loss(model):
            return weighted_mse(model.vae_dec(model.vae_enc(x)[0]), x, mask.float()).item()

        assert loss(new) < loss(old), "reconstruction loss on its training frames fell"
