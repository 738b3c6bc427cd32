"""The shipped caption-to-clip model: its clips move and keep their color well above chance, by
the motion judge's measure, and its card tells the truth (fresh clips score like the card)."""

import numpy as np

from aigc.evaluation.motion import judge_clips
from aigc.evaluation.video import eval_captions, sample_clips
from aigc.pipelines.video import make_clip
from aigc.catalog import builtin_models
from aigc.registry import load

NAME = "text2video-shapes"


def test_the_video_model_is_listed_with_a_card():
    info = next(m for m in builtin_models() if m.name == NAME)
    assert info.task == "video" and info.card["kind"] == "text2video" and info.card["metrics"]["samples"] == 500


def test_clips_move_as_asked_well_above_chance_and_as_the_card_says():
    model = load(NAME, "video")
    attrs = eval_captions(150, seed=77)
    scores = judge_clips(sample_clips(model, attrs, seed=9000), attrs)
    card = model.info.card["metrics"]
    # chance: 1 in 5 motions, 1 in 7 colors
    assert scores["motion_accuracy"] >= 0.4 and scores["color_accuracy"] >= 0.45
    assert abs(scores["motion_accuracy"] - card["motion_accuracy"]) <= 0.12
    assert abs(scores["color_accuracy"] - card["color_accuracy"]) <= 0.12
    assert scores["color_consistency"] >= 0.7  # the color holds over most frames
    assert scores["worst_frame_color"] >= 0.8  # the first and last frames too (the loop's seam)


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
