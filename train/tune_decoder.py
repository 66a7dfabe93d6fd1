"""Train the VAE decoder of exported weights further, with everything else frozen.

The denoiser learnt on the encoder's latents, so the encoder must not move; the decoder can. It is
the cheapest part of the model to train (168k parameters, one frame at a time) and the last one a
clip passes through: a shape it blurs is a shape the judge misreads, however good the latent was.
Frames come from training combinations only, as in stage 1, with the same object-weighted MSE.
The latent the decoder sees is the encoder's sample (mean + std * noise) plus, on part of each
batch, extra noise: the denoiser's latents are never exactly the encoder's. --hard-share draws more
of the clips whose frames it reconstructs worst (turning, growing, shrinking shapes).

Usage (resumes from --run; --out is rewritten at every checkpoint):
  /usr/bin/python3 train/tune_decoder.py --init weights/kineto-world.kin weights/kineto-world-encoder.kin \\
      --run train/runs/decoder --minutes 85 --out weights/kineto-world.kin
"""
import argparse
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import world  # noqa: E402
from export import export_model, model_from_kin  # noqa: E402
from train import VOCAB, log, pool_map, use_all_cores  # noqa: E402


def render_frames(job):
    """-> one clip's frames (F, H, W, 3) uint8 and object masks (F, H, W) uint8."""
    spec, Fr, H, W = job
    frames, mask = world.render_clip(spec, Fr, H, W)
    return (frames * 255 + 0.5).astype(np.uint8), (mask > 0.5).astype(np.uint8)


@torch.no_grad()
def frame_set(model, n_clips, seed, held_out, workers, hard_share=0.0, encode=True):
    """Frames (N, 3, H, W) uint8, object masks (N, 1, H, W) uint8, the frozen encoder's latent
    mean and std (N, C, h, w) of n_clips seeded clips, every frame of each, and the clips' specs.
    encode=False leaves the mean and std None (an encoder in training would outdate them)."""
    c = model.cfg
    rng = np.random.default_rng(seed)
    specs = world.sample_specs(rng, n_clips, held_out, hard_share)
    jobs = [(spec, c.frames, c.height, c.width) for spec in specs]
    frames, masks, means, stds = [], [], [], []
    for fr, mk in pool_map(render_frames, jobs, workers):
        x = torch.from_numpy(fr).permute(0, 3, 1, 2)
        frames.append(x)
        masks.append(torch.from_numpy(mk)[:, None])
        if encode:
            mean, logvar = model.vae_enc(x.float() / 127.5 - 1)
            means.append(mean)
            stds.append(torch.exp(0.5 * logvar))
    if not encode:
        return torch.cat(frames), torch.cat(masks), None, None, specs
    return torch.cat(frames), torch.cat(masks), torch.cat(means), torch.cat(stds), specs


def weighted_mse(y, x, mask):
    w = 1.0 + 8.0 * mask  # objects are small: weight their pixels up, as in stage 1
    return (w * (y - x) ** 2).mean() / w.mean()


@torch.no_grad()
def psnr(decoder, data):
    """PSNR (dB) of the decoded mean latents over whole frames and over object pixels only."""
    x, mask, mean = data[:3]
    err = err_obj = n_obj = 0.0
    step = 256  # frames at a time
    for i in range(0, len(x), step):
        y = decoder(mean[i:i + step]).clamp(-1, 1)
        e = ((y - (x[i:i + step].float() / 127.5 - 1)) / 2) ** 2
        m = mask[i:i + step].bool().expand_as(e)
        err += e.sum().item()
        err_obj += e[m].sum().item()
        n_obj += m.sum().item()
    return -10 * math.log10(err / x.numel()), -10 * math.log10(err_obj / max(1.0, n_obj))


def tune(opt, params, state, a, seed, batch_loss, save):
    """The tuning loop both tuning scripts share: batch_loss(rng) -> loss of one batch; trains until
    --minutes of training (or --max-steps) are in `state`, calling save() every --ckpt-minutes and at
    the end. The rate warms up over 100 steps (a fresh optimizer on trained weights: ease in), then
    decays to 5% along a cosine over the minutes."""
    rng = torch.Generator().manual_seed(seed + state["step"])
    total, t_last, t_ckpt = a.minutes * 60, time.time(), time.time()
    while state["seconds"] < total and not (a.max_steps and state["step"] >= a.max_steps):
        warm = min(1.0, (state["step"] + 1) / 100)
        lr = a.lr * warm * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * state["seconds"] / total)))
        for g in opt.param_groups:
            g["lr"] = lr
        loss = batch_loss(rng)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        state["step"] += 1
        now = time.time()
        state["seconds"] += now - t_last
        t_last = now
        if state["step"] % 100 == 0:
            log("step %d loss %.5f lr %.2e (%.1f min)" % (state["step"], loss.item(), lr, state["seconds"] / 60))
        if now - t_ckpt > a.ckpt_minutes * 60:
            save()
            t_ckpt = t_last = time.time()
    save()


def resume(run, dec, opt):
    """-> (the checkpoint's path in `run`, the training state): a fresh one, or the saved decoder,
    optimizer and state loaded from it."""
    os.makedirs(run, exist_ok=True)
    ckpt = os.path.join(run, "decoder.pt")
    if not os.path.exists(ckpt):
        return ckpt, {"seconds": 0.0, "step": 0}
    blob = torch.load(ckpt, weights_only=False)
    dec.load_state_dict(blob["decoder"])
    opt.load_state_dict(blob["opt"])
    log("resumed at step %d (%.1f min)" % (blob["state"]["step"], blob["state"]["seconds"] / 60))
    return ckpt, blob["state"]


def tuning_args(doc, minutes, clips, batch, hard_share, seed):
    """The options both tuning scripts take, with each one's defaults."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--init", nargs=2, required=True, metavar="KIN", help="the weights file and its encoder file")
    p.add_argument("--run", required=True, help="checkpoint folder")
    p.add_argument("--out", required=True, help="the weights file to write")
    p.add_argument("--minutes", type=float, default=minutes, help="training time, cosine-decayed over it")
    p.add_argument("--clips", type=int, default=clips, help="training clips (16 frames each) held in memory")
    p.add_argument("--batch", type=int, default=batch, help="frames a step")
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--hard-share", type=float, default=hard_share,
                   help="share of training clips that spin, grow or shrink (the world's own rate if 0)")
    p.add_argument("--seed", type=int, default=seed, help="seed of the training clips")
    p.add_argument("--max-steps", type=int, default=0, help="also stop after this many steps (0 = no limit)")
    p.add_argument("--ckpt-minutes", type=float, default=5.0)
    p.add_argument("--workers", type=int, default=os.cpu_count())
    return p


def main():
    p = tuning_args(__doc__, minutes=60.0, clips=3000, batch=64, hard_share=0.0, seed=777)
    p.add_argument("--latent-noise", type=float, default=0.1,
                   help="largest extra latent noise, in units of the latents' std, on half of each batch")
    a = p.parse_args()

    use_all_cores()
    torch.manual_seed(0)
    model = model_from_kin(a.init, VOCAB).eval()
    dec = model.vae_dec.train()
    params = list(dec.parameters())
    opt = torch.optim.AdamW(params, lr=a.lr, weight_decay=0.0)
    ckpt, state = resume(a.run, dec, opt)

    t0 = time.time()
    train = frame_set(model, a.clips, a.seed, False, a.workers, a.hard_share)
    held = frame_set(model, 64, 99, True, a.workers)
    noise_scale = a.latent_noise * train[2].std().item()
    log("%d training frames, %d held-out frames in %.0f s; held-out PSNR %.2f dB (objects %.2f dB)"
        % (len(train[0]), len(held[0]), time.time() - t0, *psnr(dec, held)))

    def save():
        torch.save({"decoder": dec.state_dict(), "opt": opt.state_dict(), "state": state}, ckpt + ".tmp")
        os.replace(ckpt + ".tmp", ckpt)
        export_model(model, VOCAB, a.out)
        log("step %d: held-out PSNR %.2f dB (objects %.2f dB); wrote %s"
            % (state["step"], *psnr(dec, held), a.out))

    def batch_loss(rng):
        idx = torch.randint(len(train[0]), (a.batch,), generator=rng)
        level = torch.rand(a.batch, generator=rng)
        level[a.batch // 2:] = 0.0
        x = train[0][idx].float() / 127.5 - 1
        mean, std = train[2][idx], train[3][idx]
        z = mean + std * torch.randn(mean.shape, generator=rng)
        z += noise_scale * level[:, None, None, None] * torch.randn(z.shape, generator=rng)
        return weighted_mse(dec(z), x, train[1][idx].float())

    tune(opt, params, state, a, 1000, batch_loss, save)


if __name__ == "__main__":
    main()
