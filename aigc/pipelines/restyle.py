"""Restyle: a picture painted in the texture of a style picture (Gatys et al.'s optimisation, through the
features of a random-weight network: `aigc.models.style`). The style is one of the shipped pictures
(`aigc.data.photos.STYLES`) or an uploaded one; every step is told to the page's progress bar."""

from __future__ import annotations

from PIL import Image

from ..data.photos import STYLES, load_photo
from ..errors import AigcError
from ..models.style import transfer
from . import validate
from .conditional import open_image

STEPS, MAX_STEPS = 100, 500
MAX_SIDE = 512  # optimising every pixel costs far more than one pass of a network: restyle works at this size


def style_picture(style) -> Image.Image:
    """A shipped style's name, or an uploaded picture (a path, a PIL picture or an array)."""
    if isinstance(style, str) and style in STYLES:
        return load_photo(style)
    if isinstance(style, str) and not style.strip():
        raise AigcError(f"Choose a style picture ({', '.join(STYLES)}) or upload one.")
    if style is None:
        return load_photo(STYLES[0])
    return open_image(style, "image")


def restyle(picture: Image.Image, style=None, steps: int | None = None, strength: float | None = None,
            seed: int = 0) -> Image.Image:
    """`picture` restyled by `steps` steps of optimisation (`edit_image` first shrinks it to MAX_SIDE);
    `strength` multiplies the weight of the style against the picture's content (1: the recipe's balance)."""
    steps = validate.number("steps", steps, 1, MAX_STEPS, integer=True, default=STEPS)
    strength = validate.number("style strength", strength, 0.1, 10.0, default=1.0)
    result = transfer(picture, style_picture(style), steps=steps, style_weight=strength, seed=seed)
    return Image.fromarray((result.permute(1, 2, 0).numpy() * 255 + 0.5).astype("uint8"))
