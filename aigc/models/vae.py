"""A convolutional variational autoencoder (Kingma and Welling, 2014) for 32x32 images.

Encoder: strided convolutions to a mean and a log-variance; a sample is drawn with the
reparameterisation trick; the decoder mirrors the encoder with transposed convolutions.
"""

from __future__ import annotations

import torch
from torch import nn


class VAE(nn.Module):
    def __init__(self, channels: int = 1, latent: int = 16, width: int = 32):
        super().__init__()
        self.latent = latent
        w = width
        self.encoder = nn.Sequential(
            nn.Conv2d(channels, w, 4, 2, 1), nn.BatchNorm2d(w), nn.LeakyReLU(0.2, True),  # 16x16
            nn.Conv2d(w, w * 2, 4, 2, 1), nn.BatchNorm2d(w * 2), nn.LeakyReLU(0.2, True),  # 8x8
            nn.Conv2d(w * 2, w * 4, 4, 2, 1), nn.BatchNorm2d(w * 4), nn.LeakyReLU(0.2, True),  # 4x4
            nn.Flatten(),
        )
        self.to_stats = nn.Linear(w * 4 * 16, 2 * latent)
        self.from_latent = nn.Linear(latent, w * 4 * 16)
        self.decoder = nn.Sequential(
            nn.Unflatten(1, (w * 4, 4, 4)),
            nn.ConvTranspose2d(w * 4, w * 2, 4, 2, 1), nn.BatchNorm2d(w * 2), nn.ReLU(True),  # 8x8
            nn.ConvTranspose2d(w * 2, w, 4, 2, 1), nn.BatchNorm2d(w), nn.ReLU(True),  # 16x16
            nn.ConvTranspose2d(w, channels, 4, 2, 1), nn.Tanh(),  # 32x32
        )

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, log_var = self.to_stats(self.encoder(x)).chunk(2, dim=1)
        return mean, log_var.clamp(-10, 10)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.from_latent(z))

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None):
        mean, log_var = self.encode(x)
        eps = torch.randn(mean.shape, generator=generator, device="cpu").to(mean.device)
        z = mean + eps * (0.5 * log_var).exp()  # the reparameterisation trick
        return self.decode(z), mean, log_var


def vae_loss(recon: torch.Tensor, x: torch.Tensor, mean: torch.Tensor, log_var: torch.Tensor,
             sigma: float = 0.2, beta: float = 1.0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Negative ELBO per image (up to a constant): a Gaussian likelihood of the pixels in
    [-1, 1] with fixed standard deviation `sigma`, plus beta times the KL divergence to N(0, I).
    A smaller sigma weighs reconstruction more: sharper images, a less regular latent space."""
    reconstruction = ((recon - x) ** 2).flatten(1).sum(1).mean() / (2 * sigma**2)
    kl = (-0.5 * (1 + log_var - mean**2 - log_var.exp())).sum(1).mean()
    return reconstruction + beta * kl, reconstruction, kl
