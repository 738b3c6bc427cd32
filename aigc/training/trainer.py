"""The training loop shared by every model kind, on `accelerate.Accelerator`.

A kind supplies a `Task` (its models, one training step, evaluation, samples and
export); the `Trainer` owns everything else: devices and precision, the learning-rate
schedule, events, the run folder, checkpoints, best-model tracking and resume.
"""

from __future__ import annotations

import json
import math
import platform
import threading
import time
import weakref
from abc import ABC, abstractmethod
from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterator

import torch
from accelerate import Accelerator
from transformers.utils import logging as hf_logging

from .. import compat
from ..cards import card_metrics, render_card
from ..data.audio import write_wav
from ..device import best_device, training_precision
from ..errors import AigcError
from ..paths import atomic_write_text
from .checkpoint import atomic_folder, existing_checkpoint, load_optimizer, save_optimizer
from .configs import TrainConfig, as_kind_config
from .events import Event, Listener, MetricsFile, truncate_metrics


class Task(ABC):
    """One model kind's part of training. Losses are floats; the first listed one is the headline."""

    #: metric of `evaluate()` whose minimum marks the best checkpoint; None when nothing judges
    #: the data, and each evaluation keeps the newest weights
    best_metric: str | None = "val_loss"
    #: the app's tab for the model (text, image, conditional, video), which says how its speed is measured
    task = "text"
    #: samples (or clips) a judge scores at each evaluation; None when no judge scores them
    eval_samples: int | None = None
    #: the sampling model's parameters, for its card
    parameters = 0

    def __init__(self, config: TrainConfig, accelerator: Accelerator, resume_from: Path | None):
        self.config = config
        self.accelerator = accelerator
        self.notes: list[str] = []  # sentences the run's start reports: what the task changed, and why

    @property
    @abstractmethod
    def optimizers(self) -> dict[str, torch.optim.Optimizer]: ...

    @abstractmethod
    def train_step(self, step: int) -> dict[str, float]: ...

    @abstractmethod
    def evaluate(self) -> dict[str, float]: ...

    @abstractmethod
    def sample(self, step: int) -> dict[str, Any]: ...

    @abstractmethod
    def save_model(self, folder: Path, release: bool = False) -> None:
        """Write the model in the format the registry loads (safetensors + configs);
        `release` may trade exactness for size (the best model that gets shipped)."""

    def model_card(self, stats: dict[str, Any]) -> str:
        """The best model's card: the run's facts and figures (its body is rendered from them)."""
        cfg = self.config
        return render_card({
            "name": stats["name"], "task": self.task, "kind": cfg.kind, "dataset": cfg.dataset,
            "parameters": self.parameters, "steps": stats["step"], "batch_size": cfg.batch_size, "lr": cfg.lr,
            "training_seconds": stats["training_seconds"], "hardware": stats["hardware"],
            "precision": stats["precision"], "seed": cfg.seed,
            "metrics": card_metrics(self.shown_metrics(stats["metrics"])), "measured_by": "trainer",
            "command": cfg.command, **self.card_fields(),
        })

    def shown_metrics(self, metrics: dict[str, float]) -> dict[str, float]:
        """The figures as the card names them (by default, as the evaluation does)."""
        return metrics

    def card_fields(self) -> dict[str, Any]:
        """Facts a kind adds to its card (the app reads some of them)."""
        return {}

    def card_figures(self, folder: Path, metrics: dict[str, float], name: str) -> dict[str, float]:
        """What the best model's card shows beside the evaluation's `metrics`, as a built-in card
        does: how many samples the judge scored, the same figures for real data, and the speed of
        the model saved in `folder`."""
        from ..evaluation.runs import real_baselines, speed

        judged = {"samples": self.eval_samples} if self.eval_samples else {}
        return {**judged, **real_baselines(self.config.dataset, metrics), **speed(folder, self.task, name)}

    def descend(self, loss: torch.Tensor, model: torch.nn.Module, opt: torch.optim.Optimizer, ema=None) -> None:
        """One optimizer step on `loss`: gradients through accelerate, clipped to `config.grad_clip` when set,
        then the EMA of `model` (an `AveragedModel`) follows where there is one."""
        opt.zero_grad(set_to_none=True)
        self.accelerator.backward(loss)
        if self.config.grad_clip:
            self.accelerator.clip_grad_norm_(model.parameters(), self.config.grad_clip)
        opt.step()
        if ema is not None:
            ema.update_parameters(self.accelerator.unwrap_model(model))

    @property
    def samples_per_step(self) -> int:
        """Samples one process trains on in a step (the trainer multiplies by the processes)."""
        return self.config.batch_size

    def process_seed(self, seed: int) -> int:
        """`seed` on the main process, another one on each other process, so that processes
        launched together (`accelerate launch`) draw different noise, not the same noise twice."""
        return seed + 1_000_003 * self.accelerator.process_index

    def shard(self, order: torch.Tensor, i: int, batch_size: int) -> torch.Tensor:
        """This process's `batch_size` items of batch `i` of an epoch drawn in `order`. With P
        processes a step takes P consecutive slices, one per process, so processes see different
        data; items wrap around when the data holds fewer than P batches."""
        processes, rank = self.accelerator.num_processes, self.accelerator.process_index
        start = (i * processes + rank) * batch_size
        index = order[start : start + batch_size]
        if processes > 1 and len(index) < batch_size:
            index = order[torch.arange(start, start + batch_size) % len(order)]
        return index


#: folder of the run that accelerate's trackers write into (`tensorboard --logdir runs/`)
TRACKER_FOLDER = "tensorboard"


def check_tracker(name: str) -> None:
    """One sentence, before training starts, when a tracker cannot run here."""
    from accelerate.tracking import get_available_trackers
    from accelerate.utils import LoggerType

    if name not in LoggerType.list() or name == "all":
        raise AigcError(f"Unknown tracker '{name}'; accelerate logs with {', '.join(t for t in LoggerType.list() if t != 'all')}.")
    if name not in {str(getattr(t, "value", t)) for t in get_available_trackers()}:
        package = {"tensorboard": "tensorboard", "wandb": "wandb", "comet_ml": "comet_ml", "mlflow": "mlflow"}.get(name, name)
        raise AigcError(f"Logging with {name} needs the '{package}' package, which is not installed: pip install {package}.")


# Trainers of this process whose run has not ended: they share accelerate's one precision per process.
_LIVE: weakref.WeakSet[Trainer] = weakref.WeakSet()


def make_accelerator(config: TrainConfig, project_dir: Path | None = None) -> Accelerator:
    device = torch.device(config.device) if config.device else best_device()
    precision = training_precision(device) if config.precision == "auto" else config.precision
    in_use = compat.accelerate_precision()
    if in_use is not None and in_use != precision:
        if _LIVE:
            raise AigcError(f"Another run in this process trains in {in_use} precision, and a process holds one: wait for "
                            f"it to end, or give this run precision {in_use}.")
        compat.forget_accelerate_precision()
    tracking = {}
    if config.log_with:
        check_tracker(config.log_with)
        tracking = dict(log_with=config.log_with, project_dir=str(project_dir) if project_dir is not None else None)
    return Accelerator(mixed_precision=precision, cpu=device.type == "cpu", **tracking)


def tracker_config(config: TrainConfig) -> dict[str, Any]:
    """The run's config as trackers take it: flat, and only strings, numbers and booleans."""
    data = asdict(config)
    flat = {k: v for k, v in data.items() if k != "model"}
    flat.update({f"model.{k}": v for k, v in data["model"].items()})
    return {k: v for k, v in flat.items() if isinstance(v, (str, int, float, bool))}


def hardware(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (CUDA)"
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {torch.get_num_threads()} threads (CPU)"


class Trainer:
    """Runs a task for `config.steps` steps in `out`, resuming from `out/checkpoint` if present."""

    def __init__(self, config: TrainConfig, task_cls: type[Task], out: Path, listeners: list[Listener] = ()):
        self.config = config = as_kind_config(config)
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.listeners = list(listeners)
        self.stop_requested = threading.Event()
        self._drawn: tuple[int, dict[str, Any]] | None = None  # (step, the task's sample at that step)
        self.accelerator = make_accelerator(config, self.out)
        hf_logging.disable_progress_bar()  # the run has its own progress report
        resume = existing_checkpoint(self.out / "checkpoint")
        self.state = {"step": 0, "best": math.inf, "best_step": None, "train_seconds": 0.0}
        if resume is not None:
            self.state.update(json.loads((resume / "trainer_state.json").read_text()))
        self.task = task_cls(config, self.accelerator, resume / "model" if resume else None)
        if resume is not None:
            for name, opt in self.task.optimizers.items():
                if (resume / f"optimizer-{name}.safetensors").exists():  # a newer part of a task starts fresh
                    load_optimizer(opt, resume / f"optimizer-{name}.safetensors")
        self.processes = self.accelerator.num_processes
        if self.accelerator.process_index > 0:  # the models are built alike; from here on, each draws its own noise
            torch.manual_seed(self.task.process_seed(config.seed * 7 + 3))
        self.is_main = self.accelerator.is_main_process
        self.tracking = bool(config.log_with)
        if self.tracking:
            # A resumed run hides what the earlier one logged after its checkpoint, as metrics.jsonl does.
            purge = ({"tensorboard": {"purge_step": self.state["step"] + 1}}
                     if resume is not None and config.log_with == "tensorboard" else {})
            self.accelerator.init_trackers(TRACKER_FOLDER, config=tracker_config(config), init_kwargs=purge)
        if self.is_main:
            metrics = self.out / "metrics.jsonl"
            if resume is not None:
                truncate_metrics(metrics, self.state["step"])
            else:
                metrics.unlink(missing_ok=True)
            atomic_write_text(self.out / "config.json", json.dumps(asdict(config), indent=2))
            self.listeners.insert(0, MetricsFile(metrics))
        _LIVE.add(self)

    def emit(self, type_: str, step: int, **data: Any) -> Event:
        event = Event(type_, step, data)
        if self.is_main:
            if self.tracking and type_ in ("step", "eval"):
                self.accelerator.log({k: v for k, v in data.items() if isinstance(v, (int, float)) and not isinstance(v, bool)},
                                     step=step)
            for listener in self.listeners:
                listener(event)
        return event

    def stop(self) -> None:
        self.stop_requested.set()

    def save_checkpoint(self) -> Event:
        self.accelerator.wait_for_everyone()
        if self.is_main:
            self._write_checkpoint()
        self.accelerator.wait_for_everyone()  # no process goes on (or ends) before the checkpoint is whole
        return self.emit("checkpoint", self.state["step"], path=str(self.out / "checkpoint"))

    def _agree(self, losses: dict[str, float]) -> tuple[dict[str, float], bool]:
        """With several processes, every process must take the same decisions: the losses become
        their mean over the processes (a NaN anywhere is a NaN everywhere), and a stop asked of
        any process stops them all. One small all-reduce per step; none with one process."""
        if self.processes == 1:
            return losses, self.stop_requested.is_set()
        values = torch.tensor([*losses.values(), float(self.stop_requested.is_set())], device=self.accelerator.device)
        values = self.accelerator.reduce(values, reduction="sum").tolist()
        return {k: v / self.processes for k, v in zip(losses, values)}, values[-1] > 0

    def _agreed_score(self, score: float) -> float:
        """The main process's score, on every process (each evaluates; only the main one's counts)."""
        if self.processes == 1:
            return score
        from accelerate.utils import broadcast

        return broadcast(torch.tensor([score], dtype=torch.float64, device=self.accelerator.device)).item()

    def _write_checkpoint(self) -> None:
        with atomic_folder(self.out / "checkpoint") as tmp:
            self.task.save_model(tmp / "model")
            for name, opt in self.task.optimizers.items():
                save_optimizer(opt, tmp / f"optimizer-{name}.safetensors")
            (tmp / "trainer_state.json").write_text(json.dumps(self.state))

    def save_best(self, metrics: dict[str, float]) -> None:
        """The best model as a release, with a card as complete as a built-in model's: the
        evaluation's figures beside real data's, its speed, and its samples (samples.png)."""
        step = self.state["step"]
        with atomic_folder(self.out / "best") as tmp:
            self.task.save_model(tmp, release=True)
            figures = {**metrics, **self.task.card_figures(tmp, metrics, self.out.name)}
            sample = self._sample(step) if self.task.task != "text" else {}  # a text model's card shows no sample
            if isinstance(sample.get("image"), torch.Tensor):
                self._save_grid(sample["image"], tmp / "samples.png", scale=2)  # enlarged as the built-in cards' are
            if isinstance(sample.get("audio"), torch.Tensor):
                write_wav(tmp / "samples.wav", sample["audio"])
            stats = {**self.stats(), "metrics": figures, "step": step}
            (tmp / "README.md").write_text(self.task.model_card(stats))

    def _sample(self, step: int) -> dict[str, Any]:
        """The task's sample at `step`, drawn once: the best model's card and the run's preview
        of the same step share it."""
        if self._drawn is None or self._drawn[0] != step:
            try:
                self._drawn = step, self.task.sample(step)
            except Exception as exc:  # a failed preview must not cost the run
                self._drawn = step, {"error": f"Could not draw a sample: {exc}"}
        return dict(self._drawn[1])

    @staticmethod
    def _save_grid(grid: torch.Tensor, path: Path, scale: int = 1) -> None:
        from torchvision.utils import save_image

        if scale > 1:  # each pixel a square, not a blur
            grid = torch.nn.functional.interpolate(grid[None], scale_factor=scale, mode="nearest")[0]
        save_image(grid, path)

    def _save_sample_image(self, grid: torch.Tensor, step: int) -> str:
        path = self.out / "samples" / f"step-{step:06d}.png"
        path.parent.mkdir(exist_ok=True)
        self._save_grid(grid, path)
        return str(path)

    def stats(self) -> dict[str, Any]:
        return {
            "name": self.out.name,
            "training_seconds": round(self.state["train_seconds"], 1),
            "hardware": hardware(self.accelerator.device),
            "precision": self.accelerator.mixed_precision,
            "processes": self.accelerator.num_processes,
        }

    def run(self) -> Iterator[Event]:
        """Train, yielding each event as it happens (listeners receive them too)."""
        try:
            yield from self._run()
        finally:
            _LIVE.discard(self)
            self.accelerator.end_training()  # trackers flush and close; a launched process group ends

    def _run(self) -> Iterator[Event]:
        cfg, state = self.config, self.state
        notes = {"notes": self.task.notes} if self.task.notes else {}
        yield self.emit("start", state["step"], total_steps=cfg.steps, resumed=state["step"] > 0, **self.stats(), **notes)
        window_start, window_steps = time.perf_counter(), 0
        stopping = False
        while state["step"] < cfg.steps:
            if stopping or (self.processes == 1 and self.stop_requested.is_set()):
                yield self.save_checkpoint()
                yield self.emit("end", state["step"], reason="stopped", message=f"Stopped at step {state['step']}; the checkpoint is saved.")
                return
            step = state["step"]
            lr = cfg.lr_at(step)
            for opt in self.task.optimizers.values():
                for group in opt.param_groups:
                    group["lr"] = lr
            t0 = time.perf_counter()
            losses, stopping = self._agree(self.task.train_step(step))
            state["train_seconds"] += time.perf_counter() - t0
            state["step"] = step = step + 1
            window_steps += 1
            if not all(math.isfinite(v) for v in losses.values()):
                bad = ", ".join(k for k, v in losses.items() if not math.isfinite(v))
                yield self.emit("error", step, reason="nan", message=f"Training stopped at step {step}: {bad} became infinite or NaN; the last good checkpoint is kept (try a lower learning rate).")
                return
            if step % cfg.log_every == 0 or step == cfg.steps or time.perf_counter() - window_start >= cfg.log_seconds:
                elapsed = time.perf_counter() - window_start
                rate = window_steps / elapsed if elapsed > 0 else 0.0
                window_start, window_steps = time.perf_counter(), 0
                eta = (cfg.steps - step) / rate if rate else None
                yield self.emit("step", step, lr=lr, steps_per_s=rate, samples_per_s=rate * self.task.samples_per_step * self.processes, eta_s=eta, **losses)
            # Evaluating, sampling and saving are not training: their time counts neither in the
            # steps/s of the next report nor towards the timer that makes one (log_seconds).
            paused = time.perf_counter()
            if step % cfg.eval_every == 0 or step == cfg.steps:
                metrics = self.task.evaluate()
                judged = self.task.best_metric is not None
                score = self._agreed_score(metrics.get(self.task.best_metric, math.inf)) if judged else math.inf
                is_best = score < state["best"] or not judged
                if is_best:
                    state["best"], state["best_step"] = score, step
                    if self.is_main:
                        self.save_best(metrics)
                # the name of the figure that chose the best step travels with the figures
                chosen_by = {"selected_by": self.task.best_metric} if judged else {}
                yield self.emit("eval", step, best=is_best, **metrics, **chosen_by)
            if (step % cfg.sample_every == 0 or step == cfg.steps) and self.is_main:  # samples use unwrapped models
                sample = self._sample(step)
                if isinstance(sample.get("image"), torch.Tensor):
                    sample["image"] = self._save_sample_image(sample["image"], step)
                if isinstance(sample.get("audio"), torch.Tensor):
                    sample["audio"] = str(write_wav(self.out / "samples" / f"step-{step:06d}.wav", sample["audio"]))
                yield self.emit("sample", step, **sample)
            if step % cfg.checkpoint_every == 0 or step == cfg.steps:
                yield self.save_checkpoint()
            window_start += time.perf_counter() - paused
        if self.task.best_metric is None:
            yield self.emit("end", state["step"], reason="finished", best_step=state["best_step"],
                            message=f"Finished {state['step']} steps; nothing judges this data, so the model kept is "
                                    f"the newest one (step {state['best_step']}).")
            return
        yield self.emit("end", state["step"], reason="finished", best_step=state["best_step"], best=state["best"],
                        message=f"Finished {state['step']} steps; best {self.task.best_metric} {state['best']:.4f} at step {state['best_step']}.")
