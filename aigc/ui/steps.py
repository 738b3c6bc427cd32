"""The progress bar of a generation that goes step by step (diffusion)."""

from typing import Callable

import gradio as gr


def moving(progress: gr.Progress) -> Callable[[int, int], None]:
    """A step counter that moves `progress` (the event's bar): what `engine.call` calls at each step."""
    return lambda done, total: progress((done, total), unit="steps")
