"""Seeded noise, and a conditional generator's outputs from it: one rule for every caller.

Sample i of seed s is drawn from seed s + i, on the CPU, so any one sample can be made again
alone, on any device, and a judge in `aigc.evaluation` scores exactly what a pipeline draws for
the same seed. The pipelines, the evaluation and the model cards' sample sheets all draw through here.
"""

from __future__ import annotations

import torch
from torch import nn


def generators(seed: int, n: int) -> list[torch.Generator]:
    """One CPU generator per sample: sample i from seed + i (a latent walk from seed s starts at
    the first sample of seed s)."""
    return [torch.Generator().manual_seed((seed + i) % 2**63) for i in range(n)]


def latents(seed: int, n: int, dim: int) -> torch.Tensor:
    """(n, dim) standard normal noise, row i from seed + i."""
    return torch.stack([torch.randn(dim, generator=g) for g in generators(seed, n)])


@torch.inference_mode()
def conditioned(net: nn.Module, z_dim: int, conditions: torch.Tensor, seed: int) -> torch.Tensor:
    """A conditional generator's outputs (float, on the CPU), one per row of `conditions` (label
    ids or caption word ids), row i from the noise of seed + i."""
    device = next(net.parameters()).device
    return net(latents(seed, len(conditions), z_dim).to(device), conditions.to(device)).float().cpu()
