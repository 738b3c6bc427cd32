"""What a model takes, said by its pipeline: its kind, the options it uses, their starting values.

Each pipeline module (`image`, `conditional`, `video`) has a `controls(model)` that answers from
the catalogue and the model's config.json, without loading any weights, so a page can fit its
controls to the chosen model at once and an endpoint passes a value only to a model that uses it.
The option names are shared by every pipeline:

- "steps", "scheduler", "guidance": denoising steps, the sampling solver, classifier-free guidance
- "negative_prompt", "size": a Hub pipeline's negative prompt, and its width and height
- "walk", "reconstruct": a latent walk between two seeds; a VAE's copy of a real digit
- "all_labels": one row of pictures per label of a label model

See docs/architecture.md ("to add a model kind") for where a new kind says what it takes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..catalog import ModelInfo, names_from_the_web, resolve
from ..errors import AigcError

MAX_GUIDANCE = 30.0  # the most classifier-free guidance any pipeline accepts
CONDITIONS = ("label", "caption", "prompt")


@dataclass(frozen=True)
class Controls:
    """What one model takes. `kind` is its card's kind, or "hub" for a Hub pipeline (or a name the
    catalogue does not know, which the pipeline refuses when it is used)."""

    kind: str
    options: frozenset[str] = frozenset()
    defaults: dict[str, Any] = field(default_factory=dict, hash=False)  # starting values of the options
    condition: str | None = None  # what its text box holds: "label", "caption" or "prompt" (CONDITIONS)
    labels: tuple[str, ...] | None = None  # the labels of a label model
    maxima: dict[str, int] = field(default_factory=dict, hash=False)  # upper bounds of its own ("frames")

    def __contains__(self, option: str) -> bool:
        return option in self.options

    def given(self, option: str, value):
        """`value` for an option this model takes; None (the model's own default) for one it does not."""
        return value if option in self.options else None


def own_model(model: str, task: str) -> tuple[ModelInfo, dict[str, Any]] | None:
    """(catalogue entry, config.json) of this project's own `task` model named `model` (a built-in
    model or a training run's best), or None for a Hub id or any other name. Names are read as
    typed on the web: a folder on this machine is never looked at."""
    try:
        with names_from_the_web():
            info = resolve(model, task)
    except AigcError:
        return None
    if not info.own:
        return None
    try:
        config = json.loads((Path(info.location) / "config.json").read_text())
    except (OSError, ValueError):  # a run saving its best right now: its card still names the kind
        config = {}
    return info, {**config, "kind": config.get("kind") or info.card.get("kind")}
