"""The progress bar of a generation that goes step by step (diffusion)."""

import gradio as gr

from ..progress import reporting


def shown_in(progress: gr.Progress):
    """While it is open, each denoising step moves `progress` (the event's bar)."""
    return reporting(lambda done, total: progress((done, total), unit="steps"))
