"""Training step for `dcgan`: the seed tutorials' DCGAN, with the remedies small data needs.

On 1,797 digits a plain DCGAN collapses once its discriminator memorises the data. This
step keeps the tutorial's architecture and adds, each from the literature:
the paper's N(0, 0.02) initialisation, the non-saturating logistic loss (Goodfellow et al.,
2014), differentiable augmentation of real and fake images alike (translation and cutout;
Zhao et al., 2020), optionally spectral normalisation instead of batch norm in the
discriminator (Miyato et al., 2018), and an exponential moving
average of the generator's weights for sampling (Karras et al., 2018). The best
checkpoint is the one whose samples score best, not the last one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from ..models.dcgan import Discriminator, Generator
from .gan import GANParts
from .images import EVAL_SAMPLES, ImageTask, grid


def diff_augment(x: torch.Tensor, gen: torch.Generator | None = None, p: float = 1.0) -> torch.Tensor:
    """Random translation by up to 1/8 of the side (zero fill) and a cutout of half the side,
    each image augmented with probability `p`."""
    n, _, h, w = x.shape
    if p <= 0:
        return x
    shift = max(1, h // 8)
    dx = torch.randint(-shift, shift + 1, (n, 1, 1), generator=gen, device="cpu").to(x.device)
    dy = torch.randint(-shift, shift + 1, (n, 1, 1), generator=gen, device="cpu").to(x.device)
    ys = torch.arange(h, device=x.device).view(1, h, 1) - dy
    xs = torch.arange(w, device=x.device).view(1, 1, w) - dx
    inside = ((ys >= 0) & (ys < h) & (xs >= 0) & (xs < w)).unsqueeze(1)
    idx = (ys.clamp(0, h - 1) * w + xs.clamp(0, w - 1)).view(n, 1, h * w).expand(-1, x.shape[1], -1)
    background = -1.0  # images live in [-1, 1]; -1 is black
    shifted = x.flatten(2).gather(2, idx).view_as(x).where(inside, torch.full_like(x, background))
    cut = h // 2
    cy = torch.randint(0, h, (n, 1, 1), generator=gen, device="cpu").to(x.device)
    cx = torch.randint(0, w, (n, 1, 1), generator=gen, device="cpu").to(x.device)
    rows = torch.arange(h, device=x.device).view(1, h, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w)
    hole = ((rows - cy).abs() < cut // 2) & ((cols - cx).abs() < cut // 2)
    augmented = shifted.where(~hole.unsqueeze(1), torch.full_like(x, background))
    if p >= 1:
        return augmented
    chosen = (torch.rand(n, generator=gen, device="cpu") < p).to(x.device).view(n, 1, 1, 1)
    return augmented.where(chosen, x)


class DCGANTask(GANParts, ImageTask):
    kind = "dcgan"
    best_metric = "score"
    digit_judge = True

    def __init__(self, config, accelerator, resume_from: Path | None):
        super().__init__(config, accelerator, resume_from)
        sizes = config.model
        self.z_dim, self.width, self.augment_p = sizes.z_dim, sizes.width, sizes.augment_p
        torch.manual_seed(config.seed)
        generator = Generator(self.z_dim, self.channels, self.width)
        discriminator = Discriminator(self.channels, self.width, sizes.d_norm)
        self.build_gan(generator, {"discriminator": discriminator}, sizes.ema_decay, resume_from)
        self.aug_gen = torch.Generator().manual_seed(self.process_seed(config.seed + 17))
        self.fixed_z = torch.randn(EVAL_SAMPLES, self.z_dim, generator=torch.Generator().manual_seed(1234))

    def train_step(self, step: int) -> dict[str, float]:
        self.G.train()
        real = self.real_batch(step)
        z = torch.randn(len(real), self.z_dim, device=real.device)
        fake = self.G(z)
        with self.accelerator.autocast():
            d_real = self.D(diff_augment(real, self.aug_gen, self.augment_p))
            d_fake = self.D(diff_augment(fake.detach(), self.aug_gen, self.augment_p))
            d_loss = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
        self.step_optimizer("discriminator", d_loss)
        with self.accelerator.autocast():
            g_loss = F.softplus(-self.D(diff_augment(fake, self.aug_gen, self.augment_p))).mean()
        self.step_optimizer("generator", g_loss)
        self.update_ema()
        return {
            "g_loss": g_loss.item(), "d_loss": d_loss.item(),
            "d_real": torch.sigmoid(d_real).mean().item(), "d_fake": torch.sigmoid(d_fake).mean().item(),
        }

    def eval_images(self) -> torch.Tensor:
        return self.generate(self.fixed_z)

    def sample(self, step: int) -> dict[str, Any]:
        return {"image": grid(self.generate(self.fixed_z[:64]))}

    def save_model(self, folder: Path, release: bool = False) -> None:
        self.write_config(folder, z_dim=self.z_dim, width=self.width)
        self.save_gan(folder, release)
