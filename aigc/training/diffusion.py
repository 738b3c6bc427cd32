"""Training step for `diffusion`: noise prediction with an EMA of the weights for sampling.

The best checkpoint is the one whose samples (the default sampler, 25 steps) score best on the
digit judge, as for the GAN: the denoising loss keeps falling long after samples stop
improving, so it cannot pick the checkpoint.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from diffusers import DDPMPipeline
from safetensors.torch import load_file, save_file
from torch.optim.swa_utils import AveragedModel

from ..models.diffusion import make_unet, sample, sample_guided, training_scheduler
from .images import EVAL_SAMPLES, ImageTask, ema_average, grid


class DiffusionTask(ImageTask):
    kind = "diffusion"
    best_metric = "score"
    digit_judge = True
    classes: int | None = None

    def __init__(self, config, accelerator, resume_from: Path | None):
        super().__init__(config, accelerator, resume_from)
        sizes = config.model
        self.width, self.sample_steps = sizes.width, sizes.sample_steps
        torch.manual_seed(config.seed)
        unet = make_unet(self.channels, self.width, classes=self.classes)
        ema = AveragedModel(unet, avg_fn=ema_average(sizes.ema_decay), use_buffers=True)
        if resume_from is not None:
            unet.load_state_dict(load_file(resume_from / "unet-raw.safetensors"))
            ema.load_state_dict(load_file(resume_from / "unet-ema.safetensors"))
        opt = torch.optim.AdamW(unet.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        self.unet, self.opt = accelerator.prepare(unet, opt)
        self.ema = ema.to(accelerator.device)
        self.scheduler = training_scheduler()
        self.parameters = sum(p.numel() for p in unet.parameters())
        self.noise = torch.Generator().manual_seed(self.process_seed(config.seed + 53))

    @property
    def optimizers(self):
        return {"model": self.opt}

    def train_step(self, step: int) -> dict[str, float]:
        self.unet.train()
        batch = self.batch_at(step)
        x = batch["image"]
        n = len(x)
        noise = torch.randn(x.shape, generator=self.noise).to(x.device)
        t = torch.randint(0, self.scheduler.config.num_train_timesteps, (n,), generator=self.noise).to(x.device)
        with self.accelerator.autocast():
            pred = self.unet(self.scheduler.add_noise(x, noise, t), t, **self.condition(batch)).sample
            loss = F.mse_loss(pred.float(), noise)
        self.descend(loss, self.unet, self.opt, self.ema)
        return {"loss": loss.item()}

    def condition(self, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        """Extra inputs of the network for this batch (none: unconditional)."""
        return {}

    def held_out_condition(self, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        return {}

    @torch.no_grad()
    def validation_loss(self, images: int = 256) -> dict[str, float]:
        """The sampling (EMA) network's denoising loss on held-out images, at fixed noise and
        timesteps, so the curve moves only when the network does. Data without a held-out split: none."""
        if self.test_set is None:
            return {}
        device = self.accelerator.device
        batch = self.test_set.batch(torch.arange(min(images, len(self.test_set))))
        x = batch["image"].to(device)
        fixed = torch.Generator().manual_seed(99)
        noise = torch.randn(x.shape, generator=fixed).to(device)
        t = torch.randint(0, self.scheduler.config.num_train_timesteps, (len(x),), generator=fixed).to(device)
        pred = self.ema.module.eval()(self.scheduler.add_noise(x, noise, t), t, **self.held_out_condition(batch)).sample
        return {"val_loss": F.mse_loss(pred.float(), noise).item()}

    def evaluate(self) -> dict[str, float]:
        return {**super().evaluate(), **self.validation_loss()}

    def pipeline(self) -> DDPMPipeline:
        return DDPMPipeline(unet=self.ema.module.eval(), scheduler=self.scheduler)

    def generate(self, n: int, seed: int = 1234) -> torch.Tensor:
        return sample(self.pipeline(), n, self.sample_steps, generator=torch.Generator().manual_seed(seed))

    def eval_images(self) -> torch.Tensor:
        return self.generate(EVAL_SAMPLES)

    def sample(self, step: int) -> dict[str, Any]:
        return {"image": grid(self.generate(64))}

    def save_model(self, folder: Path, release: bool = False) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.pipeline().save_pretrained(folder)  # model_index.json, unet/, scheduler/ in safetensors
        if not release:
            save_file({k: v.detach().cpu().contiguous() for k, v in self.ema.state_dict().items()}, folder / "unet-ema.safetensors")
            save_file(self.accelerator.unwrap_model(self.unet).state_dict(), folder / "unet-raw.safetensors")


class GuidedDiffusionTask(DiffusionTask):
    """Class-conditional (`digits` labels), trained with the label dropped for a share
    `p_uncond` of the images, so that one network also knows the unconditional estimate
    that classifier-free guidance needs (Ho and Salimans, 2021)."""

    kind = "guided-diffusion"
    task = "conditional"

    def __init__(self, config, accelerator, resume_from: Path | None):
        self.classes = 10
        super().__init__(config, accelerator, resume_from)
        self.guidance, self.p_uncond = config.model.guidance, config.model.p_uncond

    def condition(self, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        labels = batch["label"]
        dropped = torch.rand(len(labels), generator=self.noise) < self.p_uncond
        return {"class_labels": labels.masked_fill(dropped, self.classes).to(self.accelerator.device)}

    def held_out_condition(self, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        return {"class_labels": batch["label"].to(self.accelerator.device)}

    def generate_labels(self, labels: torch.Tensor, seed: int = 1234) -> torch.Tensor:
        unet = self.ema.module.eval()
        return sample_guided(unet, self.scheduler, labels, self.guidance, self.sample_steps,
                             generator=torch.Generator().manual_seed(seed))

    def eval_labels(self) -> torch.Tensor:
        return torch.arange(EVAL_SAMPLES) % 10

    def eval_images(self) -> torch.Tensor:
        return self.generate_labels(self.eval_labels())

    def evaluate(self) -> dict[str, float]:
        from ..evaluation.digits import judge

        images = self.eval_images()
        scores = {**self.digit_scores(images), **judge(images, self.eval_labels())}
        scores["score"] = scores["frechet_distance"] * (1 + 10 * (1 - scores["label_accuracy"]))
        return {**scores, **self.validation_loss()}

    def sample(self, step: int) -> dict[str, Any]:
        return {"image": grid(self.generate_labels(torch.arange(10).repeat_interleave(8)))}

    def save_model(self, folder: Path, release: bool = False) -> None:
        self.write_config(folder, class_names=self.train_set.class_names, guidance=self.guidance,
                          sample_steps=self.sample_steps)
        self.ema.module.save_pretrained(folder / "unet")
        self.scheduler.save_pretrained(folder / "scheduler")
        if not release:
            save_file({k: v.detach().cpu().contiguous() for k, v in self.ema.state_dict().items()}, folder / "unet-ema.safetensors")
            save_file(self.accelerator.unwrap_model(self.unet).state_dict(), folder / "unet-raw.safetensors")

    def card_fields(self) -> dict[str, Any]:
        return {"guidance": self.guidance, "sample_steps": self.sample_steps, "p_uncond": self.p_uncond}
