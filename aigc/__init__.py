"""AIGC Studio: generate text, images, videos and sound, and train generative models.

    import aigc
    aigc.list_models("text")
    print(aigc.generate_text("ROMEO.\\n", seed=0))
    blanks, notes = aigc.fill_mask("Good night, sweet [MASK].")
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import AigcError, Notice

__all__ = ["AigcError", "ModelInfo", "Notice", "TextStream", "edit_image", "fill_mask", "generate_audio", "generate_conditional",
           "generate_images", "generate_text", "generate_video", "list_models", "rewrite", "train"]
__version__ = "0.1.0"

# The rest of the API imports its module on first use: torch, transformers and diffusers take
# seconds to import, and `import aigc` or `python -m aigc list` need none of them.
_LAZY = {"generate_audio": "pipelines.audio", "generate_conditional": "pipelines.conditional", "generate_images": "pipelines.image",
         "TextStream": "pipelines.text", "generate_text": "pipelines.text", "generate_video": "pipelines.video",
         "ModelInfo": "catalog", "list_models": "catalog", "fill_mask": "pipelines.fill", "rewrite": "pipelines.fill",
         "edit_image": "pipelines.edit"}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'aigc' has no attribute '{name}'")
    import importlib

    value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


def train(model_kind: str, dataset: str, *, epochs: float | None = None, steps: int | None = None,
          batch_size: int | None = None, lr: float | None = None, seed: int | None = None,
          out: str | Path | None = None, device: str | None = None, listeners=(), **options: Any):
    """Start training in the background and return its `Run` (iterate it for events; `.stop()`).

    `epochs` counts passes over the training data (for text: over its characters);
    `steps` overrides it. `dataset` is a built-in name or a .zip of images (image kinds).
    A run folder that holds a checkpoint is resumed.
    """
    from .training import start

    return start(model_kind, dataset, epochs=epochs, steps=steps, batch_size=batch_size, lr=lr, seed=seed,
                 out=out, device=device, listeners=list(listeners), **options)
