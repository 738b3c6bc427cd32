"""Judging generated `shapes` images: does the picture show what its caption asked for?

Color and position are read from the pixels: the background is the median of the border,
the foreground is every pixel far from it; the color is the palette color most foreground
pixels are closest to, the position the grid point nearest the foreground's centroid.
The shape is named by `shape-classifier` (shipped in checkpoints/evaluation/), a small CNN
trained on rendered shapes that the generators never saw (other seeds), with a fifth class,
"no shape", for noise, blank canvases and shuffled tiles.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from ..data.shapes import COLORS, POSITIONS, SHAPES, render
from ..models.classifier import ConvClassifier
from ..paths import CHECKPOINTS

FOLDER = CHECKPOINTS / "evaluation" / "shape-classifier"
NO_SHAPE = len(SHAPES)
FOREGROUND = 0.25  # distance from the background color (RGB in [0, 1]) that makes a pixel foreground
PALETTE = torch.tensor(list(COLORS.values()), dtype=torch.float32) / 255
GRID = torch.tensor(list(POSITIONS.values()), dtype=torch.float32)
TRAIN_SEED, TEST_SEED = 101, 102  # the generators' training pool is seed 0


def _to_unit(images: torch.Tensor) -> torch.Tensor:
    return (images.float().clamp(-1, 1) + 1) / 2


def foreground(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Images in [-1, 1] (N, 3, H, W) -> (pixels in [0, 1], foreground mask (N, H, W))."""
    x = _to_unit(images)
    border = torch.cat([x[:, :, 0], x[:, :, -1], x[:, :, :, 0], x[:, :, :, -1]], 2)  # (N, 3, 4H)
    background = border.median(2).values[:, :, None, None]
    return x, (x - background).norm(dim=1) > FOREGROUND


def colors_and_positions(images: torch.Tensor) -> tuple[list[str | None], list[str | None]]:
    x, mask = foreground(images)
    names, places = list(COLORS), list(POSITIONS)
    colors, positions = [], []
    n, _, h, w = x.shape
    ys, xs = torch.meshgrid((torch.arange(h) + 0.5) / h, (torch.arange(w) + 0.5) / w, indexing="ij")
    for i in range(n):
        m = mask[i]
        if m.sum() < 4:  # nothing drawn
            colors.append(None)
            positions.append(None)
            continue
        pixels = x[i].permute(1, 2, 0)[m]  # (K, 3)
        nearest = torch.cdist(pixels, PALETTE).argmin(1)
        colors.append(names[int(torch.bincount(nearest, minlength=len(names)).argmax())])
        centroid = torch.stack([xs[m].mean(), ys[m].mean()])
        positions.append(places[int((GRID - centroid).norm(dim=1).argmin())])
    return colors, positions


@lru_cache(maxsize=1)
def classifier() -> ConvClassifier:
    model = ConvClassifier(channels=3, classes=len(SHAPES) + 1)
    model.load_state_dict(load_file(FOLDER / "model.safetensors"))
    return model.eval()


@torch.no_grad()
def shapes_of(images: torch.Tensor) -> list[str | None]:
    predicted = torch.cat([classifier()(chunk.float()).argmax(1) for chunk in images.split(500)])
    return [None if p == NO_SHAPE else SHAPES[p] for p in predicted.tolist()]


def judge(images: torch.Tensor, requested: list[dict[str, str]]) -> dict[str, float]:
    """For each attribute, the share of images that show it among those whose caption named it."""
    colors, positions = colors_and_positions(images)
    found = {"color": colors, "position": positions, "shape": shapes_of(images)}
    out = {}
    for attr, seen in found.items():
        asked = [(want[attr], got) for want, got in zip(requested, seen) if want.get(attr)]
        if asked:
            out[f"{attr}_accuracy"] = sum(w == g for w, g in asked) / len(asked)
    out["no_shape"] = sum(s is None for s in found["shape"]) / max(1, len(images))
    return out


def near_misses(real: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Not shapes, with the statistics of shapes: noise, smoothed noise, a blank background,
    and images cut in 8x8 tiles and shuffled."""
    n, c, h, w = real.shape
    kind = torch.randint(0, 4, (n,), generator=gen)
    noise = torch.rand(real.shape, generator=gen) * 2 - 1
    smooth = F.interpolate(F.avg_pool2d(noise, 4), size=(h, w), mode="bilinear", align_corners=False).mul(2).clamp(-1, 1)
    blank = real[:, :, :1, :1].expand_as(real).clone()
    tiles = real.unfold(2, 8, 8).unfold(3, 8, 8)  # (n, c, 4, 4, 8, 8)
    tiles = tiles.reshape(n, c, 16, 8, 8)[:, :, torch.randperm(16, generator=gen)]
    shuffled = tiles.reshape(n, c, 4, 4, 8, 8).permute(0, 1, 2, 4, 3, 5).reshape(real.shape)
    return torch.stack([noise, smooth, blank, shuffled])[kind, torch.arange(n)]


def _rendered(count: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, list[dict[str, str]]]:
    images, attributes = render(count, size=32, seed=seed)
    labels = torch.tensor([SHAPES.index(a["shape"]) for a in attributes])
    return images.float() / 127.5 - 1, labels, attributes


def train_classifier(images: int = 12_000, epochs: int = 6, seed: int = 0, out: Path = FOLDER) -> dict[str, float]:
    """Train on rendered shapes (seed 101) with blur and noise, so that soft generated edges
    do not fool it; write weights and metrics measured on other rendered shapes (seed 102)."""
    torch.manual_seed(seed)
    x, y, _ = _rendered(images, TRAIN_SEED)
    model = ConvClassifier(channels=3, classes=len(SHAPES) + 1)
    steps = epochs * (len(x) // 64)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps)
    gen = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=gen)
        for start in range(0, len(x) - 63, 64):
            idx = order[start : start + 64]
            images_, labels = x[idx], y[idx]
            misses = near_misses(images_[:12], gen)
            batch = torch.cat([images_, misses])
            blur = torch.rand(len(batch), 1, 1, 1, generator=gen) < 0.5
            soft = F.avg_pool2d(batch, 3, stride=1, padding=1, count_include_pad=False)
            batch = torch.where(blur, soft, batch) + torch.randn(batch.shape, generator=gen) * 0.05
            labels = torch.cat([labels, torch.full((len(misses),), NO_SHAPE)])
            loss = F.cross_entropy(model(batch), labels)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    model.eval()
    test_x, test_y, test_attrs = _rendered(2000, TEST_SEED)
    with torch.no_grad():
        accuracy = (model(test_x).argmax(1) == test_y).float().mean().item()
    out.mkdir(parents=True, exist_ok=True)
    save_file(model.state_dict(), out / "model.safetensors")
    classifier.cache_clear()
    real = judge(test_x, test_attrs)
    metrics = {"heldout_shape_accuracy": round(accuracy, 4), "heldout_images": len(test_x), "train_images": len(x),
               **{f"real_{k}": round(v, 4) for k, v in real.items()}}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    return metrics
