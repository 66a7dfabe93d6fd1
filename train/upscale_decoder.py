"""Train a VAE decoder with one more up-sampling level: today's 16x16x4 latents to 128x128 frames.

The encoder, and so the denoiser's latent space, stays frozen: the decoder learns to draw frames
rendered at twice the size from the latents of the same clip rendered at the model's own size.
Its lower levels are the shipped decoder's (res2 becomes res3, up1 up2, and so on), frozen unless
--train-trunk; the new full-size level starts fresh. The loss is the object-weighted MSE of
tune_decoder.py plus an edge term: the L1 distance between the horizontal and vertical pixel
differences of the frame drawn and the frame rendered, which MSE alone lets blur (a blurred outline
costs little squared error).

--report prints, for held-out clips, the PSNR against the 128x128 renders (whole frames and object
pixels) and the edge ratio of the checkpoint's decoder beside the shipped 64x64 decoder's frames
scaled up x2 (nearest and bilinear), and stops.

Usage (resumes from --run's decoder.pt; --out, without the encoder, is rewritten at each checkpoint;
`export.py --kin OUT --with-encoder weights/kineto-world.kin` adds it):
  /usr/bin/python3 train/upscale_decoder.py --init weights/kineto-world.kin weights/kineto-world.kin \\
      --run train/runs/decoder128 --out OUT.kin --minutes 50 --clips 500 --batch 16 --lr 1e-3
"""
import dataclasses
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import world  # noqa: E402
from export import export_model, model_from_kin  # noqa: E402
from model import Kineto  # noqa: E402
from train import VOCAB, log, pool_map, use_all_cores  # noqa: E402
from tune_decoder import resume, tune, tuning_args, weighted_mse  # noqa: E402

NEW_WIDTH = 16  # channels of the new 128x128 level: its convolutions dominate the decode


def grown(model):
    """A copy of `model` whose decoder has one more level, the old levels' weights moved up one."""
    cfg = dataclasses.replace(model.cfg, height=2 * model.cfg.height, width=2 * model.cfg.width,
                              vae_ch=(NEW_WIDTH,) + tuple(model.cfg.vae_ch), enc_levels=len(model.cfg.vae_ch))
    big = Kineto(cfg)
    old = model.state_dict()
    moved = {}
    for name, t in old.items():
        if name.startswith("vae_dec."):
            part, rest = name[len("vae_dec."):].split(".", 1)
            if part.startswith(("res", "up")):
                kind = part.rstrip("0123456789")
                moved["vae_dec.%s%d.%s" % (kind, int(part[len(kind):]) + 1, rest)] = t
            elif part == "conv_in":
                moved[name] = t
            # norm_out and conv_out had the old full-size width: the new level's are fresh
        else:
            moved[name] = t
    missing, unexpected = big.load_state_dict(moved, strict=False)
    assert not unexpected, unexpected
    assert all(n.startswith(("vae_dec.res0.", "vae_dec.up0.", "vae_dec.norm_out.", "vae_dec.conv_out."))
               for n in missing), missing
    return big


def trunk(dec, z):
    """The decoder's old levels, frozen: latent -> features at the old full size."""
    with torch.no_grad():
        x = getattr(dec, "res%d" % (dec.levels - 1))(dec.conv_in(z))
        for i in reversed(range(1, dec.levels - 1)):
            x = getattr(dec, "res%d" % i)(getattr(dec, "up%d" % i)(F.interpolate(x, scale_factor=2, mode="nearest")))
    return x


def head(dec, x):
    """The new level: features at the old full size -> RGB at twice it."""
    x = dec.res0(dec.up0(F.interpolate(x, scale_factor=2, mode="nearest")))
    return dec.conv_out(F.silu(dec.norm_out(x)))


NEW_PARTS = ("up0.", "res0.", "norm_out.", "conv_out.")


def render_pair(job):
    """-> one clip's frames at the small size (F, h, w, 3) and the big size (F, H, W, 3) as uint8,
    and the big frames' object mask (F, H, W) uint8."""
    spec, Fr, small, big = job
    lo, _ = world.render_clip(spec, Fr, small, small)
    hi, mask = world.render_clip(spec, Fr, big, big)
    u8 = lambda f: (f * 255 + 0.5).astype(np.uint8)
    return u8(lo), u8(hi), (mask > 0.5).astype(np.uint8)


@torch.no_grad()
def frame_pairs(model, n_clips, seed, held_out, workers, small):
    """Big frames (N, 3, H, W) uint8, their object masks (N, 1, H, W), and the frozen encoder's
    latent mean and std (N, C, h, w) of the same frames at the small size."""
    c = model.cfg
    specs = world.sample_specs(np.random.default_rng(seed), n_clips, held_out, 0.0)
    jobs = [(s, c.frames, small, c.height) for s in specs]
    frames, masks, means, stds = [], [], [], []
    for lo, hi, mk in pool_map(render_pair, jobs, workers):
        mean, logvar = model.vae_enc(torch.from_numpy(lo).permute(0, 3, 1, 2).float() / 127.5 - 1)
        frames.append(torch.from_numpy(hi).permute(0, 3, 1, 2))
        masks.append(torch.from_numpy(mk)[:, None])
        means.append(mean)
        stds.append(torch.exp(0.5 * logvar))
    return torch.cat(frames), torch.cat(masks), torch.cat(means), torch.cat(stds)


def edge_l1(y, x, mask):
    """Object-weighted L1 between the pixel differences of y and x along each axis."""
    loss = 0.0
    for d in (2, 3):
        dy, dx = y.diff(dim=d), x.diff(dim=d)
        w = 1.0 + 8.0 * mask.narrow(d, 0, mask.shape[d] - 1)
        loss = loss + (w * (dy - dx).abs()).mean() / w.mean()
    return loss / 2


@torch.no_grad()
def quality(decoder, data):
    """PSNR (dB) over whole frames and object pixels, and the edge ratio: the mean magnitude of the
    drawn frames' pixel differences on the object's outline over the rendered frames' (1 = as crisp)."""
    x, mask, mean = data[:3]
    err = err_obj = n_obj = g_y = g_x = 0.0
    for i in range(0, len(x), 128):
        y = decoder(mean[i:i + 128]).clamp(-1, 1)
        t = x[i:i + 128].float() / 127.5 - 1
        m = mask[i:i + 128].float()
        e = ((y - t) / 2) ** 2
        err += e.sum().item()
        err_obj += (e * m).sum().item()
        n_obj += m.sum().item() * 3
        edge = (F.max_pool2d(m, 3, 1, 1) - (-F.max_pool2d(-m, 3, 1, 1))) > 0  # a band around the outline
        for d in (2, 3):
            band = edge.narrow(d, 0, edge.shape[d] - 1).expand(-1, 3, -1, -1)
            g_y += y.diff(dim=d).abs()[band].sum().item()
            g_x += t.diff(dim=d).abs()[band].sum().item()
    return -10 * np.log10(err / x.numel()), -10 * np.log10(err_obj / max(1.0, n_obj)), g_y / max(1e-9, g_x)


class Upscaled(torch.nn.Module):
    """The 64x64 decoder's frames scaled x2: what the page showed before, as a baseline."""

    def __init__(self, dec, mode):
        super().__init__()
        self.dec, self.mode = dec, mode

    def forward(self, z):
        y = self.dec(z)
        return F.interpolate(y, scale_factor=2, mode=self.mode, **({} if self.mode == "nearest" else {"align_corners": False}))


def report(small, dec, held):
    rows = [("128x128 decoder", dec)] + [("64x64 decoder, %s x2" % m, Upscaled(small.vae_dec.eval(), m))
                                         for m in ("nearest", "bilinear")]
    print("| decoder (%d held-out frames) | PSNR | PSNR on objects | edge ratio |" % len(held[0]))
    print("|---|---|---|---|")
    for name, d in rows:
        print("| %s | %.2f dB | %.2f dB | %.3f |" % ((name,) + tuple(quality(d, held))))


def main():
    p = tuning_args(__doc__, minutes=80.0, clips=2000, batch=32, hard_share=0.0, seed=777)
    p.add_argument("--latent-noise", type=float, default=0.1,
                   help="largest extra latent noise, in units of the latents' std, on half of each batch")
    p.add_argument("--edge", type=float, default=1.0, help="weight of the edge term (0 = MSE alone)")
    p.add_argument("--train-trunk", action="store_true", help="train the old levels too")
    p.add_argument("--report", action="store_true", help="print the held-out figures of --run's decoder and stop")
    a = p.parse_args()

    use_all_cores()
    torch.manual_seed(0)
    small = model_from_kin(a.init, VOCAB).eval()
    model = grown(small).eval()
    dec = model.vae_dec.train()
    # The old levels stay as shipped unless --train-trunk: a frozen trunk needs no backward pass,
    # and that halves a step here.
    params = [t for n, t in dec.named_parameters() if a.train_trunk or n.startswith(NEW_PARTS)]
    opt = torch.optim.AdamW(params, lr=a.lr, weight_decay=0.0)
    ckpt, state = resume(a.run, dec, opt)

    if a.report:
        report(small, dec.eval(), frame_pairs(model, 48, 99, True, a.workers, small.cfg.height))
        return
    t0 = time.time()
    train = frame_pairs(model, a.clips, a.seed, False, a.workers, small.cfg.height)
    held = frame_pairs(model, 24, 99, True, a.workers, small.cfg.height)
    noise_scale = a.latent_noise * train[2].std().item()
    log("%d training frames, %d held-out frames in %.0f s; held-out PSNR %.2f dB (objects %.2f dB), edge ratio %.3f"
        % (len(train[0]), len(held[0]), time.time() - t0, *quality(dec, held)))

    def save():
        torch.save({"decoder": dec.state_dict(), "opt": opt.state_dict(), "state": state,
                    "cfg": model.cfg.to_dict()}, ckpt + ".tmp")
        os.replace(ckpt + ".tmp", ckpt)
        try:
            export_model(model, VOCAB, a.out)
            wrote = "; wrote " + a.out
        except ValueError as e:  # a format that cannot hold the config yet: the checkpoint still can
            wrote = "; not exported (%s)" % e
        log("step %d: held-out PSNR %.2f dB (objects %.2f dB), edge ratio %.3f%s"
            % (state["step"], *quality(dec, held), wrote))

    def batch_loss(rng):
        idx = torch.randint(len(train[0]), (a.batch,), generator=rng)
        level = torch.rand(a.batch, generator=rng)
        level[a.batch // 2:] = 0.0
        x = train[0][idx].float() / 127.5 - 1
        mask = train[1][idx].float()
        mean, std = train[2][idx], train[3][idx]
        z = mean + std * torch.randn(mean.shape, generator=rng)
        z += noise_scale * level[:, None, None, None] * torch.randn(z.shape, generator=rng)
        y = dec(z) if a.train_trunk else head(dec, trunk(dec, z))
        loss = weighted_mse(y, x, mask)
        return loss + a.edge * edge_l1(y, x, mask) if a.edge else loss

    tune(opt, params, state, a, 1000, batch_loss, save)


if __name__ == "__main__":
    main()
