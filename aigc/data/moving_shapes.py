"""`moving-shapes`: procedural 16-frame clips of one `shapes` object in motion, with a caption.

A clip reuses the `shapes` vocabulary (color, shape, size, position) and adds a motion.
`position` names where the clip STARTS; the start is chosen so that the whole path stays
inside the frame: a shape moving left starts in the right column and ends in the left one,
a bouncing shape starts on the floor (bottom row) and rises and falls twice.
Every clip is a pure function of (seed, index), like `shapes.render`.
"""

from __future__ import annotations

import math
import random

import numpy as np
import torch

from . import shapes

MOTIONS = ("moving left", "moving right", "moving up", "moving down", "bouncing")
MOTION_WORDS = ("moving", "left", "right", "up", "down", "bouncing")  # added to the shapes caption words
ATTRIBUTES = (*shapes.ATTRIBUTES, "motion")
TRAVEL = 0.5  # image sides covered by a straight motion: from one grid column/row to the opposite one
BOUNCE_HEIGHT = 0.4  # image sides; from the bottom row the top of the arc stays clear of the top edge
BOUNCES = 2  # two arcs in a clip, so a judge can see the direction reverse more than once


def _starts(axis: int, coordinate: float) -> tuple[str, ...]:
    return tuple(name for name, point in shapes.POSITIONS.items() if point[axis] == coordinate)


# Only the far column/row: a start in the middle would carry a large shape off the frame.
STARTS = {
    "moving left": _starts(0, 0.75),
    "moving right": _starts(0, 0.25),
    "moving up": _starts(1, 0.75),
    "moving down": _starts(1, 0.25),
    "bouncing": _starts(1, 0.75),  # a ball bounces off the floor
}


def sample_clip_attributes(rng: random.Random) -> dict[str, str]:
    """A full attribute set; the motion is drawn first because it limits where the clip starts."""
    motion = rng.choice(MOTIONS)
    return {
        "color": rng.choice(tuple(shapes.COLORS)),
        "shape": rng.choice(shapes.SHAPES),
        "size": rng.choice(tuple(shapes.SIZES)),
        "position": rng.choice(STARTS[motion]),
        "motion": motion,
    }


def caption(attrs: dict[str, str]) -> str:
    """'a large red star in the top right moving left'; any attribute may be missing."""
    text = shapes.caption(attrs)
    return f"{text} {attrs['motion']}" if attrs.get("motion") else text


def offsets(motion: str, frames: int = 16) -> list[tuple[float, float]]:
    """(dx, dy) per frame, in image sides, from the start position; y grows downward."""
    out = []
    for t in range(frames):
        s = t / max(1, frames - 1)  # 0 at the first frame, 1 at the last
        if motion == "moving left":
            out.append((-TRAVEL * s, 0.0))
        elif motion == "moving right":
            out.append((TRAVEL * s, 0.0))
        elif motion == "moving up":
            out.append((0.0, -TRAVEL * s))
        elif motion == "moving down":
            out.append((0.0, TRAVEL * s))
        elif motion == "bouncing":
            # |sin| touches the floor at the start and end and between arcs, like a ball
            out.append((0.0, -BOUNCE_HEIGHT * abs(math.sin(math.pi * BOUNCES * s))))
        else:
            raise ValueError(f"unknown motion {motion!r}; known: {', '.join(MOTIONS)}")
    return out


def draw_clip(attrs: dict[str, str], size: int = 32, frames: int = 16, *, rng: random.Random) -> np.ndarray:
    """One clip, uint8 (frames, size, size, 3). Only the shape's place changes between frames."""
    # shapes.draw takes its jitter, radius and color noise from the rng it is given; the same
    # seed for every frame and a fixed background keep the object from flickering.
    frame_seed = rng.getrandbits(64)
    background = tuple(rng.randint(8, 40) for _ in range(3))
    clip = np.empty((frames, size, size, 3), dtype=np.uint8)
    for t, offset in enumerate(offsets(attrs["motion"], frames)):
        clip[t] = np.asarray(shapes.draw(attrs, size, random.Random(frame_seed), background=background, offset=offset))
    return clip


def render_clips(count: int, size: int = 32, frames: int = 16,
                 seed: int = 0) -> tuple[torch.Tensor, list[dict[str, str]]]:
    """`count` clips (uint8, N x frames x 3 x size x size) and their attributes."""
    clips = np.empty((count, frames, size, size, 3), dtype=np.uint8)
    attributes = []
    for i in range(count):
        rng = random.Random(seed * 1_000_003 + i)
        attrs = sample_clip_attributes(rng)
        clips[i] = draw_clip(attrs, size, frames, rng=rng)
        attributes.append(attrs)
    return torch.from_numpy(clips).permute(0, 1, 4, 2, 3).contiguous(), attributes
