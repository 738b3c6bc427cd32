"""What every image kind shares in training: its data, batches by step, sample grids."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torchvision.utils import make_grid

from ..data.images import load_images, split
from .trainer import Task

EVAL_SAMPLES = 500


def training_images(dataset: str) -> int:
    data = load_images(dataset)
    return len(split(data)[0]) if dataset == "digits" else len(data)


def epoch_steps(images: int, batch_size: int) -> int:
    return max(1, images // batch_size)


def ema_average(decay: float):
    """EMA whose decay ramps up as (1 + n) / (10 + n) (the num_updates rule of TensorFlow's
    ExponentialMovingAverage), so early samples are not dominated by the initial weights."""

    def average(averaged: torch.Tensor, current: torch.Tensor, count: torch.Tensor) -> torch.Tensor:
        d = min(decay, (1 + int(count)) / (10 + int(count)))
        return averaged * d + current * (1 - d)

    return average


def grid(images: torch.Tensor, nrow: int = 8) -> torch.Tensor:
    """Images in [-1, 1] as one picture in [0, 1], with thin gray lines between them."""
    return make_grid(images.float().cpu(), nrow=nrow, normalize=True, value_range=(-1, 1), pad_value=0.3)


class ImageTask(Task):
    kind = "image"
    task = "image"  # the app's tab and the folder under checkpoints/
    digit_judge = False  # whether `evaluate` picks the best step by the digit judge (`digits` only)

    def __init__(self, config, accelerator, resume_from: Path | None):
        super().__init__(config, accelerator, resume_from)
        data = load_images(config.dataset)
        # `digits` keeps its held-out split unseen, so the evaluation can compare with it.
        self.judged = config.dataset == "digits"
        self.train_set, self.test_set = split(data) if self.judged else (data, None)
        if self.digit_judge and not self.judged:
            self.best_metric = None  # the digit judge's figures mean nothing for other pictures
        self.eval_samples = EVAL_SAMPLES if self.judged else None  # scored by the digit judge
        self.channels = data.channels
        self.fit_batch(len(self.train_set))
        self.steps_per_epoch = epoch_steps(len(self.train_set), config.batch_size * accelerator.num_processes)
        self.step = 0

    def fit_batch(self, pictures: int) -> None:
        """A batch larger than the data cannot be filled: each step would train on every picture
        while the run, its speed and its card spoke of the larger batch. The batch becomes the
        data's size, and the run's start says so."""
        processes = self.accelerator.num_processes
        most = max(1, pictures // processes)
        if self.config.batch_size > most:
            each = f" on each of {processes} processes" if processes > 1 else ""
            self.notes.append(f"The data hold {pictures:,} pictures, fewer than a batch of {self.config.batch_size:,}, "
                              f"so the batch size is {most:,}{each}.")
            self.config.batch_size = most

    def batch_at(self, step: int) -> dict[str, Any]:
        """Batch `step` of a shuffled epoch (images on the device, with labels, captions and
        attributes where the data has them): a function of (seed, step, process) only, so a
        resumed run sees the same data."""
        self.step = step + 1
        epoch, i = divmod(step, self.steps_per_epoch)
        order = torch.randperm(len(self.train_set), generator=torch.Generator().manual_seed(self.config.seed * 7919 + epoch))
        index = self.shard(order, i, self.config.batch_size)
        batch = self.train_set.batch(index)
        batch["image"] = batch["image"].to(self.accelerator.device)
        if self.train_set.attributes is not None:
            batch["attributes"] = [self.train_set.attributes[j] for j in index.tolist()]
        return batch

    def real_batch(self, step: int) -> torch.Tensor:
        return self.batch_at(step)["image"]

    def digit_scores(self, images: torch.Tensor) -> dict[str, float]:
        """The digit judge's scores and the Frechet distance to the held-out digits."""
        from ..evaluation.digits import frechet_distance, judge

        return {"frechet_distance": frechet_distance(images), **judge(images)}

    def eval_images(self) -> torch.Tensor:
        """The fixed samples `evaluate` judges (kinds that keep their best-scoring checkpoint)."""
        raise NotImplementedError

    def evaluate(self) -> dict[str, float]:
        if not self.judged:  # nothing judges these pictures (best_metric is None): no figure at all
            return {}
        scores = self.digit_scores(self.eval_images())
        # Lower is better: the Frechet distance, with a penalty for every class that is missing.
        return {"score": scores["frechet_distance"] * (1 + 0.5 * (10 - scores["classes_covered"])), **scores}

    def write_config(self, folder: Path, **config: Any) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "config.json").write_text(json.dumps({"kind": self.kind, "channels": self.channels, "size": 32, **config}, indent=2))
