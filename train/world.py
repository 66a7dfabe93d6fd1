"""Kineto's procedural video world: coloured shapes moving over backgrounds, with captions.

Every clip is drawn from a seed, so a clip, its caption and its labels can be made again
exactly. `render_clip` returns frames (F, H, W, 3) in [0, 1], an object mask (F, H, W)
and the labels the evaluation classifier learns.
"""
import math
import numpy as np

COLORS = {
    "red": (0.90, 0.10, 0.10), "orange": (1.00, 0.55, 0.05), "yellow": (0.98, 0.92, 0.10),
    "green": (0.10, 0.75, 0.20), "cyan": (0.10, 0.90, 0.95), "blue": (0.10, 0.25, 0.95),
    "purple": (0.55, 0.15, 0.80), "pink": (1.00, 0.50, 0.75), "white": (1.00, 1.00, 1.00),
}
SHAPES = ["ball", "square", "triangle", "star", "ring"]
MOTIONS = ["moving left", "moving right", "moving up", "moving down", "bouncing",
           "spinning", "growing", "shrinking", "standing still"]
BACKGROUNDS = ["on black", "on white", "in the sky", "on grass", "at night", "under water"]
COLOR_NAMES = list(COLORS)

# Caption words for each attribute; the first is the canonical one.
SHAPE_WORDS = {
    "ball": ["ball", "circle", "sphere"], "square": ["square", "box", "block"],
    "triangle": ["triangle", "pyramid"], "star": ["star"], "ring": ["ring", "donut", "hoop"],
}
MOTION_WORDS = {
    "moving left": ["moving left", "sliding left", "going left"],
    "moving right": ["moving right", "sliding right", "going right"],
    "moving up": ["moving up", "rising", "going up"],
    "moving down": ["moving down", "falling", "going down"],
    "bouncing": ["bouncing", "hopping"],
    "spinning": ["spinning", "rotating", "turning"],
    "growing": ["growing", "expanding", "getting bigger"],
    "shrinking": ["shrinking", "getting smaller"],
    "standing still": ["standing still", "resting", "not moving"],
}
BACKGROUND_WORDS = {
    "on black": ["on black", "on a black background"],
    "on white": ["on white", "on a white background"],
    "in the sky": ["in the sky", "in a blue sky"],
    "on grass": ["on grass", "on the grass", "on a lawn"],
    "at night": ["at night", "in the night sky"],
    "under water": ["under water", "underwater", "in the sea"],
}
COLOR_WORDS = {c: [c] for c in COLOR_NAMES}
COLOR_WORDS["purple"] = ["purple", "violet"]
COLOR_WORDS["white"] = ["white"]


def vocabulary():
    """Every word a caption can use, sorted; the tokenizer's vocabulary after the specials."""
    words = {"a", "an", "the", "and", "with"}
    for table in (COLOR_WORDS, SHAPE_WORDS, MOTION_WORDS, BACKGROUND_WORDS):
        for phrases in table.values():
            for p in phrases:
                words.update(p.split())
    return sorted(words)


def is_held_out(ci, si, mi):
    """About 11% of (color, shape, motion) combinations are never rendered for training."""
    return (ci * 7 + si * 3 + mi * 5) % 9 == 0


def combos(held_out):
    return [(c, s, m) for c in range(len(COLOR_NAMES)) for s in range(len(SHAPES))
            for m in range(len(MOTIONS)) if is_held_out(c, s, m) == held_out]


# ---------------------------------------------------------------- drawing
def _shape_mask(shape, xx, yy, cx, cy, r, angle):
    """Soft coverage in [0, 1] of a shape centred at (cx, cy) with radius r, rotated by angle."""
    dx, dy = xx - cx, yy - cy
    ca, sa = math.cos(angle), math.sin(angle)
    u, v = ca * dx + sa * dy, -sa * dx + ca * dy
    if shape == "ball":
        d = np.sqrt(u * u + v * v) - r
    elif shape == "square":
        d = np.maximum(np.abs(u), np.abs(v)) - r * 0.85
    elif shape == "ring":
        d = np.abs(np.sqrt(u * u + v * v) - r * 0.75) - r * 0.28
    elif shape == "triangle":
        # triangle pointing up (image y grows downwards); a cheap distance bound
        k = math.sqrt(3.0)
        d = np.maximum(np.abs(u) * k * 0.5 - v * 0.5, v) - r * 0.5
    else:  # star: radius modulated by angle, five points
        rad = np.sqrt(u * u + v * v)
        th = np.arctan2(v, u)
        d = rad - r * (0.62 + 0.38 * np.cos(5 * th))
    return np.clip(0.5 - d, 0.0, 1.0)


def _shade(xx, yy, cx, cy, angle):
    """Half of each shape is darker, so spinning is visible even on a ball or ring."""
    u = math.cos(angle) * (xx - cx) + math.sin(angle) * (yy - cy)
    return np.where(u > 0, 1.0, 0.62)


def _background(kind, t, H, W, rng_vals):
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    img = np.zeros((H, W, 3), np.float32)
    if kind == "on black":
        img[:] = 0.02
    elif kind == "on white":
        img[:] = 0.97
    elif kind == "in the sky":
        g = yy / H
        img[..., 0] = 0.35 + 0.35 * g
        img[..., 1] = 0.60 + 0.25 * g
        img[..., 2] = 0.95
        for (cx, cy, s) in rng_vals["clouds"]:
            x = (cx + 0.6 * t) % (W + 20) - 10
            c = np.exp(-(((xx - x) / (1.8 * s)) ** 2 + ((yy - cy) / s) ** 2))
            img += (1.0 - img) * 0.8 * c[..., None]
    elif kind == "on grass":
        g = yy / H
        img[..., 0] = 0.15 + 0.05 * g
        img[..., 1] = 0.50 + 0.15 * g
        img[..., 2] = 0.12
        img[..., 1] += 0.05 * np.sin(xx * 1.7 + yy * 0.3)
    elif kind == "at night":
        img[..., 0] = 0.03
        img[..., 1] = 0.03
        img[..., 2] = 0.15
        for (sx, sy, ph) in rng_vals["stars"]:
            b = 0.6 + 0.4 * math.sin(ph + 0.7 * t)
            img[int(sy), int(sx)] = b
    else:  # under water
        img[..., 0] = 0.05
        img[..., 1] = 0.35 + 0.08 * np.sin(xx * 0.25 + yy * 0.12 + 0.5 * t)
        img[..., 2] = 0.60 + 0.08 * np.sin(yy * 0.3 - 0.4 * t)
    return np.clip(img, 0.0, 1.0)


def _trajectory(motion, f, F, x0, y0, r0, speed, H):
    """Centre, radius and angle of an object at frame f."""
    x, y, r, a = x0, y0, r0, 0.0
    if motion == "moving left":
        x = x0 - speed * f
    elif motion == "moving right":
        x = x0 + speed * f
    elif motion == "moving up":
        y = y0 - speed * f
    elif motion == "moving down":
        y = y0 + speed * f
    elif motion == "bouncing":
        y = y0 - abs(math.sin(math.pi * f / (F / 2))) * speed * 6
    elif motion == "spinning":
        a = 2 * math.pi * f / F * (0.8 + speed * 0.2)
    elif motion == "growing":
        r = r0 * (0.55 + 0.9 * f / (F - 1))
    elif motion == "shrinking":
        r = r0 * (1.45 - 0.9 * f / (F - 1))
    return x, y, r, a


def sample_spec(rng, held_out=None, two_prob=0.2, combo=None, background=None):
    """A random clip description. held_out: True draws only held-out combos, False only training ones."""
    if combo is None:
        pool = combos(bool(held_out)) if held_out is not None else combos(False) + combos(True)
        combo = pool[rng.integers(len(pool))]
    ci, si, mi = (int(v) for v in combo)
    bi = rng.integers(len(BACKGROUNDS)) if background is None else background
    objs = [(ci, si)]
    if rng.random() < two_prob:
        while True:  # a training clip never shows a held-out combination, even as the second object
            c2, s2 = int(rng.integers(len(COLOR_NAMES))), int(rng.integers(len(SHAPES)))
            if (c2, s2) != (ci, si) and not (held_out is False and is_held_out(c2, s2, mi)):
                break
        objs.append((c2, s2))
    return {"objects": objs, "motion": mi, "background": int(bi), "seed": int(rng.integers(1 << 31))}


HARD_MOTIONS = [MOTIONS.index(m) for m in ("spinning", "growing", "shrinking")]


def sample_specs(rng, n_clips, held_out, hard_share=0.0):
    """n_clips clip descriptions, hard_share of them turning, growing or shrinking: a rotated or
    tiny shape is the hardest to draw, and at the world's rate (a third of the motions) a model
    sees too few of them. hard_share 0 draws exactly as sample_spec does."""
    hard = [c for c in combos(held_out) if c[2] in HARD_MOTIONS]
    specs = []
    for _ in range(n_clips):
        combo = hard[rng.integers(len(hard))] if hard_share and rng.random() < hard_share else None
        specs.append(sample_spec(rng, held_out=held_out, combo=combo))
    return specs


def caption(spec, rng=None, canonical=False):
    def pick(opts):
        return opts[0] if canonical or rng is None else opts[rng.integers(len(opts))]
    parts = []
    for (ci, si) in spec["objects"]:
        parts.append("a %s %s" % (pick(COLOR_WORDS[COLOR_NAMES[ci]]), pick(SHAPE_WORDS[SHAPES[si]])))
    text = " and ".join(parts)
    text += " " + pick(MOTION_WORDS[MOTIONS[spec["motion"]]])
    text += " " + pick(BACKGROUND_WORDS[BACKGROUNDS[spec["background"]]])
    return text


def render_clip(spec, F=16, H=64, W=64):
    """Frames (F, H, W, 3) float32 in [0, 1] and the union object mask (F, H, W)."""
    rng = np.random.default_rng(spec["seed"])
    motion = MOTIONS[spec["motion"]]
    bg = BACKGROUNDS[spec["background"]]
    bg_vals = {
        "clouds": [(rng.uniform(0, W), rng.uniform(4, H * 0.6), rng.uniform(4, 8)) for _ in range(3)],
        "stars": [(rng.integers(W), rng.integers(H), rng.uniform(0, 6.28)) for _ in range(40)],
    }
    n = len(spec["objects"])
    objs = []
    for k, (ci, si) in enumerate(spec["objects"]):
        size = W / 64.0  # sizes and speeds are given for 64x64 clips
        r0 = (rng.uniform(6.0, 10.0) if n == 1 else rng.uniform(5.0, 7.5)) * size
        speed = rng.uniform(1.2, 2.2) * size * 16.0 / F
        travel = speed * (F - 1)
        lo, hi = r0 + 2, W - r0 - 2
        if motion == "moving left":
            x0 = rng.uniform(min(hi, lo + travel), hi)
        elif motion == "moving right":
            x0 = rng.uniform(lo, max(lo, hi - travel))
        else:
            x0 = rng.uniform(lo, hi)
        horizontal = motion in ("moving left", "moving right")
        if n == 2 and not horizontal:  # keep the two objects apart: one in each half
            x0 = lo + (hi - lo) * (0.25 if k == 0 else 0.75) + rng.uniform(-4, 4)
        if motion == "moving up":
            y0 = rng.uniform(min(hi, lo + travel), hi)
        elif motion == "moving down":
            y0 = rng.uniform(lo, max(lo, hi - travel))
        elif motion == "bouncing":
            speed = rng.uniform(1.5, 2.5) * size
            y0 = rng.uniform(min(hi, lo + speed * 6), hi)
        else:
            y0 = rng.uniform(lo, hi)
        if n == 2 and horizontal:
            y0 = lo + (hi - lo) * (0.25 if k == 0 else 0.75) + rng.uniform(-3, 3)
        objs.append((COLORS[COLOR_NAMES[ci]], SHAPES[si], x0, y0, r0, speed, rng.uniform(0, 6.28)))

    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    yy += 0.5
    xx += 0.5
    frames = np.empty((F, H, W, 3), np.float32)
    masks = np.zeros((F, H, W), np.float32)
    for f in range(F):
        img = _background(bg, f, H, W, bg_vals)
        for (col, shape, x0, y0, r0, speed, a0) in objs:
            x, y, r, a = _trajectory(motion, f, F, x0, y0, r0, speed, H)
            a += a0 if motion == "spinning" else 0.0
            m = _shape_mask(shape, xx, yy, x, y, r, a)
            shade = _shade(xx, yy, x, y, a)
            c = np.asarray(col, np.float32)[None, None, :] * shade[..., None]
            img = img * (1 - m[..., None]) + c * m[..., None]
            masks[f] = np.maximum(masks[f], m)
        frames[f] = img
    return frames, masks


def labels(spec):
    ci, si = spec["objects"][0]
    return {"color": ci, "shape": si, "motion": spec["motion"], "background": spec["background"]}


if __name__ == "__main__":
    import time
    rng = np.random.default_rng(0)
    t0 = time.time()
    for i in range(50):
        s = sample_spec(rng, held_out=False)
        fr, m = render_clip(s)
    print("vocab", len(vocabulary()), "held-out combos", len(combos(True)), "of", 9 * 5 * 9)
    print("%.1f ms per clip" % ((time.time() - t0) / 50 * 1000), caption(s, rng))
