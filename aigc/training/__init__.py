"""Training: one trainer, one task per model kind, runs in folders.

Each kind's settings and their defaults are a dataclass in `configs.py`; its `Task` (imported
only when a run starts) is in a module of its own.
"""

from __future__ import annotations

import json
import queue
import re
import shlex
import threading
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any, Iterator

from ..errors import AigcError
from ..paths import RUNS
from .configs import COMMAND_LINE, KINDS, TrainConfig, launched_processes, load_config
from .events import Event, Listener

__all__ = ["KINDS", "Run", "TrainConfig", "cli_command", "epoch_steps", "make_config", "resume", "run_folder", "start"]


def start(model_kind: str, dataset: str, *, epochs: float | None = None, steps: int | None = None,
          out: str | Path | None = None, listeners: list[Listener] = (), **options: Any) -> "Run":
    """`aigc.train`: a run of `model_kind` on `dataset` in a background thread (see there)."""
    config = make_config(model_kind, dataset, steps=steps, **options)
    if epochs is not None and steps is None:
        # under `accelerate launch` every process takes its own batch: N processes pass over the data N times faster
        config.steps = max(1, round(epochs * epoch_steps(config) / launched_processes()))
    folder = Path(out) if out is not None else run_folder(f"{model_kind}-{_dataset_name(dataset)}")
    if not config.command:
        config.command = cli_command(config, folder)
    return Run(config, folder, list(listeners))


def resume(folder: Path, steps: int | None = None, listeners: list[Listener] = ()) -> "Run":
    """Continue the run in `folder` with its own settings, up to `steps` (default: its own total)."""
    from .checkpoint import existing_checkpoint

    folder = Path(folder)
    if existing_checkpoint(folder / "checkpoint") is None or not (folder / "config.json").is_file():
        raise AigcError(f"There is no checkpoint to resume in run '{folder.name}'.")
    config = load_config(json.loads((folder / "config.json").read_text()))
    if steps is not None:
        state = json.loads((existing_checkpoint(folder / "checkpoint") / "trainer_state.json").read_text())
        if steps <= state["step"]:
            raise AigcError(f"Run '{folder.name}' is at step {state['step']}; resume it with more steps than that.")
        config.steps = steps
    return Run(config, folder, list(listeners))


def epoch_steps(config: TrainConfig) -> float:
    """Training steps in one pass over the data (for text: over its characters)."""
    if config.kind in ("gpt", "lstm"):
        from ..data.text import load_corpus, split_corpus

        chars = len(split_corpus(load_corpus(config.dataset))[0])
        return chars / (config.batch_size * config.model.block_size)
    if config.dataset == "spoken-digits":
        from ..data.audio import spoken_digits

        return len(spoken_digits("train")) / config.batch_size
    if config.dataset == "sound-effects":
        from .audio import Captions

        return Captions.CLIPS / config.batch_size
    from .images import ImageTask, epoch_steps as image_epoch_steps, training_images

    if issubclass(type(config).task_class(), ImageTask):
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
    """`kind`'s configuration on `dataset`: its defaults, with the `overrides` that are not None
    (training settings and model sizes alike)."""
    if kind not in KINDS:
        raise AigcError(f"Unknown model kind '{kind}'; kinds that train: {', '.join(KINDS)}.")
    config = KINDS[kind]
    if dataset not in config.datasets and not (dataset.endswith(".zip") and config.uploads):
        raise AigcError(f"'{kind}' trains on {', '.join(config.datasets)}, not '{dataset}'.")
    names = {f.name for f in fields(config)} - {"kind", "dataset", "model"}
    sizes = {f.name for f in fields(config.sizes_class())}
    unknown = set(overrides) - names - sizes
    if unknown:
        raise AigcError(f"Unknown training option(s) {', '.join(sorted(unknown))} for '{kind}'.")
    given = {k: v for k, v in overrides.items() if v is not None}
    model = config.sizes_class()(**{k: v for k, v in given.items() if k in sizes})
    return config(dataset=dataset, model=model, **{k: v for k, v in given.items() if k in names})


def cli_command(config: TrainConfig, out: Path) -> str:
    """The `python -m aigc train` command that repeats a run made from Python or the app."""
    defaults = KINDS[config.kind]()
    dataset = _typed(config.dataset) if config.dataset.endswith(".zip") else config.dataset
    args = ["python", "-m", "aigc", "train", config.kind, "--dataset", dataset, "--steps", str(config.steps),
            "--seed", str(config.seed), "--out", _typed(out)]
    for name in COMMAND_LINE:
        if getattr(config, name) != getattr(defaults, name):
            args += ["--" + name.replace("_", "-"), str(getattr(config, name))]
    for name, value in asdict(config.model).items():
        if value != getattr(defaults.model, name):
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
        from .trainer import Trainer

        self.out = Path(out)
        self.config = config
        self._events: queue.Queue[Event | None] = queue.Queue()
        self.trainer = Trainer(config, type(config).task_class(), self.out, [*listeners])
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
