"""Train Kineto's default model on the procedural world, in three stages that resume from checkpoints.

  1. vae    the per-frame autoencoder (object-weighted MSE + a small KL term); reports PSNR
  2. cache  latents of a fixed set of training clips, and the latent scale
  3. dit    text encoder + video denoiser jointly (rectified flow, condition dropout, EMA; the loss
            is object-weighted, so the few latents that carry shape and motion count more)

Usage:
  /usr/bin/python3 train/train.py --run train/runs/main            # all stages, resumes
  /usr/bin/python3 train/train.py --smoke --out /tmp/smoke.kin      # tiny end-to-end check
  torchrun --nproc_per_node=N train/train.py --run ...              # data-parallel (gloo / nccl)

On a GPU the latent cache, object weights and caption phrasings live on the device and the
denoiser runs under bf16 autocast; `--minutes M --decay-minutes D` sizes a run by time instead of
steps, and `--out` is rewritten at every checkpoint, so a run cut short still leaves a model.
"""
import argparse
import json
import math
import multiprocessing
import os
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import world  # noqa: E402
from model import Config, Kineto, tiny_config, tokenize, NULL_ID  # noqa: E402

VOCAB = ["<null>"] + world.vocabulary()


def log(msg):
    print(time.strftime("%H:%M:%S"), msg, flush=True)


# ---------------------------------------------------------------- data workers (numpy only, so they fork safely)
CAPTIONS_PER_CLIP = 16  # drawn once per clip; with ~4 synonyms a word this covers the phrasings well


def latent_mask(mask, f):
    """(F, H, W) object coverage -> (F, 1, H/f, W/f) f16 weights: averaged over f x f pixels, then
    widened by one latent (3x3 max), since the autoencoder spreads an object's edge into its neighbours."""
    Fr, H, W = mask.shape
    h, w = H // f, W // f
    m = mask.reshape(Fr, h, f, w, f).mean(axis=(2, 4))
    p = np.pad(m, ((0, 0), (1, 1), (1, 1)))  # coverage is >= 0, so zero padding never wins the max
    m = np.max([p[:, i:i + h, j:j + w] for i in range(3) for j in range(3)], axis=0)
    return m[:, None].astype(np.float16)


def render_job(job):
    """-> a clip's frames (F, H, W, 3) f16 in [0, 1] and its latent object weights."""
    spec, Fr, H, W, f = job
    frames, mask = world.render_clip(spec, Fr, H, W)
    return frames.astype(np.float16), latent_mask(mask, f)


def frames_job(job):
    """-> a clip's frames (F, H, W, 3) uint8 at the decoder's size, its object coverage (F, H, W)
    uint8 (x255), and its frames (F, h, w, 3) uint8 at the encoder's size (None when the same)."""
    spec, Fr, H, W, He, We = job
    u8 = lambda a: (a * 255 + 0.5).astype(np.uint8)
    frames, mask = world.render_clip(spec, Fr, H, W)
    small = u8(world.render_clip(spec, Fr, He, We)[0]) if (He, We) != (H, W) else None
    return u8(frames), u8(mask), small


def enc_size(cfg):
    """The frame size the VAE encoder reads: the decoder's output size unless the encoder has fewer
    levels (a decoder that draws 128x128 from the latents of 64x64 frames)."""
    return cfg.latent_h * cfg.enc_factor, cfg.latent_w * cfg.enc_factor


def caption_job(job):
    """-> CAPTIONS_PER_CLIP random phrasings of one clip's caption, as token ids."""
    spec, seed = job
    rng = np.random.default_rng(seed)
    return [tokenize(world.caption(spec, rng), VOCAB)[0] for _ in range(CAPTIONS_PER_CLIP)]


def config_with(cfg, changes):
    """cfg with the fields of the JSON object `changes` replaced (--config)."""
    changes = json.loads(changes)
    unknown = sorted(set(changes) - set(Config.__dataclass_fields__))
    if unknown:
        raise SystemExit("--config: the model has no field %r" % unknown[0])
    return Config.from_dict({**cfg.to_dict(), **changes})


def use_all_cores():
    """Give torch's OpenMP pool every core (shared among data-parallel ranks): this torch starts with
    one thread, and its convolutions run on that pool (matrix products go to OpenBLAS's own threads)."""
    torch.set_num_threads(max(1, os.cpu_count() // int(os.environ.get("WORLD_SIZE", "1"))))


def pool_map(fn, jobs, workers):
    """map(fn, jobs) in order, over `workers` forked processes when that pays."""
    if workers <= 1 or len(jobs) < 256:
        yield from map(fn, jobs)
        return
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        yield from pool.imap(fn, jobs, chunksize=32)


def draw_t(n, gen):
    """n noise levels, logit-normal."""
    return torch.sigmoid(torch.randn(n, device=gen.device, generator=gen))


def context_frames(n, frames, share, gen):
    """(n, frames) bool: the frames each clip is given clean, as the engine gives them (src/clip.c).
    A share of the clips know some: a prefix (half the window as a window after the first knows,
    1 frame as an image start, or any length), and a third of those also a suffix of up to a quarter
    of the window (a loop's last window). At least two frames stay unknown."""
    r = torch.rand(n, 3, device=gen.device, generator=gen)  # (given any, prefix kind, suffix), no per-clip sync
    u, half = r[:, 1], torch.full((n,), frames // 2, device=gen.device)
    before = torch.where(u < 0.5, half, torch.where(u < 0.75, torch.ones_like(half),
                                                      1 + ((u - 0.75) * 4 * (frames - 3)).long()))
    after = torch.where(r[:, 2] < 1 / 3, 1 + (r[:, 2] * 3 * (frames // 4)).long(), torch.zeros_like(half))
    after = torch.minimum(after, frames - before - 2).clamp(min=0)
    pos = torch.arange(frames, device=gen.device)[None]
    return (r[:, :1] < share) & ((pos < before[:, None]) | (pos >= frames - after[:, None]))


@torch.no_grad()
def fit_preview(model, x):
    """Least-squares 1x1 map latent -> RGB pooled to latent resolution, from frames x (N, 3, H, W) in
    [-1, 1]: the engine's cheap per-step preview."""
    z = model.vae_enc(x)[0]
    target = F.avg_pool2d(x, x.shape[-1] // z.shape[-1])
    Z = torch.cat([z.permute(0, 2, 3, 1).reshape(-1, z.shape[1]), torch.ones(z.numel() // z.shape[1], 1,
                                                                              device=z.device)], 1)
    T = target.permute(0, 2, 3, 1).reshape(-1, 3)
    sol = torch.linalg.lstsq(Z.cpu(), T.cpu()).solution  # (C+1, 3)
    model.preview.weight.copy_(sol[:-1].t()[:, :, None, None])
    model.preview.bias.copy_(sol[-1])


class Trainer:
    def __init__(self, args):
        self.args = args
        self.rank, self.world_size = 0, 1
        if "WORLD_SIZE" in os.environ:
            backend = "nccl" if torch.cuda.is_available() else "gloo"
            dist.init_process_group(backend)
            self.rank, self.world_size = dist.get_rank(), dist.get_world_size()
            if args.minutes:  # each rank's clock would stop it at a different step
                raise SystemExit("--minutes needs one process; give data-parallel runs --steps")
        self.device = torch.device(f"cuda:{self.rank % max(1, torch.cuda.device_count())}"
                                   if torch.cuda.is_available() else "cpu")
        cfg = tiny_config(len(VOCAB)) if args.smoke else Config(vocab_size=len(VOCAB))
        if args.config:
            cfg = config_with(cfg, args.config)
        self.model = Kineto(cfg).to(self.device)
        self.cfg = cfg
        self.rng = np.random.default_rng(1234 + self.rank)
        torch.manual_seed(1234 + self.rank)
        self.state = {"stage": "vae", "step": 0, "seconds": 0.0, "vae_psnr": None}
        self.ema = None
        self.opt = None
        self.frame_pool = None
        if self.device.type == "cuda":
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
        self.ckpt_path = os.path.join(args.run, "ckpt.pt")
        os.makedirs(args.run, exist_ok=True)
        if os.path.exists(self.ckpt_path) and not args.smoke:
            self.load()
        elif args.init:
            self.init_from_kin(args.init)

    # ------------------------------------------------------------ checkpoints
    def save(self):
        if self.rank != 0:
            return
        blob = {"cfg": self.cfg.to_dict(), "model": self.model.state_dict(), "state": self.state,
                "vocab": VOCAB, "opt": self.opt.state_dict() if self.opt else None,
                "ema": self.ema.state_dict() if self.ema else None}
        torch.save(blob, self.ckpt_path + ".tmp")
        os.replace(self.ckpt_path + ".tmp", self.ckpt_path)
        log("checkpoint %s stage=%s step=%d" % (self.ckpt_path, self.state["stage"], self.state["step"]))
        if self.args.out and self.ema is not None:  # a run cut short still leaves its latest model
            from export import export_encoder, export_model
            export_model(self.ema, VOCAB, self.args.out)
            log("exported %s" % self.args.out)
            if self.args.encoder_out:
                export_encoder(self.ema, VOCAB, self.args.encoder_out)

    def load(self):
        blob = torch.load(self.ckpt_path, map_location=self.device, weights_only=False)
        self.cfg = Config.from_dict(blob["cfg"])
        self.model = Kineto(self.cfg).to(self.device)
        self.model.load_state_dict(blob["model"])
        self.state = blob["state"]
        self._resume_opt = blob["opt"]
        self._resume_ema = blob["ema"]
        log("resumed stage=%s step=%d" % (self.state["stage"], self.state["step"]))

    def init_from_kin(self, paths):
        """Start from exported weights (the shipped model plus its encoder file): re-cache latents
        with that encoder, then train the denoiser on. The optimizer state starts fresh."""
        from export import model_from_kin
        model = model_from_kin(paths, VOCAB)
        self.cfg = model.cfg
        self.model = model.to(self.device)
        self.state.update(stage="cache", step=0)
        log("initialised from %s" % ", ".join(paths))

    def allreduce_grads(self, params):
        if self.world_size == 1:
            return
        for p in params:
            if p.grad is not None:
                dist.all_reduce(p.grad)
                p.grad /= self.world_size

    # ------------------------------------------------------------ data
    def frames_batch(self, n, held_out=False):
        """n random frames (n, 3, H, W) in [-1, 1], their object masks (n, 1, H, W), and the same
        frames at the encoder's size (the first tensor itself when that is the same size). Training
        frames come from the --vae-clips pool when there is one."""
        c = self.cfg
        if self.frame_pool is not None and not held_out:
            big, cover, small = self.frame_pool
            idx = torch.randint(len(big), (n,), device=big.device)
            x = big[idx].float() / 127.5 - 1
            return x, cover[idx].float() / 255, x if small is None else small[idx].float() / 127.5 - 1
        He, We = enc_size(c)
        same = (He, We) == (c.height, c.width)
        xs, ms, ss = [], [], []
        while len(xs) < n:
            spec = world.sample_spec(self.rng, held_out=held_out)
            fr, mk = world.render_clip(spec, c.frames, c.height, c.width)
            sm = fr if same else world.render_clip(spec, c.frames, He, We)[0]
            for f in self.rng.choice(c.frames, size=2, replace=False):
                xs.append(fr[f])
                ms.append(mk[f])
                ss.append(sm[f])
        nchw = lambda frames: (torch.from_numpy(np.stack(frames[:n])).permute(0, 3, 1, 2) * 2 - 1).to(self.device)
        x = nchw(xs)
        return x, torch.from_numpy(np.stack(ms[:n]))[:, None].to(self.device), x if same else nchw(ss)

    def render_frame_pool(self):
        """Render --vae-clips training clips once, in parallel, and keep every frame where the model
        is (uint8): on a GPU, rendering a fresh batch each step would leave it waiting."""
        a, c = self.args, self.cfg
        t0 = time.time()
        specs = world.sample_specs(np.random.default_rng(5678 + self.rank), a.vae_clips, False, a.vae_hard_share)
        jobs = [(s, c.frames, c.height, c.width, *enc_size(c)) for s in specs]
        big, cover, small = zip(*pool_map(frames_job, jobs, a.workers))
        nchw = lambda arrays: torch.from_numpy(np.concatenate(arrays)).permute(0, 3, 1, 2).contiguous().to(self.device)
        self.frame_pool = (nchw(big), torch.from_numpy(np.concatenate(cover))[:, None].to(self.device),
                           None if small[0] is None else nchw(small))
        log("rendered %d clips for the autoencoder in %.0f s" % (a.vae_clips, time.time() - t0))

    # ------------------------------------------------------------ stage 1: autoencoder
    def train_vae(self):
        a, m = self.args, self.model
        params = list(m.vae_enc.parameters()) + list(m.vae_dec.parameters())
        self.opt = torch.optim.AdamW(params, lr=a.vae_lr, weight_decay=0.0)
        if getattr(self, "_resume_opt", None) and self.state["stage"] == "vae":
            self.opt.load_state_dict(self._resume_opt)
        if a.vae_clips:
            self.render_frame_pool()
        cuda = self.device.type == "cuda"
        total = a.vae_steps
        t_last = time.time()
        while True:
            s = self.state["step"]
            # the share of the stage done: by steps, or by time with --vae-minutes
            done = self.state["seconds"] / (60 * a.vae_minutes) if a.vae_minutes else s / total
            if done >= 1:
                break
            lr = a.vae_lr * min(1.0, (s + 1) / 100) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * done)))
            for g in self.opt.param_groups:
                g["lr"] = lr
            x, mask, x_enc = self.frames_batch(a.vae_batch)
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=cuda):
                mean, logvar = m.vae_enc(x_enc)
                mean, logvar = mean.float(), logvar.float()
                z = mean + torch.randn_like(mean) * torch.exp(0.5 * logvar)
                y = m.vae_dec(z).float()
            w = 1.0 + 8.0 * mask  # objects are small: weight their pixels up
            rec = (w * (y - x) ** 2).mean() / w.mean()
            kl = 0.5 * (mean ** 2 + logvar.exp() - 1 - logvar).mean()
            loss = rec + a.vae_kl * kl
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.allreduce_grads(params)
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            self.opt.step()
            self.state["step"] += 1
            now = time.time()
            self.state["seconds"] += now - t_last
            t_last = now
            if s % 50 == 0:
                log("vae step %d loss %.5f rec %.5f kl %.3f lr %.2e" % (s, loss.item(), rec.item(), kl.item(), lr))
            if s % 300 == 299:
                self.save()
        self.state["vae_psnr"] = self.eval_vae()
        self.fit_preview()
        self.state.update(stage="cache", step=0)
        self.save()

    @torch.no_grad()
    def eval_vae(self):
        """PSNR over whole held-out frames and over their object pixels only."""
        m = self.model
        rng_state = self.rng
        self.rng = np.random.default_rng(99)
        x, mask, x_enc = self.frames_batch(64, held_out=True)
        self.rng = rng_state
        y = m.vae_dec(m.vae_enc(x_enc)[0]).clamp(-1, 1)
        err = ((y - x) / 2) ** 2
        psnr = -10 * math.log10(err.mean().item())
        obj = mask.expand_as(err) > 0.5
        psnr_obj = -10 * math.log10(err[obj].mean().item()) if obj.any() else float("nan")
        log("vae PSNR %.2f dB (objects %.2f dB) on 64 held-out frames" % (psnr, psnr_obj))
        return {"psnr": psnr, "psnr_objects": psnr_obj}

    def fit_preview(self):
        fit_preview(self.model, self.frames_batch(256)[2])

    # ------------------------------------------------------------ stage 2: latent cache
    @torch.no_grad()
    def encode_clips(self, first, last):
        """Latents (N, F, C, h, w) f16, object weights (N, F, 1, h, w) f16 and specs of training
        clips first..last-1 (clip i's draw depends on `first`, so a grown cache never repeats the
        clips it already holds)."""
        c, m = self.cfg, self.model
        rng = np.random.default_rng(4321 + first)
        specs = world.sample_specs(rng, last - first, False, self.args.hard_share)
        jobs = [(s, c.frames, *enc_size(c), c.enc_factor) for s in specs]
        lats, masks, chunk = [], [], []
        t0 = time.time()

        def encode(chunk):
            x = torch.from_numpy(np.stack([fr for fr, _ in chunk])).to(self.device).float()
            x = x.reshape(-1, *x.shape[2:]).permute(0, 3, 1, 2) * 2 - 1
            z = m.vae_enc(x)[0].half().cpu()
            lats.append(z.reshape(len(chunk), c.frames, *z.shape[1:]))
            masks.extend(torch.from_numpy(mk) for _, mk in chunk)

        for i, out in enumerate(pool_map(render_job, jobs, self.args.workers)):
            chunk.append(out)
            if len(chunk) == 64:
                encode(chunk)
                chunk = []
            if (first + i) % 5000 == 0:
                log("cache %d/%d (%.0f s)" % (first + i, last, time.time() - t0))
        if chunk:
            encode(chunk)
        return torch.cat(lats), torch.stack(masks), specs

    def build_cache(self):
        a, c, m = self.args, self.cfg, self.model
        path = os.path.join(a.run, "latents.pt")
        if os.path.exists(path) and not a.smoke:
            self.state.update(stage="dit", step=0)
            return
        lat, masks, specs = self.encode_clips(0, a.cache_clips)
        if not a.init:  # a model started from exported weights keeps the scale its denoiser learnt
            std = lat.float().std().item()
            m.cfg.latent_scale = self.cfg.latent_scale = 1.0 / std
            log("latent std %.4f -> scale %.4f" % (std, 1.0 / std))
        log("cached %d clips" % len(specs))
        self.cache = {"latents": lat, "masks": masks, "specs": specs, "scale": c.latent_scale}
        if not a.smoke:
            torch.save(self.cache, path)
        self.state.update(stage="dit", step=0)
        self.save()

    def load_cache(self):
        """The run's latent cache, grown to --cache-clips; object weights are added to a cache that
        lacks them by re-rendering its clips (they are seeded). The latent scale stays."""
        path = os.path.join(self.args.run, "latents.pt")
        cache = torch.load(path, weights_only=False)
        have, grown = len(cache["specs"]), False
        if "masks" not in cache:
            c = self.cfg
            jobs = [(s, c.frames, *enc_size(c), c.enc_factor) for s in cache["specs"]]
            cache["masks"] = torch.stack([torch.from_numpy(mk) for _, mk in
                                          pool_map(render_job, jobs, self.args.workers)])
            grown = True
        if have < self.args.cache_clips:
            lat, masks, specs = self.encode_clips(have, self.args.cache_clips)
            cache = {"latents": torch.cat([cache["latents"], lat]), "masks": torch.cat([cache["masks"], masks]),
                     "specs": cache["specs"] + specs, "scale": cache.get("scale")}
            log("cache grown from %d to %d clips" % (have, len(cache["specs"])))
            grown = True
        if grown:
            torch.save(cache, path)
        return cache

    def caption_table(self, specs):
        """(N, CAPTIONS_PER_CLIP, max_tokens) token ids, 0-padded: each clip's phrasings, drawn once."""
        seed = int(self.rng.integers(1 << 31))
        table = np.zeros((len(specs), CAPTIONS_PER_CLIP, self.cfg.max_tokens), np.int64)
        jobs = [(s, (seed, i)) for i, s in enumerate(specs)]
        for i, caps in enumerate(pool_map(caption_job, jobs, self.args.workers)):
            for k, ids in enumerate(caps):
                ids = ids[:self.cfg.max_tokens]
                table[i, k, :len(ids)] = ids
        return torch.from_numpy(table)

    # ------------------------------------------------------------ stage 3: text encoder + denoiser
    def lr_at(self, s, minutes):
        """Warm up over 200 steps; anneal linearly to 5% over the last --decay-steps steps or, in a
        timed run, over its last --decay-minutes."""
        a = self.args
        lr = a.lr * min(1.0, (s + 1) / 200)
        if a.minutes:
            left = (a.minutes - minutes) / a.decay_minutes if a.decay_minutes else 1.0
        else:
            left = (a.steps - s) / a.decay_steps if a.decay_steps else 1.0
        return lr * max(0.05, min(1.0, left))

    def train_dit(self):
        a, c, m = self.args, self.cfg, self.model
        dev = self.device
        if not hasattr(self, "cache"):
            self.cache = self.load_cache()
        specs = self.cache["specs"]
        lat = self.cache["latents"].to(dev)  # kept where the model is: no per-step copies on a GPU
        masks = self.cache["masks"].to(dev)
        captions = self.caption_table(specs).to(dev)
        params = list(m.text.parameters()) + list(m.denoiser.parameters())
        self.opt = torch.optim.AdamW(params, lr=a.lr, weight_decay=0.0)
        self.ema = Kineto(c).to(dev)
        self.ema.load_state_dict(m.state_dict())
        if getattr(self, "_resume_opt", None) and self.state["stage"] == "dit":
            self.opt.load_state_dict(self._resume_opt)
            self.ema.load_state_dict(self._resume_ema)
        ema_params, model_params = list(self.ema.parameters()), list(m.parameters())
        cuda = dev.type == "cuda"
        if not cuda and self.world_size == 1 and not torch.backends.mkl.is_available():
            # the denoiser is matrix products, and an external BLAS (OpenBLAS here) runs them on its
            # own threads: torch's pool beside it only contends for the cores (2 cores: 1.25 s a step
            # with one torch thread, 2.5 s with two)
            torch.set_num_threads(1)
        gen = torch.Generator(device=dev)
        gen.manual_seed(int(self.rng.integers(1 << 62)))
        scale = c.latent_scale
        t_start = t_last = t_ckpt = time.time()
        loss_sum, loss_n = torch.zeros((), device=dev), 0
        while True:
            s = self.state["step"]
            minutes = (time.time() - t_start) / 60
            if (a.minutes and minutes >= a.minutes) or (not a.minutes and s >= a.steps):
                break
            lr = self.lr_at(s, minutes)
            for g in self.opt.param_groups:
                g["lr"] = lr
            idx = torch.randint(len(specs), (a.batch,), device=dev, generator=gen)
            x = lat[idx].float() * scale
            pick = torch.randint(CAPTIONS_PER_CLIP, (a.batch,), device=dev, generator=gen)
            ids = captions[idx, pick]
            drop = torch.rand(a.batch, device=dev, generator=gen) < a.cond_drop
            ids = ids.masked_fill(drop[:, None], NULL_ID)  # the unconditional sequence [NULL_ID]
            mask = ids != NULL_ID
            mask[:, 0] = True
            # a noise level per frame: the clip's own, or 0 for the frames it is given clean
            known = context_frames(a.batch, c.frames, a.context_share, gen)
            t = draw_t(a.batch, gen)[:, None].expand(a.batch, c.frames).masked_fill(known, 0.0)
            noise = torch.randn(x.shape, device=dev, generator=gen)
            tt = t.view(a.batch, c.frames, 1, 1, 1)
            zt = (1 - tt) * x + tt * noise
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=cuda):
                tokens, pooled = m.text(ids, mask)
                v = m.denoiser(zt, t, tokens, mask, pooled).float()
            # the object weights depend on the clean clip; normalised so the loss scale stays put;
            # the given frames are not predicted
            w = ((1 + a.object_weight * masks[idx].float()) * ~known.view(tt.shape)).expand_as(v)
            loss = (w * (v - (noise - x)) ** 2).sum() / w.sum()
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.allreduce_grads(params)
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            self.opt.step()
            decay = min(a.ema, (1 + s) / (10 + s))
            with torch.no_grad():
                torch._foreach_mul_(ema_params, decay)
                torch._foreach_add_(ema_params, [p.detach() for p in model_params], alpha=1 - decay)
            loss_sum += loss.detach()
            loss_n += 1
            self.state["step"] += 1
            now = time.time()
            self.state["seconds"] += now - t_last
            t_last = now
            if s % a.log_every == 0:  # the only per-step sync with the device
                log("dit step %d loss %.4f (avg of %d) lr %.2e" % (s, loss_sum.item() / loss_n, loss_n, lr))
                loss_sum.zero_()
                loss_n = 0
            if now - t_ckpt > a.ckpt_minutes * 60:
                self.save()
                t_ckpt = now
        self.state["stage"] = "done"
        self.save()

    def run(self):
        if self.state["stage"] == "vae":
            self.train_vae()
        if self.state["stage"] == "cache":
            self.build_cache()
        if self.state["stage"] == "dit":
            if self.args.context_share:  # the engine then gives known frames clean, at time 0
                self.cfg.clean_context = 1
            self.train_dit()


def parse_args(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--run", default="train/runs/main")
    p.add_argument("--smoke", action="store_true", help="tiny config, a few steps, export to --out")
    p.add_argument("--out", default=None, help="export the EMA model to this .kin file at the end")
    p.add_argument("--encoder-out", default=None, help="with --out: also export the VAE encoder here")
    p.add_argument("--config", default=None, metavar="JSON",
                   help='model fields to change from the default (or --smoke) config, e.g. \'{"latent_channels": 8}\'')
    p.add_argument("--init", nargs="+", default=None, metavar="KIN",
                   help="start from exported weights: the model and its encoder file")
    p.add_argument("--vae-steps", type=int, default=900)
    p.add_argument("--vae-batch", type=int, default=32)
    p.add_argument("--vae-lr", type=float, default=1e-3)
    p.add_argument("--vae-kl", type=float, default=1e-5)
    p.add_argument("--vae-minutes", type=float, default=0,
                   help="train the autoencoder for this many minutes instead of --vae-steps")
    p.add_argument("--vae-clips", type=int, default=0,
                   help="draw the autoencoder's frames from this many clips rendered once (0: fresh clips each step)")
    p.add_argument("--vae-hard-share", type=float, default=0.0,
                   help="share of the --vae-clips clips that turn, grow or shrink")
    p.add_argument("--cache-clips", type=int, default=5000)
    p.add_argument("--hard-share", type=float, default=0.0,
                   help="share of newly cached clips that turn, grow or shrink (0: the world's own rate)")
    p.add_argument("--steps", type=int, default=100000)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--decay-steps", type=int, default=0, help="anneal the denoiser's learning rate over the last N steps")
    p.add_argument("--object-weight", type=float, default=3.0,
                   help="denoising loss on object latents counts 1 + this much more")
    p.add_argument("--cond-drop", type=float, default=0.1)
    p.add_argument("--context-share", type=float, default=0.0,
                   help="share of clips given some frames clean (noise level 0), as a long clip's windows are")
    p.add_argument("--ema", type=float, default=0.999)
    p.add_argument("--minutes", type=float, default=0,
                   help="train the denoiser for this many minutes instead of up to --steps")
    p.add_argument("--decay-minutes", type=float, default=0, help="with --minutes: anneal over the last N minutes")
    p.add_argument("--workers", type=int, default=os.cpu_count(), help="processes that render clips")
    p.add_argument("--log-every", type=int, default=25)
    p.add_argument("--ckpt-minutes", type=float, default=5.0)
    a = p.parse_args(argv)
    if a.smoke:
        a.vae_steps, a.vae_batch, a.cache_clips, a.steps, a.batch = 4, 8, 8, 4, 4
        a.run = a.run if a.run != "train/runs/main" else "/tmp/kineto-smoke"
    return a


def main():
    a = parse_args()
    use_all_cores()
    t0 = time.time()
    tr = Trainer(a)
    tr.run()
    if a.out and tr.rank == 0 and tr.ema is None:  # save() exported the EMA model already
        from export import export_encoder, export_model
        export_model(tr.model, VOCAB, a.out)
        log("exported %s" % a.out)
        if a.encoder_out:
            export_encoder(tr.model, VOCAB, a.encoder_out)
    log("finished in %.1f s" % (time.time() - t0))


if __name__ == "__main__":
    main()
