"""Train the VAE decoder of exported weights further, with everything else frozen.

The denoiser learnt on the encoder's latents, so the encoder must not move; the decoder can. It is
the cheapest part of the model to train (168k parameters, one frame at a time) and the last one a
clip passes through: a shape it blurs is a shape the judge misreads, however good the latent was.
Frames come from training combinations only, as in stage 1, with the same object-weighted MSE.
The latent the decoder sees is the encoder's sample (mean + std * noise) plus, on part of each
batch, extra noise: the denoiser's latents are never exactly the encoder's. --denoised-share goes
further and replaces part of each batch with the denoiser's own finish of the clip (its last
sampling steps, from the clip's latent lightly noised), so the decoder sees the errors the denoiser
really makes, with the clip's true frames as the target. --hard-share draws more
of the clips whose frames it reconstructs worst (turning, growing, shrinking shapes). --temporal gives
a decoder without them the TemporalMix layers (zero-initialised, so training starts from the same
output), which let each frame draw on its neighbours; such a decoder trains on whole clips, and
--only-temporal trains those layers alone. Give them a small learning rate (5e-5): at 3e-4 Adam's
first steps on the zero-initialised layers wreck a tuned decoder.

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
from model import VAEDecoder  # noqa: E402
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


@torch.no_grad()
def denoised_latents(model, means, specs, t_max, seed, batch=32, every_clip_from_t_max=False):
    """The latents the denoiser makes of these clips when it finishes a sampling run: each clip's
    encoder latent, noised to t = k / steps for a random k with t <= t_max, then taken to t = 0 by the
    default sampler (steps, guidance, renoise of train/export.py) under one of the clip's captions.
    Those are the detail-forming steps, where the denoiser loses most of an object's outline; a
    decoder taught to read their output back into the clip might read generated clips better (for
    the shipped model it did not: weights/README.md).
    every_clip_from_t_max: start every clip at the largest such t (train/finish_probe.py).
    -> (N, C, h, w) like means, in the decoder's units."""
    from export import DEFAULT_GUIDANCE, DEFAULT_RENOISE, DEFAULT_STEPS
    from model import pad_ids, sampler_step, tokenize
    c, scale, steps = model.cfg, model.cfg.latent_scale, DEFAULT_STEPS
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    x0 = means.reshape(len(specs), c.frames, *means.shape[1:]) * scale
    k_max = round(t_max * steps)
    ks = np.full(len(specs), k_max) if every_clip_from_t_max else rng.integers(1, max(1, k_max) + 1, len(specs))
    ids = [tokenize(world.caption(sp, rng), VOCAB)[0][:c.max_tokens] for sp in specs]
    out = torch.empty_like(x0)
    ui, um = pad_ids([[]] * batch, 1)  # the null prompt, encoded once
    ut, up = model.text(ui, um)
    for k in np.unique(ks):
        todo = np.flatnonzero(ks == k)
        for j in range(0, len(todo), batch):
            part = todo[j:j + batch]
            n = len(part)
            ci, cm = pad_ids([ids[i] for i in part], max(len(ids[i]) for i in part))
            ct, cp = model.text(ci, cm)
            t = k / steps
            z = (1 - t) * x0[part] + t * torch.randn(x0[part].shape, generator=gen)
            for i in range(steps - k, steps):
                ta, tb = 1.0 - i / steps, 1.0 - (i + 1) / steps
                tt = torch.full((n,), ta)
                v = model.denoiser(z, tt, ct, cm, cp)
                vu = model.denoiser(z, tt, ut[:n], um[:n], up[:n])
                z = sampler_step(z, vu + DEFAULT_GUIDANCE * (v - vu), ta, tb, DEFAULT_RENOISE,
                                 lambda: torch.randn(z.shape, generator=gen))
            out[part] = z
    return (out / scale).reshape(means.shape)


def weighted_mse(y, x, mask):
    w = 1.0 + 8.0 * mask  # objects are small: weight their pixels up, as in stage 1
    return (w * (y - x) ** 2).mean() / w.mean()


@torch.no_grad()
def psnr(decoder, data, frames):
    """PSNR (dB) of the decoded mean latents over whole frames and over object pixels only."""
    x, mask, mean = data[:3]
    err = err_obj = n_obj = 0.0
    step = 16 * frames  # whole clips
    for i in range(0, len(x), step):
        y = decoder(mean[i:i + step], frames).clamp(-1, 1)
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


def tuning_args(doc, minutes, clips, batch, hard_share, seed):
    """The options both tuning scripts take, with each one's defaults."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--init", nargs=2, required=True, metavar="KIN", help="the weights file and its encoder file")
    p.add_argument("--run", required=True, help="checkpoint folder")
    p.add_argument("--out", required=True, help="the weights file to write")
    p.add_argument("--minutes", type=float, default=minutes, help="training time, cosine-decayed over it")
    p.add_argument("--clips", type=int, default=clips, help="training clips (16 frames each) held in memory")
    p.add_argument("--batch", type=int, default=batch, help="frames a step (whole clips for a temporal decoder)")
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
    p.add_argument("--temporal", action="store_true", help="add TemporalMix layers if the decoder has none")
    p.add_argument("--only-temporal", action="store_true",
                   help="train the TemporalMix layers alone, the rest of the decoder frozen")
    p.add_argument("--latent-noise", type=float, default=0.1,
                   help="largest extra latent noise, in units of the latents' std, on half of each batch")
    p.add_argument("--denoised-share", type=float, default=0.0,
                   help="share of each batch decoded from the denoiser's own finish of the clip (denoised_latents)")
    p.add_argument("--denoised-t", type=float, default=0.25, help="the highest noise level those finishes start from")
    a = p.parse_args()

    use_all_cores()
    torch.manual_seed(0)
    model = model_from_kin(a.init, VOCAB).eval()
    if a.temporal and not model.cfg.vae_temporal:
        model.cfg.vae_temporal = True
        dec = VAEDecoder(model.cfg)
        missing, _ = dec.load_state_dict(model.vae_dec.state_dict(), strict=False)
        assert all(n.startswith("tmix") for n in missing), missing
        model.vae_dec = dec
    Fr = model.cfg.frames
    per_step = max(1, a.batch // Fr) if model.cfg.vae_temporal else a.batch  # clips, or frames
    dec = model.vae_dec.train()
    if a.only_temporal and not model.cfg.vae_temporal:
        p.error("--only-temporal needs a temporal decoder (--temporal)")
    for n, q in dec.named_parameters():
        q.requires_grad_(n.startswith("tmix") or not a.only_temporal)
    params = [q for q in dec.parameters() if q.requires_grad]
    opt = torch.optim.AdamW(params, lr=a.lr, weight_decay=0.0)
    state = {"seconds": 0.0, "step": 0}
    os.makedirs(a.run, exist_ok=True)
    ckpt = os.path.join(a.run, "decoder.pt")
    if os.path.exists(ckpt):
        blob = torch.load(ckpt, weights_only=False)
        dec.load_state_dict(blob["decoder"])
        opt.load_state_dict(blob["opt"])
        state = blob["state"]
        log("resumed at step %d (%.1f min)" % (state["step"], state["seconds"] / 60))

    t0 = time.time()
    train = frame_set(model, a.clips, a.seed, False, a.workers, a.hard_share)
    held = frame_set(model, 64, 99, True, a.workers)
    noise_scale = a.latent_noise * train[2].std().item()
    log("%d training frames, %d held-out frames in %.0f s; held-out PSNR %.2f dB (objects %.2f dB)"
        % (len(train[0]), len(held[0]), time.time() - t0, *psnr(dec, held, Fr)))
    if a.denoised_share:
        t0 = time.time()
        denoised = denoised_latents(model, train[2], train[4], a.denoised_t, a.seed)
        log("denoiser's finishes of %d clips in %.0f s" % (len(train[4]), time.time() - t0))

    def save():
        torch.save({"decoder": dec.state_dict(), "opt": opt.state_dict(), "state": state}, ckpt + ".tmp")
        os.replace(ckpt + ".tmp", ckpt)
        export_model(model, VOCAB, a.out)
        log("step %d: held-out PSNR %.2f dB (objects %.2f dB); wrote %s"
            % (state["step"], *psnr(dec, held, Fr), a.out))

    def batch_loss(rng):
        if model.cfg.vae_temporal:  # whole clips, each with its own noise level
            clips = torch.randint(len(train[0]) // Fr, (per_step,), generator=rng)
            idx = (clips[:, None] * Fr + torch.arange(Fr)).flatten()
            level = torch.rand(per_step, generator=rng).repeat_interleave(Fr)
            level[:(per_step // 2) * Fr] = 0.0
        else:
            idx = torch.randint(len(train[0]), (per_step,), generator=rng)
            level = torch.rand(per_step, generator=rng)
            level[per_step // 2:] = 0.0
        x = train[0][idx].float() / 127.5 - 1
        mean, std = train[2][idx], train[3][idx]
        z = mean + std * torch.randn(mean.shape, generator=rng)
        z += noise_scale * level[:, None, None, None] * torch.randn(z.shape, generator=rng)
        if a.denoised_share:
            use = torch.rand(len(idx), generator=rng) < a.denoised_share
            if model.cfg.vae_temporal:
                use = use.view(-1, Fr)[:, :1].expand(-1, Fr).flatten()  # whole clips
            z[use] = denoised[idx[use]]
        return weighted_mse(dec(z, Fr), x, train[1][idx].float())

    tune(opt, params, state, a, 1000, batch_loss, save)


if __name__ == "__main__":
    main()
