"""The decoder tuning end to end on exported smoke weights: only the decoder's tensors change, and
the tuned decoder reconstructs the frames it trained on better than the untouched one. (Held-out
PSNR is printed, not checked: a smoke encoder's latents are mostly noise, and whether a decoder
tuned on 16 clips of them does better on other clips varies from one smoke model to the next.)
Also: --hard-share clips (world.sample_specs, also train.py's) turn, grow or shrink, none of them a
held-out combination."""
import re

import numpy as np
import torch

import world
from conftest import run_train
from export import model_from_kin, read_kin
from train import VOCAB
from tune_decoder import frame_set, weighted_mse

SEED = 777  # of the tuning clips, passed as --seed


def combo(spec):
    return (*spec["objects"][0], spec["motion"])


def test_hard_share_draws_training_combinations():
    plain = world.sample_specs(np.random.default_rng(1), 400, False, 0.0)
    hard = world.sample_specs(np.random.default_rng(1), 400, False, 1.0)
    mixed = world.sample_specs(np.random.default_rng(1), 400, False, 0.5)
    rng = np.random.default_rng(1)
    assert plain == [world.sample_spec(rng, held_out=False) for _ in range(400)], \
        "--hard-share 0 draws as sample_spec does (a grown latent cache keeps its clips)"
    training = set(world.combos(False))
    assert all(combo(s) in training for s in plain + hard + mixed)
    assert all(s["motion"] in world.HARD_MOTIONS for s in hard)
    share = [sum(s["motion"] in world.HARD_MOTIONS for s in specs) / 400 for specs in (plain, mixed)]
    assert share[0] < 0.45 < share[1]


def test_tuning_moves_only_the_decoder_and_lowers_its_loss(smoke_weights, tmp_path):
    weights, encoder = smoke_weights
    out = tmp_path / "tuned.kin"
    log = run_train("tune_decoder.py", "--init", weights, encoder, "--run", tmp_path / "run", "--out", out,
                    "--clips", 16, "--seed", SEED, "--batch", 16, "--minutes", 60, "--max-steps", 200,
                    "--lr", "3e-3", "--workers", 1)
    psnr = [float(v) for v in re.findall(r"held-out PSNR ([\d.]+) dB", log)]
    print("held-out PSNR", " -> ".join("%.2f" % v for v in psnr))
    _, _, before = read_kin(weights)
    _, _, after = read_kin(str(out))
    assert sorted(before) == sorted(after), "the tuned file holds the same tensors"
    changed = [n for n in before if not torch.equal(before[n], after[n])]
    assert changed and all(n.startswith("vae_dec.") for n in changed), changed

    with torch.no_grad():
        model = model_from_kin([weights, encoder], VOCAB).eval()
        x, mask, mean, std, _ = frame_set(model, 16, SEED, False, 1)  # the clips tune_decoder trained on
        # latents drawn as in training: a barely trained smoke encoder's spread is far from zero
        z = mean + std * torch.randn(mean.shape, generator=torch.Generator().manual_seed(0))
        target = x.float() / 127.5 - 1
        loss_before = weighted_mse(model.vae_dec(z), target, mask.float()).item()
        tuned = model_from_kin([str(out), encoder], VOCAB).eval()
        loss_after = weighted_mse(tuned.vae_dec(z), target, mask.float()).item()
    assert loss_after < loss_before, "loss on its training frames %.4f -> %.4f" % (loss_before, loss_after)
