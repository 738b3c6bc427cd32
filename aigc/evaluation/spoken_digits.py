"""Judging generated spoken digits with a classifier that has heard none of the generators' voices.

`spoken-digit-classifier` (checkpoints/evaluation/) learns from the "judge" voices of `spoken-digits`
and reports its accuracy on the "test" voices, which neither it nor any generator has heard, and on the
"train" voices the generators learn from. For generated clips it says how often it hears the digit
that was asked for, and how often it hears a digit at all (an eleventh class, *not a digit*, is learned
from near misses: noise, silence, words played backwards, real clips cut in pieces and shuffled).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from ..data.audio import RATE, SECONDS, log_mel, spoken_digits
from ..models.classifier import ConvClassifier
from ..paths import CHECKPOINTS

FOLDER = CHECKPOINTS / "evaluation" / "spoken-digit-classifier"
NOT_A_DIGIT = 10
CONFIDENT = 0.9
MEL_CENTER, MEL_SCALE = -6.0, 4.0  # log-mel values of these clips lie roughly in [-11.5, 2]


def features(audio: torch.Tensor) -> torch.Tensor:
    """(N, samples) -> (N, 1, mels, frames), roughly centred and scaled."""
    return ((log_mel(audio) - MEL_CENTER) / MEL_SCALE).unsqueeze(1)


def _augment(audio: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Voices vary: play each clip 0.85-1.15x as fast (pitch moves with it), shift it in time, change its
    level and add a little noise."""
    n, length = audio.shape
    out = torch.zeros_like(audio)
    for i in range(n):
        rate = 0.85 + 0.3 * torch.rand((), generator=gen).item()
        stretched = F.interpolate(audio[i].view(1, 1, -1), scale_factor=1 / rate, mode="linear").view(-1)
        shift = int(torch.randint(-400, 800, (), generator=gen))
        start = max(0, shift)
        piece = stretched[max(0, -shift): max(0, -shift) + length - start]
        out[i, start:start + len(piece)] = piece
    gain = 0.4 + 0.6 * torch.rand(n, 1, generator=gen)
    noise = torch.randn(out.shape, generator=gen) * 10 ** (-2 - 1.5 * torch.rand(n, 1, generator=gen))
    return out * gain + noise


def near_misses(real: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Clips that are not a digit word but sound like these clips: noise, silence, words backwards,
    and words cut in 50 ms pieces and shuffled."""
    n, length = real.shape
    kind = torch.randint(0, 4, (n,), generator=gen)
    noise = torch.randn(real.shape, generator=gen) * 0.2 * torch.rand(n, 1, generator=gen)
    silence = torch.randn(real.shape, generator=gen) * 1e-3
    backwards = real.flip(1).roll(-length // 2, 1)
    pieces = real.view(n, -1, 400)
    shuffled = pieces[:, torch.randperm(pieces.shape[1], generator=gen)].reshape(n, length)
    return torch.stack([noise, silence, backwards, shuffled])[kind, torch.arange(n)]


def train_classifier(epochs: int = 30, seed: int = 0, out: Path = FOLDER) -> dict[str, float]:
    """Train on the judge voices; write weights and the figures of its card."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    data = spoken_digits("judge")
    model = ConvClassifier(classes=NOT_A_DIGIT + 1)
    steps = epochs * (len(data) // 64)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps)
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(data), generator=gen)
        for start in range(0, len(order) - 63, 64):
            index = order[start:start + 64]
            audio, labels = data.audio[index], data.digit[index]
            misses = near_misses(audio[:12], gen)
            audio = torch.cat([audio, misses])
            labels = torch.cat([labels, torch.full((len(misses),), NOT_A_DIGIT)])
            x = features(_augment(audio, gen))
            x[..., int(torch.randint(0, 56, ())):][..., :8, :] *= 0  # hide a band of mels (SpecAugment)
            loss = F.cross_entropy(model(x), labels, label_smoothing=0.05)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    model.eval()
    metrics = {f"{split}_accuracy": round(_accuracy(model, spoken_digits(split)), 4) for split in ("test", "train")}
    metrics.update(judge_clips=len(data), test_clips=len(spoken_digits("test")))
    out.mkdir(parents=True, exist_ok=True)
    save_file(model.state_dict(), out / "model.safetensors")
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    return metrics


@torch.no_grad()
def _accuracy(model: ConvClassifier, clips) -> float:
    return (model(features(clips.audio))[:, :NOT_A_DIGIT].argmax(1) == clips.digit).float().mean().item()


@lru_cache(maxsize=1)
def classifier() -> ConvClassifier:
    model = ConvClassifier(classes=NOT_A_DIGIT + 1)
    model.load_state_dict(load_file(FOLDER / "model.safetensors"))
    return model.eval()


@torch.no_grad()
def judge(audio: torch.Tensor, digits: torch.Tensor | None = None) -> dict[str, float]:
    """Scores for clips (N, samples) at this project's rate, in [-1, 1]: the share heard confidently as
    some digit, and, given the digits asked for, the share heard as that digit and the worst digit's share."""
    audio = audio.float()
    if audio.shape[-1] != RATE * SECONDS:
        audio = F.pad(audio, (0, max(0, RATE * SECONDS - audio.shape[-1])))[..., :RATE * SECONDS]
    probs = classifier()(features(audio)).softmax(1)
    confidence, heard = probs.max(1)
    out = {"confident_digits": ((confidence >= CONFIDENT) & (heard != NOT_A_DIGIT)).float().mean().item()}
    if digits is not None:
        right = (heard == digits).float()
        out["digit_accuracy"] = right.mean().item()
        out["worst_digit_accuracy"] = min(right[digits == d].mean().item() for d in digits.unique())
    return out
