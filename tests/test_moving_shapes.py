"""`moving-shapes` clips and the motion judge: the data moves as captioned, and the judge
tells real motion from shuffled frames, noise, still pictures and flicker."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest
import torch

from aigc.data import shapes
from aigc.data.moving_shapes import (MOTION_WORDS, MOTIONS, STARTS, caption, draw_clip, offsets, render_clips,
                                     sample_clip_attributes)
from aigc.evaluation.motion import centroids, judge_clips, motion_of, stability


def signed(clips: torch.Tensor) -> torch.Tensor:
    return clips.float() / 127.5 - 1


@pytest.fixture(scope="module")
def real():
    clips, attributes = render_clips(100, seed=7)
    return signed(clips), attributes


def square_clip(xs, ys, colors, size=32, side=8) -> torch.Tensor:
    """A hand-drawn clip (1, T, 3, H, W) in [-1, 1]: a square whose top-left corner is at (xs[t], ys[t])."""
    frames = np.full((len(xs), size, size, 3), 20, dtype=np.uint8)
    for t, (x, y, color) in enumerate(zip(xs, ys, colors)):
        frames[t, y : y + side, x : x + side] = shapes.COLORS[color]
    return signed(torch.from_numpy(frames).permute(0, 3, 1, 2)[None])


def test_clips_are_a_pure_function_of_seed_and_index():
    a, attrs_a = render_clips(6, seed=3)
    b, attrs_b = render_clips(6, seed=3)
    assert torch.equal(a, b) and attrs_a == attrs_b
    head, _ = render_clips(3, seed=3)
    assert torch.equal(head, a[:3])  # clip i does not depend on how many are asked for
    assert not torch.equal(render_clips(6, seed=4)[0], a)
    assert all(not torch.equal(a[i], a[j]) for i in range(6) for j in range(i))


def test_shapes_dtypes_and_attributes():
    clips, attributes = render_clips(5, size=24, frames=8, seed=1)
    assert clips.shape == (5, 8, 3, 24, 24) and clips.dtype == torch.uint8
    for attrs in attributes:
        assert set(attrs) == {"color", "shape", "size", "position", "motion"}
        assert attrs["motion"] in MOTIONS and attrs["position"] in STARTS[attrs["motion"]]
        assert attrs["color"] in shapes.COLORS and attrs["shape"] in shapes.SHAPES and attrs["size"] in shapes.SIZES
    one = draw_clip(attributes[0], 16, 4, rng=random.Random(0))
    assert one.shape == (4, 16, 16, 3) and one.dtype == np.uint8


def test_every_motion_is_sampled():
    rng = random.Random(0)
    assert {sample_clip_attributes(rng)["motion"] for _ in range(200)} == set(MOTIONS)


def test_only_the_place_changes_within_a_clip(real):
    clips, _ = real
    # The background (the most common pixel value of each frame) never changes within a clip.
    for clip in clips[:20]:
        backgrounds = {Counter(map(tuple, frame.reshape(3, -1).T.tolist())).most_common(1)[0][0] for frame in clip}
        assert len(backgrounds) == 1
    assert stability(clips)["area_variation"] < 0.1


def test_captions():
    attrs = {"size": "large", "color": "red", "shape": "star", "position": "top right", "motion": "moving left"}
    assert caption(attrs) == "a large red star in the top right moving left"
    assert caption({"motion": "bouncing"}) == "a shape bouncing"
    assert caption({"color": "blue", "shape": "circle"}) == shapes.caption({"color": "blue", "shape": "circle"})
    assert {w for m in MOTIONS for w in m.split()} == set(MOTION_WORDS)
    rng = random.Random(1)
    still_words = {w for _ in range(300) for w in shapes.caption(shapes.sample_attributes(rng)).split()}
    clip_words = {w for a in render_clips(50, size=8, frames=2)[1] for w in caption(a).split()}
    assert clip_words <= still_words | set(MOTION_WORDS)


def test_unknown_motion_is_refused():
    with pytest.raises(ValueError, match="moving left"):
        offsets("spinning")


def test_every_motion_moves_the_way_its_name_says(real):
    clips, attributes = real
    track = centroids(clips)
    assert not track.isnan().any()
    start, end = track[:, 0], track[:, -1]
    for i, attrs in enumerate(attributes):
        (x0, y0), (x1, y1) = start[i].tolist(), end[i].tolist()
        want = {"moving left": (x1 - x0 < -0.4), "moving right": (x1 - x0 > 0.4),
                "moving up": (y1 - y0 < -0.4), "moving down": (y1 - y0 > 0.4),
                "bouncing": (track[i, :, 1].min() < y0 - 0.3 and abs(y1 - y0) < 0.05 and abs(x1 - x0) < 0.05)}
        assert want[attrs["motion"]], (attrs, track[i])
    assert track.min() >= 0 and track.max() <= 1


def test_judge_on_real_clips(real):
    clips, attributes = real
    scores = judge_clips(clips, attributes)
    assert scores["motion_accuracy"] >= 0.95
    assert scores["color_accuracy"] >= 0.95
    assert scores["color_consistency"] >= 0.95
    assert scores["area_variation"] < 0.1
    assert scores["no_motion"] <= 0.05
    for motion in MOTIONS:  # no motion is carried by the others
        picked = [i for i, a in enumerate(attributes) if a["motion"] == motion]
        assert len(picked) >= 10
        assert sum(m == motion for m in motion_of(clips[picked])) >= 0.9 * len(picked)


@pytest.mark.parametrize("turn, motion", [(lambda c: c, "moving left"), (lambda c: c.flip(-1), "moving right"),
                                          (lambda c: c.transpose(-1, -2), "moving up"),
                                          (lambda c: c.transpose(-1, -2).flip(-2), "moving down")])
def test_hand_made_red_square(turn, motion):
    left = square_clip(xs=range(22, 2, -1)[:16], ys=[12] * 16, colors=["red"] * 16)
    clip = turn(left)
    assert motion_of(clip) == [motion]
    scores = judge_clips(clip, [{"motion": motion, "color": "red"}])
    assert scores["motion_accuracy"] == 1 and scores["color_accuracy"] == 1 and scores["color_consistency"] == 1


def test_hand_made_bounce_and_still():
    heights = [round(20 - 14 * abs(np.sin(np.pi * 2 * t / 15))) for t in range(16)]
    assert motion_of(square_clip(xs=[12] * 16, ys=heights, colors=["green"] * 16)) == ["bouncing"]
    assert motion_of(square_clip(xs=[12] * 16, ys=[12] * 16, colors=["green"] * 16)) == [None]


def test_shuffled_frames_are_not_judged_as_their_motion(real):
    clips, attributes = real
    gen = torch.Generator().manual_seed(0)
    order = torch.stack([torch.randperm(clips.shape[1], generator=gen) for _ in range(len(clips))])
    shuffled = clips[torch.arange(len(clips))[:, None], order]
    scores = judge_clips(shuffled, attributes)
    # Naming a motion by the net displacement alone would score about chance (0.2) here.
    assert scores["motion_accuracy"] <= 0.1 and scores["no_motion"] >= 0.8


def test_noise_and_blank_clips_show_no_motion(real):
    clips, attributes = real
    noise = torch.rand(clips.shape, generator=torch.Generator().manual_seed(0)) * 2 - 1
    assert judge_clips(noise, attributes)["motion_accuracy"] <= 0.1
    blank = torch.full((2, 16, 3, 32, 32), -0.8)
    assert motion_of(blank) == [None, None]
    assert centroids(blank).isnan().all()
    assert stability(blank)["color_consistency"] == 0


def test_flickering_color_is_caught():
    steady = square_clip(xs=[12] * 16, ys=[12] * 16, colors=["red"] * 16)
    flicker = square_clip(xs=[12] * 16, ys=[12] * 16, colors=["red", "blue"] * 8)
    assert stability(steady)["color_consistency"] == 1
    assert stability(flicker)["color_consistency"] <= 0.6


def test_a_flickering_first_frame_is_the_worst_frame():
    steady = square_clip(xs=[12] * 16, ys=[12] * 16, colors=["red"] * 16)
    first_off = square_clip(xs=[12] * 16, ys=[12] * 16, colors=["blue"] + ["red"] * 15)
    clips = torch.cat([steady, first_off])
    scores = stability(clips)
    assert scores["color_consistency"] == (16 + 15) / 32
    assert scores["worst_frame_color"] == 0.5  # frame 1 holds in one clip of two
    assert scores["steady_clips"] == 0.5
    assert stability(steady)["worst_frame_color"] == 1


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="N, T, 3, H, W"):
        motion_of(torch.zeros(2, 3, 32, 32))


def test_histogram_drift_counts_flicker_not_motion(real):
    """The `steady` loss of text2video training: real clips score near zero, a clip whose square
    only moves scores zero, and one frame of another color or size or a drifting background do not."""
    from aigc.training.video import histogram_drift

    clips, _ = real
    assert histogram_drift(clips).mean() < 5e-4
    moving = square_clip(xs=range(22, 2, -1)[:16], ys=[12] * 16, colors=["red"] * 16)
    assert histogram_drift(moving).item() < 1e-6
    recolored = square_clip(xs=range(22, 2, -1)[:16], ys=[12] * 16, colors=["red"] * 15 + ["green"])
    bigger = moving.clone()
    bigger[0, 15, :, 12:24, 7:19] = bigger[0, 15, :, 12:13, 7:8]  # the last frame's square grows from 8 to 12 pixels
    drifting = moving + torch.linspace(0, 0.2, 16)[None, :, None, None, None]  # the whole frame brightens
    for flicker in (recolored, bigger, drifting):
        assert histogram_drift(flicker).item() > 10 * histogram_drift(clips).mean()
