"""Signals at every phase: a run that does not finish leaves nothing it created and changes nothing
it was to replace; a run that finishes leaves every file whole. The harness sends INT, TERM, HUP and
QUIT at random points of many runs (loading, steps, decoding, writing), and again just as the
temporary files appear, then checks the folder.

  KINETO_SIGNAL_RUNS=200 /usr/bin/python3 -m pytest tests/reliability/test_cli_signals.py
"""
import os
import random
import resource
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from cli_checks import DEFAULT, KINETO, gif_is_whole, leftovers, png_is_whole

RUNS = int(os.environ.get("KINETO_SIGNAL_RUNS", "12"))
SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT]
FRAMES = 16
OLD = b"precious"


def no_core_dumps():
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # SIGQUIT's default action dumps core


def prepare(work, replace):
    """A fresh folder; with replace, old frames and an old GIF that --force is to replace."""
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    if replace:
        os.makedirs(f"{work}/o")
        for i in range(FRAMES):
            with open(f"{work}/o/frame_{i:03d}.png", "wb") as f:
                f.write(OLD)
        with open(f"{work}/c.gif", "wb") as f:
            f.write(OLD)


def start(work, replace):
    args = [KINETO, "generate", "--weights", DEFAULT, "--prompt", "a red ball moving left", "--steps", "2",
            "--threads", "2", "--out", f"{work}/o", "--gif", f"{work}/c.gif"] + (["--force"] if replace else [])
    return subprocess.Popen(args, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            preexec_fn=no_core_dumps)


def all_whole(work):
    """Every frame and the GIF there, each whole."""
    frames = [f"{work}/o/frame_{i:03d}.png" for i in range(FRAMES)]
    return (all(os.path.isfile(f) and png_is_whole(f) for f in frames)
            and os.path.isfile(f"{work}/c.gif") and gif_is_whole(f"{work}/c.gif", FRAMES))


def check_outcome(work, replace, code, sig):
    if code == 0:  # finished: every file whole
        assert all(png_is_whole(f"{work}/o/frame_{i:03d}.png") for i in range(FRAMES)), "a frame is not whole"
        assert gif_is_whole(f"{work}/c.gif", FRAMES), "the GIF is not whole"
    else:
        assert code == -sig, f"exit {code}, expected death by signal {sig} or 0"
        if all_whole(work):
            # the signal came while the files were renamed into place: it is held until they all
            # are, then ends the process, so the run finished (all or nothing, never a part)
            pass
        elif replace:  # nothing it was to replace has changed
            assert open(f"{work}/c.gif", "rb").read() == OLD
            assert all(open(f"{work}/o/frame_{i:03d}.png", "rb").read() == OLD for i in range(FRAMES))
        else:  # nothing it created is left
            assert not os.path.exists(f"{work}/o"), f"the frame directory was left: {os.listdir(work)}"
            assert not os.path.exists(f"{work}/c.gif")
    assert leftovers(work) == [], "temporary files were left"
    if os.path.isdir(f"{work}/o"):
        assert leftovers(f"{work}/o") == [], "temporary files were left"
    assert sorted(os.listdir(work)) in ([], ["c.gif"], ["c.gif", "o"], ["o"]), os.listdir(work)


@pytest.fixture(scope="module")
def run_seconds():
    """How long one uninterrupted run takes here, so that random points span every phase."""
    work = tempfile.mkdtemp(prefix="kineto-sig-")
    try:
        t = time.monotonic()
        p = start(work, False)
        assert p.wait(timeout=120) == 0, p.stderr.read()
        return time.monotonic() - t
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.mark.parametrize("replace", [False, True])
def test_signal_at_random_points(run_seconds, replace):
    rng = random.Random(1 + replace)
    work = tempfile.mkdtemp(prefix="kineto-sig-")
    outcomes = {"finished": 0, "killed": 0}
    try:
        for _ in range(RUNS):
            prepare(work, replace)
            sig = rng.choice(SIGNALS)
            p = start(work, replace)
            time.sleep(rng.uniform(0, 1.1 * run_seconds))
            p.send_signal(sig)
            code = p.wait(timeout=120)
            check_outcome(work, replace, code, sig)
            outcomes["finished" if code == 0 else "killed"] += 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n{RUNS} runs with random signals: {outcomes}")
    assert outcomes["killed"] > 0, "no signal landed before the run finished: the test measured nothing"


@pytest.mark.parametrize("replace", [False, True])
def test_signal_while_files_are_written(replace):
    # The signal goes out as soon as a temporary file shows: it lands during the writes, the renames
    # or just after.
    rng = random.Random(3 + replace)
    work = tempfile.mkdtemp(prefix="kineto-sig-")
    landed = 0
    try:
        for _ in range(max(4, RUNS // 2)):
            prepare(work, replace)
            sig = rng.choice(SIGNALS)
            p = start(work, replace)
            seen = False
            while p.poll() is None and not seen:
                for d in (work, f"{work}/o"):
                    try:
                        seen = seen or bool(leftovers(d))
                    except FileNotFoundError:
                        pass
            if seen:
                p.send_signal(sig)
            code = p.wait(timeout=120)
            check_outcome(work, replace, code, sig)
            landed += seen and code != 0
    finally:
        shutil.rmtree(work, ignore_errors=True)
    assert landed > 0, "no signal landed while the files were written: the test measured nothing"
