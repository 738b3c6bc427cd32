"""Pictures as the page's upload and editor components send them (with preprocess=False, so that a file
that is not a picture reaches `open_image` and its one sentence instead of Gradio's own PIL call)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from ..pipelines.conditional import open_image


def file_of(value):
    """The Hub events run with preprocess=False, so that a file that is not a picture reaches
    `open_image` (and its one sentence) instead of Gradio's own PIL call; an upload then arrives
    as Gradio's file payload, a dict holding the cached file's path."""
    return value.get("path") if isinstance(value, dict) else value


def picture_of(value, what: str, mode: str | None = None) -> Image.Image | None:
    """An upload as a checked picture (see `file_of`)."""
    if value is None or isinstance(value, Image.Image):
        return value
    return open_image(file_of(value), what, mode)


def mask_from_editor(edited) -> tuple[Image.Image | None, Image.Image | None]:
    """(the uploaded picture, the painted strokes as a white-on-black mask) from gr.ImageEditor."""
    if not edited or edited.get("background") is None:
        return None, None
    background = picture_of(edited["background"], "image")
    painted = np.zeros((background.height, background.width), dtype=bool)
    for layer in edited.get("layers") or []:
        if layer is None:
            continue
        alpha = np.asarray(picture_of(layer, "mask", "RGBA"))[..., 3]
        if alpha.shape == painted.shape:
            painted |= alpha > 0
    return background, Image.fromarray((painted * 255).astype(np.uint8))
