"""The next model's script, train/next.sh, end to end in miniature (--dry-run): training from scratch,
an export at every checkpoint, eval.py on the C engine, and the comparison with weights/eval.json; then
the engine loads what it wrote and makes a clip of the size the model's header gives."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT
from export import read_kin
from next import DRY, FIGURES

CLI = os.path.join(ROOT, "build", "kineto")


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory):
    if not os.access(CLI, os.X_OK):
        pytest.skip("build/kineto is missing: the dry run evaluates with the C engine (./build.sh native)")
    out = tmp_path_factory.mktemp("next")
    done = subprocess.run([os.path.join(ROOT, "train", "next.sh"), str(out), "--dry-run", "--workers", "2"],
                          capture_output=True, text=True, cwd=ROOT, env=dict(os.environ, PYTHON=sys.executable))
    assert done.returncode == 0, "train/next.sh --dry-run failed:\n%s" % (done.stdout[-3000:] + done.stderr[-3000:])
    return out, done.stdout


def test_dry_run_exports_the_next_design_at_every_checkpoint(dry_run):
    out, stdout = dry_run
    cfg, _, tensors = read_kin(str(out / "kineto-next.kin"))
    assert (cfg.latent_channels, tuple(cfg.vae_ch), cfg.enc_levels) == (8, tuple(DRY["vae_ch"]), 3)
    assert (cfg.height, cfg.width) == (DRY["height"], DRY["width"]) and cfg.vae_factor == 8
    assert "vae_dec.res3.conv1.weight" in tensors and not any(n.startswith("vae_enc.") for n in tensors)
    enc_cfg, _, enc = read_kin(str(out / "kineto-next-encoder.kin"))
    assert enc and all(n.startswith("vae_enc.") for n in enc) and enc_cfg.enc_factor == 4
    # three denoiser steps with a checkpoint after each: the model was exported at each, not only at the end
    assert stdout.count("exported %s" % (out / "kineto-next.kin")) >= 3


def test_dry_run_compares_with_the_default(dry_run):
    out, stdout = dry_run
    summary = json.loads((out / "compare.json").read_text())
    with open(os.path.join(ROOT, "weights", "eval.json")) as f:
        default = json.load(f)
    assert summary["dry_run"] and summary["config"]["vae_ch"] == DRY["vae_ch"]
    rows = {r["figure"]: r for r in summary["rows"]}
    assert set(rows) == {name for name, *_ in FIGURES}
    new = json.loads((out / "eval.json").read_text())
    for name, key, where, higher, target in FIGURES:
        r = rows[name]
        assert r["next"] == new[where][key] and r["default"] == default[where][key]
        bar = target if target is not None else r["default"]
        assert r["met"] == (r["next"] >= bar if higher else r["next"] <= bar), name
    assert summary["all_met"] == all(r["met"] for r in rows.values())
    # the table, with weights/eval.json's figure beside
    assert "| identity stable | %.1f%% |" % (100 * default["held_out/temporal_on"]["identity_stable"]) in stdout


def test_engine_runs_the_dry_run_model(dry_run, tmp_path):
    out, _ = dry_run
    frames = tmp_path / "frames"
    subprocess.run([CLI, "generate", "--weights", str(out / "kineto-next.kin"), "--prompt", "a red ball spinning on grass",
                    "--seed", "5", "--steps", "2", "--out", str(frames)], check=True, capture_output=True)
    names = sorted(os.listdir(frames))
    assert len(names) == DRY["frames"]
    clip = np.stack([np.asarray(Image.open(frames / n).convert("RGB")) for n in names])
    assert clip.shape == (DRY["frames"], DRY["height"], DRY["width"], 3)
    assert clip.std() > 0  # a drawn clip, not an empty buffer


def trainer(tmp_path, *flags):
    import train
    return train.Trainer(train.parse_args(["--smoke", "--run", str(tmp_path), "--workers", "1", *flags]))


def test_frame_pairs_show_one_frame_at_the_encoder_and_decoder_sizes(tmp_path):
    """A decoder one level larger than the encoder's frames trains on pairs: the same frame rendered
    at both sizes, whether drawn fresh or from the --vae-clips pool."""
    import torch.nn.functional as F
    tr = trainer(tmp_path, "--config", json.dumps({"vae_ch": [8, 8, 8, 16], "enc_levels": 3}), "--vae-clips", "3")
    fresh = tr.frames_batch(6)
    tr.render_frame_pool()
    pooled = tr.frames_batch(6)
    for x, mask, x_enc in (fresh, pooled):
        assert x.shape == (6, 3, 32, 32) and mask.shape == (6, 1, 32, 32) and x_enc.shape == (6, 3, 16, 16)
        # distance of every frame, averaged down, to every encoder frame: its own is the nearest (not
        # equal: a background's texture is drawn per pixel; two frames of a still clip may tie)
        d = (F.avg_pool2d(x, 2)[:, None] - x_enc[None]).abs().mean((2, 3, 4))
        assert (d.diagonal() <= d.min(1).values).all(), d


def test_vae_minutes_ends_the_autoencoder_stage_by_time(tmp_path):
    tr = trainer(tmp_path, "--vae-minutes", "0.01", "--vae-steps", "1000000")
    tr.train_vae()
    assert tr.state["stage"] == "cache" and 0 < tr.state["vae_psnr"]["psnr"]


def test_config_names_an_unknown_field(tmp_path):
    with pytest.raises(SystemExit, match="no field 'latent_chanels'"):
        trainer(tmp_path, "--config", '{"latent_chanels": 8}')
