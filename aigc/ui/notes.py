"""The line under an answer that says how it was made (seed, count, time)."""

from __future__ import annotations

from typing import Callable

import gradio as gr

from .. import limits
from .i18n import language, say


def blank_on(triggers: list[Callable], *notes: gr.Markdown) -> None:
    """A note describes one answer: it is blanked in the browser the moment a new request is made,
    so that an error never sits above the note of the answer before it."""
    blank = "() => [" + ", ".join(['""'] * len(notes)) + "]"
    for trigger in triggers:
        trigger(None, None, list(notes), js=blank, queue=False, api_visibility="private", show_progress="hidden")


def images_note(seed: int, n: int, seconds: float, request=None) -> str:
    """How a page of pictures was made; at the size limit it says so, since the page's number box
    takes larger numbers and the slider then draws its maximum."""
    key = "note.images_most" if n >= limits.current().max_images else "note.images"
    return say(language(request), key, seed=seed, n=n, s=seconds)
