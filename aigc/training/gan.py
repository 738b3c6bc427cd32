"""What the GAN kinds share in training (`dcgan`, `cgan`, `text2img`, `text2video`).

A generator and its discriminators, each with its own Adam at the DCGAN paper's betas; an
exponential moving average of the generator's weights, which is what samples; the weights a
resume needs beside it; and, for discriminators with attribute heads (AC-GAN), the loss of
those heads over the attributes each picture or clip names.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch.optim.swa_utils import AveragedModel

from .images import ema_average

BETAS = (0.5, 0.999)  # Radford et al., 2016


class GANParts:
    """A mixin for a `Task`: call `build_gan` once its networks are made."""

    #: attributes the discriminator also learns to name (attribute -> its values); none by default
    aux: dict[str, tuple[str, ...]] = {}
    #: words of an (empty) caption given to the attribute heads
    caption_length = 0
    #: samples generated at once
    chunk = 250

    def build_gan(self, generator: torch.nn.Module, discriminators: dict[str, torch.nn.Module], ema_decay: float,
                  resume_from: Path | None) -> None:
        """Load a resumed run's weights, make the optimizers and prepare everything. The
        discriminators are named as their weights files and optimizers are; one missing from a
        checkpoint (newer than the run) starts fresh."""
        ema = AveragedModel(generator, avg_fn=ema_average(ema_decay), use_buffers=True)
        if resume_from is not None:
            generator.load_state_dict(load_file(resume_from / "generator-raw.safetensors"))
            ema.load_state_dict(load_file(resume_from / "generator-ema.safetensors"))
            for name, network in discriminators.items():
                if (resume_from / f"{name}.safetensors").exists():
                    network.load_state_dict(load_file(resume_from / f"{name}.safetensors"))
        networks = {"generator": generator, **discriminators}
        optimizers = {name: torch.optim.Adam(network.parameters(), lr=self.config.lr, betas=BETAS)
                      for name, network in networks.items()}
        prepared = self.accelerator.prepare(*networks.values(), *optimizers.values())
        self.networks = dict(zip(networks, prepared[: len(networks)]))
        self.gan_optimizers = dict(zip(optimizers, prepared[len(networks):]))
        self.ema = ema.to(self.accelerator.device)
        self.parameters = sum(p.numel() for p in generator.parameters())

    @property
    def G(self) -> torch.nn.Module:
        return self.networks["generator"]

    @property
    def D(self) -> torch.nn.Module:
        return self.networks["discriminator"]

    @property
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return self.gan_optimizers

    def step_optimizer(self, name: str, loss: torch.Tensor) -> None:
        optimizer = self.gan_optimizers[name]
        optimizer.zero_grad(set_to_none=True)
        self.accelerator.backward(loss)
        optimizer.step()

    def update_ema(self) -> None:
        self.ema.update_parameters(self.accelerator.unwrap_model(self.G))

    @torch.no_grad()
    def generate(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """The EMA generator's samples for noise `z` (and conditions `cond`), on the CPU."""
        self.ema.eval()
        device = self.accelerator.device
        inputs = [z.split(self.chunk)] + ([cond.split(self.chunk)] if cond is not None else [])
        return torch.cat([self.ema(*(x.to(device) for x in part)).float().cpu() for part in zip(*inputs)])

    def save_gan(self, folder: Path, release: bool) -> None:
        """The EMA generator's weights; unless `release`, also what a resume needs."""
        state = self.ema.state_dict()
        weights = {k.removeprefix("module."): v.detach().cpu().contiguous()
                   for k, v in state.items() if k.startswith("module.")}
        save_file(weights, folder / "generator.safetensors")
        if not release:
            save_file({k: v.contiguous() for k, v in state.items()}, folder / "generator-ema.safetensors")
            for name, network in self.networks.items():
                save_file(self.accelerator.unwrap_model(network).state_dict(),
                          folder / f"{'generator-raw' if name == 'generator' else name}.safetensors")

    def attribute_loss(self, images: torch.Tensor, attrs: list[dict[str, str]] | None) -> torch.Tensor:
        """Cross-entropy of the discriminator's attribute heads, over the attributes each picture names."""
        loss = torch.zeros((), device=images.device)
        if not self.aux or not attrs:
            return loss
        nothing = torch.zeros(len(images), self.caption_length, dtype=torch.long, device=images.device)
        logits = self.accelerator.unwrap_model(self.D).attributes(images, nothing)
        for key, values in self.aux.items():
            pairs = [(i, values.index(a[key])) for i, a in enumerate(attrs) if a.get(key)]
            if pairs:
                rows, targets = zip(*pairs)
                targets = torch.tensor(targets, device=images.device)
                loss = loss + F.cross_entropy(logits[key][list(rows)].float(), targets)
        return loss
