"""Sample grid and GIFs for the model card, made by the C engine (build/kineto).

  /usr/bin/python3 train/samples.py --weights weights/kineto-world.kin --out weights/samples
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

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Six training combinations, then six held out (never rendered for training) and a two-object clip
PROMPTS = [
    "a blue square moving up on grass",
    "a yellow star spinning in the sky",
    "a green triangle growing under water",
    "a white ring bouncing at night",
    "a pink ball shrinking on white",
    "a red square moving right on black",
    "a red ball moving left on black",
    "an orange triangle moving right in the sky",
    "a cyan ring moving right under water",
    "a purple star growing at night",
    "a yellow square moving up on white",
    "a blue ball and a red star moving right on grass",
]


def held_out(prompt):
    words = prompt.split()
    try:
        ci = world.COLOR_NAMES.index(words[1])
        si = world.SHAPES.index(words[2])
    except ValueError:
        return False
    rest = " ".join(words[3:])
    mi = next((i for i, m in enumerate(world.MOTIONS) if rest.startswith(m)), None)
    return mi is not None and world.is_held_out(ci, si, mi)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--weights", default=os.path.join(ROOT, "weights", "kineto-world.kin"))
    p.add_argument("--out", default=os.path.join(ROOT, "weights", "samples"))
    p.add_argument("--seed", type=int, default=7)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    cli = os.path.join(ROOT, "build", "kineto")
    rows, lines = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i, prompt in enumerate(PROMPTS):
            d = os.path.join(tmp, str(i))
            gif = os.path.join(a.out, "%02d-%s.gif" % (i, "-".join(prompt.split()[1:4])))
            if os.path.exists(gif):
                os.remove(gif)
            subprocess.run([cli, "generate", "--prompt", prompt, "--seed", str(a.seed), "--out", d,
                            "--gif", gif, "--weights", a.weights], check=True, stdout=subprocess.DEVNULL)
            frames = [np.asarray(Image.open(os.path.join(d, n)).convert("RGB"))
                      for n in sorted(os.listdir(d)) if n.endswith(".png")]
            rows.append(np.concatenate(frames[::2], 1))
            lines.append("| %d | %s | %s | ![](samples/%s) |" % (i, prompt, "held out" if held_out(prompt) else "training",
                                                                 os.path.basename(gif)))
    Image.fromarray(np.concatenate(rows, 0)).save(os.path.join(a.out, "grid.png"))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
