"""train/long_eval.py's measures on made-up clips whose answers are known."""
import numpy as np

import long_eval
import world


def moving_square(frames, jump_at=None, jump=12):
    """A 64x64 clip, black, with a world-red 6x6 square stepping 1 pixel right a frame; from frame
    jump_at on it is `jump` pixels further."""
    clip = np.zeros((frames, 64, 64, 3), np.uint8)
    red = (np.array(world.COLORS["red"]) * 255 + 0.5).astype(np.uint8)
    for f in range(frames):
        x = 4 + f // 2 + (jump if jump_at is not None and f >= jump_at else 0)
        clip[f, 20:26, x:x + 6] = red
    return clip


def test_stretches_are_the_clip_in_order():
    clips = np.arange(64)[None, :, None].repeat(3, 0)
    parts = long_eval.stretches(clips)
    assert len(parts) == 4
    assert [p[0, 0, 0] for p in parts] == [0, 16, 32, 48]
    assert np.array_equal(np.concatenate(parts, 1), clips)


def test_boundaries_of_a_64_frame_clip_and_a_storyboard():
    assert long_eval.boundaries(64, 8, [64]) == [16, 24, 32, 40, 48, 56]
    assert 32 in long_eval.boundaries(64, 8, [32, 32])


def test_loop_ratio_one_for_a_cycle_and_large_for_a_ramp():
    cycle = np.array([[[[v]]] for v in (0, 10, 20, 30, 20, 10)], np.uint8)  # last to first: one step
    assert abs(long_eval.loop_ratio(cycle) - 1.0) < 1e-9
    ramp = np.arange(0, 160, 10, dtype=np.uint8)[:, None, None, None]
    assert abs(long_eval.loop_ratio(ramp) - 15.0) < 1e-9


def test_seam_figures_see_a_jump_at_a_window_boundary():
    bounds = long_eval.boundaries(64, 8, [64])
    _, smooth = long_eval.seam_figures(moving_square(64), bounds, "red")
    change, jumped = long_eval.seam_figures(moving_square(64, jump_at=24), bounds, "red")
    assert smooth <= 2
    assert jumped > 10
    assert change > 1.25
    _, elsewhere = long_eval.seam_figures(moving_square(64, jump_at=21), bounds, "red")
    assert elsewhere <= 2  # a jump inside a window is not a seam's


def test_centroids_find_the_object_and_nothing_on_black():
    clip = moving_square(4)
    c = long_eval.centroids(clip, "red")
    assert np.allclose(c[0], (6.5, 22.5))
    assert np.isnan(long_eval.centroids(np.zeros_like(clip), "red")).all()


def test_psnr():
    a = np.zeros((8, 8, 3), np.uint8)
    assert abs(long_eval.psnr(a, a + 1) - 10 * np.log10(255.0 ** 2)) < 1e-9
    assert long_eval.psnr(a, a) > 99


def test_drawn_disc_is_red_on_black(tmp_path):
    img = long_eval.drawn_disc(str(tmp_path / "disc.png"))
    assert img.shape == (64, 64, 3)
    assert tuple(img[32, 32]) == (230, 26, 26) and tuple(img[0, 0]) == (0, 0, 0)
    assert (tmp_path / "disc.png").exists()


def test_held_out_set_is_held_out_and_a_prefix_of_a_larger_one():
    specs, prompts, labs, seeds = long_eval.held_out_set(6, 31)
    assert all(world.is_held_out(*s["objects"][0], s["motion"]) for s in specs)
    bigger = long_eval.held_out_set(12, 31)
    assert bigger[1][:6] == prompts and bigger[3][:6] == seeds
    one_motion = long_eval.held_out_set(4, 40, "bouncing")[0]
    assert {world.MOTIONS[s["motion"]] for s in one_motion} == {"bouncing"}
    assert labs["color"].tolist() == [s["objects"][0][0] for s in specs]
