"""DCGAN (Radford, Metz and Chintala, 2016) at 32x32, as the seed tutorials build it.

Generator: noise (z_dim x 1 x 1) -> 256 x 4 x 4 -> 128 x 8 x 8 -> 64 x 16 x 16 -> C x 32 x 32
with transposed convolutions, batch norm, ReLU and a tanh output. Discriminator: strided
convolutions with LeakyReLU, mirrored. `spectral=True` wraps the discriminator's layers in
spectral normalisation (Miyato et al., 2018), which keeps it from winning outright on a
dataset as small as `digits`.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


class Generator(nn.Module):
    def __init__(self, z_dim: int = 100, channels: int = 1, width: int = 64):
        super().__init__()
        self.z_dim = z_dim
        w = width

        def up(cin: int, cout: int, stride: int = 2, padding: int = 1) -> list[nn.Module]:
            return [nn.ConvTranspose2d(cin, cout, 4, stride, padding, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True)]

        self.net = nn.Sequential(
            *up(z_dim, w * 4, stride=1, padding=0),  # 4x4
            *up(w * 4, w * 2),  # 8x8
            *up(w * 2, w),  # 16x16
            nn.ConvTranspose2d(w, channels, 4, 2, 1),  # 32x32
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.view(len(z), self.z_dim, 1, 1))


class Discriminator(nn.Module):
    def __init__(self, channels: int = 1, width: int = 64, spectral: bool = True):
        super().__init__()
        norm = spectral_norm if spectral else (lambda m: m)
        w = width
        self.net = nn.Sequential(
            norm(nn.Conv2d(channels, w, 4, 2, 1)), nn.LeakyReLU(0.2, True),  # 16x16
            norm(nn.Conv2d(w, w * 2, 4, 2, 1)), nn.LeakyReLU(0.2, True),  # 8x8
            norm(nn.Conv2d(w * 2, w * 4, 4, 2, 1)), nn.LeakyReLU(0.2, True),  # 4x4
            norm(nn.Conv2d(w * 4, 1, 4, 1, 0)),  # one logit
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten()
