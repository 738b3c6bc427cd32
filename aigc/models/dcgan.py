"""DCGAN (Radford, Metz and Chintala, 2016) at 32x32, as the seed tutorials build it.

Generator: noise (z_dim x 1 x 1) -> 256 x 4 x 4 -> 128 x 8 x 8 -> 64 x 16 x 16 -> C x 32 x 32
with transposed convolutions, batch norm, ReLU and a tanh output. Discriminator: strided
convolutions with LeakyReLU, mirrored. Weights start as the paper prescribes.
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
        self.net.apply(dcgan_init)
        self.net.apply(dcgan_init_norms)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.view(len(z), self.z_dim, 1, 1))


class Discriminator(nn.Module):
    """`norm="batch"` is the tutorials' discriminator (batch norm after every inner convolution);
    `norm="spectral"` wraps every convolution in spectral normalisation instead (Miyato et al., 2018)."""

    def __init__(self, channels: int = 1, width: int = 64, norm: str = "batch"):
        super().__init__()
        if norm not in ("batch", "spectral"):
            raise ValueError(f"norm must be 'batch' or 'spectral', not {norm!r}")
        w = width
        convs = [nn.Conv2d(channels, w, 4, 2, 1), nn.Conv2d(w, w * 2, 4, 2, 1), nn.Conv2d(w * 2, w * 4, 4, 2, 1),
                 nn.Conv2d(w * 4, 1, 4, 1, 0)]  # 16x16, 8x8, 4x4, one logit
        for conv in convs:
            dcgan_init(conv)
        layers: list[nn.Module] = []
        for i, conv in enumerate(convs[:-1]):
            layers.append(spectral_norm(conv) if norm == "spectral" else conv)
            if norm == "batch" and i > 0:  # not on the input layer (Radford et al.)
                layers.append(nn.BatchNorm2d(conv.out_channels))
            layers.append(nn.LeakyReLU(0.2, True))
        layers.append(spectral_norm(convs[-1]) if norm == "spectral" else convs[-1])
        self.net = nn.Sequential(*layers)
        self.net.apply(dcgan_init_norms)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten()


def dcgan_init(module: nn.Module) -> None:
    """Radford et al.: every convolution's weights from N(0, 0.02). Without it, PyTorch's default
    initialisation lets the discriminator win within a hundred steps on `digits`."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)


def dcgan_init_norms(module: nn.Module) -> None:
    """Batch-norm scales from N(1, 0.02), shifts at zero (Radford et al.)."""
    if isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)
