"""Does a caption-to-clip model move the named object the named way, and keep it stable?

Clips are judged by `motion.judge_clips` (motion from the centroid track, the dominant
color, color consistency and area variation over frames), over captions that name every
attribute and over partial ones that always keep the motion. The same judge applied to real
`moving-shapes` clips is the baseline.
"""

from __future__ import annotations

import random

import torch

from ..data import moving_shapes
from .motion import judge_clips

SAMPLES = 500


def eval_captions(count: int, seed: int = 4321) -> list[dict[str, str]]:
    """Even rows name every attribute; odd rows about half of them, always with the motion
    (the motion is what this kind of model is judged on first)."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        attrs = moving_shapes.sample_clip_attributes(rng)
        if i % 2:
            attrs = {**{k: v for k, v in attrs.items() if rng.random() < 0.5}, "motion": attrs["motion"]}
        out.append(attrs)
    return out


def split_scores(clips: torch.Tensor, attrs: list[dict[str, str]]) -> dict[str, float]:
    """The judge over all clips, and its accuracies over full and partial captions apart."""
    scores = judge_clips(clips, attrs)
    for part, rows in (("full", slice(0, None, 2)), ("partial", slice(1, None, 2))):
        scores.update({f"{part}_{k}": v for k, v in judge_clips(clips[rows], attrs[rows]).items() if k.endswith("accuracy")})
    return scores


def sample_clips(model, attrs: list[dict[str, str]], seed: int) -> torch.Tensor:
    """Clips (N, T, 3, 32, 32) in [-1, 1] from a built-in video model, clip i from seed + i."""
    from ..models.sampling import conditioned
    from ..pipelines.captions import caption_ids

    out = []
    for start in range(0, len(attrs), 100):
        ids = torch.cat([caption_ids(model, moving_shapes.caption(a)) for a in attrs[start:start + 100]])
        out.append(conditioned(model.net, model.config["z_dim"], ids, seed + start))
    return torch.cat(out)


def clip_seconds(name: str, runs: int = 5) -> float:
    """Median time for one 16-frame clip, generated and written as an MP4."""
    from ..registry import load

    return clip_seconds_of(load(name, "video"), runs)


def clip_seconds_of(model, runs: int = 5) -> float:
    """`clip_seconds` of a loaded built-in video model (a training run's, measured as it saves its best)."""
    import tempfile

    from ..timing import median_seconds
    from ..pipelines.video import Clip, builtin_clip

    caption = "a large red star in the top right moving left"
    with tempfile.TemporaryDirectory() as folder:  # the clips are timed, not kept
        return median_seconds(lambda: Clip(builtin_clip(model, caption, model.net.frames, 0), 8, 0,
                                           model.info.name).save("mp4", folder), runs)


def evaluate_video_model(name: str, samples: int = SAMPLES, seed: int = 0) -> dict[str, float]:
    from ..errors import AigcError
    from ..registry import load

    model = load(name, "video")
    if model.kind != "text2video":
        raise AigcError(f"'{model.info.name}' is a Hub pipeline; only this project's caption-to-clip models have a judge.")
    attrs = eval_captions(samples)
    metrics = {"samples": float(samples), **split_scores(sample_clips(model, attrs, seed), attrs)}
    real, real_attrs = moving_shapes.render_clips(samples, seed=102)
    baseline = judge_clips(real.float() / 127.5 - 1, real_attrs)
    metrics.update({f"real_{k}": v for k, v in baseline.items() if k != "no_motion"})
    metrics["clip_seconds"] = clip_seconds(name)
    return metrics


# One row each on the card: full captions of every motion, then partial ones.
CARD_CAPTIONS = ["a large red circle in the top right moving left", "a small blue square on the left moving right",
                 "a large yellow star at the bottom moving up", "a small green triangle at the top moving down",
                 "a large white circle at the bottom bouncing", "purple moving left", "orange bouncing", "a star moving down"]


def sample_sheet(name: str):
    """The picture on a model card: one row of 16 frames per caption."""
    from ..models.sampling import conditioned
    from ..pipelines.captions import caption_ids
    from ..pipelines.image import image_grid, to_pil
    from ..registry import load

    model = load(name, "video")
    frames = torch.cat([conditioned(model.net, model.config["z_dim"], caption_ids(model, text), i)[0]
                        for i, text in enumerate(CARD_CAPTIONS)])
    return image_grid(to_pil(frames), nrow=model.config["frames"], scale=2)
