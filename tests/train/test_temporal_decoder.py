"""The decoder's TemporalMix layers (train/model.py): zero-initialised they change nothing, each frame
sees only its neighbours (two layers: two frames each way), and clips in one batch stay apart.
Run: /usr/bin/python3 tests/train/test_temporal_decoder.py"""

import torch

from checks import check  # puts train/ on the path
from model import Config, VAEDecoder  # noqa: E402


torch.manual_seed(0)
Fr = 8
flat_cfg = Config(frames=Fr, height=32, width=32, vae_ch=(8, 8, 16), vae_groups=4)
cfg = Config(**{**flat_cfg.to_dict(), "vae_temporal": True})
flat, dec = VAEDecoder(flat_cfg).eval(), VAEDecoder(cfg).eval()
missing, unexpected = dec.load_state_dict(flat.state_dict(), strict=False)
check(not unexpected and missing and all(n.startswith("tmix") for n in missing),
      "a per-frame decoder's weights load into a temporal one; only the TemporalMix tensors are new")
z = torch.randn(2 * Fr, cfg.latent_channels, cfg.latent_h, cfg.latent_w)
with torch.no_grad():
    check(torch.equal(dec(z, Fr), flat(z)), "zero-initialised TemporalMix layers leave the output unchanged")
    for p in dec.parameters():
        p.add_(0.1 * torch.randn(p.shape))
    y = dec(z, Fr)
    k = 3
    z2 = z.clone()
    z2[k] += torch.randn(z2[k].shape)
    moved = [(dec(z2, Fr) - y)[f].abs().max().item() > 1e-6 for f in range(2 * Fr)]
check(moved[:Fr] == [abs(f - k) <= 2 for f in range(Fr)],
      "a change to frame %d reaches frames %d..%d only: %s" % (k, k - 2, k + 2, "".join("x" if m else "." for m in moved)))
check(not any(moved[Fr:]), "the other clip of the batch does not move")
with torch.no_grad():
    apart = torch.cat([dec(z[:Fr], Fr), dec(z[Fr:], Fr)])
check(torch.allclose(apart, y, atol=1e-5), "two clips decode in one batch as they do alone")
