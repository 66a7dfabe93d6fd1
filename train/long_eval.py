"""Figures for clips past the model's window, on the C engine's clips (build/kineto):

  /usr/bin/python3 train/long_eval.py [--kineto build/kineto] [--overlaps 1,2,4,8] [--seeds 3]

- seams: over 64-frame clips, the mean absolute change between frames across a window boundary
  (the first frame a window makes against the known frame before it) over the mean change within
  windows; and the object's step across a boundary over its median step (the object found by its
  prompt's colour);
- storyboards: the same at the cut between two shots that differ in motion;
- loops: with --seamless, the last-to-first change over the mean frame-to-frame change, against the
  same clip made without --seamless.
The issue's targets: seams <= 1.25x, object step <= 2x its median, loops <= 1.25x.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import world  # noqa: E402
from model import clip_windows, default_overlap  # noqa: E402

WINDOW = 16
COLOURS = ["red", "yellow", "blue", "green", "white"]
SHAPES = ["ball", "square", "star"]
MOTIONS = ["moving left", "moving right", "moving up", "bouncing", "spinning", "standing still"]
BACKGROUNDS = ["on black", "on grass", "in the sky"]
LOOPING = ("bouncing", "spinning", "standing still")


def generate(kineto, prompts, frames, seed, extra, out):
    cmd = [kineto, "generate", "--frames", str(frames), "--seed", str(seed), "--out", out, "--force"] + extra
    for p in prompts:
        cmd += ["--prompt", p]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return np.stack([np.asarray(Image.open(os.path.join(out, "frame_%03d.png" % f)).convert("RGB"), np.float64)
                     for f in range(frames)])


def changes(clip):
    """Mean absolute byte change from frame f-1 to f, for f = 1..F-1."""
    return np.abs(np.diff(clip, axis=0)).mean(axis=(1, 2, 3))


def centroids(clip, colour):
    """Per frame, the centre of the pixels within 60 of the prompt's colour (NaN when none)."""
    target = np.array(world.COLORS[colour]) * 255
    near = np.linalg.norm(clip - target, axis=3) < 60
    ys, xs = np.mgrid[0:clip.shape[1], 0:clip.shape[2]]
    out = []
    for m in near:
        out.append((xs[m].mean(), ys[m].mean()) if m.sum() >= 4 else (np.nan, np.nan))
    return np.array(out)


def boundaries(frames, overlap, shot_frames):
    """Indices f where frame f is the first a window makes after known frames (f-1 -> f crosses)."""
    return [start + before for start, before, fresh, after, _ in
            clip_windows(frames, WINDOW, overlap, shot_frames, False) if before > 0]


def seam_figures(clip, bounds, colour):
    ch = changes(clip)
    at = [b - 1 for b in bounds]
    within = [i for i in range(len(ch)) if i not in at]
    c = centroids(clip, colour)
    steps = np.linalg.norm(np.diff(c, axis=0), axis=1)
    med = np.nanmedian(steps)
    seam_steps = steps[at]
    step_ratio = np.nanmax(seam_steps) / max(med, 0.5) if np.isfinite(seam_steps).any() else np.nan
    return ch[at].mean() / ch[within].mean(), step_ratio


def prompts(n, rng):
    return [(c, "a %s %s %s %s" % (c, s, m, b), m) for c, s, m, b in
            ((rng.choice(COLOURS), rng.choice(SHAPES), MOTIONS[i % len(MOTIONS)], rng.choice(BACKGROUNDS))
             for i in range(n))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kineto", default="build/kineto")
    ap.add_argument("--overlaps", default="1,2,4,8")
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--prompts", type=int, default=12)
    ap.add_argument("--parts", default="seams,storyboards,loops")
    ap.add_argument("--extra", default="", help="more generate flags, e.g. '--renoise 0'")
    a = ap.parse_args()
    rng = np.random.default_rng(25)
    cases = prompts(a.prompts, rng)
    seeds = [int(s) for s in rng.integers(1 << 31, size=a.seeds)]
    tmp = tempfile.mkdtemp(prefix="kineto-long-")
    out = os.path.join(tmp, "f")

    extra = a.extra.split()
    parts = a.parts.split(",")
    print("64-frame clips, %d prompts x %d seeds %s" % (len(cases), len(seeds), a.extra))
    print("overlap  seam change / within (mean, worst)  object step at seam / median (mean, worst)")
    for overlap in [int(o) for o in a.overlaps.split(",")] if "seams" in parts else []:
        ratios, steps = [], []
        for colour, prompt, _ in cases:
            for seed in seeds:
                clip = generate(a.kineto, [prompt], 64, seed, ["--overlap", str(overlap)] + extra, out)
                r, s = seam_figures(clip, boundaries(64, overlap, [64]), colour)
                ratios.append(r)
                steps.append(s)
        print("%7d  %6.3f  %6.3f                          %6.3f  %6.3f" % (overlap, np.mean(ratios), np.max(ratios),
                                                                          np.nanmean(steps), np.nanmax(steps)))

    overlap = default_overlap(WINDOW)
    if "storyboards" not in parts:
        cases_sb = []
    else:
        cases_sb = cases
        print("\nstoryboards (default overlap %d): two shots of 32 frames, the same object, other motions" % overlap)
    ratios, steps = [], []
    for colour, prompt, motion in cases_sb:
        other = "bouncing" if motion != "bouncing" else "moving left"
        second = prompt.replace(motion, other)
        for seed in seeds:
            clip = generate(a.kineto, [prompt, second], 64, seed, extra, out)
            r, s = seam_figures(clip, boundaries(64, overlap, [32, 32]), colour)
            ratios.append(r)
            steps.append(s)
    if cases_sb:
        print("seam change / within: mean %.3f, worst %.3f; object step / median: mean %.3f, worst %.3f"
              % (np.mean(ratios), np.max(ratios), np.nanmean(steps), np.nanmax(steps)))

    if "loops" not in parts:
        return
    print("\nloops: last-to-first change / mean frame change")
    print("motion           frames  plain   seamless")
    for motion in MOTIONS:
        for frames in (16, 64):
            plain, loop = [], []
            for colour, prompt, m in cases:
                if m != motion:
                    continue
                for seed in seeds:
                    for flags, into in ((extra, plain), (extra + ["--seamless"], loop)):
                        clip = generate(a.kineto, [prompt], frames, seed, flags, out)
                        ch = changes(clip)
                        into.append(np.abs(clip[-1] - clip[0]).mean() / ch.mean())
            print("%-16s %6d  %6.2f  %6.2f%s" % (motion, frames, np.mean(plain), np.mean(loop),
                                               "" if motion in LOOPING else "   (directional)"))


if __name__ == "__main__":
    main()
