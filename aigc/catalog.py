"""What exists: the built-in models, the best models of training runs, folders and Hub ids, by name.

Nothing here loads a model (`aigc.loaders` does, `aigc.registry` caches what they load); see
docs/architecture.md for where the catalogue sits among the registry's parts.
"""

from __future__ import annotations

import contextvars
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import yaml

from .cards import card_title, read_card
from .errors import AigcError
from .paths import CHECKPOINTS, RUNS

TASKS = ("text", "fill", "image", "conditional", "video", "audio", "edit")
# Shown as choices in the app; any other Hub id can be typed.
HUB_DEFAULTS: dict[str, list[tuple[str, str]]] = {
    "text": [("gpt2", "OpenAI's GPT-2 (124M), English web text")],
    "fill": [("bert-base-uncased", "Google's BERT base (110M), English, uncased: fills in masked words"),
             ("bert-base-chinese", "Google's BERT base for Chinese (102M): fills in masked characters")],
    "image": [("google/ddpm-cifar10-32", "Ho et al.'s DDPM on CIFAR-10, 32x32 (36M parameters)")],
    "conditional": [("stabilityai/sd-turbo", "Stability AI's SD-Turbo: text to 512x512 image in one step")],
    "video": [("Wan-AI/Wan2.1-T2V-1.3B-Diffusers", "Wan-AI's Wan 2.1 text-to-video (1.3B), 480x832 clips")],
    "audio": [("facebook/mms-tts-eng", "Meta's MMS text-to-speech for English (VITS, 36M parameters)"),
              ("facebook/musicgen-small", "Meta's MusicGen (300M): music from a description")],
    "edit": [("caidas/swin2SR-classical-sr-x2-64", "Swin2SR (12M): photo upscaling x2, through transformers"),
             ("stabilityai/stable-diffusion-x4-upscaler", "Stability AI's x4 upscaler, a latent diffusion model guided by a prompt"),
             ("CompVis/ldm-super-resolution-4x-openimages", "CompVis's latent diffusion super-resolution x4"),
             ("timbrooks/instruct-pix2pix", "InstructPix2Pix: edits a picture by an instruction (\"make it snowy\")")],
}
HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]{0,95}(/[\w.-]{1,96})?")


@dataclass(frozen=True)
class ModelInfo:
    name: str
    task: str
    source: str  # "builtin", "run" (the best model of a training run), "local" (a folder) or "hub"
    location: str  # a folder, or a Hub id
    description: str = ""
    card: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)
    version: int = 0  # a run's best model changes as it trains: the cache keys on this too

    @property
    def own(self) -> bool:
        """Trained by this project (a card and a config.json that name its kind)."""
        return self.source in ("builtin", "run")


def card_of(info: ModelInfo) -> dict[str, Any]:
    """The facts of a model's card, also for a folder named by its path (a run's `best`, a copy of a
    built-in), whose card `resolve` does not read."""
    if info.card or info.source != "local":
        return info.card
    return read_card(info.location)


def builtin_models() -> list[ModelInfo]:
    found = []
    for task in TASKS:
        for folder in sorted((CHECKPOINTS / task).glob("*/")):
            if (folder / "README.md").is_file():
                found.append(_builtin(folder, task))
    return found


def _builtin(folder: Path, task: str) -> ModelInfo:
    return ModelInfo(folder.name, task, "builtin", str(folder), card_title(folder), read_card(folder))


def _builtin_named(name: str, task: str) -> ModelInfo | None:
    """The built-in `task` model called `name`, looked up alone: every request resolves its
    model, and reading all the cards for one costs more than the rest of the lookup."""
    try:
        names = os.listdir(CHECKPOINTS / task)  # a name with a slash or `..` is never among them
    except OSError:
        return None
    folder = CHECKPOINTS / task / name
    known = name in names and not name.startswith(".") and (folder / "README.md").is_file()
    return _builtin(folder, task) if known else None


def run_models() -> list[ModelInfo]:
    """The best model of every training run (finished or still going), newest run first."""
    found = []
    folders = sorted(RUNS.glob("*/best/"), key=lambda f: f.stat().st_mtime, reverse=True) if RUNS.is_dir() else []
    for folder in folders:
        readme = folder / "README.md"
        try:
            card, version = read_card(folder), readme.stat().st_mtime_ns
        except (OSError, ValueError, yaml.YAMLError):  # a run saving its best right now: seen at the next look
            continue
        if card.get("task") in TASKS:
            found.append(ModelInfo(folder.parent.name, card["task"], "run", str(folder), card_title(folder), card,
                                   version))
    return found


# Where a training run keeps a model, best first; a `.old` twin stands in while an atomic save swaps it.
RUN_MODELS = ("best", "best.old", "checkpoint/model", "checkpoint.old/model")


def run_model(folder: Path) -> Path:
    """The model a folder stands for: a training run's best model (before its first evaluation,
    the model of its last checkpoint), wherever the run lives; any other folder is a model itself."""
    for sub in RUN_MODELS:
        if (folder / sub).is_dir():
            return folder / sub
    if (folder / "metrics.jsonl").is_file():  # a run that has only just started
        raise AigcError(f"The training run '{folder.name}' has not saved a model yet; "
                        "use it after its first checkpoint.")
    return folder


def list_models(task: str | None = None) -> list[ModelInfo]:
    """Built-in models first, then finished training runs, then the suggested Hub ids (usable when online)."""
    if task is not None and task not in TASKS:
        raise AigcError(f"Unknown task '{task}'; tasks are {', '.join(TASKS)}.")
    builtin = [m for m in builtin_models() if task in (None, m.task)]
    names = {m.name for m in builtin}
    models = builtin + [m for m in run_models() if task in (None, m.task) and m.name not in names]
    for t, ids in HUB_DEFAULTS.items():
        if task in (None, t):
            models += [ModelInfo(i, t, "hub", i, d) for i, d in ids]
    return models


def resolve(name: str, task: str) -> ModelInfo:
    """A built-in name, a local folder saved with `save_pretrained`, or a Hub id."""
    if not isinstance(name, str) or not name.strip():
        raise AigcError("Choose a model: a built-in name or a Hugging Face Hub id.")
    name = name.strip()
    builtin = _builtin_named(name, task)
    if builtin is not None:
        return builtin
    runs = {m.name: m for m in run_models() if m.task == task}
    if name in runs:
        return runs[name]
    if _web_request.get() and os.path.exists(name):  # transformers and diffusers would load it as a folder
        raise AigcError(f"Unknown model '{name[:80]}': the app loads built-in models and Hub ids, "
                        "not folders on the server.")
    if os.path.isdir(name):
        folder = Path(name).resolve()
        model = run_model(folder)
        version = model.stat().st_mtime_ns if model != folder else 0  # a run's best changes as it trains
        return ModelInfo(folder.name, task, "local", str(model), version=version)
    if HUB_ID.fullmatch(name) and ".." not in name:
        return ModelInfo(name, task, "hub", name)
    known = ", ".join(m.name for m in builtin_models() if m.task == task) or "none"
    raise AigcError(f"Unknown model '{name[:80]}': use a built-in {task} model ({known}) or a Hub id such as 'gpt2'.")


_web_request: contextvars.ContextVar[bool] = contextvars.ContextVar("aigc_web_request", default=False)


@contextmanager
def names_from_the_web() -> Iterator[None]:
    """Inside this block a model name is a built-in name or a Hub id, never a folder on this
    machine: names typed by strangers (`../../somewhere`) must not choose what the server loads."""
    token = _web_request.set(True)
    try:
        yield
    finally:
        _web_request.reset(token)
