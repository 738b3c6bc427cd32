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
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator

import torch
from accelerate import Accelerator
from transformers.utils import logging as hf_logging

from ..device import best_device, training_precision
from .checkpoint import atomic_folder, atomic_write_text, existing_checkpoint, load_optimizer, save_optimizer
from .events import Event, Listener, MetricsFile, truncate_metrics


@dataclass
class TrainConfig:
    kind: str
    dataset: str
    steps: int
    batch_size: int
    lr: float
    seed: int = 0
    warmup: int = 100
    min_lr_ratio: float = 0.1
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    eval_every: int = 250
    sample_every: int = 500
    checkpoint_every: int = 500
    log_every: int = 10
    precision: str = "auto"  # auto | no | bf16 | fp16
    device: str | None = None
    model: dict[str, Any] = field(default_factory=dict)  # kind-specific sizes
    command: str = ""

    def lr_at(self, step: int) -> float:
        """Linear warm-up, then a cosine decay to `min_lr_ratio * lr` at the last step."""
        if step < self.warmup:
            return self.lr * (step + 1) / self.warmup
        progress = min(1.0, (step - self.warmup) / max(1, self.steps - self.warmup))
        return self.lr * (self.min_lr_ratio + (1 - self.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


class Task(ABC):
    """One model kind's part of training. Losses are floats; the first listed one is the headline."""

    #: metric of `evaluate()` whose minimum marks the best checkpoint
    best_metric = "val_loss"

    def __init__(self, config: TrainConfig, accelerator: Accelerator, resume_from: Path | None):
        self.config = config
        self.accelerator = accelerator

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
        return ""

    @property
    def samples_per_step(self) -> int:
        return self.config.batch_size


def make_accelerator(config: TrainConfig) -> Accelerator:
    device = torch.device(config.device) if config.device else best_device()
    precision = training_precision(device) if config.precision == "auto" else config.precision
    return Accelerator(mixed_precision=precision, cpu=device.type == "cpu")


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
        self.config = config
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.listeners = list(listeners)
        self.stop_requested = threading.Event()
        self.accelerator = make_accelerator(config)
        hf_logging.disable_progress_bar()  # the run has its own progress report
        resume = existing_checkpoint(self.out / "checkpoint")
        self.state = {"step": 0, "best": math.inf, "best_step": None, "train_seconds": 0.0}
        if resume is not None:
            self.state.update(json.loads((resume / "trainer_state.json").read_text()))
        self.task = task_cls(config, self.accelerator, resume / "model" if resume else None)
        if resume is not None:
            for name, opt in self.task.optimizers.items():
                load_optimizer(opt, resume / f"optimizer-{name}.safetensors")
        self.is_main = self.accelerator.is_main_process
        if self.is_main:
            metrics = self.out / "metrics.jsonl"
            if resume is not None:
                truncate_metrics(metrics, self.state["step"])
            else:
                metrics.unlink(missing_ok=True)
            atomic_write_text(self.out / "config.json", json.dumps(asdict(config), indent=2))
            self.listeners.insert(0, MetricsFile(metrics))

    def emit(self, type_: str, step: int, **data: Any) -> Event:
        event = Event(type_, step, data)
        if self.is_main:
            for listener in self.listeners:
                listener(event)
        return event

    def stop(self) -> None:
        self.stop_requested.set()

    def save_checkpoint(self) -> Event:
        self.accelerator.wait_for_everyone()
        if self.is_main:
            self._write_checkpoint()
        return self.emit("checkpoint", self.state["step"], path=str(self.out / "checkpoint"))

    def _write_checkpoint(self) -> None:
        with atomic_folder(self.out / "checkpoint") as tmp:
            self.task.save_model(tmp / "model")
            for name, opt in self.task.optimizers.items():
                save_optimizer(opt, tmp / f"optimizer-{name}.safetensors")
            (tmp / "trainer_state.json").write_text(json.dumps(self.state))

    def save_best(self, metrics: dict[str, float]) -> None:
        with atomic_folder(self.out / "best") as tmp:
            self.task.save_model(tmp, release=True)
            stats = {**self.stats(), "metrics": metrics, "step": self.state["step"]}
            (tmp / "README.md").write_text(self.task.model_card(stats))

    def _save_sample_image(self, grid: torch.Tensor, step: int) -> str:
        from torchvision.utils import save_image

        path = self.out / "samples" / f"step-{step:06d}.png"
        path.parent.mkdir(exist_ok=True)
        save_image(grid, path)
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
        cfg, state = self.config, self.state
        yield self.emit("start", state["step"], total_steps=cfg.steps, resumed=state["step"] > 0, **self.stats())
        window_start, window_steps = time.perf_counter(), 0
        while state["step"] < cfg.steps:
            if self.stop_requested.is_set():
                yield self.save_checkpoint()
                yield self.emit("end", state["step"], reason="stopped", message=f"Stopped at step {state['step']}; the checkpoint is saved.")
                return
            step = state["step"]
            lr = cfg.lr_at(step)
            for opt in self.task.optimizers.values():
                for group in opt.param_groups:
                    group["lr"] = lr
            t0 = time.perf_counter()
            losses = self.task.train_step(step)
            state["train_seconds"] += time.perf_counter() - t0
            state["step"] = step = step + 1
            window_steps += 1
            if not all(math.isfinite(v) for v in losses.values()):
                bad = ", ".join(k for k, v in losses.items() if not math.isfinite(v))
                yield self.emit("error", step, reason="nan", message=f"Training stopped at step {step}: {bad} became infinite or NaN; the last good checkpoint is kept (try a lower learning rate).")
                return
            if step % cfg.log_every == 0 or step == cfg.steps:
                elapsed = time.perf_counter() - window_start
                rate = window_steps / elapsed if elapsed > 0 else 0.0
                window_start, window_steps = time.perf_counter(), 0
                eta = (cfg.steps - step) / rate if rate else None
                yield self.emit("step", step, lr=lr, steps_per_s=rate, samples_per_s=rate * self.task.samples_per_step * self.accelerator.num_processes, eta_s=eta, **losses)
            if step % cfg.eval_every == 0 or step == cfg.steps:
                metrics = self.task.evaluate()
                score = metrics.get(self.task.best_metric, math.inf)
                is_best = score < state["best"]
                if is_best:
                    state["best"], state["best_step"] = score, step
                    if self.is_main:
                        self.save_best(metrics)
                yield self.emit("eval", step, best=is_best, **metrics)
            if step % cfg.sample_every == 0 or step == cfg.steps:
                try:
                    sample = self.task.sample(step)
                except Exception as exc:  # a failed preview must not cost the run
                    sample = {"error": f"Could not draw a sample: {exc}"}
                if isinstance(sample.get("image"), torch.Tensor) and self.is_main:
                    sample["image"] = self._save_sample_image(sample["image"], step)
                yield self.emit("sample", step, **sample)
            if step % cfg.checkpoint_every == 0 or step == cfg.steps:
                yield self.save_checkpoint()
        yield self.emit("end", state["step"], reason="finished", best_step=state["best_step"], best=state["best"],
                        message=f"Finished {state['step']} steps; best {self.task.best_metric} {state['best']:.4f} at step {state['best_step']}.")
