"""AIGC Studio: generate text, images and videos, and train generative models.

    import aigc
    aigc.list_models("text")
    print(aigc.generate_text("ROMEO.\\n", seed=0))
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import AigcError, Notice
from .pipelines.conditional import generate_conditional
from .pipelines.image import generate_images
from .pipelines.text import TextStream, generate_text
from .pipelines.video import generate_video
from .registry import ModelInfo, list_models

__all__ = ["AigcError", "ModelInfo", "Notice", "TextStream", "generate_conditional", "generate_images", "generate_text",
           "generate_video", "list_models", "train"]
__version__ = "0.1.0"


def train(model_kind: str, dataset: str, *, epochs: float | None = None, steps: int | None = None,
          batch_size: int | None = None, lr: float | None = None, seed: int | None = None,
          out: str | Path | None = None, device: str | None = None, listeners=(), **options: Any):
    """Start training in the background and return its `Run` (iterate it for events; `.stop()`).

    `epochs` counts passes over the training data (for text: over its characters);
    `steps` overrides it. A run folder that holds a checkpoint is resumed.
    """
    from .training import Run, cli_command, make_config, run_folder

    config = make_config(model_kind, dataset, steps=steps, batch_size=batch_size, lr=lr, seed=seed,
                         device=device, **options)
    if epochs is not None and steps is None:
        config.steps = max(1, round(epochs * _epoch_steps(config)))
    folder = Path(out) if out is not None else run_folder(f"{model_kind}-{dataset}")
    if not config.command:
        config.command = cli_command(config, folder)
    return Run(config, folder, list(listeners))


def _epoch_steps(config) -> float:
    if config.kind == "gpt":
        from .data.text import load_corpus, split_corpus

        chars = len(split_corpus(load_corpus(config.dataset))[0])
        return chars / (config.batch_size * config.model["block_size"])
    from .training import KINDS
    from .training.images import ImageTask, epoch_steps, training_images

    if issubclass(KINDS[config.kind][0], ImageTask):

        return epoch_steps(training_images(config.dataset), config.batch_size)
    raise AigcError(f"'{config.kind}' counts training in steps; pass steps=.")
