"""The shipped caption-to-clip model: its clips move and keep their color well above chance, by
the motion judge's measure, and its card tells the truth (fresh clips score like the card)."""

import numpy as np
import pytest
from conftest import sampling_allowance, shipped_card

from aigc.data.moving_shapes import MOTIONS
from aigc.data.shapes import COLORS
from aigc.evaluation.motion import judge_clips
from aigc.evaluation.video import eval_captions, sample_clips
from aigc.pipelines.video import make_clip
from aigc.catalog import builtin_models
from aigc.registry import load

NAME = "text2video-shapes"


def test_the_video_model_is_listed_with_a_card():
    info = next(m for m in builtin_models() if m.name == NAME)
    assert info.task == "video" and info.card["kind"] == "text2video" and info.card["metrics"]["samples"] == 500


@pytest.mark.slow  # an evaluation: 150 clips, judged
def test_clips_move_as_asked_well_above_chance_and_as_the_card_says():
    model = load(NAME, "video")
    attrs = eval_captions(150, seed=77)
    scores = judge_clips(sample_clips(model, attrs, seed=9000), attrs)
    assert scores["motion_accuracy"] > 2 / len(MOTIONS) and scores["color_accuracy"] > 3 / len(COLORS)  # chance: 1 in 5, 1 in 7
    card = shipped_card("video", NAME)
    # the color holds over the frames, and at the worst frame (the loop's seam), as the card says
    judged = {f"{attr}_accuracy": sum(bool(a.get(attr)) for a in attrs) for attr in ("motion", "color")}  # naming it
    for key in ("motion_accuracy", "color_accuracy", "color_consistency", "worst_frame_color"):
        assert abs(scores[key] - card[key]) <= sampling_allowance(card[key], judged.get(key, len(attrs))), (key, scores[key])


def test_up_and_down_are_told_apart():
    from aigc.evaluation.motion import centroids
    import torch

    ups, downs = [], []
    for seed in range(6):
        for text, out in (("a large red circle moving up", ups), ("a large red circle moving down", downs)):
            frames = make_clip(text, model=NAME, seed=seed).frames
            clip = torch.from_numpy(np.array(frames)).permute(0, 3, 1, 2)[None].float() / 127.5 - 1
            track = centroids(clip)[0, :, 1]
            out.append((track[-3:].nanmean() - track[:3].nanmean()).item())  # y grows downward
    assert sum(d < 0 for d in ups) >= 5 and sum(d > 0 for d in downs) >= 5
