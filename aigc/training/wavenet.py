"""Training `wavenet`: a WaveNet (aigc.models.wavenet) on the mu-law codes of `spoken-digits`, each clip
conditioned on its digit, by cross-entropy over the 256 codes with teacher forcing (van den Oord et al.
2016), and an EMA of the weights for sampling.

A training example is a clip's first `crop` samples from a random start within its leading silence: the
network sees the zero padding before a crop as it sees the empty queues before a generated clip, and
every crop holds the whole word (the clips' words start 30-150 ms in and end by 0.65 s), so the receptive
field can learn where in the word it is. The best checkpoint is the one whose generated clips the
spoken-digit judge hears as the digit asked for most often.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch.optim.swa_utils import AveragedModel

from ..data.audio import DIGIT_WORDS, RATE, SECONDS, from_mu_law, mu_law, spoken_digits
from ..models.wavenet import WaveNet
from .images import ema_average, grid
from .trainer import Task

EVAL_PER_DIGIT = 4  # generation is sample by sample: 40 clips keep an evaluation under a minute
VAL_PER_DIGIT = 4  # held-out clips whose loss is reported
MAX_SHIFT = 400  # a crop starts up to 50 ms into the clip's leading silence


def clip_loss(model: torch.nn.Module, codes: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of each next code given the ones before, for codes (N, T)."""
    logits = model(codes[:, :-1], labels)
    return F.cross_entropy(logits, codes[:, 1:])


def waveform_picture(audio: torch.Tensor, width: int = 320, height: int = 64) -> torch.Tensor:
    """Clips (N, samples) in [-1, 1] -> (N, 1, height, width) in [-1, 1]: each column lit between the
    lowest and highest sample it covers."""
    n, samples = audio.shape
    per = max(1, samples // width)
    blocks = audio[:, :per * width].reshape(n, -1, per)
    low, high = blocks.amin(2), blocks.amax(2)
    rows = torch.linspace(1, -1, height).view(1, height, 1)
    lit = (rows >= low[:, None, :] - 1 / height) & (rows <= high[:, None, :] + 1 / height)
    return (lit.float() * 2 - 1).unsqueeze(1)


class WaveNetTask(Task):
    kind = "wavenet"
    task = "audio"
    best_metric = "misheard"
    eval_samples = 10 * EVAL_PER_DIGIT

    def __init__(self, config, accelerator, resume_from: Path | None):
        super().__init__(config, accelerator, resume_from)
        sizes = config.model
        self.crop, self.temperature = sizes.crop, sizes.temperature
        device = accelerator.device
        train = spoken_digits("train")
        self.codes, self.labels = mu_law(train.audio).to(device), train.digit.to(device)
        held_out = spoken_digits("test")
        pick = torch.cat([torch.nonzero(held_out.digit == d).flatten()[:VAL_PER_DIGIT] for d in range(10)])
        self.val_codes = mu_law(held_out.audio[pick, :self.crop]).to(device)
        self.val_labels = held_out.digit[pick].to(device)
        torch.manual_seed(config.seed)
        model = WaveNet(residual=sizes.residual, skip=sizes.skip, layers=sizes.layers, stacks=sizes.stacks)
        ema = AveragedModel(model, avg_fn=ema_average(sizes.ema_decay), use_buffers=True)
        if resume_from is not None:
            model.load_state_dict(load_file(resume_from / "model-raw.safetensors"))
            ema.load_state_dict(load_file(resume_from / "model-ema.safetensors"))
        opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        self.model, self.opt = accelerator.prepare(model, opt)
        self.ema = ema.to(device)
        self.parameters = sum(p.numel() for p in model.parameters())
        self.noise = torch.Generator().manual_seed(self.process_seed(config.seed + 71))
        self.notes.append(f"Receptive field {model.receptive_field} samples "
                          f"({model.receptive_field / RATE * 1000:.0f} ms); crops of {self.crop} samples.")

    @property
    def optimizers(self):
        return {"model": self.opt}

    def batch(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """n crops of training clips and their digits."""
        index = torch.randint(0, len(self.codes), (n,), generator=self.noise)
        starts = torch.randint(0, MAX_SHIFT + 1, (n,), generator=self.noise)
        length = min(self.crop, self.codes.shape[1] - MAX_SHIFT)
        offsets = (starts[:, None] + torch.arange(length)).to(self.codes.device)
        return self.codes[index.to(self.codes.device)[:, None], offsets], self.labels[index.to(self.labels.device)]

    def train_step(self, step: int) -> dict[str, float]:
        self.model.train()
        codes, labels = self.batch(self.config.batch_size)
        with self.accelerator.autocast():
            loss = clip_loss(self.model, codes, labels)
        self.opt.zero_grad(set_to_none=True)
        self.accelerator.backward(loss)
        if self.config.grad_clip:
            self.accelerator.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
        self.opt.step()
        self.ema.update_parameters(self.accelerator.unwrap_model(self.model))
        return {"loss": loss.item()}

    @torch.no_grad()
    def validation_loss(self) -> dict[str, float]:
        """The EMA network's cross-entropy (nats a sample) on held-out voices."""
        return {"val_loss": clip_loss(self.ema.module.eval(), self.val_codes, self.val_labels).item()}

    def generate(self, labels: torch.Tensor, seed: int = 1234) -> torch.Tensor:
        """Clips (N, RATE * SECONDS) saying `labels`: `crop` samples written, then silence."""
        codes = self.ema.module.eval().generate(labels.to(self.accelerator.device), self.crop,
                                                temperature=self.temperature,
                                                generator=torch.Generator().manual_seed(seed))
        return F.pad(from_mu_law(codes.cpu()), (0, RATE * SECONDS - codes.shape[1]))

    def evaluate(self) -> dict[str, float]:
        from ..evaluation.spoken_digits import judge

        labels = torch.arange(self.eval_samples) % 10
        scores = judge(self.generate(labels), labels)
        return {"misheard": 1 - scores["digit_accuracy"], **scores, **self.validation_loss()}

    def sample(self, step: int) -> dict[str, Any]:
        audio = self.generate(torch.arange(10), seed=7)
        spoken = torch.cat([audio, torch.zeros(10, RATE // 4)], 1).reshape(-1)  # zero to nine, a pause after each
        return {"image": grid(waveform_picture(audio), nrow=2), "audio": spoken, "caption": ", ".join(DIGIT_WORDS)}

    def save_model(self, folder: Path, release: bool = False) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        module = self.ema.module
        (folder / "config.json").write_text(json.dumps({
            "kind": self.kind, "task": self.task, **module.config, "rate": RATE, "seconds": SECONDS,
            "samples": self.crop, "receptive_field": module.receptive_field, "temperature": self.temperature,
            "class_names": list(DIGIT_WORDS)}, indent=2))
        save_file({k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()},
                  folder / "model.safetensors")
        if not release:
            save_file({k: v.detach().cpu().contiguous() for k, v in self.ema.state_dict().items()},
                      folder / "model-ema.safetensors")
            save_file(self.accelerator.unwrap_model(self.model).state_dict(), folder / "model-raw.safetensors")

    def card_fields(self) -> dict[str, Any]:
        module = self.ema.module
        return {"receptive_field": module.receptive_field, "crop": self.crop, "temperature": self.temperature}

    def card_figures(self, folder: Path, metrics: dict[str, float], name: str) -> dict[str, float]:
        return {"samples": self.eval_samples}
