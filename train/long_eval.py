"""Figures for clips past the model's window, made by the C engine (build/kineto) and judged by
train/eval.py's classifiers (the clip classifier for colour, shape, motion and background, the
frame classifier for identity):

  nice /usr/bin/python3 train/long_eval.py --json weights/long_eval.json

Parts (--parts), each figure printed beside its target, over held-out combinations:
- long: 64-frame clips from one prompt against 16-frame clips of the same prompts and seeds: each
  16-frame stretch's colour, shape, motion and background (within 5 points of the 16-frame clips);
  identity over all 64 frames (within 10 points of the 16-frame clips'); where a directional object
  is after 64 frames;
- seams: over the same 64-frame clips, the mean absolute change across a window boundary (the first
  frame a window makes against the known frame before it) over the mean change within windows
  (<= 1.25), and the object's step there over its median step (<= 2; the object found by its prompt's
  colour, so rough on a background of that colour); --overlaps adds other overlaps;
- storyboards: two 32-frame shots of one object in two motions: each shot's motion (>= 85%, per
  16-frame stretch), colour and shape the same on both sides of the cut (>= 90%), the cut's seam;
- loops: --seamless, every motion, 16 and 64 frames: last-to-first change over the mean frame change
  (<= 1.25 for the motions that loop: bouncing, spinning, standing still) and motion (>= 85%);
- image: --image with the first frame of a real clip of a held-out combination, and with a red disc
  drawn on black: frame 1's PSNR against the image, beside the autoencoder's own reconstruction's
  (within 2 dB); the image's colour kept (>= 95%); the prompt's motion (>= 85%).
Clips are cached under --cache by command, engine and weights: a rerun with other judges makes none.
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
from PIL import Image, ImageDraw

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import world  # noqa: E402
from eval import HEADS, accuracy, autoencoded, classify, load_classifiers  # noqa: E402
from model import clip_windows, default_overlap  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WINDOW = 16
LONG = 64
LOOPING = ("bouncing", "spinning", "standing still")
DIRECTIONAL = {"moving left": (0, -1), "moving right": (0, 1), "moving up": (1, -1), "moving down": (1, 1)}
DRAWN_MOTIONS = ("moving left", "moving right", "moving up", "moving down", "bouncing", "standing still")


# ---------------------------------------------------------------- clips
class Engine:
    """Makes clips with the CLI, `jobs` at once, each cached by its arguments, engine and weights."""

    def __init__(self, a):
        self.kineto, self.weights, self.threads, self.jobs = a.kineto, a.weights, a.threads, a.jobs
        self.cache = a.cache
        os.makedirs(self.cache, exist_ok=True)
        self.build_id = file_hash(a.kineto) + file_hash(a.weights)

    def clip(self, request):
        """request (prompts, frames, seed, flags) -> uint8 (frames, H, W, 3)."""
        prompts, frames, seed, flags = request
        args = ["generate", "--frames", str(frames), "--seed", str(seed), "--weights", self.weights,
                "--threads", str(self.threads)] + list(flags)
        for p in prompts:
            args += ["--prompt", p]
        key = self.build_id + "\0".join(args)
        if "--image" in flags:
            key += file_hash(flags[flags.index("--image") + 1])
        path = os.path.join(self.cache, hashlib.sha1(key.encode()).hexdigest() + ".npy")
        if os.path.exists(path):
            return np.load(path)
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "frames")
            subprocess.run([self.kineto] + args + ["--out", out], check=True, stdout=subprocess.DEVNULL)
            clip = np.stack([np.asarray(Image.open(os.path.join(out, "frame_%03d.png" % f)).convert("RGB"))
                             for f in range(frames)])
            np.save(os.path.join(tmp, "clip.npy"), clip)
            os.replace(os.path.join(tmp, "clip.npy"), path)
        return clip

    def clips(self, requests):
        with ThreadPoolExecutor(self.jobs) as pool:
            return np.stack(list(pool.map(self.clip, requests)))


def file_hash(path):
    with open(path, "rb") as f:
        return hashlib.sha1(f.read()).hexdigest()


def held_out_set(n, seed, motion=None):
    """n single-object specs of held-out combinations (of one motion, if given), their canonical
    prompts, labels and engine seeds."""
    rng = np.random.default_rng(seed)
    pool = [c for c in world.combos(True) if motion is None or world.MOTIONS[c[2]] == motion]
    specs, seeds = [], []
    for _ in range(n):  # each spec with its seed: a smaller n gives the first clips of a larger one
        specs.append(world.sample_spec(rng, two_prob=0.0, combo=pool[rng.integers(len(pool))]))
        seeds.append(int(rng.integers(1 << 31)))
    labs = {k: torch.tensor([world.labels(s)[k] for s in specs]) for k in HEADS}
    return specs, [world.caption(s, canonical=True) for s in specs], labs, seeds


# ---------------------------------------------------------------- measures
def judge(nets, clips, labs):
    """Accuracy per attribute and the identity-stable share of clips (N, F, H, W, 3), a few at a time
    (the frame classifier holds every frame's activations at once)."""
    preds, stable = {k: [] for k in HEADS}, []
    for i in range(0, len(clips), 4):
        p, _, s = classify(*nets, clips[i:i + 4])
        for k in HEADS:
            preds[k].append(p[k])
        stable.append(s)
    preds = {k: torch.cat(v) for k, v in preds.items()}
    return preds, dict(accuracy(preds, labs), identity_stable=float(torch.cat(stable).mean()))


def stretches(clips):
    """(N, F, ...) -> the F // WINDOW stretches of WINDOW frames each, in order: a list of (N, WINDOW, ...)."""
    return [clips[:, s:s + WINDOW] for s in range(0, clips.shape[1] - WINDOW + 1, WINDOW)]


def changes(clip):
    """Mean absolute byte change from frame f-1 to f, for f = 1..F-1."""
    return np.abs(np.diff(clip.astype(np.float64), axis=0)).mean(axis=(1, 2, 3))


def loop_ratio(clip):
    """The last-to-first change over the mean frame-to-frame change."""
    return np.abs(clip[-1].astype(np.float64) - clip[0]).mean() / changes(clip).mean()


def centroids(clip, colour):
    """Per frame, the centre (x, y) of the pixels within 60 of the colour (NaN when under 4 pixels)."""
    target = np.array(world.COLORS[colour]) * 255
    near = np.linalg.norm(clip.astype(np.float64) - target, axis=3) < 60
    ys, xs = np.mgrid[0:clip.shape[1], 0:clip.shape[2]]
    return np.array([(xs[m].mean(), ys[m].mean()) if m.sum() >= 4 else (np.nan, np.nan) for m in near])


def boundaries(frames, overlap, shot_frames):
    """Indices f where frame f is the first a window makes after known frames (f-1 -> f crosses)."""
    return [start + before for start, before, fresh, after, _ in
            clip_windows(frames, WINDOW, overlap, shot_frames, False) if before > 0]


def seam_figures(clip, bounds, colour):
    """(change across the boundaries / change within windows, the object's largest step across a
    boundary / its median step)."""
    ch = changes(clip)
    at = [b - 1 for b in bounds]
    within = [i for i in range(len(ch)) if i not in at]
    steps = np.linalg.norm(np.diff(centroids(clip, colour), axis=0), axis=1)
    seam_steps = steps[at]
    step_ratio = np.nanmax(seam_steps) / max(np.nanmedian(steps), 0.5) if np.isfinite(seam_steps).any() else np.nan
    return ch[at].mean() / ch[within].mean(), step_ratio


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * np.log10(255.0 ** 2 / max(mse, 1e-10))


# ---------------------------------------------------------------- report
class Report:
    """Figures with their targets: printed as they come, kept for the JSON."""

    def __init__(self):
        self.checks, self.figures = [], {}

    def check(self, name, value, target, met):
        self.checks.append({"figure": name, "value": value, "target": target, "met": bool(met)})
        print("  %-68s %-10s %-14s %s" % (name, value, target, "met" if met else "MISSED"), flush=True)

    def note(self, line):
        print("  " + line, flush=True)


def pct(x):
    return "%.1f%%" % (100 * x)


def part_long(a, engine, nets, rep):
    _, prompts, labs, seeds = held_out_set(a.n, 31)
    short = engine.clips([([p], WINDOW, s, []) for p, s in zip(prompts, seeds)])
    long = engine.clips([([p], LONG, s, []) for p, s in zip(prompts, seeds)])
    _, base = judge(nets, short, labs)
    per_stretch = [judge(nets, part, labs)[1] for part in stretches(long)]
    _, whole = judge(nets, long, labs)
    print("\n64-frame clips, %d held-out prompts, against 16-frame clips of the same prompts and seeds" % a.n)
    print("  %-12s %s" % ("clips", "  ".join("%-10s" % k for k in list(HEADS) + ["identity"])))
    rows = [("16 frames", base)] + [("64: %d-%d" % (s, s + WINDOW - 1), r)
                                    for s, r in zip(range(0, LONG, WINDOW), per_stretch)]
    for name, r in rows:
        print("  %-12s %s" % (name, "  ".join("%-10s" % pct(r[k]) for k in list(HEADS) + ["identity_stable"])))
    print("  %-12s %s%s" % ("64: all", " " * 12 * len(HEADS), pct(whole["identity_stable"])))
    for k in HEADS:
        worst = min(r[k] for r in per_stretch)
        rep.check("64 frames: worst stretch's %s (16 frames: %s)" % (k, pct(base[k])), pct(worst),
                  ">= %s" % pct(base[k] - 0.05), worst >= base[k] - 0.05 - 1e-9)
    rep.check("64 frames: identity over all 64 (16 frames: %s)" % pct(base["identity_stable"]),
              pct(whole["identity_stable"]), ">= %s" % pct(base["identity_stable"] - 0.10),
              whole["identity_stable"] >= base["identity_stable"] - 0.10 - 1e-9)
    rep.figures["long"] = {"n": a.n, "16_frames": base, "stretches_64": per_stretch, "all_64": whole}

    # directional motion at the frame's edge: the object's travel along its direction and whether it
    # is still seen (by its colour) in the last frame
    edge = {}
    for i, p in enumerate(prompts):
        motion = world.MOTIONS[int(labs["motion"][i])]
        if motion not in DIRECTIONAL:
            continue
        axis, sign = DIRECTIONAL[motion]
        c = centroids(long[i], world.COLOR_NAMES[int(labs["color"][i])])[:, axis]
        seen = np.flatnonzero(np.isfinite(c))
        if len(seen):
            start, end = float(c[seen[0]]), float(c[seen[-1]])
            edge.setdefault(motion, []).append(
                {"prompt": p, "start": start, "end": end, "travel": sign * (end - start),
                 "seen_in_last_frame": bool(np.isfinite(c[-1])), "last_seen": int(seen[-1])})
    for motion, tracks in edge.items():
        rep.note("%s: travel over 64 frames %s px; seen in the last frame %d of %d" % (
            motion, ", ".join("%.0f" % t["travel"] for t in tracks), sum(t["seen_in_last_frame"] for t in tracks),
            len(tracks)))
    rep.figures["edge"] = edge
    return prompts, seeds, long


def part_seams(a, engine, prompts, seeds, long_clips, rep):
    colours = [p.split()[1] for p in prompts]
    print("\nseams of 64-frame clips")
    rep.figures["seams"] = {}
    for overlap in [int(o) for o in a.overlaps.split(",")]:
        if overlap == default_overlap(WINDOW) and long_clips is not None:
            clips = long_clips
        else:
            clips = engine.clips([([p], LONG, s, ["--overlap", str(overlap)]) for p, s in zip(prompts, seeds)])
        figs = np.array([seam_figures(c, boundaries(LONG, overlap, [LONG]), col) for c, col in zip(clips, colours)])
        change, step = np.mean(figs[:, 0]), np.nanmean(figs[:, 1])
        rep.check("overlap %d: seam change / within (worst %.2f)" % (overlap, figs[:, 0].max()), "%.2f" % change,
                  "<= 1.25", change <= 1.25)
        rep.check("overlap %d: object step at seam / median (worst %.1f)" % (overlap, np.nanmax(figs[:, 1])),
                  "%.2f" % step, "<= 2", step <= 2)
        rep.figures["seams"][overlap] = {"change_ratio": figs[:, 0].tolist(), "step_ratio": figs[:, 1].tolist()}


def part_storyboards(a, engine, nets, rep):
    specs, prompts, labs, seeds = held_out_set(a.n, 32)
    rng = np.random.default_rng(33)
    second_motion = torch.tensor([rng.choice([m for m in range(len(world.MOTIONS)) if m != int(mi)])
                                  for mi in labs["motion"]])
    seconds = [world.caption(dict(s, motion=int(m)), canonical=True) for s, m in zip(specs, second_motion)]
    clips = engine.clips([([p, q], LONG, s, []) for p, q, s in zip(prompts, seconds, seeds)])
    parts = stretches(clips)  # shot 1: stretches 0, 1; shot 2: 2, 3
    labs2 = dict(labs, motion=second_motion)
    got = [judge(nets, part, labs if i < 2 else labs2) for i, part in enumerate(parts)]
    print("\nstoryboards, %d clips: two 32-frame shots of one object, the second in another motion" % a.n)
    for shot, (i, j) in enumerate(((0, 1), (2, 3))):
        motion = (got[i][1]["motion"] + got[j][1]["motion"]) / 2
        rep.check("shot %d: motion right (16-frame stretches)" % (shot + 1), pct(motion), ">= 85%", motion >= 0.85)
    before, after = got[1][0], got[2][0]  # the stretches either side of the cut
    for k in ("color", "shape"):
        same = float((before[k] == after[k]).float().mean())
        rep.check("%s the same on both sides of the cut (right: %s, %s)" % (
            k, pct(got[1][1][k]), pct(got[2][1][k])), pct(same), ">= 90%", same >= 0.90)
    figs = np.array([seam_figures(c, boundaries(LONG, default_overlap(WINDOW), [32, 32]), p.split()[1])
                     for c, p in zip(clips, prompts)])
    rep.note("seams (the cut among them): change / within %.2f (worst %.2f), object step / median %.2f (worst %.1f)"
             % (figs[:, 0].mean(), figs[:, 0].max(), np.nanmean(figs[:, 1]), np.nanmax(figs[:, 1])))
    rep.figures["storyboards"] = {"n": a.n, "stretches": [r for _, r in got], "prompts": list(zip(prompts, seconds)),
                                  "seam_change_ratio": figs[:, 0].tolist(), "seam_step_ratio": figs[:, 1].tolist()}


def part_loops(a, engine, nets, rep):
    print("\nloops (--seamless), %d held-out prompts a motion" % a.loop_n)
    rep.figures["loops"] = {}
    for motion in world.MOTIONS:
        _, prompts, labs, seeds = held_out_set(a.loop_n, 34 + world.MOTIONS.index(motion), motion)
        row = {}
        for frames in (WINDOW, LONG):
            plain = engine.clips([([p], frames, s, []) for p, s in zip(prompts, seeds)]) if frames == WINDOW else None
            loop = engine.clips([([p], frames, s, ["--seamless"]) for p, s in zip(prompts, seeds)])
            ratio = float(np.mean([loop_ratio(c) for c in loop]))
            right = float(np.mean([judge(nets, part, labs)[1]["motion"] for part in stretches(loop)]))
            row[frames] = {"loop_ratio": ratio, "motion": right}
            if plain is not None:
                row[frames]["plain_loop_ratio"] = float(np.mean([loop_ratio(c) for c in plain]))
            what = "%s, %d frames: last-to-first / mean change%s" % (
                motion, frames, " (plain %.2f)" % row[frames]["plain_loop_ratio"] if plain is not None else "")
            if motion in LOOPING:
                rep.check(what, "%.2f" % ratio, "<= 1.25", ratio <= 1.25)
                rep.check("%s, %d frames: motion right" % (motion, frames), pct(right), ">= 85%", right >= 0.85)
            else:
                rep.note("%-68s %-10.2f motion right %s (does not loop)" % (what, ratio, pct(right)))
        rep.figures["loops"][motion] = row


def drawn_disc(path):
    """A red disc (world red) of radius 9 in the middle of a black 64x64 image."""
    img = Image.new("RGB", (64, 64))
    ImageDraw.Draw(img).ellipse((23, 23, 41, 41), fill=tuple(int(v * 255 + 0.5) for v in world.COLORS["red"]))
    img.save(path)
    return np.asarray(img)


def part_image(a, engine, nets, rep):
    tmp = tempfile.mkdtemp(prefix="kineto-images-")
    specs, prompts, labs, seeds = held_out_set(a.n, 35)
    images, paths = [], []
    for i, s in enumerate(specs):
        images.append((world.render_clip(s)[0][0] * 255 + 0.5).astype(np.uint8))
        paths.append(os.path.join(tmp, "real_%d.png" % i))
        Image.fromarray(images[-1]).save(paths[-1])
    disc = drawn_disc(os.path.join(tmp, "disc.png"))
    red = world.COLOR_NAMES.index("red")
    drawn_prompts = [("a red ball %s on black" % m, m) for m in DRAWN_MOTIONS for _ in range(2)]
    drawn_labs = {"color": torch.tensor([red] * len(drawn_prompts)),
                  "shape": torch.tensor([world.SHAPES.index("ball")] * len(drawn_prompts)),
                  "motion": torch.tensor([world.MOTIONS.index(m) for _, m in drawn_prompts]),
                  "background": torch.tensor([world.BACKGROUNDS.index("on black")] * len(drawn_prompts))}
    drawn_seeds = [1000 + i for i in range(len(drawn_prompts))]
    print("\nimage starts (--image): %d real first frames of held-out combinations, %d clips from a drawn red disc"
          % (a.n, len(drawn_prompts)))
    rep.figures["image"] = {}
    real = [([p], WINDOW, s, ["--image", f]) for p, s, f in zip(prompts, seeds, paths)]
    drawn = [([p], WINDOW, s, ["--image", os.path.join(tmp, "disc.png")])
             for (p, _), s in zip(drawn_prompts, drawn_seeds)]
    for name, imgs, reqs, lab in (("real first frames", np.stack(images), real, labs),
                                  ("drawn red disc", disc[None], drawn, drawn_labs)):
        clips = engine.clips(reqs)
        image_of = np.stack([imgs[i if len(imgs) > 1 else 0] for i in range(len(clips))])
        first = float(np.mean([psnr(c[0], im) for c, im in zip(clips, image_of)]))
        recon = autoencoded(a.weights, a.weights, imgs[:, None].copy())[:, 0]
        ae = float(np.mean([psnr(r, im) for r, im in zip(recon, imgs)]))
        _, r = judge(nets, clips, lab)
        rep.check("%s: frame 1 PSNR (autoencoder %.1f dB)" % (name, ae), "%.1f dB" % first,
                  ">= %.1f dB" % (ae - 2), first >= ae - 2)
        rep.check("%s: the image's colour kept" % name, pct(r["color"]), ">= 95%", r["color"] >= 0.95)
        rep.check("%s: the prompt's motion" % name, pct(r["motion"]), ">= 85%", r["motion"] >= 0.85)
        rep.figures["image"][name] = dict(r, frame1_psnr=first, autoencoder_psnr=ae, n=len(clips))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kineto", default=os.path.join(ROOT, "build", "kineto"))
    ap.add_argument("--weights", default=os.path.join(ROOT, "weights", "kineto-world.kin"),
                    help="weights holding the VAE encoder (for --image and the autoencoder's reconstruction)")
    ap.add_argument("--classifier", default=os.path.join(ROOT, "weights", "eval-judges.pt"),
                    help="eval.py's judges (eval.py --train-classifier all makes them)")
    ap.add_argument("--parts", default="long,seams,storyboards,loops,image")
    ap.add_argument("--n", type=int, default=24, help="prompts (one seed each) for long clips, storyboards, images")
    ap.add_argument("--loop-n", type=int, default=4, help="prompts a motion for loops")
    ap.add_argument("--overlaps", default=str(default_overlap(WINDOW)), help="for seams, e.g. 2,4,8")
    ap.add_argument("--jobs", type=int, default=2, help="engine runs at once")
    ap.add_argument("--threads", type=int, default=1, help="threads of each engine run")
    ap.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "kineto-long-eval"))
    ap.add_argument("--json", default=None, help="write the figures and checks here")
    a = ap.parse_args()
    parts = a.parts.split(",")
    unknown = set(parts) - {"long", "seams", "storyboards", "loops", "image"}
    if unknown:
        raise SystemExit("--parts: unknown part(s) %s" % ", ".join(sorted(unknown)))
    for path, what in ((a.kineto, "--kineto (./build.sh native builds it)"), (a.weights, "--weights"),
                       (a.classifier, "--classifier (train/eval.py --train-classifier all trains it)")):
        if not os.path.exists(path):
            raise SystemExit("%s: %s does not exist" % (what, path))
    torch.set_num_threads(1)  # the engine runs beside it
    engine, nets, rep = Engine(a), load_classifiers(a.classifier), Report()

    prompts = seeds = long_clips = None
    if "long" in parts:
        prompts, seeds, long_clips = part_long(a, engine, nets, rep)
    if "seams" in parts:
        if prompts is None:
            prompts, seeds = held_out_set(a.n, 31)[1::2]
        part_seams(a, engine, prompts, seeds, long_clips, rep)
    if "storyboards" in parts:
        part_storyboards(a, engine, nets, rep)
    if "loops" in parts:
        part_loops(a, engine, nets, rep)
    if "image" in parts:
        part_image(a, engine, nets, rep)

    missed = [c["figure"] for c in rep.checks if not c["met"]]
    print("\n%d of %d targets met; as the model card's table:\n\n| figure | measured | target | |\n|---|---|---|---|"
          % (len(rep.checks) - len(missed), len(rep.checks)))
    for c in rep.checks:
        print("| %s | %s | %s | %s |" % (c["figure"], c["value"], c["target"].replace(">=", "≥").replace("<=", "≤"),
                                        "met" if c["met"] else "**missed**"))
    if a.json:
        blob = {"command": " ".join(["train/long_eval.py"] + sys.argv[1:]), "n": a.n, "loop_n": a.loop_n,
                "checks": rep.checks, "figures": rep.figures}
        tmp = a.json + ".tmp"
        with open(tmp, "w") as f:
            json.dump(blob, f, indent=1, default=float)
        os.replace(tmp, a.json)


if __name__ == "__main__":
    main()
