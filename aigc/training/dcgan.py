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
from safetensors.torch import load_file, save_file
from torch.optim.swa_utils import AveragedModel

from ..models.dcgan import Discriminator, Generator
from .images import EVAL_SAMPLES, ImageTask, ema_average, grid

DEFAULTS = dict(steps=3000, batch_size=64, lr=2e-4, warmup=0, min_lr_ratio=1.0, eval_every=250, sample_every=250,
                checkpoint_every=500, precision="no")
MODEL_DEFAULTS = dict(z_dim=100, width=64, ema_decay=0.999, d_norm="batch", augment_p=0.5)


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


class DCGANTask(ImageTask):
    kind = "dcgan"
    best_metric = "score"
    digit_judge = True

    def __init__(self, config, accelerator, resume_from: Path | None):
        super().__init__(config, accelerator, resume_from)
        sizes = {**MODEL_DEFAULTS, **config.model}
        self.z_dim, self.width, self.augment_p = sizes["z_dim"], sizes["width"], sizes["augment_p"]
        torch.manual_seed(config.seed)
        generator = Generator(self.z_dim, self.channels, self.width)
        discriminator = Discriminator(self.channels, self.width, sizes["d_norm"])
        ema = AveragedModel(generator, avg_fn=ema_average(sizes["ema_decay"]), use_buffers=True)
        if resume_from is not None:
            generator.load_state_dict(load_file(resume_from / "generator-raw.safetensors"))
            discriminator.load_state_dict(load_file(resume_from / "discriminator.safetensors"))
            ema.load_state_dict(load_file(resume_from / "generator-ema.safetensors"))
        betas = (0.5, 0.999)  # Radford et al., 2016
        g_opt = torch.optim.Adam(generator.parameters(), lr=config.lr, betas=betas)
        d_opt = torch.optim.Adam(discriminator.parameters(), lr=config.lr, betas=betas)
        self.G, self.D, self.g_opt, self.d_opt = accelerator.prepare(generator, discriminator, g_opt, d_opt)
        self.ema = ema.to(accelerator.device)
        self.parameters = sum(p.numel() for p in generator.parameters())
        self.aug_gen = torch.Generator().manual_seed(self.process_seed(config.seed + 17))
        self.fixed_z = torch.randn(EVAL_SAMPLES, self.z_dim, generator=torch.Generator().manual_seed(1234))

    @property
    def optimizers(self):
        return {"generator": self.g_opt, "discriminator": self.d_opt}

    def train_step(self, step: int) -> dict[str, float]:
        self.G.train()
        real = self.real_batch(step)
        z = torch.randn(len(real), self.z_dim, device=real.device)
        fake = self.G(z)
        with self.accelerator.autocast():
            d_real = self.D(diff_augment(real, self.aug_gen, self.augment_p))
            d_fake = self.D(diff_augment(fake.detach(), self.aug_gen, self.augment_p))
            d_loss = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
        self.d_opt.zero_grad(set_to_none=True)
        self.accelerator.backward(d_loss)
        self.d_opt.step()
        with self.accelerator.autocast():
            g_loss = F.softplus(-self.D(diff_augment(fake, self.aug_gen, self.augment_p))).mean()
        self.g_opt.zero_grad(set_to_none=True)
        self.accelerator.backward(g_loss)
        self.g_opt.step()
        self.ema.update_parameters(self.accelerator.unwrap_model(self.G))
        return {
            "g_loss": g_loss.item(), "d_loss": d_loss.item(),
            "d_real": torch.sigmoid(d_real).mean().item(), "d_fake": torch.sigmoid(d_fake).mean().item(),
        }

    @torch.no_grad()
    def generate(self, z: torch.Tensor) -> torch.Tensor:
        self.ema.eval()
        return torch.cat([self.ema(chunk.to(self.accelerator.device)).float().cpu() for chunk in z.split(250)])

    def eval_images(self) -> torch.Tensor:
        return self.generate(self.fixed_z)

    def sample(self, step: int) -> dict[str, Any]:
        return {"image": grid(self.generate(self.fixed_z[:64]))}

    def save_model(self, folder: Path, release: bool = False) -> None:
        self.write_config(folder, z_dim=self.z_dim, width=self.width)
        ema = {k.removeprefix("module."): v.detach().cpu().contiguous() for k, v in self.ema.state_dict().items()
               if k.startswith("module.")}
        save_file(ema, folder / "generator.safetensors")
        if not release:  # what a resume needs beyond the sampling weights
            save_file({k: v.contiguous() for k, v in self.ema.state_dict().items()}, folder / "generator-ema.safetensors")
            save_file(self.accelerator.unwrap_model(self.G).state_dict(), folder / "generator-raw.safetensors")
            save_file(self.accelerator.unwrap_model(self.D).state_dict(), folder / "discriminator.safetensors")
