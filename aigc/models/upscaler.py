"""A sub-pixel convolutional upscaler (ESPCN, Shi et al. 2016): every convolution runs at the small
picture's size and the last one writes the r x r sub-pixels of each pixel, which a pixel shuffle lays
out. It learns what bicubic interpolation misses (the residual over bicubic, as VDSR does, Kim et al.
2016), so it starts as bicubic and can only improve on it as it trains."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class Upscaler(nn.Module):
    """(N, 3, h, w) pictures in [0, 1] -> (N, 3, scale*h, scale*w)."""

    def __init__(self, scale: int = 2, width: int = 48, layers: int = 3):
        super().__init__()
        self.scale = scale
        self.settings = {"scale": scale, "width": width, "layers": layers}
        body = [nn.Conv2d(3, width, 5, padding=2), nn.Tanh()]  # tanh as in ESPCN
        for _ in range(layers - 1):
            body += [nn.Conv2d(width, width, 3, padding=1), nn.Tanh()]
        self.body = nn.Sequential(*body)
        self.tail = nn.Conv2d(width, 3 * scale * scale, 3, padding=1)
        nn.init.zeros_(self.tail.weight)
        nn.init.zeros_(self.tail.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        base = F.interpolate(x, scale_factor=self.scale, mode="bicubic", align_corners=False)
        return base + F.pixel_shuffle(self.tail(self.body(x * 2 - 1)), self.scale)

