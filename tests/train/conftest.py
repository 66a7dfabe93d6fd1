"""What the training tests share: train/ on the import path, the smoke weights, and running a
train/ script. Run from the repository root: /usr/bin/python3 -m pytest -q tests/train

The smoke weights are build/smoke.kin and build/smoke-encoder.kin, as ./build.sh test-c writes them
(KINETO_SMOKE_KIN and KINETO_SMOKE_ENCODER name others); when they are missing, a smoke training
run writes them into a temporary folder first."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TRAIN = os.path.join(ROOT, "train")
sys.path.insert(0, TRAIN)


def run_train(script, *args):
    """Runs train/<script> with args; -> its stdout. A failure shows the script's stderr."""
    done = subprocess.run([sys.executable, os.path.join(TRAIN, script), *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, "%s %s failed:\n%s" % (script, " ".join(map(str, args)), done.stderr[-4000:])
    return done.stdout


@pytest.fixture(scope="session")
def smoke_weights(tmp_path_factory):
    """(weights, encoder): a smoke model's two .kin files."""
    kin = os.environ.get("KINETO_SMOKE_KIN", os.path.join(ROOT, "build", "smoke.kin"))
    encoder = os.environ.get("KINETO_SMOKE_ENCODER", os.path.join(ROOT, "build", "smoke-encoder.kin"))
    if os.path.exists(kin) and os.path.exists(encoder):
        return kin, encoder
    tmp = tmp_path_factory.mktemp("smoke")
    kin, encoder = str(tmp / "smoke.kin"), str(tmp / "smoke-encoder.kin")
    run_train("train.py", "--smoke", "--run", tmp / "run", "--out", kin, "--workers", "1")
    run_train("export.py", "--ckpt", tmp / "run" / "ckpt.pt", "--out", tmp / "again.kin", "--encoder-out", encoder)
    return kin, encoder
