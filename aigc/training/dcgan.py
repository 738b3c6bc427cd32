"""Training step for `dcgan`: the seed tutorials' DCGAN, with the remedies small data needs.

On 1,797 digits a plain DCGAN collapses once its discriminator memorises the data. This
step keeps the tutorial's architecture and adds, each from the literature:
non-saturating logistic loss (Goodfellow et al., 2014), spectral normalisation in the
discriminator (Miyato et al., 2018), differentiable augmentation of real and fake
images alike (translation and cutout; Zhao et al., 2020), and an exponential moving
average of the generator's weights for sampling (Karras et al., 2018). The best
checkpoint is the one whose samples score best, not the last one.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from torchvision.utils import make_grid

from ..data.images import load_images, split
from ..models.dcgan import Discriminator, Generator
from .trainer import Task

DEFAULTS = dict(steps=3000, batch_size=64, lr=2e-4, warmup=0, min_lr_ratio=1.0, eval_every=250, sample_every=250,
                checkpoint_every=500, precision="no")
MODEL_DEFAULTS = dict(z_dim=100, width=64, ema_decay=0.999)
EVAL_SAMPLES = 500


def diff_augment(x: torch.Tensor, gen: torch.Generator | None = None) -> torch.Tensor:
    """Random translation by up to 1/8 of the side (zero fill) and a cutout of half the side."""
    n, _, h, w = x.shape
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
    return shifted.where(~hole.unsqueeze(1), torch.full_like(x, background))


def epoch_steps(images: int, batch_size: int) -> int:
    return max(1, images // batch_size)


def training_images(dataset: str) -> int:
    data = load_images(dataset)
    return len(split(data)[0]) if dataset == "digits" else len(data)


class DCGANTask(Task):
    best_metric = "score"

    def __init__(self, config, accelerator, resume_from: Path | None):
        super().__init__(config, accelerator, resume_from)
        sizes = {**MODEL_DEFAULTS, **config.model}
        data = load_images(config.dataset)
        self.judged = config.dataset == "digits"
        self.train_set, self.test_set = split(data) if self.judged else (data, None)
        self.z_dim, self.width, self.channels = sizes["z_dim"], sizes["width"], data.channels
        torch.manual_seed(config.seed)
        generator = Generator(self.z_dim, self.channels, self.width)
        discriminator = Discriminator(self.channels, self.width)
        ema = AveragedModel(generator, multi_avg_fn=get_ema_multi_avg_fn(sizes["ema_decay"]), use_buffers=True)
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
        self.aug_gen = torch.Generator().manual_seed(config.seed + 17)
        self.fixed_z = torch.randn(EVAL_SAMPLES, self.z_dim, generator=torch.Generator().manual_seed(1234))
        self.steps_per_epoch = epoch_steps(len(self.train_set), config.batch_size)
        self.step = 0

    @property
    def optimizers(self):
        return {"generator": self.g_opt, "discriminator": self.d_opt}

    def real_batch(self, step: int) -> torch.Tensor:
        """Batch `step` of a shuffled epoch, a function of (seed, step) only, so resume sees the same data."""
        epoch, i = divmod(step, self.steps_per_epoch)
        order = torch.randperm(len(self.train_set), generator=torch.Generator().manual_seed(self.config.seed * 7919 + epoch))
        bs = self.config.batch_size
        return self.train_set.batch(order[i * bs : (i + 1) * bs])["image"].to(self.accelerator.device)

    def train_step(self, step: int) -> dict[str, float]:
        self.step = step + 1
        self.G.train()
        real = self.real_batch(step)
        z = torch.randn(len(real), self.z_dim, device=real.device)
        fake = self.G(z)
        with self.accelerator.autocast():
            d_real = self.D(diff_augment(real, self.aug_gen))
            d_fake = self.D(diff_augment(fake.detach(), self.aug_gen))
            d_loss = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
        self.d_opt.zero_grad(set_to_none=True)
        self.accelerator.backward(d_loss)
        self.d_opt.step()
        with self.accelerator.autocast():
            g_loss = F.softplus(-self.D(diff_augment(fake, self.aug_gen))).mean()
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

    def evaluate(self) -> dict[str, float]:
        if not self.judged:  # no judge for this data: the newest weights count as the best
            return {"score": -float(self.step)}
        from ..evaluation.digits import frechet_distance, judge

        images = self.generate(self.fixed_z)
        scores = judge(images)
        fd = frechet_distance(images)
        # Lower is better: the Frechet distance, with a penalty for every class that is missing.
        return {"score": fd * (1 + 0.5 * (10 - scores["classes_covered"])), "frechet_distance": fd, **scores}

    def sample(self, step: int) -> dict[str, Any]:
        grid = make_grid(self.generate(self.fixed_z[:64]), nrow=8, normalize=True, value_range=(-1, 1), pad_value=0.3)
        return {"image": grid}

    def save_model(self, folder: Path, release: bool = False) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        ema = {k.removeprefix("module."): v.detach().cpu().contiguous() for k, v in self.ema.state_dict().items()
               if k.startswith("module.")}
        save_file(ema, folder / "generator.safetensors")
        config = {"kind": "dcgan", "z_dim": self.z_dim, "channels": self.channels, "width": self.width, "size": 32}
        (folder / "config.json").write_text(json.dumps(config, indent=2))
        if not release:  # what a resume needs beyond the sampling weights
            save_file({k: v.contiguous() for k, v in self.ema.state_dict().items()}, folder / "generator-ema.safetensors")
            save_file(self.accelerator.unwrap_model(self.G).state_dict(), folder / "generator-raw.safetensors")
            save_file(self.accelerator.unwrap_model(self.D).state_dict(), folder / "discriminator.safetensors")

    def model_card(self, stats: dict[str, Any]) -> str:
        from ..cards import render_card

        cfg, metrics = self.config, stats["metrics"]
        meta = {
            "name": stats["name"], "task": "image", "kind": "dcgan", "dataset": cfg.dataset,
            "parameters": self.parameters, "steps": stats["step"], "batch_size": cfg.batch_size, "lr": cfg.lr,
            "training_seconds": stats["training_seconds"], "hardware": stats["hardware"],
            "precision": stats["precision"], "seed": cfg.seed,
            "metrics": {k: round(v, 4) for k, v in metrics.items() if math.isfinite(v)},
            "command": cfg.command,
        }
        return render_card(meta)
