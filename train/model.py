"""Kineto's reference model in PyTorch. The C engine (src/model/) reproduces this file exactly.

Three parts:
  TextEncoder  word ids (n,) -> tokens (n, text_dim) and a pooled vector (text_dim,)
  Denoiser     latent clip (F, C, h, w), time t, text -> velocity (F, C, h, w)   [rectified flow]
  VAE          frame (3, H, W) in [-1, 1] <-> latent (C, H/4, W/4); only the decoder ships

The denoiser is a Latte-style transformer: each frame is cut into PxP latent patches; blocks
alternate spatial attention (tokens of one frame) and temporal attention (one position across
frames); each block also cross-attends to the text tokens and is modulated by adaLN-Zero from
the timestep and pooled text.
"""
import math
from dataclasses import dataclass, asdict

import torch
import torch.nn as nn
import torch.nn.functional as F

NORM_EPS = 1e-5  # every LayerNorm and GroupNorm; recorded in the weights file


@dataclass
class Config:
    frames: int = 16
    height: int = 64
    width: int = 64
    fps: int = 8
    latent_channels: int = 4
    vae_ch: tuple = (24, 48, 64)    # decoder widths at 1/1, 1/2, 1/4 (, 1/8) of the frame's size
    enc_levels: int = 0             # the encoder's widths: the last enc_levels of vae_ch (0 = all)
    vae_groups: int = 8
    vocab_size: int = 64
    max_tokens: int = 24
    text_dim: int = 128
    text_layers: int = 2
    text_heads: int = 4
    patch: int = 4
    dim: int = 128
    depth: int = 8                  # blocks; even ones spatial, odd ones temporal
    heads: int = 4
    mlp_ratio: int = 4
    latent_scale: float = 1.0       # diffusion latent = VAE mean * latent_scale
    clean_context: int = 0          # 1: trained with a noise level per frame, so known frames enter clean (t = 0)

    @property
    def vae_factor(self):
        """Frame pixels per latent cell along a side: the decoder up-samples x2 per level."""
        return 2 ** (len(self.vae_ch) - 1)

    @property
    def enc_ch(self):
        return tuple(self.vae_ch[-self.enc_levels:] if self.enc_levels else self.vae_ch)

    @property
    def enc_factor(self):
        """The encoder's down-sampling: it sees frames of latent size times this (64x64 when the
        decoder draws 128x128 from a x4 encoder's latents)."""
        return 2 ** (len(self.enc_ch) - 1)

    @property
    def latent_h(self):
        return self.height // self.vae_factor

    @property
    def latent_w(self):
        return self.width // self.vae_factor

    @property
    def tokens_per_frame(self):
        return (self.latent_h // self.patch) * (self.latent_w // self.patch)

    def to_dict(self):
        return asdict(self)

    @classmethod
    def from_dict(cls, d):
        """The config to_dict saved, also in checkpoints from before the decoder lost its TemporalMix option."""
        d = dict(d)
        if d.pop("vae_temporal", False):
            raise ValueError("the checkpoint's decoder has TemporalMix layers, which train/model.py no longer has")
        d["vae_ch"] = tuple(d["vae_ch"])
        return cls(**d)


def tiny_config(vocab_size):
    """A small random model for fast tests; same structure, every size cut down."""
    return Config(frames=4, height=32, width=32, vae_ch=(8, 8, 16), vae_groups=4,
                  vocab_size=vocab_size, max_tokens=12, text_dim=32, text_layers=1, text_heads=2,
                  patch=2, dim=32, depth=2, heads=2, mlp_ratio=2)


# ---------------------------------------------------------------- shared pieces
def attention(q, k, v, heads, key_mask=None):
    """q (B, n, D), k/v (B, m, D) -> (B, n, D). key_mask (B, m) True where a key is real."""
    B, n, D = q.shape
    m = k.shape[1]
    hd = D // heads
    q = q.view(B, n, heads, hd).transpose(1, 2)
    k = k.view(B, m, heads, hd).transpose(1, 2)
    v = v.view(B, m, heads, hd).transpose(1, 2)
    s = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(hd))
    if key_mask is not None:
        s = s.masked_fill(~key_mask[:, None, None, :], float("-inf"))
    return (s.softmax(-1) @ v).transpose(1, 2).reshape(B, n, D)


class SelfAttention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, x, key_mask=None):
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        return self.out(attention(q, k, v, self.heads, key_mask))


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.silu(self.fc1(x)))


def sincos_1d(n, dim):
    """Fixed sin-cos positions (n, dim); stored in the weights file, never recomputed in C."""
    pos = torch.arange(n, dtype=torch.float64)[:, None]
    i = torch.arange(dim // 2, dtype=torch.float64)[None, :]
    ang = pos / (10000.0 ** (2 * i / dim))
    return torch.cat([torch.sin(ang), torch.cos(ang)], 1).float()


def sincos_2d(gh, gw, dim):
    y = sincos_1d(gh, dim // 2)[:, None, :].expand(gh, gw, dim // 2)
    x = sincos_1d(gw, dim // 2)[None, :, :].expand(gh, gw, dim // 2)
    return torch.cat([y, x], -1).reshape(gh * gw, dim)


def timestep_embedding(t, dim):
    """t (B,) in [0, 1] -> (B, dim): [cos(1000 t f_i), sin(1000 t f_i)], f_i = 10000^(-i/(dim/2))."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = (t.float() * 1000.0)[:, None] * freqs[None, :]
    return torch.cat([torch.cos(args), torch.sin(args)], 1)


# ---------------------------------------------------------------- text encoder
class TextBlock(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=NORM_EPS)
        self.attn = SelfAttention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=NORM_EPS)
        self.mlp = Mlp(dim, 4 * dim)

    def forward(self, x, mask):
        x = x + self.attn(self.norm1(x), mask)
        return x + self.mlp(self.norm2(x))


class TextEncoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.tok = nn.Embedding(cfg.vocab_size, cfg.text_dim)
        self.pos = nn.Parameter(torch.randn(cfg.max_tokens, cfg.text_dim) * 0.02)
        self.blocks = nn.ModuleList([TextBlock(cfg.text_dim, cfg.text_heads) for _ in range(cfg.text_layers)])
        self.norm = nn.LayerNorm(cfg.text_dim, eps=NORM_EPS)

    def forward(self, ids, mask):
        """ids (B, L) long, mask (B, L) bool -> tokens (B, L, Dt), pooled (B, Dt) = masked mean."""
        x = self.tok(ids) + self.pos[None, :ids.shape[1]]
        for b in self.blocks:
            x = b(x, mask)
        x = self.norm(x)
        m = mask.float()[..., None]
        pooled = (x * m).sum(1) / m.sum(1)
        return x, pooled


# ---------------------------------------------------------------- denoiser
class DenoiserBlock(nn.Module):
    def __init__(self, dim, heads, mlp_ratio, text_dim):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, elementwise_affine=False, eps=NORM_EPS)
        self.attn = SelfAttention(dim, heads)
        self.norm_cross = nn.LayerNorm(dim, eps=NORM_EPS)
        self.cross_q = nn.Linear(dim, dim)
        self.cross_kv = nn.Linear(text_dim, 2 * dim)
        self.cross_out = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim, elementwise_affine=False, eps=NORM_EPS)
        self.mlp = Mlp(dim, mlp_ratio * dim)
        self.ada = nn.Linear(dim, 6 * dim)  # shift1, scale1, gate1, shift2, scale2, gate2
        self.heads = heads
        for lin in (self.ada, self.cross_out):
            nn.init.zeros_(lin.weight)
            nn.init.zeros_(lin.bias)

    def forward(self, x, c_act, text, text_mask, temporal, frames):
        """x (B*F, T, D) in frame-major order, c_act (B*F, D) each frame's conditioning; temporal
        blocks regroup x to (B*T, F, D)."""
        BF, T, D = x.shape
        B = BF // frames
        sh1, sc1, g1, sh2, sc2, g2 = (v[:, None, :] for v in self.ada(c_act).chunk(6, dim=-1))  # (B*F, 1, D)
        h = self.norm1(x) * (1 + sc1) + sh1
        if temporal:
            h = h.view(B, frames, T, D).transpose(1, 2).reshape(B * T, frames, D)
            h = self.attn(h)
            h = h.view(B, T, frames, D).transpose(1, 2).reshape(BF, T, D)
        else:
            h = self.attn(h)
        x = x + g1 * h
        # cross-attention: every token of every frame attends to the prompt's tokens
        q = self.cross_q(self.norm_cross(x)).view(B, frames * T, D)
        k, v = self.cross_kv(text).chunk(2, dim=-1)
        h = attention(q, k, v, self.heads, text_mask).view(BF, T, D)
        x = x + self.cross_out(h)
        h = self.norm2(x) * (1 + sc2) + sh2
        return x + g2 * self.mlp(h)


class Denoiser(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        C, P, D = cfg.latent_channels, cfg.patch, cfg.dim
        self.patch_in = nn.Linear(C * P * P, D)
        gh, gw = cfg.latent_h // P, cfg.latent_w // P
        self.register_buffer("pos_space", sincos_2d(gh, gw, D))        # (T, D)
        self.register_buffer("pos_time", sincos_1d(cfg.frames, D))     # (F, D)
        self.time_mlp = Mlp(D, D)
        self.text_proj = nn.Linear(cfg.text_dim, D)
        self.blocks = nn.ModuleList([DenoiserBlock(D, cfg.heads, cfg.mlp_ratio, cfg.text_dim)
                                     for _ in range(cfg.depth)])
        self.final_norm = nn.LayerNorm(D, elementwise_affine=False, eps=NORM_EPS)
        self.final_ada = nn.Linear(D, 2 * D)  # shift, scale
        self.patch_out = nn.Linear(D, C * P * P)
        for lin in (self.final_ada, self.patch_out):
            nn.init.zeros_(lin.weight)
            nn.init.zeros_(lin.bias)

    def patchify(self, z):
        """(B, F, C, h, w) -> (B*F, T, C*P*P); token = py*gw+px, feature = c*P*P + iy*P + ix."""
        B, Fr, C, h, w = z.shape
        P = self.cfg.patch
        z = z.reshape(B * Fr, C, h // P, P, w // P, P).permute(0, 2, 4, 1, 3, 5)
        return z.reshape(B * Fr, (h // P) * (w // P), C * P * P)

    def unpatchify(self, x, B, Fr):
        C, P = self.cfg.latent_channels, self.cfg.patch
        gh, gw = self.cfg.latent_h // P, self.cfg.latent_w // P
        x = x.reshape(B * Fr, gh, gw, C, P, P).permute(0, 3, 1, 4, 2, 5)
        return x.reshape(B, Fr, C, gh * P, gw * P)

    def forward(self, z, t, text, text_mask, pooled, temporal_on=True):
        """z (B, F, C, h, w), t (B,) or per frame (B, F), text (B, L, Dt), text_mask (B, L),
        pooled (B, Dt) -> v like z."""
        B, Fr = z.shape[:2]
        x = self.patch_in(self.patchify(z))                          # (B*F, T, D)
        x = x + self.pos_space[None] + self.pos_time[:Fr].repeat(B, 1)[:, None, :]
        t = (t[:, None] if t.dim() == 1 else t).expand(B, Fr).reshape(B * Fr)
        # each frame's conditioning: its time's embedding plus the prompt's
        c = self.time_mlp(timestep_embedding(t, self.cfg.dim)) + self.text_proj(pooled).repeat_interleave(Fr, 0)
        c_act = F.silu(c)                                            # (B*F, D)
        for i, blk in enumerate(self.blocks):
            temporal = i % 2 == 1
            if temporal and not temporal_on:
                continue
            x = blk(x, c_act, text, text_mask, temporal, Fr)
        shift, scale = self.final_ada(c_act).chunk(2, dim=-1)
        h = self.final_norm(x) * (1 + scale[:, None]) + shift[:, None]
        return self.unpatchify(self.patch_out(h), B, Fr)


# ---------------------------------------------------------------- autoencoder
class ResBlock(nn.Module):
    def __init__(self, ch, groups):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, ch, eps=NORM_EPS)
        self.conv1 = nn.Conv2d(ch, ch, 3, padding=1)
        self.norm2 = nn.GroupNorm(groups, ch, eps=NORM_EPS)
        self.conv2 = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        return x + self.conv2(F.silu(self.norm2(h)))


class VAEEncoder(nn.Module):
    """RGB (3, f h, f w) in [-1, 1] -> latent mean and log-variance (C, h, w), f = cfg.enc_factor."""

    def __init__(self, cfg):
        super().__init__()
        ch = cfg.enc_ch
        g = cfg.vae_groups
        layers = [nn.Conv2d(3, ch[0], 3, padding=1), ResBlock(ch[0], g)]
        for a, b in zip(ch, ch[1:]):
            layers += [nn.Conv2d(a, b, 3, stride=2, padding=1), ResBlock(b, g)]
        layers += [nn.GroupNorm(g, ch[-1], eps=NORM_EPS), nn.SiLU(), nn.Conv2d(ch[-1], 2 * cfg.latent_channels, 3, padding=1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        mean, logvar = self.net(x).chunk(2, dim=1)
        return mean, logvar.clamp(-20.0, 4.0)


class VAEDecoder(nn.Module):
    """Latent (C, h, w) -> RGB (3, f h, f w) in [-1, 1], f = cfg.vae_factor (not clamped; the engine
    clamps to bytes). Level i works at 1/2^i of the frame's size with vae_ch[i] channels: conv_in
    and res{L-1} at the latent's size, then per level up{i} (after nearest x2) and res{i}."""

    def __init__(self, cfg):
        super().__init__()
        ch = cfg.vae_ch
        g = cfg.vae_groups
        self.levels = len(ch)
        self.conv_in = nn.Conv2d(cfg.latent_channels, ch[-1], 3, padding=1)
        setattr(self, "res%d" % (self.levels - 1), ResBlock(ch[-1], g))
        for i in reversed(range(self.levels - 1)):
            setattr(self, "up%d" % i, nn.Conv2d(ch[i + 1], ch[i], 3, padding=1))
            setattr(self, "res%d" % i, ResBlock(ch[i], g))
        self.norm_out = nn.GroupNorm(g, ch[0], eps=NORM_EPS)
        self.conv_out = nn.Conv2d(ch[0], 3, 3, padding=1)

    def forward(self, z):
        x = getattr(self, "res%d" % (self.levels - 1))(self.conv_in(z))
        for i in reversed(range(self.levels - 1)):
            up = getattr(self, "up%d" % i)
            x = getattr(self, "res%d" % i)(up(F.interpolate(x, scale_factor=2, mode="nearest")))
        return self.conv_out(F.silu(self.norm_out(x)))


class Kineto(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.text = TextEncoder(cfg)
        self.denoiser = Denoiser(cfg)
        self.vae_enc = VAEEncoder(cfg)
        self.vae_dec = VAEDecoder(cfg)
        # preview: a 1x1 map from the diffusion latent to RGB at latent resolution (fit after the VAE)
        self.preview = nn.Conv2d(cfg.latent_channels, 3, 1)


# ---------------------------------------------------------------- tokenizer and sampler
NULL_ID = 0  # the learned null condition: the sequence [NULL_ID]


def split_words(text):
    """Lower-case ASCII words: runs of a-z, 0-9 and apostrophes; everything else separates."""
    words, cur = [], []
    for ch in text.lower():
        if ("a" <= ch <= "z") or ("0" <= ch <= "9") or ch == "'":
            cur.append(ch)
        elif cur:
            words.append("".join(cur))
            cur = []
    if cur:
        words.append("".join(cur))
    return words


def tokenize(text, vocab):
    """-> (ids, unknown words). vocab[0] is '<null>'."""
    index = {w: i for i, w in enumerate(vocab)}
    ids, unknown = [], []
    for w in split_words(text):
        if w in index and index[w] != NULL_ID:
            ids.append(index[w])
        else:
            unknown.append(w)
    return ids, unknown


def pad_ids(batch_ids, L):
    ids = torch.zeros(len(batch_ids), L, dtype=torch.long)
    mask = torch.zeros(len(batch_ids), L, dtype=torch.bool)
    for i, seq in enumerate(batch_ids):
        seq = seq[:L] if seq else [NULL_ID]
        ids[i, :len(seq)] = torch.tensor(seq)
        mask[i, :len(seq)] = True
    return ids, mask


def splitmix64(seed, index):
    """The index-th output (0-based) of splitmix64 started at state `seed`: Kineto's RNG."""
    M = (1 << 64) - 1
    z = (seed + (index + 1) * 0x9E3779B97F4A7C15) & M
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    return z ^ (z >> 31)


def gaussian_noise(seed, n):
    """n standard normals by Box-Muller over splitmix64 pairs, as src/rng.c computes them."""
    import numpy as np
    out = np.empty(n, np.float64)
    for k in range((n + 1) // 2):
        a, b = splitmix64(seed, 2 * k), splitmix64(seed, 2 * k + 1)
        u1 = ((a >> 40) + 1) * 2.0 ** -24
        u2 = (b >> 40) * 2.0 ** -24
        r = math.sqrt(-2.0 * math.log(u1))
        out[2 * k] = r * math.cos(2 * math.pi * u2)
        if 2 * k + 1 < n:
            out[2 * k + 1] = r * math.sin(2 * math.pi * u2)
    return torch.from_numpy(out).float()


def sampler_step(z, v, t0, t1, renoise, fresh):
    """z at time t0 -> z at t1 < t0, given the guided velocity v; fresh() draws the new noise."""
    if renoise > 0 and t1 > 0:
        x, eps = z - t0 * v, z + (1.0 - t0) * v
        return (1.0 - t1) * x + t1 * (math.sqrt(1.0 - renoise * renoise) * eps + renoise * fresh())
    return z + (t1 - t0) * v


@torch.no_grad()
def sample(model, ids, neg_ids, seed, steps, guidance, frames=None, trajectory=None, temporal_on=True, renoise=0.0,
           known=None, given=None):
    """Sampling of the rectified flow from t=1 (noise) to t=0, one clip. -> latent (F, C, h, w).
    renoise 0: Euler steps. renoise r > 0: each step but the last goes to t1 through its estimates of
    the clean latent x and the noise eps, with eps replaced by sqrt(1 - r^2) eps + r n, where n is
    fresh noise drawn with seed splitmix64(seed, step), so that a later step can undo an earlier one's
    error (src/sampler.c). known: frame indices held to given (F', C, h, w): at every step they enter
    the denoiser as (1 - t) given + t noise, their own starting noise at the step's time, or, for a
    model with cfg.clean_context, as given at time 0; they come out as given."""
    cfg = model.cfg
    Fr = frames or cfg.frames
    shape = (1, Fr, cfg.latent_channels, cfg.latent_h, cfg.latent_w)
    z = gaussian_noise(seed, int(torch.tensor(shape).prod())).view(shape)
    noise = z.clone()
    cond_ids, cond_mask = pad_ids([ids], len(ids) or 1)
    unc_ids, unc_mask = pad_ids([neg_ids], len(neg_ids) or 1)
    ct, cp = model.text(cond_ids, cond_mask)
    ut, up = model.text(unc_ids, unc_mask)
    clean = bool(known) and cfg.clean_context
    for i in range(steps):
        t0, t1 = 1.0 - i / steps, 1.0 - (i + 1) / steps
        tt = torch.full((1,), t0)
        if clean:
            z[0, known] = given
            tt = torch.full((1, Fr), t0)
            tt[0, known] = 0.0
        elif known:
            z[0, known] = (1.0 - t0) * given + t0 * noise[0, known]
        v = model.denoiser(z, tt, ct, cond_mask, cp, temporal_on)
        if guidance != 1.0:
            vu = model.denoiser(z, tt, ut, unc_mask, up, temporal_on)
            v = vu + guidance * (v - vu)
        z = sampler_step(z, v, t0, t1, renoise, lambda: gaussian_noise(splitmix64(seed, i), z.numel()).view(shape))
        if trajectory is not None:
            trajectory.append(z[0].clone())
    if known:
        z[0, known] = given
    return z[0]


WINDOW_SEED_BASE = 1 << 32  # window seeds index splitmix64 past any step's re-noising index


def window_seed(seed, k):
    """The noise seed of window k; the clip's own for the first, so one window is the plain clip."""
    return seed if k == 0 else splitmix64(seed, WINDOW_SEED_BASE + k)


def default_overlap(window):
    """Half the window (src/clip.c kn_clip_default_overlap; measured by train/long_eval.py)."""
    return window // 2


def clip_windows(frames, window, overlap, shot_frames, seamless):
    """The windows of a clip (src/clip.c kn_clip_plan): (start, before, fresh, after, shot) each,
    covering frames start.. (mod frames): `before` known, `fresh` made, `after` known."""
    out, shot, shot_end, a = [], 0, shot_frames[0], 0
    while a < frames:
        while a >= shot_end:
            shot += 1
            shot_end += shot_frames[shot]
        b = min(a + (window if a == 0 else window - overlap), shot_end)
        start = max(0, b - window)
        out.append((start, a - start, b - a, 0, shot))
        a = b
    if seamless:
        known = max(overlap, 2)
        after = min(max(known // 2, 1), frames // 2)
        fresh = min(max(window - known - after, 1), frames - after, shot_frames[-1])
        before = max(0, min(window - after - fresh, frames - after - fresh))
        out.append((frames - fresh - before, before, fresh, after, len(shot_frames) - 1))
    return out


@torch.no_grad()
def sample_clip(model, shots, neg_ids, seed, steps, guidance, overlap=None, seamless=False, renoise=0.0):
    """A clip of any length made window by window (src/clip.c). shots: [(ids, frames)] in order.
    Each window after the first knows the final latents of the frames before it; a seamless clip's
    last window also knows the clip's first frames after its own. -> latent (F, C, h, w)."""
    cfg = model.cfg
    frames = sum(f for _, f in shots)
    overlap = default_overlap(cfg.frames) if overlap is None else overlap
    clip = torch.zeros(frames, cfg.latent_channels, cfg.latent_h, cfg.latent_w)
    for k, (start, before, fresh, after, shot) in enumerate(
            clip_windows(frames, cfg.frames, overlap, [f for _, f in shots], seamless)):
        span = [(start + s) % frames for s in range(before + fresh + after)]
        known = [s for s in range(len(span)) if not before <= s < before + fresh]
        z = sample(model, shots[shot][0], neg_ids, window_seed(seed, k), steps, guidance, frames=len(span),
                   renoise=renoise, known=known, given=clip[[span[s] for s in known]])
        for s in range(before, before + fresh):
            clip[span[s]] = z[s]
    return clip


def decode_frames(model, latent):
    """latent (F, C, h, w) in diffusion scale -> uint8 frames (F, H, W, 3)."""
    x = model.vae_dec(latent / model.cfg.latent_scale)
    x = ((x.clamp(-1, 1) + 1) * 127.5 + 0.5).floor().clamp(0, 255).to(torch.uint8)
    return x.permute(0, 2, 3, 1).contiguous()
