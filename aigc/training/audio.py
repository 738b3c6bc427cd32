"""Training steps for the audio kinds. `mel-diffusion`: a diffusion model of log-mel spectrograms
(aigc.models.mel_diffusion), conditioned on a digit (`spoken-digits`) or on a caption's attributes
(`sound-effects`); v-prediction and an EMA of the weights.

The best checkpoint is the one whose clips, turned into sound by Griffin-Lim, the judge finds most
often as asked (the spoken-digit judge, or the sound-effect judge's measurements): the denoising loss
keeps falling after that stops improving.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch.optim.swa_utils import AveragedModel

from ..data import sound_effects as sfx
from ..data.audio import DIGIT_WORDS, FRAMES, RATE, from_model_scale, mel_to_audio, spoken_digits, to_model_scale
from ..models.mel_diffusion import MelUNet, MelUNet2D, sample, training_scheduler
from .images import ema_average, grid
from .trainer import Task

EVAL_CLIPS = 200


class Digits:
    """The condition of `spoken-digits`: the digit."""

    attributes = None

    def data(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(training spectrograms, their labels, held-out spectrograms, their labels)."""
        train, held_out = spoken_digits("train"), spoken_digits("test")
        return to_model_scale(train.audio), train.digit, to_model_scale(held_out.audio), held_out.digit

    def drop(self, labels: torch.Tensor, p_uncond: float, gen: torch.Generator) -> torch.Tensor:
        return labels.masked_fill(torch.rand(len(labels), generator=gen) < p_uncond, len(DIGIT_WORDS))

    def asked(self) -> tuple[torch.Tensor, list]:
        """The conditions the evaluation draws, and what the judge is told was asked for."""
        labels = torch.arange(EVAL_CLIPS) % 10
        return labels, labels

    def score(self, audio: torch.Tensor, asked) -> dict[str, float]:
        from ..evaluation.spoken_digits import judge

        scores = judge(audio, asked)
        return {"misheard": 1 - scores["digit_accuracy"], **scores}

    def real(self) -> dict[str, float]:
        """The judge's figures on real clips of the voices the model learns from, for its card."""
        clips = spoken_digits("train")
        return {f"real_{k}": v for k, v in self.score(clips.audio, clips.digit).items() if k != "misheard"}

    def shown(self) -> tuple[torch.Tensor, str]:
        """The conditions of the preview, and what it says."""
        return torch.arange(10), ", ".join(DIGIT_WORDS)

    def config(self) -> dict[str, Any]:
        return {"class_names": list(DIGIT_WORDS)}


class Captions:
    """The condition of `sound-effects`: one value per attribute of the caption (aigc.data.sound_effects),
    or "not said". Training leaves each attribute out with probability `drop` (Text2Img's rule), so a
    caption that names only some words still finds its way."""

    attributes = tuple(len(sfx.VOCABULARY[a]) for a in sfx.ATTRIBUTES)
    CLIPS, HELD_OUT = 4000, 300
    HELD_OUT_START = 1_000_000  # clips of seed 0 far past the training ones

    def __init__(self, drop: float = 0.3):
        self.p_drop = drop

    @classmethod
    def encode(cls, attrs: dict[str, str]) -> list[int]:
        """Each attribute's index in its vocabulary, or the vocabulary's size for one not said."""
        return [sfx.VOCABULARY[a].index(attrs[a]) if attrs.get(a) else len(sfx.VOCABULARY[a]) for a in sfx.ATTRIBUTES]

    def data(self):
        train = sfx.sound_effects(self.CLIPS, seed=0)
        held_out = sfx.sound_effects(self.HELD_OUT, seed=0, start=self.HELD_OUT_START)
        def encode(clips) -> torch.Tensor:
            return torch.tensor([self.encode(a) for a in clips.attributes])

        return to_model_scale(train.audio), encode(train), to_model_scale(held_out.audio), encode(held_out)

    def drop(self, labels: torch.Tensor, p_uncond: float, gen: torch.Generator) -> torch.Tensor:
        said = torch.tensor(self.attributes).expand_as(labels)
        dropped = torch.rand(labels.shape, generator=gen) < self.p_drop
        dropped |= (torch.rand(len(labels), 1, generator=gen) < p_uncond)
        return torch.where(dropped.to(labels.device), said.to(labels.device), labels)

    def asked(self, seed: int = 7) -> tuple[torch.Tensor, list]:
        from ..evaluation.sound_effects import eval_captions

        wanted = eval_captions(EVAL_CLIPS, seed)
        return torch.tensor([self.encode(a) for a in wanted]), wanted

    def score(self, audio: torch.Tensor, asked) -> dict[str, float]:
        from ..evaluation.sound_effects import judge

        scores = judge(audio, asked)
        agreements = [v for k, v in scores.items() if k.endswith("_agreement")]
        return {"misheard": 1 - sum(agreements) / len(agreements), **scores}

    def real(self) -> dict[str, float]:
        """The judge's figures on real clips rendered for the evaluation's captions, for the card."""
        rng = random.Random(11)
        _, wanted = self.asked()
        audio = torch.stack([sfx.render(sfx.complete(a, rng), rng) for a in wanted])
        return {f"real_{k}": v for k, v in self.score(audio, wanted).items()
                if k.endswith("_agreement") or k == "no_sound_effect"}

    def shown(self) -> tuple[torch.Tensor, str]:
        rng = random.Random(3)
        wanted = [sfx.complete({"kind": kind}, rng) for kind in sfx.KINDS for _ in range(2)]
        return torch.tensor([self.encode(a) for a in wanted]), "; ".join(sfx.caption(a) for a in wanted)

    def config(self) -> dict[str, Any]:
        return {"vocabulary": {a: list(sfx.VOCABULARY[a]) for a in sfx.ATTRIBUTES}}


class MelDiffusionTask(Task):
    kind = "mel-diffusion"
    task = "audio"
    best_metric = "misheard"
    eval_samples = EVAL_CLIPS

    def __init__(self, config, accelerator, resume_from: Path | None):
        super().__init__(config, accelerator, resume_from)
        sizes = config.model
        self.guidance, self.sample_steps, self.p_uncond = sizes.guidance, sizes.sample_steps, sizes.p_uncond
        self.sampler = sizes.sampler
        self.condition = Captions(sizes.drop) if config.dataset == "sound-effects" else Digits()
        device = accelerator.device
        x, labels, val_x, val_labels = self.condition.data()
        self.x, self.labels, self.val_x, self.val_labels = x.to(device), labels.to(device), val_x.to(device), val_labels.to(device)
        torch.manual_seed(config.seed)
        if sizes.net == "2d":
            model = MelUNet2D(widths=sizes.widths, attributes=self.condition.attributes)
        else:
            model = MelUNet(widths=sizes.widths, embed=sizes.embed, attributes=self.condition.attributes)
        ema = AveragedModel(model, avg_fn=ema_average(sizes.ema_decay), use_buffers=True)
        if resume_from is not None:
            model.load_state_dict(load_file(resume_from / "model-raw.safetensors"))
            ema.load_state_dict(load_file(resume_from / "model-ema.safetensors"))
        opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        self.model, self.opt = accelerator.prepare(model, opt)
        self.ema = ema.to(device)
        self.scheduler = training_scheduler()
        self.parameters = sum(p.numel() for p in model.parameters())
        self.noise = torch.Generator().manual_seed(self.process_seed(config.seed + 53))

    @property
    def optimizers(self):
        return {"model": self.opt}

    def train_step(self, step: int) -> dict[str, float]:
        self.model.train()
        n = self.config.batch_size
        index = torch.randint(0, len(self.x), (n,), generator=self.noise)
        x = self.x[index]
        labels = self.condition.drop(self.labels[index].cpu(), self.p_uncond, self.noise).to(x.device)
        shift = int(torch.randint(-3, 4, (), generator=self.noise))  # a few frames earlier or later
        x = x.roll(shift, dims=-1)
        noise = torch.randn(x.shape, generator=self.noise).to(x.device)
        t = torch.randint(0, self.scheduler.config.num_train_timesteps, (n,), generator=self.noise).to(x.device)
        target = self.scheduler.get_velocity(x, noise, t)
        with self.accelerator.autocast():
            pred = self.model(self.scheduler.add_noise(x, noise, t), t, labels)
        # The plain v-prediction loss: min-SNR weighting (Hang et al., 2023) starves the low-noise steps, and
        # with it the last denoising steps left a speckle over the silence that Griffin-Lim turns into hiss.
        loss = F.mse_loss(pred.float(), target)
        self.descend(loss, self.model, self.opt, self.ema)
        return {"loss": loss.item()}

    @torch.no_grad()
    def validation_loss(self) -> dict[str, float]:
        """The EMA network's v-prediction loss on held-out clips at fixed noise and timesteps."""
        fixed = torch.Generator().manual_seed(99)
        noise = torch.randn(self.val_x.shape, generator=fixed).to(self.val_x.device)
        t = torch.randint(0, self.scheduler.config.num_train_timesteps, (len(noise),), generator=fixed).to(noise.device)
        pred = self.ema.module.eval()(self.scheduler.add_noise(self.val_x, noise, t), t, self.val_labels)
        return {"val_loss": F.mse_loss(pred.float(), self.scheduler.get_velocity(self.val_x, noise, t)).item()}

    def spectrograms(self, labels: torch.Tensor, seed: int) -> torch.Tensor:
        return sample(self.ema.module.eval(), labels, FRAMES, self.sample_steps, self.guidance,
                      generator=torch.Generator().manual_seed(seed), scheduler=self.sampler).cpu()

    def evaluate(self) -> dict[str, float]:
        labels, asked = self.condition.asked()
        audio = mel_to_audio(from_model_scale(self.spectrograms(labels, 1234)))
        return {**self.condition.score(audio, asked), **self.validation_loss()}

    def sample(self, step: int) -> dict[str, Any]:
        labels, said = self.condition.shown()
        mels = self.spectrograms(labels, 7)
        audio = mel_to_audio(from_model_scale(mels))
        spoken = torch.cat([audio, torch.zeros(len(audio), RATE // 4)], 1).reshape(-1)  # a pause after each clip
        image = mels.flip(1).unsqueeze(1).clamp(-1, 1)  # low frequencies at the bottom
        return {"image": grid(image, nrow=5), "audio": spoken, "caption": said}

    def save_model(self, folder: Path, release: bool = False) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        module = self.ema.module
        (folder / "config.json").write_text(json.dumps({
            "kind": self.kind, "task": self.task, "dataset": self.config.dataset, **module.config, "frames": FRAMES,
            "guidance": self.guidance, "sample_steps": self.sample_steps, "sampler": self.sampler,
            **self.condition.config()}, indent=2))
        save_file({k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}, folder / "model.safetensors")
        if not release:
            save_file({k: v.detach().cpu().contiguous() for k, v in self.ema.state_dict().items()}, folder / "model-ema.safetensors")
            save_file(self.accelerator.unwrap_model(self.model).state_dict(), folder / "model-raw.safetensors")

    def card_fields(self) -> dict[str, Any]:
        return {"net": self.config.model.net, "guidance": self.guidance, "sample_steps": self.sample_steps,
                "sampler": self.sampler, "p_uncond": self.p_uncond}

    def card_figures(self, folder: Path, metrics: dict[str, float], name: str) -> dict[str, float]:
        if not hasattr(self, "_real"):  # the same for every checkpoint of the run
            self._real = self.condition.real()
        return {"samples": EVAL_CLIPS, **self._real}
