"""The progress bar of a generation that goes step by step (diffusion)."""

from typing import Callable

import gradio as gr

from ..progress import reporting


def moving(progress: gr.Progress) -> Callable[[int, int], None]:
    """A step counter that moves `progress` (the event's bar): what `worker.run` and `reporting` call."""
    return lambda done, total: progress((done, total), unit="steps")


def shown_in(progress: gr.Progress):
    """While it is open, each denoising step moves `progress`."""
    return reporting(moving(progress))
