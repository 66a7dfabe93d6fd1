"""train/experiments/finish_probe.py: a denoiser that knows the clean latents answers each row with
the velocity that leads straight to its clip's latent x (the nearest to z / (1 - t): at t <= 0.25 the
noise is small beside the gaps between clips). Every finish, in any batch, must then land on x."""
import os
import sys

import torch

from conftest import TRAIN
from export import model_from_kin
from train import VOCAB
from tune_decoder import frame_set

sys.path.insert(0, os.path.join(TRAIN, "experiments"))
from finish_probe import finished_latents  # noqa: E402


def test_an_oracle_denoisers_finishes_are_the_clips_own_latents(smoke_weights):
    model = model_from_kin(list(smoke_weights), VOCAB).eval()
    _, _, mean, _, specs = frame_set(model, 40, 5, False, 1)
    x_all = mean.reshape(40, -1) * model.cfg.latent_scale  # clip i: its frames, flattened

    def oracle(z, t, *_):
        tt = t.view(-1, 1, 1)
        flat = z.reshape(len(z), 1, -1)
        nearest = ((flat - (1 - tt) * x_all[None]) ** 2).sum(2).argmin(1)
        return ((flat[:, 0] - x_all[nearest]) / tt[:, 0]).view_as(z)

    model.denoiser.forward = oracle
    got = finished_latents(model, mean, specs, 0.25, 3, batch=7)
    assert got.shape == mean.shape
    assert torch.allclose(got, mean, atol=1e-5), "largest gap %.2g" % (got - mean).abs().max()
