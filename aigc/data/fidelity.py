"""How close a picture is to the one it should be: PSNR and SSIM, for pictures in [0, 1]. The Edit
image tab shows them after "damage it first"; `aigc.evaluation.edit` judges the tools with them."""

from __future__ import annotations

import numpy as np
import torch


def psnr(a: np.ndarray | torch.Tensor, b: np.ndarray | torch.Tensor, where: np.ndarray | None = None) -> float:
    """Peak signal-to-noise ratio in dB of pictures in [0, 1], over the pixels of `where` (H, W) if given."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    error = (np.clip(a, 0, 1) - b) ** 2
    mse = error[where].mean() if where is not None else error.mean()
    return float(10 * np.log10(1.0 / max(mse, 1e-12)))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Structural similarity of two (H, W, 3) pictures in [0, 1] (torchmetrics, Gaussian window)."""
    from torchmetrics.functional.image import structural_similarity_index_measure

    def tensor(x):
        return torch.from_numpy(np.clip(np.asarray(x, dtype=np.float32), 0, 1)).permute(2, 0, 1)[None]

    return float(structural_similarity_index_measure(tensor(a), tensor(b), data_range=1.0))
