"""The training data path: object weights, parallel rendering, caption phrasings, noise levels."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import train
import world
from model import NULL_ID


@pytest.fixture(scope="module")
def specs():
    rng = np.random.default_rng(5)
    return [world.sample_spec(rng, held_out=False) for _ in range(300)]


def test_latent_mask_matches_torch_pooling(specs):
    """Object weights: 4x4 average then 3x3 max with -inf padding, as torch's pooling defines them."""
    for s in specs[:40]:
        _, mask = world.render_clip(s)
        want = F.max_pool2d(F.avg_pool2d(torch.from_numpy(mask)[:, None], 4), 3, 1, 1).numpy()
        got = train.latent_mask(mask, 4).astype(np.float32)
        assert got.shape == want.shape == (16, 1, 16, 16)
        assert np.abs(got - want).max() < 1e-3  # f16 storage


def test_pool_map_equals_serial_map(specs):
    jobs = [(s, 4, 32, 32, 4) for s in specs]
    serial = list(map(train.render_job, jobs))
    forked = list(train.pool_map(train.render_job, jobs, 2))
    assert len(forked) == len(jobs)
    for a, b in zip(serial, forked):
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_caption_table(specs):
    """Every row is a known caption of its clip, 0-padded, and a clip's phrasings vary."""
    class Stub:
        class args:
            workers = 2

        class cfg:
            max_tokens = 16
        rng = np.random.default_rng(0)

    table = train.Trainer.caption_table(Stub, specs).numpy()
    assert table.shape == (300, train.CAPTIONS_PER_CLIP, 16)
    vocab = train.VOCAB
    for i in (0, 7, 299):
        for row in table[i]:
            n = int((row != NULL_ID).sum())
            assert (row[:n] != NULL_ID).all() and (row[n:] == NULL_ID).all()
            assert vocab[row[1]] in world.COLOR_WORDS[world.COLOR_NAMES[specs[i]["objects"][0][0]]]
            assert n >= 4
    assert len({tuple(r) for r in table[0]}) > 1


def test_noise_levels_are_logit_normal():
    t = train.draw_t(20000, torch.Generator().manual_seed(3))
    assert bool((t > 0).all() and (t < 1).all())
    assert abs(t.median().item() - 0.5) < 0.02


def test_context_frames_are_the_engines_known_frames():
    """Given frames: a prefix (half the window, one frame or any), a third also a suffix of up to a
    quarter; at least two frames left to make; none at share 0."""
    gen = torch.Generator().manual_seed(3)
    known = train.context_frames(20000, 16, 0.7, gen)
    assert known.shape == (20000, 16) and known.dtype == torch.bool
    given = known.any(1)
    assert abs(given.float().mean().item() - 0.7) < 0.02
    assert bool(known[given, 0].all()), "every clip given frames starts with a prefix"
    assert int((~known).sum(1).min()) >= 2
    prefix = known.int().cumprod(1).sum(1)
    assert abs((prefix[given] == 8).float().mean().item() - 0.5) < 0.03
    assert abs((prefix[given] == 1).float().mean().item() - 0.25) < 0.03
    suffix = known.flip(1).int().cumprod(1).sum(1)
    assert abs((suffix[given] > 0).float().mean().item() - 1 / 3) < 0.03 and int(suffix.max()) <= 4
    assert not train.context_frames(100, 16, 0.0, gen).any()
