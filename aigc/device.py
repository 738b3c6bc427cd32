"""Where models run and how randomness is pinned down."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from . import compat


def best_device() -> torch.device:
    """CUDA, then Apple's mps, then the CPU; `AIGC_DEVICE` overrides the choice."""
    forced = os.environ.get("AIGC_DEVICE")
    if forced:
        return torch.device(forced)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def inference_dtype(device: torch.device) -> torch.dtype:
    """Half precision where the hardware is built for it; float32 on the CPU, where small
    models are latency-bound and bf16 would only add casts."""
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "mps":
        return torch.float16
    return torch.float32


def training_precision(device: torch.device) -> str:
    """accelerate's `mixed_precision` for a device: bf16 autocast where it is native
    (recent GPUs, and CPUs whose oneDNN runs bf16: see `compat.cpu_has_fast_bf16`)."""
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if device.type == "cpu" and compat.cpu_has_fast_bf16():
        return "bf16"
    return "no"


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch, and return a torch generator seeded the same way."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def random_seed() -> int:
    return random.SystemRandom().randrange(2**31)
