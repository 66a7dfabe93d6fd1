"""Replacing only what is ours: --force replaces regular files and nothing else; every output path
is checked before the generation starts; temporary names fit wherever the final name fits."""
import os
import shutil
import stat
import tempfile

import pytest

from cli_checks import TINY, gif_is_whole, kineto, leftovers, one_line

GEN = ["generate", "--weights", TINY, "--prompt", "red", "--steps", "1"]


@pytest.fixture
def work():
    d = tempfile.mkdtemp(prefix="kineto-special-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def refused_before_work(r, pattern):
    """Exit 1, one line naming the problem, and no step was run."""
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert pattern in one_line(r.stderr), r.stderr
    assert b"step " not in r.stdout, "the generation ran before the path was refused"


@pytest.mark.parametrize("force", [False, True])
def test_device_node_is_never_replaced(work, force):
    node = os.path.join(work, "fakenull")
    os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    r = kineto(*GEN, "--gif", node, *(["--force"] if force else []))
    refused_before_work(r, "replaces only regular files" if force else "exists; pass --force")
    assert stat.S_ISCHR(os.lstat(node).st_mode)


def test_fifo_is_never_replaced(work):
    fifo = os.path.join(work, "pipe.gif")
    os.mkfifo(fifo)
    refused_before_work(kineto(*GEN, "--gif", fifo, "--force"), "replaces only regular files")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


@pytest.mark.parametrize("target", ["file", "dangling"])
def test_symlink_is_refused_and_its_target_kept(work, target):
    # A symbolic link is not a regular file: --force refuses it, so neither the link nor what it
    # points to changes.
    kept = os.path.join(work, "kept.gif")
    if target == "file":
        with open(kept, "w") as f:
            f.write("precious")
    link = os.path.join(work, "link.gif")
    os.symlink(kept, link)
    refused_before_work(kineto(*GEN, "--gif", link, "--force"), "is a symbolic link")
    assert os.readlink(link) == kept
    assert (open(kept).read() == "precious") if target == "file" else not os.path.exists(kept)


def test_directory_is_not_a_gif(work):
    refused_before_work(kineto(*GEN, "--gif", work, "--force"), "is a directory")


def test_out_is_a_file(work):
    f = os.path.join(work, "plain")
    open(f, "w").close()
    refused_before_work(kineto(*GEN, "--out", f), "is not a directory")


def test_out_and_gif_the_same_path_leave_nothing(work):
    g = os.path.join(work, "g.gif")
    refused_before_work(kineto(*GEN, "--out", g, "--gif", g), "are the same path")
    assert os.listdir(work) == [], "the refused run created the directory"


def test_gif_that_is_a_frame(work):
    refused_before_work(kineto(*GEN, "--out", f"{work}/o", "--gif", f"{work}/o/frame_002.png"), "is also frame 2")
    assert os.listdir(work) == []


def test_gif_in_a_missing_directory(work):
    refused_before_work(kineto(*GEN, "--gif", f"{work}/missing/x.gif"), "does not exist")


def test_gif_in_the_frame_directory_this_run_creates(work):
    r = kineto(*GEN, "--out", f"{work}/o", "--gif", f"{work}/o/clip.gif")
    assert r.returncode == 0, r.stderr
    assert gif_is_whole(f"{work}/o/clip.gif", 4) and len(os.listdir(f"{work}/o")) == 5


def test_longest_name_works_and_a_longer_one_is_refused_first(work):
    longest = os.path.join(work, "a" * 251 + ".gif")  # 255 bytes, the name limit
    r = kineto(*GEN, "--gif", longest)
    assert r.returncode == 0, r.stderr
    assert gif_is_whole(longest, 4) and leftovers(work) == []
    refused_before_work(kineto(*GEN, "--gif", os.path.join(work, "a" * 252 + ".gif")), "longer than 255 bytes")


def test_force_replaces_a_regular_file_whole(work):
    g = os.path.join(work, "c.gif")
    with open(g, "w") as f:
        f.write("precious")
    refused_before_work(kineto(*GEN, "--gif", g), "exists; pass --force")
    assert open(g).read() == "precious"
    assert kineto(*GEN, "--gif", g, "--force").returncode == 0
    assert gif_is_whole(g, 4) and leftovers(work) == []
