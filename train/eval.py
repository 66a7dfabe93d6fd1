"""Measure how well a Kineto model follows prompts, on clips made by the C engine (or PyTorch).

  /usr/bin/python3 train/eval.py --weights weights/kineto-world.kin            # C engine via build/kineto
  /usr/bin/python3 train/eval.py --ckpt train/runs/main/ckpt.pt --engine torch  # PyTorch, for quick checks

Figures (held-out and training combinations, single-object prompts, default steps and guidance):
  per-attribute and exact-match accuracy of an attribute classifier on generated clips;
  identity stability: the share of clips whose per-frame colour and shape never change;
  background flicker: mean absolute frame-to-frame change, against the world's own clips;
  Frechet distance in the classifier's penultimate features, beside the real-vs-real floor;
  the same with the temporal attention layers skipped at inference.
The classifier's own accuracy on real held-out clips is the ceiling; the same clips passed through the
autoencoder (the --encoder file's encoder, the weights' decoder; in PyTorch) give the autoencoder's.
Both classifiers learn from real clips of every combination and are kept in weights/eval-judges.pt:
  /usr/bin/python3 train/eval.py --train-classifier all     # or `frame` for the per-frame one alone
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import world  # noqa: E402
from train import VOCAB, pool_map, use_all_cores  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADS = {"color": len(world.COLOR_NAMES), "shape": len(world.SHAPES),
         "motion": len(world.MOTIONS), "background": len(world.BACKGROUNDS)}


def log(msg):
    print(time.strftime("%H:%M:%S"), msg, flush=True)


class ClipClassifier(nn.Module):
    """A small 3D-conv network: clip (B, F, H, W, 3) in [0, 1] -> logits per attribute.
    Two coordinate channels let it see where the object is; max pooling keeps small objects
    from being averaged away by the background."""

    def __init__(self, feat=96):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv3d(5, 32, (1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1)), nn.BatchNorm3d(32), nn.ReLU(),
            nn.Conv3d(32, 48, (1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1)), nn.BatchNorm3d(48), nn.ReLU(),
            nn.Conv3d(48, 64, 3, stride=2, padding=1), nn.BatchNorm3d(64), nn.ReLU(),
            nn.Conv3d(64, feat, 3, stride=1, padding=1), nn.BatchNorm3d(feat), nn.ReLU())
        self.heads = nn.ModuleDict({k: nn.Linear(2 * feat, n) for k, n in HEADS.items()})

    def features(self, clip):
        x = clip.permute(0, 4, 1, 2, 3) * 2 - 1
        B, _, Fr, H, W = x.shape
        ys = torch.linspace(-1, 1, H, device=x.device).view(1, 1, 1, H, 1).expand(B, 1, Fr, H, W)
        xs = torch.linspace(-1, 1, W, device=x.device).view(1, 1, 1, 1, W).expand(B, 1, Fr, H, W)
        h = self.net(torch.cat([x, ys, xs], 1))
        return torch.cat([h.mean((2, 3, 4)), h.amax((2, 3, 4))], 1)

    def forward(self, clip):
        f = self.features(clip)
        return {k: h(f) for k, h in self.heads.items()}, f


class FrameClassifier(nn.Module):
    """Per-frame colour and shape, for the identity-stability figure: frame (B, H, W, 3) -> logits.
    The first layer keeps full resolution: a shrunk object is only a few pixels wide."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, 32, 3, stride=1, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
            nn.Conv2d(32, 48, 3, stride=2, padding=1), nn.BatchNorm2d(48), nn.ReLU(),
            nn.Conv2d(48, 96, 3, stride=2, padding=1), nn.BatchNorm2d(96), nn.ReLU(),
            nn.Conv2d(96, 128, 3, stride=2, padding=1), nn.BatchNorm2d(128), nn.ReLU(),
            nn.Conv2d(128, 128, 3, stride=1, padding=1), nn.BatchNorm2d(128), nn.ReLU())
        self.color = nn.Linear(128, HEADS["color"])
        self.shape = nn.Linear(128, HEADS["shape"])

    def forward(self, frames):
        f = self.net(frames.permute(0, 3, 1, 2) * 2 - 1).amax((2, 3))
        return self.color(f), self.shape(f)


def render_labelled(spec):
    return world.render_clip(spec)[0], world.labels(spec)


def real_batches(rng, batch, workers, hard_share=0.0):
    """Endless batches of real single-object clips over every combination, held-out ones included:
    the classifiers are the measuring instrument, and a judge that has never seen a held-out
    combination misreads correct clips of it. hard_share of the clips turn, grow or shrink, the
    motions whose frames (a rotated, half-shaded or tiny shape) are hardest to read one at a time."""
    n_c, n_s = len(world.COLOR_NAMES), len(world.SHAPES)
    while True:
        specs = []
        for _ in range(batch * 32):
            if hard_share and rng.random() < hard_share:
                combo = (rng.integers(n_c), rng.integers(n_s), world.HARD_MOTIONS[rng.integers(3)])
                specs.append(world.sample_spec(rng, two_prob=0.0, combo=combo))
            else:
                specs.append(world.sample_spec(rng, held_out=None, two_prob=0.0))
        out = list(pool_map(render_labelled, specs, workers))
        for i in range(0, len(out), batch):
            part = out[i:i + batch]
            y = {k: torch.tensor([lab[k] for _, lab in part]) for k in HEADS}
            yield torch.from_numpy(np.stack([fr for fr, _ in part])), y


def load_classifiers(path):
    blob = torch.load(path, map_location="cpu", weights_only=False)
    clip_net, frame_net = ClipClassifier(), FrameClassifier()
    clip_net.load_state_dict(blob["clip"])
    frame_net.load_state_dict(blob["frame"])
    return clip_net.eval(), frame_net.eval()


def fit(net, steps, data, loss_of, name):
    """AdamW 2e-3, decayed linearly to 5%, over `steps` batches of `data`; -> the net, on the CPU."""
    opt = torch.optim.AdamW(net.parameters(), 2e-3)
    for s in range(steps):
        for g in opt.param_groups:
            g["lr"] = 2e-3 * (0.05 + 0.95 * (1 - s / steps))
        loss = loss_of(*next(data))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if s % 100 == 0:
            log("%s step %d loss %.4f" % (name, s, loss.item()))
    return net.cpu().eval()


def train_clip_classifier(steps, batch, workers, dev):
    torch.manual_seed(0)
    net = ClipClassifier().to(dev)

    def loss_of(x, y):
        logits, _ = net(x.to(dev))
        return sum(F.cross_entropy(logits[k], y[k].to(dev)) for k in HEADS)
    return fit(net, steps, real_batches(np.random.default_rng(7), batch, workers), loss_of, "clip classifier")


def train_frame_classifier(steps, batch, workers, dev, per_clip=8):
    """batch clips a step, per_clip random frames of each; half the clips turn, grow or shrink."""
    torch.manual_seed(1)
    net = FrameClassifier().to(dev)

    def loss_of(x, y):
        B, Fr = x.shape[:2]
        fi = torch.stack([torch.randperm(Fr)[:per_clip] for _ in range(B)])
        fc, fs = net(x[torch.arange(B)[:, None], fi].reshape(B * per_clip, *x.shape[2:]).to(dev))
        return F.cross_entropy(fc, y["color"].repeat_interleave(per_clip).to(dev)) \
            + F.cross_entropy(fs, y["shape"].repeat_interleave(per_clip).to(dev))
    data = real_batches(np.random.default_rng(8), batch, workers, hard_share=0.5)
    return fit(net, steps, data, loss_of, "frame classifier")


def train_classifiers(path, which, a):
    """Train the clip classifier, the frame classifier or both (which: all | frame) and save them at
    `path`, keeping the other one from the file; eval.py reuses that file. Retrain after changing
    either network or the world."""
    if which == "frame" and not os.path.exists(path):
        raise SystemExit("--train-classifier frame keeps the clip classifier from %s, which does not exist: "
                         "use --train-classifier all" % path)
    dev = torch.device(a.device)
    blob = torch.load(path, map_location="cpu", weights_only=False) if which != "all" else {}
    if which == "all":
        blob["clip"] = train_clip_classifier(a.classifier_steps, a.classifier_batch, a.workers, dev).state_dict()
        blob["clip_steps"] = (a.classifier_steps, a.classifier_batch)
    blob["frame"] = train_frame_classifier(a.frame_steps, a.frame_batch, a.workers, dev).state_dict()
    blob["frame_steps"] = (a.frame_steps, a.frame_batch)
    torch.save(blob, path)
    log("classifiers saved to %s" % path)


# ---------------------------------------------------------------- clip sources
def clips_from_engine(prompts, seeds, weights, no_temporal, steps, guidance, negative=None, renoise=None, jobs=1):
    """Run the C CLI once per prompt, `jobs` at a time (one thread each when several); -> uint8 array
    (N, F, H, W, 3) at the judges' size."""
    from concurrent.futures import ThreadPoolExecutor
    from PIL import Image
    cli = os.path.join(ROOT, "build", "kineto")
    with tempfile.TemporaryDirectory() as tmp:
        def one(i):
            p, s = prompts[i], seeds[i]
            d = os.path.join(tmp, "c%d" % i)
            cmd = [cli, "generate", "--prompt", p, "--seed", str(s), "--out", d, "--weights", weights]
            if steps:
                cmd += ["--steps", str(steps)]
            if guidance is not None:
                cmd += ["--guidance", str(guidance)]
            if negative:
                cmd += ["--negative", negative]
            if renoise is not None:
                cmd += ["--renoise", str(renoise)]
            if no_temporal:
                cmd.append("--no-temporal")
            if jobs > 1:
                cmd += ["--threads", "1"]
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            names = sorted(n for n in os.listdir(d) if n.endswith(".png"))
            return np.stack([np.asarray(Image.open(os.path.join(d, n)).convert("RGB")) for n in names])

        with ThreadPoolExecutor(max(1, jobs)) as pool:
            return judge_size(np.stack(list(pool.map(one, range(len(prompts))))))


def clips_from_torch(prompts, seeds, ckpt, no_temporal, steps, guidance, negative=None, renoise=None):
    from export import load_checkpoint, DEFAULT_STEPS, DEFAULT_GUIDANCE, DEFAULT_RENOISE
    from model import tokenize, sample, decode_frames
    model, vocab, _ = load_checkpoint(ckpt)
    neg_ids = tokenize(negative, vocab)[0] if negative else []
    out = []
    for p, s in zip(prompts, seeds):
        ids, _ = tokenize(p, vocab)
        lat = sample(model, ids, neg_ids, s, steps or DEFAULT_STEPS,
                     DEFAULT_GUIDANCE if guidance is None else guidance, temporal_on=not no_temporal,
                     renoise=DEFAULT_RENOISE if renoise is None else renoise)
        out.append(decode_frames(model, lat).numpy())
    return judge_size(np.stack(out))


# ---------------------------------------------------------------- figures
@torch.no_grad()
def classify(clip_net, frame_net, clips_u8):
    x = torch.from_numpy(clips_u8).float() / 255.0
    preds, feats, stable = {k: [] for k in HEADS}, [], []
    for i in range(0, len(x), 16):
        b = x[i:i + 16]
        logits, f = clip_net(b)
        for k in HEADS:
            preds[k].append(logits[k].argmax(1))
        feats.append(f)
        B, Fr = b.shape[:2]
        fc, fs = frame_net(b.reshape(B * Fr, *b.shape[2:]))
        fc, fs = fc.argmax(1).view(B, Fr), fs.argmax(1).view(B, Fr)
        stable.append(((fc == fc[:, :1]).all(1) & (fs == fs[:, :1]).all(1)))
    return ({k: torch.cat(v) for k, v in preds.items()}, torch.cat(feats).numpy(),
            torch.cat(stable).float())


def judge_size(clips_u8, size=64):
    """Clips (N, F, H, W, 3) uint8 as the judges see them: the classifiers learnt on the world's
    64x64 clips, so a model that draws a multiple of that is averaged down to it (box filter)."""
    H, W = clips_u8.shape[2:4]
    k = H // size
    if k <= 1 or H != k * size or W != k * size:
        return clips_u8
    x = clips_u8.reshape(*clips_u8.shape[:2], size, k, size, k, 3).astype(np.float32).mean((3, 5))
    return (x + 0.5).astype(np.uint8)


@torch.no_grad()
def autoencode(model, clips_u8):
    """Clips (N, F, H, W, 3) uint8 through a model's VAE encoder (its mean) and decoder, at the judges' size."""
    from model import decode_frames
    out = []
    for clip in torch.from_numpy(clips_u8):
        z = model.vae_enc(clip.permute(0, 3, 1, 2).float() / 127.5 - 1)[0]
        out.append(decode_frames(model, z * model.cfg.latent_scale))
    return judge_size(torch.stack(out).numpy())


def autoencoded(weights, encoder, clips_u8):
    """Clips through the --encoder file's VAE encoder and the weights' decoder."""
    from export import model_from_kin
    return autoencode(model_from_kin([weights, encoder], VOCAB).eval(), clips_u8)


def flicker(clips_u8):
    """Mean absolute change between consecutive frames, 0..255 scale."""
    x = clips_u8.astype(np.float32)
    return float(np.abs(np.diff(x, axis=1)).mean())


def frechet(a, b):
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    # trace of sqrt(s1 s2) via the eigenvalues of sqrt(s1) s2 sqrt(s1), which are real and >= 0
    w, v = np.linalg.eigh(s1)
    r1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    ev = np.linalg.eigvalsh(r1 @ s2 @ r1)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(np.clip(ev, 0, None)).sum())


def accuracy(preds, labs):
    res = {k: float((preds[k] == labs[k]).float().mean()) for k in HEADS}
    exact = torch.ones_like(labs["color"], dtype=torch.bool)
    for k in HEADS:
        exact &= preds[k] == labs[k]
    res["exact"] = float(exact.float().mean())
    return res


def identity_by_motion(stable, labs):
    """The identity-stable share per motion: where the object is lost, not only how often."""
    m = labs["motion"]
    return {name: round(float(stable[m == i].mean()), 4) for i, name in enumerate(world.MOTIONS) if (m == i).any()}


def prompt_set(n, held_out, seed):
    rng = np.random.default_rng(seed)
    specs = [world.sample_spec(rng, held_out=held_out, two_prob=0.0) for _ in range(n)]
    prompts = [world.caption(s, rng) for s in specs]
    labs = {k: torch.tensor([world.labels(s)[k] for s in specs]) for k in HEADS}
    seeds = [int(rng.integers(1 << 31)) for _ in specs]
    return specs, prompts, labs, seeds


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--weights", default=os.path.join(ROOT, "weights", "kineto-world.kin"))
    p.add_argument("--encoder", default=os.path.join(ROOT, "weights", "kineto-world-encoder.kin"),
                   help="the weights' VAE encoder file, for the autoencoder's ceiling (skipped if absent)")
    p.add_argument("--ckpt", default=None)
    p.add_argument("--engine", choices=["c", "torch"], default="c")
    p.add_argument("--n", type=int, default=300, help="clips per split (held-out, training)")
    p.add_argument("--steps", type=int, default=0, help="0 = the model's default")
    p.add_argument("--guidance", type=float, default=None)
    p.add_argument("--negative", default=None, help="negative prompt for every clip (default: the null prompt)")
    p.add_argument("--renoise", type=float, default=None, help="default: the model's")
    p.add_argument("--classifier", default=os.path.join(ROOT, "weights", "eval-judges.pt"))
    p.add_argument("--train-classifier", choices=["all", "frame"], default=None,
                   help="(re)train both classifiers, or only the per-frame one, into --classifier and stop")
    p.add_argument("--classifier-steps", type=int, default=2500)
    p.add_argument("--classifier-batch", type=int, default=24)
    p.add_argument("--frame-steps", type=int, default=3000)
    p.add_argument("--frame-batch", type=int, default=16, help="clips a step; 8 frames of each")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu",
                   help="where the classifiers train")
    p.add_argument("--workers", type=int, default=os.cpu_count(), help="processes that render clips")
    p.add_argument("--jobs", type=int, default=1, help="engine runs at once, one thread each when more than one")
    p.add_argument("--no-ablation", action="store_true", help="skip the run without temporal attention")
    p.add_argument("--json", default=None, help="write the figures here")
    p.add_argument("--prompt-seed", type=int, default=21,
                   help="seed of the held-out prompt set (training: +1); tune settings on another one")
    a = p.parse_args()
    os.makedirs(os.path.dirname(a.classifier), exist_ok=True)
    use_all_cores()
    if a.train_classifier or not os.path.exists(a.classifier):
        train_classifiers(a.classifier, a.train_classifier or "all", a)
        if a.train_classifier:
            return
    clip_net, frame_net = load_classifiers(a.classifier)

    results = {"engine": a.engine, "n_per_split": a.n, "steps": a.steps or "default",
               "guidance": a.guidance if a.guidance is not None else "default",
               "renoise": a.renoise if a.renoise is not None else "default", "negative": a.negative or ""}
    # the ceiling: the classifier on real clips of held-out combinations
    real_specs, _, real_labs, _ = prompt_set(a.n, True, 11)
    real_u8 = np.stack([(world.render_clip(s)[0] * 255 + 0.5).astype(np.uint8) for s in real_specs])
    rp, rf, rs = classify(clip_net, frame_net, real_u8)
    results["real_held_out"] = dict(accuracy(rp, real_labs), identity_stable=float(rs.mean()),
                                    flicker=flicker(real_u8), identity_by_motion=identity_by_motion(rs, real_labs))
    other_specs = prompt_set(a.n, True, 12)[0]
    real2 = np.stack([(world.render_clip(s)[0] * 255 + 0.5).astype(np.uint8) for s in other_specs])
    _, rf2, _ = classify(clip_net, frame_net, real2)
    results["fd_real_vs_real"] = frechet(rf, rf2)
    log("real held-out: %s" % json.dumps(results["real_held_out"]))
    if os.path.exists(a.encoder):
        ae_u8 = autoencoded(a.weights, a.encoder, real_u8)
        ap, _, as_ = classify(clip_net, frame_net, ae_u8)
        results["real_held_out_autoencoded"] = dict(accuracy(ap, real_labs), identity_stable=float(as_.mean()),
                                                    flicker=flicker(ae_u8),
                                                    identity_by_motion=identity_by_motion(as_, real_labs))
        log("real held-out, autoencoded: %s" % json.dumps(results["real_held_out_autoencoded"]))

    variants = [("temporal_on", False)] + ([] if a.no_ablation else [("temporal_off", True)])
    for split, held in (("held_out", True), ("training", False)):
        specs, prompts, labs, seeds = prompt_set(a.n, held, a.prompt_seed + (0 if held else 1))
        for name, no_temporal in (variants if held else variants[:1]):  # the ablation on held-out prompts
            t0 = time.time()
            if a.engine == "c":
                clips = clips_from_engine(prompts, seeds, a.weights, no_temporal, a.steps, a.guidance, a.negative,
                                          a.renoise, a.jobs)
            else:
                clips = clips_from_torch(prompts, seeds, a.ckpt, no_temporal, a.steps, a.guidance, a.negative,
                                         a.renoise)
            preds, feats, stable = classify(clip_net, frame_net, clips)
            r = accuracy(preds, labs)
            r.update(identity_stable=float(stable.mean()), flicker=flicker(clips), fd=frechet(rf, feats),
                     identity_by_motion=identity_by_motion(stable, labs), seconds=time.time() - t0)
            results["%s/%s" % (split, name)] = r
            log("%s %s: %s" % (split, name, json.dumps(r)))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=2)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
