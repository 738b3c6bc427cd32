"""Training step for `vae`: the convolutional VAE, judged by its held-out loss (negative ELBO)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from ..models.vae import VAE, vae_loss
from .images import EVAL_SAMPLES, ImageTask, grid


class VAETask(ImageTask):
    kind = "vae"

    def __init__(self, config, accelerator, resume_from: Path | None):
        super().__init__(config, accelerator, resume_from)
        sizes = config.model
        self.latent, self.width, self.sigma, self.beta = sizes.latent, sizes.width, sizes.sigma, sizes.beta
        torch.manual_seed(config.seed)
        model = VAE(self.channels, self.latent, self.width)
        if resume_from is not None:
            model.load_state_dict(load_file(resume_from / "vae.safetensors"))
        opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        self.model, self.opt = accelerator.prepare(model, opt)
        self.parameters = sum(p.numel() for p in model.parameters())
        self.noise = torch.Generator().manual_seed(self.process_seed(config.seed + 31))
        self.fixed_z = torch.randn(EVAL_SAMPLES, self.latent, generator=torch.Generator().manual_seed(1234))
        held_out = self.test_set if self.test_set is not None else self.train_set
        self.held_out = held_out.batch(torch.arange(min(len(held_out), 512)))["image"]
        # Data without a held-out split is scored on training images, and its figures say so.
        self.split_name = "val" if self.test_set is not None else "train"
        self.best_metric = f"{self.split_name}_loss"

    @property
    def optimizers(self):
        return {"model": self.opt}

    def train_step(self, step: int) -> dict[str, float]:
        self.model.train()
        x = self.real_batch(step)
        with self.accelerator.autocast():
            recon, mean, log_var = self.model(x, generator=self.noise)
            loss, rec, kl = vae_loss(recon.float(), x, mean.float(), log_var.float(), self.sigma, self.beta)
        self.opt.zero_grad(set_to_none=True)
        self.accelerator.backward(loss)
        self.opt.step()
        return {"loss": loss.item(), "reconstruction": rec.item(), "kl": kl.item()}

    @property
    def vae(self) -> VAE:
        return self.accelerator.unwrap_model(self.model)

    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        vae = self.vae.eval()
        x = self.held_out.to(self.accelerator.device)
        recon, mean, log_var = vae(x, generator=torch.Generator().manual_seed(0))
        loss, rec, kl = vae_loss(recon.float(), x, mean.float(), log_var.float(), self.sigma, self.beta)
        name = self.split_name
        out = {f"{name}_loss": loss.item(), f"{name}_reconstruction": rec.item(), f"{name}_kl": kl.item()}
        if self.judged:
            out.update(self.digit_scores(self.generate(self.fixed_z)))
        return out

    @torch.no_grad()
    def generate(self, z: torch.Tensor) -> torch.Tensor:
        return self.vae.eval().decode(z.to(self.accelerator.device)).float().cpu()

    def sample(self, step: int) -> dict[str, Any]:
        return {"image": grid(self.generate(self.fixed_z[:64]))}

    def save_model(self, folder: Path, release: bool = False) -> None:
        self.write_config(folder, latent=self.latent, width=self.width, sigma=self.sigma, beta=self.beta)
        save_file({k: v.detach().cpu().contiguous() for k, v in self.vae.state_dict().items()}, folder / "vae.safetensors")
