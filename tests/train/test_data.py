"""Checks of the training data path: object weights, parallel rendering, caption phrasings.
Run: /usr/bin/python3 tests/train/test_data.py"""

import numpy as np
import torch
import torch.nn.functional as F

from checks import check  # puts train/ on the path
import train  # noqa: E402
import world  # noqa: E402
from model import NULL_ID  # noqa: E402


rng = np.random.default_rng(5)
specs = [world.sample_spec(rng, held_out=False) for _ in range(300)]

# object weights: 4x4 average then 3x3 max with -inf padding, as torch's pooling defines them
worst, shapes_ok = 0.0, True
for s in specs[:40]:
    _, mask = world.render_clip(s)
    want = F.max_pool2d(F.avg_pool2d(torch.from_numpy(mask)[:, None], 4), 3, 1, 1).numpy()
    got = train.latent_mask(mask, 4).astype(np.float32)
    shapes_ok &= got.shape == want.shape == (16, 1, 16, 16)
    worst = max(worst, float(np.abs(got - want).max()))
check(shapes_ok, "latent_mask gives (F, 1, H/4, W/4)")
check(worst < 1e-3, "latent_mask matches torch pooling (max diff %.2g; f16 storage)" % worst)

# forked rendering returns the same clips, in order, as rendering in this process
jobs = [(s, 4, 32, 32, 4) for s in specs]
serial = list(map(train.render_job, jobs))
forked = list(train.pool_map(train.render_job, jobs, 2))
same = all(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) for a, b in zip(serial, forked))
check(len(forked) == len(jobs) and same, "pool_map over 2 processes = serial map (%d clips)" % len(jobs))


# caption phrasings: every row is a known caption of its clip, 0-padded, and phrasings vary
class Stub:
    class args:
        workers = 2

    class cfg:
        max_tokens = 16
    rng = np.random.default_rng(0)


table = train.Trainer.caption_table(Stub, specs).numpy()
check(table.shape == (300, train.CAPTIONS_PER_CLIP, 16), "caption table shape %s" % (table.shape,))
vocab = train.VOCAB
ok = True
for i in (0, 7, 299):
    for row in table[i]:
        n = int((row != NULL_ID).sum())
        ok &= bool((row[:n] != NULL_ID).all() and (row[n:] == NULL_ID).all())
        words = [vocab[t] for t in row[:n]]
        ok &= vocab[row[1]] in world.COLOR_WORDS[world.COLOR_NAMES[specs[i]["objects"][0][0]]]
        ok &= len(words) >= 4
check(ok, "caption rows are 0-padded token ids naming the clip's colour")
check(len({tuple(r) for r in table[0]}) > 1, "a clip's phrasings differ")

# noise levels: logit-normal by default; --low-t-share moves that share of them into [0, --low-t-max]
gen = torch.Generator().manual_seed(3)
plain, focused = train.draw_t(20000, gen), train.draw_t(20000, gen, 0.75, 0.3)
check(bool((plain > 0).all() and (plain < 1).all()) and abs(plain.median().item() - 0.5) < 0.02,
      "logit-normal t lies in (0, 1) around 0.5 (median %.3f)" % plain.median().item())
low_plain, low_focused = (plain <= 0.3).float().mean().item(), (focused <= 0.3).float().mean().item()
want = 0.75 + 0.25 * low_plain
check(abs(low_focused - want) < 0.015, "with share 0.75, %.3f of t are <= 0.3 (%.3f expected)" % (low_focused, want))
check(bool((focused >= 0).all() and (focused < 1).all()), "focused t stay in [0, 1)")
print("training data checks passed")
