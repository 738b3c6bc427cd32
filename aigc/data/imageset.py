"""`ImageSet`: the one container every image source builds (built-in sets in `images.py`, a
user's .zip in `uploads.py`) and the trainer and the evaluation read.

It lives apart from the sources so that a source never needs another source to build its result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import torch


@dataclass
class ImageSet:
    """Images as uint8 (N, C, H, W), with optional integer labels and captions."""

    name: str
    images: torch.Tensor = field(repr=False)
    labels: torch.Tensor | None = field(default=None, repr=False)
    class_names: list[str] | None = None
    captions: list[str] | None = field(default=None, repr=False)
    attributes: list[dict[str, str]] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.dim() != 4:
            raise ValueError("ImageSet holds uint8 images shaped (N, C, H, W)")

    def __len__(self) -> int:
        return len(self.images)

    @property
    def channels(self) -> int:
        return self.images.shape[1]

    @property
    def size(self) -> int:
        return self.images.shape[-1]

    def batch(self, index: torch.Tensor) -> dict[str, object]:
        """Images scaled to [-1, 1] (float32), with labels and captions where the set has them."""
        out: dict[str, object] = {"image": self.images[index].float().div_(127.5).sub_(1.0)}
        if self.labels is not None:
            out["label"] = self.labels[index]
        if self.captions is not None:
            out["caption"] = [self.captions[i] for i in index.tolist()]
        return out

    def batches(self, batch_size: int, generator: torch.Generator,
                drop_last: bool = True) -> Iterator[dict[str, object]]:
        """One epoch in an order drawn from `generator`."""
        order = torch.randperm(len(self), generator=generator)
        stop = len(order) - len(order) % batch_size if drop_last and len(order) >= batch_size else len(order)
        for start in range(0, stop, batch_size):
            yield self.batch(order[start : start + batch_size])


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] floats to uint8, the inverse of `ImageSet.batch`."""
    return images.add(1.0).mul(127.5).round().clamp(0, 255).to(torch.uint8)
