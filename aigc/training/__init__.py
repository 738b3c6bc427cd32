"""Training: one trainer, one task per model kind, runs in folders."""

from __future__ import annotations

import json
import os
import queue
import re
import shlex
import threading
from dataclasses import fields
from pathlib import Path
from typing import Any, Iterator

from ..errors import AigcError
from ..paths import RUNS
from .events import Event, Listener
from .cgan import DEFAULTS as CGAN_DEFAULTS, MODEL_DEFAULTS as CGAN_MODEL, TEXT2IMG_MODEL_DEFAULTS as TEXT2IMG_MODEL
from .cgan import CGANTask, Text2ImgTask
from .dcgan import DEFAULTS as DCGAN_DEFAULTS, MODEL_DEFAULTS as DCGAN_MODEL, DCGANTask
from .diffusion import DEFAULTS as DIFFUSION_DEFAULTS, GUIDED_MODEL_DEFAULTS as GUIDED_MODEL, MODEL_DEFAULTS as DIFFUSION_MODEL
from .diffusion import DiffusionTask, GuidedDiffusionTask
from .gpt import DEFAULTS as GPT_DEFAULTS, MODEL_DEFAULTS as GPT_MODEL, GPTTask
from .checkpoint import existing_checkpoint
from .trainer import TrainConfig, Trainer
from .video import DEFAULTS as VIDEO_DEFAULTS, MODEL_DEFAULTS as VIDEO_MODEL, Text2VideoTask
from .vae import DEFAULTS as VAE_DEFAULTS, MODEL_DEFAULTS as VAE_MODEL, VAETask

# kind -> (task, trainer defaults, model-size defaults, datasets it accepts)
KINDS: dict[str, tuple[type, dict[str, Any], dict[str, Any], tuple[str, ...]]] = {
    "gpt": (GPTTask, GPT_DEFAULTS, GPT_MODEL, ("shakespeare",)),
    "dcgan": (DCGANTask, DCGAN_DEFAULTS, DCGAN_MODEL, ("digits", "shapes")),
    "vae": (VAETask, VAE_DEFAULTS, VAE_MODEL, ("digits", "shapes")),
    "diffusion": (DiffusionTask, DIFFUSION_DEFAULTS, DIFFUSION_MODEL, ("digits", "shapes")),
    "guided-diffusion": (GuidedDiffusionTask, DIFFUSION_DEFAULTS, GUIDED_MODEL, ("digits",)),
    "cgan": (CGANTask, CGAN_DEFAULTS, CGAN_MODEL, ("digits",)),
    "text2img": (Text2ImgTask, CGAN_DEFAULTS, TEXT2IMG_MODEL, ("shapes",)),
    "text2video": (Text2VideoTask, VIDEO_DEFAULTS, VIDEO_MODEL, ("moving-shapes",)),
}
# Kinds that learn from images alone, so a user's .zip of pictures can teach them.
TRAIN_ON_UPLOADS = ("dcgan", "vae", "diffusion")


def start(model_kind: str, dataset: str, *, epochs: float | None = None, steps: int | None = None,
          out: str | Path | None = None, listeners: list[Listener] = (), **options: Any) -> "Run":
    """`aigc.train`: a run of `model_kind` on `dataset` in a background thread (see there)."""
    config = make_config(model_kind, dataset, steps=steps, **options)
    if epochs is not None and steps is None:
        # under `accelerate launch` every process takes its own batch: N processes pass over the data N times faster
        processes = max(1, int(os.environ.get("WORLD_SIZE", "1")))
        config.steps = max(1, round(epochs * epoch_steps(config) / processes))
    folder = Path(out) if out is not None else run_folder(f"{model_kind}-{_dataset_name(dataset)}")
    if not config.command:
        config.command = cli_command(config, folder)
    return Run(config, folder, list(listeners))


def resume(folder: Path, steps: int | None = None, listeners: list[Listener] = ()) -> "Run":
    """Continue the run in `folder` with its own settings, up to `steps` (default: its own total)."""
    folder = Path(folder)
    if existing_checkpoint(folder / "checkpoint") is None or not (folder / "config.json").is_file():
        raise AigcError(f"There is no checkpoint to resume in run '{folder.name}'.")
    config = TrainConfig(**json.loads((folder / "config.json").read_text()))
    if steps is not None:
        state = json.loads((existing_checkpoint(folder / "checkpoint") / "trainer_state.json").read_text())
        if steps <= state["step"]:
            raise AigcError(f"Run '{folder.name}' is at step {state['step']}; resume it with more steps than that.")
        config.steps = steps
    return Run(config, folder, list(listeners))


def epoch_steps(config: TrainConfig) -> float:
    """Training steps in one pass over the data (for text: over its characters)."""
    if config.kind == "gpt":
        from ..data.text import load_corpus, split_corpus

        chars = len(split_corpus(load_corpus(config.dataset))[0])
        return chars / (config.batch_size * config.model["block_size"])
    from .images import ImageTask, epoch_steps as image_epoch_steps, training_images

    if issubclass(KINDS[config.kind][0], ImageTask):
        return image_epoch_steps(training_images(config.dataset), config.batch_size)
    raise AigcError(f"'{config.kind}' counts training in steps, not epochs.")


def _dataset_name(dataset: str) -> str:
    return Path(dataset).stem if dataset.endswith(".zip") else dataset


def run_folder(name: str) -> Path:
    """A run's folder under RUNS; the name may not climb out of it."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", name or "") or ".." in name:
        raise AigcError("A run name uses letters, digits, '.', '_' and '-' only (at most 64 characters).")
    return RUNS / name


def make_config(kind: str, dataset: str, **overrides: Any) -> TrainConfig:
    if kind not in KINDS:
        raise AigcError(f"Unknown model kind '{kind}'; kinds that train: {', '.join(KINDS)}.")
    _, defaults, model_defaults, datasets = KINDS[kind]
    if dataset not in datasets and not (dataset.endswith(".zip") and kind in TRAIN_ON_UPLOADS):
        raise AigcError(f"'{kind}' trains on {', '.join(datasets)}, not '{dataset}'.")
    names = {f.name for f in fields(TrainConfig)}
    values = {**defaults, **{k: v for k, v in overrides.items() if v is not None and k in names}}
    model = {k: v for k, v in overrides.items() if v is not None and k in model_defaults}
    unknown = set(overrides) - names - set(model_defaults)
    if unknown:
        raise AigcError(f"Unknown training option(s) {', '.join(sorted(unknown))} for '{kind}'.")
    return TrainConfig(kind=kind, dataset=dataset, model={**model_defaults, **model}, **values)


def cli_command(config: TrainConfig, out: Path) -> str:
    """The `python -m aigc train` command that repeats a run made from Python or the app."""
    _, defaults, model_defaults, _ = KINDS[config.kind]
    base = TrainConfig(kind=config.kind, dataset=config.dataset, **defaults)
    dataset = _typed(config.dataset) if config.dataset.endswith(".zip") else config.dataset
    args = ["python", "-m", "aigc", "train", config.kind, "--dataset", dataset, "--steps", str(config.steps),
            "--seed", str(config.seed), "--out", _typed(out)]
    for name in ("batch_size", "lr", "warmup", "eval_every", "sample_every", "checkpoint_every", "device", "precision",
                 "log_with"):
        if getattr(config, name) != getattr(base, name):
            args += ["--" + name.replace("_", "-"), str(getattr(config, name))]
    for name, value in config.model.items():
        if value != model_defaults.get(name):
            args += ["--" + name.replace("_", "-"), str(value)]
    return shlex.join(args)


def _typed(path: str | Path) -> str:
    """A path as a user types it in a command: `runs/NAME/...` for the app's runs (where the command
    line puts runs too, from the checkout), else relative to the working folder when inside it."""
    path = Path(path).absolute()
    for base, shown in ((RUNS.absolute(), Path("runs")), (Path.cwd(), Path("."))):
        if path.is_relative_to(base):
            return (shown / path.relative_to(base)).as_posix()
    return str(path)


class Run:
    """A training run going on in a background thread. Iterate it for its events."""

    def __init__(self, config: TrainConfig, out: Path, listeners: list[Listener] = ()):
        task_cls = KINDS[config.kind][0]
        self.out = Path(out)
        self.config = config
        self._events: queue.Queue[Event | None] = queue.Queue()
        self.trainer = Trainer(config, task_cls, self.out, [*listeners])
        self.last: Event | None = None
        self._thread = threading.Thread(target=self._work, name=f"train-{self.out.name}", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        try:
            for event in self.trainer.run():
                self._events.put(event)
        except Exception as exc:  # the run ends with a sentence, the caller's process lives on
            self._events.put(self.trainer.emit("error", self.trainer.state["step"], reason="exception", message=f"Training failed: {exc}"))
        finally:
            self._events.put(None)

    def __iter__(self) -> Iterator[Event]:
        while (event := self._events.get()) is not None:
            self.last = event
            yield event

    def stop(self) -> None:
        self.trainer.stop()

    def wait(self) -> Event | None:
        for _ in self:
            pass
        return self.last

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    @property
    def checkpoint(self) -> Path:
        return self.out / "checkpoint"

    @property
    def best(self) -> Path:
        return self.out / "best"
