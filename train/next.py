"""The next model: trained from scratch on one GPU within a budget of 12 minutes (estimated: no GPU
run of it yet), exported, evaluated and compared with the default (weights/kineto-world.kin, its
figures in weights/eval.json).

What changes (weights/README.md, "Next model"): 8 latent channels instead of 4 on the same 16x16
latent grid and the same denoiser (4x4 patches, 16 tokens a frame, so a sampling step costs what it
costs today), and a VAE decoder of 4 levels that draws 128x128 frames; the encoder reads the 64x64
frames the world renders, so the latent cache costs what it costs today. The autoencoder trains on
frames of which half turn, grow or shrink, the motions where today's loses the object. The denoiser
trains with a noise level per frame (train.py --context-share 0.7, as the default's last run), so
long clips, loops and image starts give it their known frames clean.

Stages, sized by wall-clock minutes on the GPU (2.25, about 1 for the cache, 5.5, then about 2):
  1. train.py: autoencoder (--ae-minutes), latent cache, text encoder + denoiser (--denoiser-minutes);
     OUT/kineto-next.kin and OUT/kineto-next-encoder.kin are rewritten at every checkpoint (each minute),
     so a run cut short still leaves a model; run again to resume from OUT/run.
  2. eval.py on the exported weights with the C engine (build/kineto): OUT/eval.json.
  3. the comparison with the default: OUT/compare.json and a table on stdout.

  train/next.sh OUT                                 # the accelerator run (see next.sh)
  /usr/bin/python3 train/next.py --out OUT --dry-run  # every stage in miniature, on a CPU
"""
import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NEXT = {"latent_channels": 8, "vae_ch": [16, 24, 48, 64], "enc_levels": 3, "height": 128, "width": 128}
# the same design cut down to seconds on a CPU: 4 frames of 32x32 from 4x4x8 latents read off 16x16 frames
DRY = dict(NEXT, frames=4, height=32, width=32, vae_ch=[8, 8, 8, 16], vae_groups=4, max_tokens=12, text_dim=32,
           text_layers=1, text_heads=2, patch=2, dim=32, depth=2, heads=2, mlp_ratio=2)

# (figure, eval.json key, where, higher is better, target): targets the next model must meet on held-out
# prompts; a figure without one must stay at least as good as the default's
FIGURES = [
    ("identity stable", "identity_stable", "held_out/temporal_on", True, 0.95),
    ("shape", "shape", "held_out/temporal_on", True, 0.95),
    ("exact", "exact", "held_out/temporal_on", True, 0.90),
    ("colour", "color", "held_out/temporal_on", True, None),
    ("motion", "motion", "held_out/temporal_on", True, None),
    ("background", "background", "held_out/temporal_on", True, None),
    ("flicker", "flicker", "held_out/temporal_on", False, None),
    ("Frechet distance", "fd", "held_out/temporal_on", False, None),
    ("identity stable, training prompts", "identity_stable", "training/temporal_on", True, None),
    ("exact, training prompts", "exact", "training/temporal_on", True, None),
    ("identity stable, real clips through the autoencoder", "identity_stable", "real_held_out_autoencoded", True, None),
]


def log(msg):
    print(time.strftime("%H:%M:%S"), "next:", msg, flush=True)


def run(*cmd):
    log(" ".join(map(str, cmd)))
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT)


def finished(ckpt):
    if not os.path.exists(ckpt):
        return False
    import torch
    return torch.load(ckpt, map_location="cpu", weights_only=False)["state"]["stage"] == "done"


def compare(default, new):
    """-> rows (figure, default, next, target, met) and whether every row is met."""
    rows = []
    for name, key, where, higher, target in FIGURES:
        d, n = default.get(where, {}).get(key), new.get(where, {}).get(key)
        if n is None:
            continue
        bar = target if target is not None else d
        met = None if bar is None else (n >= bar if higher else n <= bar)
        rows.append({"figure": name, "where": where, "default": d, "next": n, "higher_is_better": higher,
                     "target": target, "met": met})
    return rows, all(r["met"] is not False for r in rows)


def table(rows):
    pct = lambda r, v: "-" if v is None else ("%.1f%%" % (100 * v) if r["figure"] not in ("flicker", "Frechet distance")
                                                else "%.2f" % v)
    lines = ["| figure | default | next | goal | met |", "|---|---|---|---|---|"]
    for r in rows:
        sign = ">=" if r["higher_is_better"] else "<="
        goal = "%s %s" % (sign, pct(r, r["target"]) if r["target"] is not None else "the default's")
        lines.append("| %s | %s | %s | %s | %s |" % (r["figure"], pct(r, r["default"]), pct(r, r["next"]), goal,
                                                     {True: "yes", False: "NO", None: "-"}[r["met"]]))
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, help="folder for the weights, the run, the figures and the logs")
    p.add_argument("--dry-run", action="store_true", help="a tiny model, a few steps, a tiny evaluation (CPU)")
    p.add_argument("--ae-minutes", type=float, default=2.25)
    p.add_argument("--denoiser-minutes", type=float, default=5.5)
    p.add_argument("--ae-clips", type=int, default=4000, help="clips rendered once for the autoencoder")
    p.add_argument("--ae-batch", type=int, default=256)
    p.add_argument("--cache-clips", type=int, default=50000)
    p.add_argument("--batch", type=int, default=512)
    p.add_argument("--lr", type=float, default=6e-4)
    p.add_argument("--n", type=int, default=300, help="prompts per split in the evaluation (weights/eval.json: 300)")
    p.add_argument("--classifier", default=os.path.join(ROOT, "weights", "eval-judges.pt"),
                   help="eval.py's judges, those weights/eval.json used")
    p.add_argument("--baseline", default=os.path.join(ROOT, "weights", "eval.json"),
                   help="the default's figures, or 'rerun' to measure weights/kineto-world.kin here with the same judges")
    p.add_argument("--config", default=None, metavar="JSON", help="model fields to change from the next design's")
    p.add_argument("--workers", type=int, default=os.cpu_count())
    a = p.parse_args()

    os.makedirs(a.out, exist_ok=True)
    kin, encoder = os.path.join(a.out, "kineto-next.kin"), os.path.join(a.out, "kineto-next-encoder.kin")
    cfg = dict(DRY if a.dry_run else NEXT, **json.loads(a.config or "{}"))
    py, train_py, eval_py = sys.executable, os.path.join(ROOT, "train", "train.py"), os.path.join(ROOT, "train", "eval.py")
    if not os.access(os.path.join(ROOT, "build", "kineto"), os.X_OK):
        raise SystemExit("next.py: build/kineto is missing: the evaluation runs the C engine (./build.sh native)")
    judge = ["--classifier", a.classifier]
    if a.dry_run:  # judges trained for two steps: they exercise the evaluation, they measure nothing
        judge = ["--classifier", os.path.join(a.out, "classifier.pt"), "--classifier-steps", 2, "--frame-steps", 2,
                 "--classifier-batch", 2, "--frame-batch", 2]
    elif not os.path.exists(a.classifier):
        raise SystemExit("next.py: %s is missing: copy the judges that weights/eval.json used (eval.py trains "
                         "them in about an hour: --train-classifier all)" % a.classifier)
    sizes = (["--vae-steps", 3, "--vae-clips", 4, "--vae-batch", 4, "--cache-clips", 6, "--steps", 3, "--batch", 2,
              "--ckpt-minutes", 0] if a.dry_run else
             ["--vae-minutes", a.ae_minutes, "--vae-clips", a.ae_clips, "--vae-batch", a.ae_batch,
              "--cache-clips", a.cache_clips, "--batch", a.batch, "--minutes", a.denoiser_minutes,
              "--decay-minutes", a.denoiser_minutes / 2, "--ckpt-minutes", 1])
    seconds = {}
    t0 = time.time()
    if finished(os.path.join(a.out, "run", "ckpt.pt")):  # train.py would export the weights without the EMA
        log("training finished before: evaluating %s" % kin)
    else:
        run(py, train_py, "--run", os.path.join(a.out, "run"), "--config", json.dumps(cfg), "--out", kin,
            "--encoder-out", encoder, "--vae-hard-share", 0.5, "--context-share", 0.7, "--lr", a.lr,
            "--workers", a.workers, *sizes)
    seconds["train"] = time.time() - t0
    figures = os.path.join(a.out, "eval.json")
    evaluate = [py, eval_py, "--no-ablation", "--jobs", a.workers, "--n", 4 if a.dry_run else a.n, *judge]
    t0 = time.time()
    run(*evaluate, "--weights", kin, "--encoder", encoder, "--json", figures)
    seconds["eval"] = time.time() - t0

    baseline = a.baseline
    if baseline == "rerun":
        baseline = os.path.join(a.out, "eval-default.json")
        run(*evaluate, "--json", baseline)
    with open(baseline) as f:
        default = json.load(f)
    with open(figures) as f:
        new = json.load(f)
    rows, met = compare(default, new)
    summary = {"config": cfg, "dry_run": a.dry_run, "seconds": seconds, "weights": kin, "encoder": encoder,
               "figures": figures, "baseline": baseline, "rows": rows, "all_met": met}
    with open(os.path.join(a.out, "compare.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(table(rows))
    log("%s; trained in %.1f min, evaluated in %.1f min; figures in %s" % (
        "every goal met" if met else "goals missed", seconds["train"] / 60, seconds["eval"] / 60,
        os.path.join(a.out, "compare.json")))


if __name__ == "__main__":
    main()
