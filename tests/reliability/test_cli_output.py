"""Output that cannot lie: a write that fails (a full disk, a file-size limit, a full or closed
stdout) fails the command with a message naming the file, and no broken file takes a final name."""
import os
import shutil
import subprocess
import tempfile

import pytest

from cli_checks import DEFAULT, KINETO, TINY, gif_is_whole, kineto, leftovers, one_line, png_is_whole


@pytest.fixture
def work():
    d = tempfile.mkdtemp(prefix="kineto-out-")
    yield d
    subprocess.run(["umount", "-q", os.path.join(d, "small")], capture_output=True)
    shutil.rmtree(d, ignore_errors=True)


def small_disk(work, kib):
    """A tmpfs of kib KiB, or a skip where this machine cannot mount one."""
    path = os.path.join(work, "small")
    os.mkdir(path)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={kib}k", "tmpfs", path], capture_output=True)
    if r.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: " + r.stderr.decode().strip())
    return path


def test_full_disk_fails_and_creates_nothing(work):
    disk = small_disk(work, 12)
    r = kineto("generate", "--weights", DEFAULT, "--prompt", "a red ball", "--steps", "1", "--out", f"{disk}/o")
    assert r.returncode == 1, r.stderr
    assert "frame_0" in one_line(r.stderr) and "No space left on device" in r.stderr.decode()
    assert os.listdir(disk) == [], "a failed run left its directory or files"


def test_full_disk_keeps_the_frames_force_would_replace(work):
    disk = small_disk(work, 48)
    out = f"{disk}/o"
    r = kineto("generate", "--weights", TINY, "--prompt", "red", "--steps", "1", "--out", out)
    assert r.returncode == 0, r.stderr
    before = {n: open(os.path.join(out, n), "rb").read() for n in os.listdir(out)}
    with open(f"{disk}/filler", "wb") as f:  # fill the disk but for a few KiB
        try:
            f.write(b"\0" * (48 << 10))
        except OSError:
            pass
    r = kineto("generate", "--weights", TINY, "--prompt", "blue", "--steps", "1", "--out", out, "--force")
    assert r.returncode == 1 and "No space left on device" in r.stderr.decode(), r.stderr
    after = {n: open(os.path.join(out, n), "rb").read() for n in os.listdir(out)}
    assert after == before, "a failed --force run changed the frames it was to replace"


@pytest.mark.parametrize("trap_xfsz", [True, False])
def test_file_size_limit(work, trap_xfsz):
    # ulimit -f 4: 4 blocks of 1 KiB; a 64x64 frame fits, the GIF does not. Whether or not the shell
    # passes SIGXFSZ on ignored, the write fails with a message instead of a kill mid-file.
    trap = "trap '' XFSZ; " if trap_xfsz else ""
    cmd = f'{trap}ulimit -f 4; exec "$0" generate --weights "$1" --prompt "a red ball" --steps 1 --out "$2" --gif "$3"'
    r = subprocess.run(["bash", "-c", cmd, KINETO, DEFAULT, f"{work}/o", f"{work}/c.gif"], capture_output=True)
    assert r.returncode == 1, (r.returncode, r.stderr)
    line = one_line(r.stderr)
    assert "cannot write: File too large" in line and ("c.gif" in line or "frame_0" in line), line
    assert sorted(os.listdir(work)) == [], "a failed run left files"


def test_info_to_a_full_stdout_fails():
    with open("/dev/full", "wb") as full:
        r = subprocess.run([KINETO, "info", "--weights", TINY], stdout=full, stderr=subprocess.PIPE)
    assert r.returncode == 1
    assert "standard output: No space left on device" in one_line(r.stderr)


def test_generate_to_a_full_stdout_writes_the_files_and_fails(work):
    with open("/dev/full", "wb") as full:
        r = subprocess.run([KINETO, "generate", "--weights", TINY, "--prompt", "red", "--steps", "1", "--gif",
                            f"{work}/c.gif"], stdout=full, stderr=subprocess.PIPE)
    assert r.returncode == 1 and "standard output" in one_line(r.stderr)
    assert gif_is_whole(f"{work}/c.gif", 4)


def test_closed_stdout_does_not_stop_the_files(work):
    # kineto ... | head -1: the reader leaves after one line
    r = subprocess.run(
        ["bash", "-c", '"$0" generate --weights "$1" --prompt "a red ball" --steps 3 --out "$2" --gif "$3" | head -1; '
                       'exit "${PIPESTATUS[0]}"', KINETO, DEFAULT, f"{work}/o", f"{work}/c.gif"], capture_output=True)
    assert r.returncode == 0, (r.returncode, r.stderr)
    assert r.stdout.decode().startswith("step 1/3")
    assert gif_is_whole(f"{work}/c.gif", 16)
    assert all(png_is_whole(f"{work}/o/frame_{i:03d}.png") for i in range(16))
    assert leftovers(f"{work}/o") == [] and leftovers(work) == []
