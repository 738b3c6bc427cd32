"""`shapes`: procedural images of one colored shape on a dark background, with a caption.

The caption vocabulary is a contract the caption models and their tests rely on: colors, shapes, sizes and
positions below. Every image is a pure function of (seed, index), so the source is
unbounded and reproducible.
"""

from __future__ import annotations

import math
import random
import re

import numpy as np
import torch
from PIL import Image, ImageDraw

COLORS = {
    "red": (225, 45, 45),
    "green": (45, 185, 65),
    "blue": (55, 95, 235),
    "yellow": (240, 215, 45),
    "purple": (155, 65, 210),
    "orange": (250, 140, 30),
    "white": (240, 240, 240),
}
SHAPES = ("circle", "square", "triangle", "star")
SIZES = {"small": 0.12, "large": 0.22}  # radius as a share of the image side
POSITIONS = {
    "top left": (0.25, 0.25), "top": (0.5, 0.25), "top right": (0.75, 0.25),
    "left": (0.25, 0.5), "center": (0.5, 0.5), "right": (0.75, 0.5),
    "bottom left": (0.25, 0.75), "bottom": (0.5, 0.75), "bottom right": (0.75, 0.75),
}
ATTRIBUTES = ("color", "shape", "size", "position")
VOCABULARY = {"color": tuple(COLORS), "shape": SHAPES, "size": tuple(SIZES), "position": tuple(POSITIONS)}
SUPERSAMPLE = 4  # draw large, then shrink: smooth edges


def caption(attrs: dict[str, str]) -> str:
    """'a large red star in the top right'; any attribute may be missing."""
    words = [attrs[k] for k in ("size", "color") if attrs.get(k)]
    words.append(attrs.get("shape") or "shape")
    text = "a " + " ".join(words)
    where = attrs.get("position")
    if where:
        text += " " + {"top": "at the top", "bottom": "at the bottom", "left": "on the left",
                       "right": "on the right"}.get(where, f"in the {where}")
    return text


def sample_attributes(rng: random.Random) -> dict[str, str]:
    return {name: rng.choice(values) for name, values in VOCABULARY.items()}


def parse_caption(text: str) -> dict[str, str]:
    """The attributes a caption names (the first word of each kind wins); position words
    combine in any order: "left top" and "in the top left" are both `top left`."""
    words = re.findall(r"[a-z]+", text.lower())
    attrs = {}
    for key in ("color", "shape", "size"):
        found = [w for w in words if w in VOCABULARY[key]]
        if found:
            attrs[key] = found[0]
    vertical = next((w for w in words if w in ("top", "bottom")), None)
    horizontal = next((w for w in words if w in ("left", "right")), None)
    if vertical or horizontal:
        attrs["position"] = " ".join(w for w in (vertical, horizontal) if w)
    elif "center" in words:
        attrs["position"] = "center"
    return attrs


def complete(attrs: dict[str, str], rng: random.Random) -> dict[str, str]:
    """`attrs` with every attribute it does not name drawn at random, as the data draws them."""
    return {name: attrs.get(name) or rng.choice(values) for name, values in VOCABULARY.items()}


def polygon(shape: str, cx: float, cy: float, r: float, turn: float = 0.0) -> list[tuple[float, float]]:
    if shape == "square":
        s = r * 0.86  # a square whose area matches the circle's roughly
        return [(cx - s, cy - s), (cx + s, cy - s), (cx + s, cy + s), (cx - s, cy + s)]
    if shape == "triangle":
        return [(cx + r * math.sin(a), cy - r * math.cos(a)) for a in (turn, turn + 2 * math.pi / 3, turn + 4 * math.pi / 3)]
    if shape == "star":
        points = []
        for i in range(10):
            radius = r if i % 2 == 0 else r * 0.45
            a = turn + i * math.pi / 5
            points.append((cx + radius * math.sin(a), cy - radius * math.cos(a)))
        return points
    raise ValueError(shape)


def draw(attrs: dict[str, str], size: int, rng: random.Random, background: tuple[int, int, int] | None = None,
         offset: tuple[float, float] = (0.0, 0.0)) -> Image.Image:
    """One image. `offset` (in image sides) moves the shape from its position (for clips)."""
    big = size * SUPERSAMPLE
    bg = background or tuple(rng.randint(8, 40) for _ in range(3))
    img = Image.new("RGB", (big, big), bg)
    pen = ImageDraw.Draw(img)
    px, py = POSITIONS[attrs["position"]]
    jitter = 0.03
    cx = (px + offset[0] + rng.uniform(-jitter, jitter)) * big
    cy = (py + offset[1] + rng.uniform(-jitter, jitter)) * big
    r = SIZES[attrs["size"]] * big * rng.uniform(0.92, 1.08)
    color = tuple(min(255, max(0, c + rng.randint(-12, 12))) for c in COLORS[attrs["color"]])
    if attrs["shape"] == "circle":
        pen.ellipse([cx - r, cy - r, cx + r, cy + r], fill=color)
    else:
        pen.polygon(polygon(attrs["shape"], cx, cy, r), fill=color)
    return img.resize((size, size), Image.Resampling.BOX)


def render(count: int, size: int = 32, seed: int = 0) -> tuple[torch.Tensor, list[dict[str, str]]]:
    """`count` images (uint8, N x 3 x size x size) and their attributes."""
    images = np.empty((count, size, size, 3), dtype=np.uint8)
    attributes = []
    for i in range(count):
        rng = random.Random(seed * 1_000_003 + i)
        attrs = sample_attributes(rng)
        images[i] = np.asarray(draw(attrs, size, rng))
        attributes.append(attrs)
    return torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(), attributes
