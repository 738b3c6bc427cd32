"""Judging generated digits with a classifier trained on real ones.

`digit-classifier` (shipped in checkpoints/evaluation/) is trained on the training split
of `digits` and reports its accuracy on the held-out split. For a set of generated
images it gives: the share it recognises confidently as some digit, how many of the ten
classes appear (mode collapse shows as missing classes), agreement with requested
labels, and a Frechet distance to real held-out digits in its own feature space.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from ..data.images import digits, split
from ..models.classifier import ConvClassifier
from ..paths import CHECKPOINTS

FOLDER = CHECKPOINTS / "evaluation" / "digit-classifier"
CONFIDENT = 0.9
NOT_A_DIGIT = 10  # an extra class, trained on near misses, so that the judge can say "no digit"


def _augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random shifts of up to 2 pixels and small scale changes: handwriting varies."""
    theta = torch.zeros(len(x), 2, 3)
    scale = 1 + (torch.rand(len(x), generator=gen) - 0.5) * 0.2
    theta[:, 0, 0] = theta[:, 1, 1] = scale
    theta[:, :, 2] = (torch.rand(len(x), 2, generator=gen) - 0.5) * 0.25
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, padding_mode="border", align_corners=False)


def near_misses(real: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Images that are not digits but share their statistics: noise, smoothed noise,
    digits cut in tiles and shuffled, and blank canvases."""
    n = len(real)
    kind = torch.randint(0, 4, (n,), generator=gen)
    noise = torch.rand(real.shape, generator=gen) * 2 - 1
    smooth = F.interpolate(F.avg_pool2d(noise, 4), size=real.shape[-2:], mode="bilinear", align_corners=False) * 2
    tiles = real.unfold(2, 8, 8).unfold(3, 8, 8).reshape(n, 1, 16, 8, 8)
    tiles = tiles[:, :, torch.randperm(16, generator=gen)].reshape(n, 1, 4, 4, 8, 8).permute(0, 1, 2, 4, 3, 5)
    shuffled = tiles.reshape(real.shape)
    blank = torch.full_like(real, -1.0) + torch.rand(real.shape, generator=gen) * 0.1
    options = torch.stack([noise, smooth.clamp(-1, 1), shuffled, blank])
    return options[kind, torch.arange(n)]


def train_classifier(epochs: int = 30, seed: int = 0, out: Path = FOLDER) -> dict[str, float]:
    """Train on the training split of `digits`; write weights and a card with held-out accuracy."""
    torch.manual_seed(seed)
    train, test = split(digits())
    model = ConvClassifier(classes=11)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=epochs * (len(train) // 64))
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        model.train()
        for batch in train.batches(64, gen):
            images, labels = batch["image"], batch["label"]
            misses = near_misses(images[:16], gen)
            images = torch.cat([images, misses])
            labels = torch.cat([labels, torch.full((len(misses),), NOT_A_DIGIT)])
            loss = F.cross_entropy(model(_augment(images, gen)), labels)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    model.eval()
    accuracy = _accuracy(model, test)
    out.mkdir(parents=True, exist_ok=True)
    save_file(model.state_dict(), out / "model.safetensors")
    metrics = {"heldout_accuracy": round(accuracy, 4), "heldout_images": len(test), "train_images": len(train)}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    return metrics


@torch.no_grad()
def _accuracy(model: ConvClassifier, data) -> float:
    logits = model(data.batch(torch.arange(len(data)))["image"])[:, :10]
    return (logits.argmax(1) == data.labels).float().mean().item()


@lru_cache(maxsize=1)
def classifier() -> ConvClassifier:
    model = ConvClassifier(classes=11)
    model.load_state_dict(load_file(FOLDER / "model.safetensors"))
    return model.eval()


@torch.no_grad()
def judge(images: torch.Tensor, labels: torch.Tensor | None = None) -> dict[str, float]:
    """Scores for images in [-1, 1] shaped (N, 1, 32, 32)."""
    probs = classifier()(images.float()).softmax(1)
    confidence, predicted = probs.max(1)
    confident = (confidence >= CONFIDENT) & (predicted != NOT_A_DIGIT)
    counts = torch.bincount(predicted[confident], minlength=10)[:10]
    out = {
        "confident_digits": confident.float().mean().item(),
        "classes_covered": float((counts > 0).sum().item()),
        "smallest_class_share": (counts.min() / counts.sum().clamp(min=1)).item(),
    }
    if labels is not None:
        right = (predicted == labels).float()
        out["label_accuracy"] = right.mean().item()
        out["worst_label_accuracy"] = min(right[labels == label].mean().item() for label in labels.unique())
    return out


@torch.no_grad()
def frechet_distance(images: torch.Tensor, reference: torch.Tensor | None = None) -> float:
    """Frechet distance between classifier features of `images` and of real held-out digits."""
    from torchmetrics.image.fid import FrechetInceptionDistance

    net = _Features(classifier())
    fid = FrechetInceptionDistance(feature=net, normalize=False, input_img_size=(1, 32, 32))
    if reference is None:
        test = split(digits())[1]
        reference = test.batch(torch.arange(len(test)))["image"]
    fid.update(reference.double(), real=True)
    fid.update(images.double(), real=False)
    return float(fid.compute())


class _Features(torch.nn.Module):
    """The classifier's penultimate layer, in the form torchmetrics' FID takes a feature network."""

    def __init__(self, model: ConvClassifier):
        super().__init__()
        self.model = model
        self.num_features = 128

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.features(x.float())
