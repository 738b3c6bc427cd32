"""Training steps for the audio kinds. `mel-diffusion`: a class-conditional diffusion model of log-mel
spectrograms (aigc.models.mel_diffusion), v-prediction with min-SNR weighting and an EMA of the weights.

The best checkpoint is the one whose clips, turned into sound by Griffin-Lim, the spoken-digit judge
hears as the digit asked for most often: the denoising loss keeps falling after that stops improving.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch.optim.swa_utils import AveragedModel

from ..data.audio import DIGIT_WORDS, FRAMES, RATE, from_model_scale, mel_to_audio, spoken_digits, to_model_scale
from ..models.mel_diffusion import MelUNet, sample, training_scheduler
from .images import ema_average
from .trainer import Task

EVAL_CLIPS = 200  # 20 of each digit


class MelDiffusionTask(Task):
    kind = "mel-diffusion"
    task = "audio"
    best_metric = "misheard"
    eval_samples = EVAL_CLIPS

    def __init__(self, config, accelerator, resume_from: Path | None):
        super().__init__(config, accelerator, resume_from)
        sizes = config.model
        self.guidance, self.sample_steps, self.p_uncond = sizes.guidance, sizes.sample_steps, sizes.p_uncond
        train, held_out = spoken_digits("train"), spoken_digits("test")
        device = accelerator.device
        self.x, self.labels = to_model_scale(train.audio).to(device), train.digit.to(device)
        self.val_x, self.val_labels = to_model_scale(held_out.audio).to(device), held_out.digit.to(device)
        torch.manual_seed(config.seed)
        model = MelUNet(widths=tuple(sizes.widths), embed=sizes.embed)
        ema = AveragedModel(model, avg_fn=ema_average(sizes.ema_decay), use_buffers=True)
        if resume_from is not None:
            model.load_state_dict(load_file(resume_from / "model-raw.safetensors"))
            ema.load_state_dict(load_file(resume_from / "model-ema.safetensors"))
        opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        self.model, self.opt = accelerator.prepare(model, opt)
        self.ema = ema.to(device)
        self.scheduler = training_scheduler()
        alphas = self.scheduler.alphas_cumprod
        self.snr = (alphas / (1 - alphas)).to(device)
        self.parameters = sum(p.numel() for p in model.parameters())
        self.noise = torch.Generator().manual_seed(self.process_seed(config.seed + 53))

    @property
    def optimizers(self):
        return {"model": self.opt}

    def train_step(self, step: int) -> dict[str, float]:
        self.model.train()
        n = self.config.batch_size
        index = torch.randint(0, len(self.x), (n,), generator=self.noise)
        x, labels = self.x[index], self.labels[index]
        shift = int(torch.randint(-3, 4, (), generator=self.noise))  # a few frames earlier or later
        x = x.roll(shift, dims=-1)
        dropped = torch.rand(n, generator=self.noise) < self.p_uncond
        labels = labels.masked_fill(dropped.to(labels.device), self.accelerator.unwrap_model(self.model).no_label)
        noise = torch.randn(x.shape, generator=self.noise).to(x.device)
        t = torch.randint(0, self.scheduler.config.num_train_timesteps, (n,), generator=self.noise).to(x.device)
        target = self.scheduler.get_velocity(x, noise, t)
        with self.accelerator.autocast():
            pred = self.model(self.scheduler.add_noise(x, noise, t), t, labels)
        # min-SNR-5 weighting for v-prediction (Hang et al., 2023): no timestep dominates the loss
        weight = self.snr[t].clamp(max=5.0) / (self.snr[t] + 1)
        loss = (weight * F.mse_loss(pred.float(), target, reduction="none").mean(dim=(1, 2))).mean()
        self.opt.zero_grad(set_to_none=True)
        self.accelerator.backward(loss)
        if self.config.grad_clip:
            self.accelerator.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
        self.opt.step()
        self.ema.update_parameters(self.accelerator.unwrap_model(self.model))
        return {"loss": loss.item()}

    @torch.no_grad()
    def validation_loss(self) -> dict[str, float]:
        """The EMA network's v-prediction loss on the held-out voices at fixed noise and timesteps."""
        fixed = torch.Generator().manual_seed(99)
        noise = torch.randn(self.val_x.shape, generator=fixed).to(self.val_x.device)
        t = torch.randint(0, self.scheduler.config.num_train_timesteps, (len(noise),), generator=fixed).to(noise.device)
        pred = self.ema.module.eval()(self.scheduler.add_noise(self.val_x, noise, t), t, self.val_labels)
        return {"val_loss": F.mse_loss(pred.float(), self.scheduler.get_velocity(self.val_x, noise, t)).item()}

    def generate(self, labels: torch.Tensor, seed: int = 1234) -> torch.Tensor:
        """Clips (N, samples) saying `labels`."""
        mels = sample(self.ema.module.eval(), labels, FRAMES, self.sample_steps, self.guidance,
                      generator=torch.Generator().manual_seed(seed))
        return mel_to_audio(from_model_scale(mels.cpu()))

    def evaluate(self) -> dict[str, float]:
        from ..evaluation.spoken_digits import judge

        labels = torch.arange(EVAL_CLIPS) % 10
        scores = judge(self.generate(labels), labels)
        return {"misheard": 1 - scores["digit_accuracy"], **scores, **self.validation_loss()}

    def sample(self, step: int) -> dict[str, Any]:
        labels = torch.arange(10)
        mels = sample(self.ema.module.eval(), labels, FRAMES, self.sample_steps, self.guidance,
                      generator=torch.Generator().manual_seed(7))
        audio = mel_to_audio(from_model_scale(mels.cpu()))
        spoken = torch.cat([audio, torch.zeros(10, RATE // 4)], 1).reshape(-1)  # zero to nine, a pause after each
        image = mels.cpu().flip(1).unsqueeze(1).clamp(-1, 1)  # low frequencies at the bottom
        return {"image": _grid(image), "audio": spoken, "caption": ", ".join(DIGIT_WORDS)}

    def save_model(self, folder: Path, release: bool = False) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        module = self.ema.module
        (folder / "config.json").write_text(json.dumps({
            "kind": self.kind, "task": self.task, **module.config, "frames": FRAMES, "guidance": self.guidance,
            "sample_steps": self.sample_steps, "class_names": list(DIGIT_WORDS)}, indent=2))
        save_file({k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}, folder / "model.safetensors")
        if not release:
            save_file({k: v.detach().cpu().contiguous() for k, v in self.ema.state_dict().items()}, folder / "model-ema.safetensors")
            save_file(self.accelerator.unwrap_model(self.model).state_dict(), folder / "model-raw.safetensors")

    def card_fields(self) -> dict[str, Any]:
        return {"guidance": self.guidance, "sample_steps": self.sample_steps, "p_uncond": self.p_uncond}

    def card_figures(self, folder: Path, metrics: dict[str, float], name: str) -> dict[str, float]:
        return {"samples": EVAL_CLIPS}


def _grid(images: torch.Tensor) -> torch.Tensor:
    from .images import grid

    return grid(images, nrow=5)
