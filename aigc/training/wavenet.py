"""Training `wavenet`: a WaveNet vocoder (aigc.models.wavenet) on the mu-law codes of `spoken-digits`,
each clip conditioned on its digit and, locally, on its own log-mel spectrogram, by cross-entropy over the
256 codes with teacher forcing (van den Oord et al. 2016; the WaveNet vocoder of Shen et al. 2018), and an
EMA of the weights for sampling.

A training example is a crop of `crop` samples starting on a frame boundary, with the frames of the whole
clip's spectrogram (computed once, in the scale the spectrogram model draws in) that its samples take their
conditioning from. Crops are drawn in proportion to how much speech they hold (plus a floor, so that the
network also learns to keep silence silent). A little Gaussian noise on the training spectrograms stands
for the errors of drawn ones: Tacotron 2's vocoder learned from predicted spectrograms for the same reason.

The judge hears clips vocoded from the real spectrograms of held-out voices (the vocoder's own quality:
`misheard` picks the best checkpoint) and, when the spectrogram model named by `mel_model` loads, from
spectrograms it draws (what the app plays).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch.optim.swa_utils import AveragedModel

from ..data.audio import DIGIT_WORDS, HOP, RATE, SECONDS, from_mu_law, mu_law, spoken_digits, to_model_scale
from ..errors import AigcError
from ..models.wavenet import SILENCE, WaveNet
from .images import ema_average, grid
from .trainer import Task

EVAL_PER_DIGIT = 4  # generation is sample by sample: 40 clips keep an evaluation within minutes
SILENCE_WEIGHT = 0.1  # a crop's chance of being drawn: this plus the share of its frames that hold speech
SPEECH = -0.5  # a frame holds speech when its loudest band is above this (model scale; silence is -1)


def clip_loss(model: torch.nn.Module, inputs: torch.Tensor, targets: torch.Tensor, labels: torch.Tensor,
              mels: torch.Tensor | None) -> torch.Tensor:
    """Mean cross-entropy of each target code given the inputs up to it (inputs[:, t] is the code before
    targets[:, t]) for codes (N, T), and the spectrogram frames from the crop's first sample on."""
    return F.cross_entropy(model(inputs, labels, mels), targets)


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


class Crops:
    """Clips as teacher-forcing crops: `inputs` (N, samples) the codes shifted one step (silence first),
    `codes` (N, samples) the targets, `mels` (N, mels, frames) in model scale, `labels` (N,)."""

    def __init__(self, audio: torch.Tensor, labels: torch.Tensor, crop: int):
        self.codes = mu_law(audio)
        self.inputs = F.pad(self.codes[:, :-1], (1, 0), value=SILENCE)
        self.mels = to_model_scale(audio)
        self.labels = labels
        self.crop = crop
        self.frames = crop // HOP + 1  # frames round(t / HOP) for t in the crop, from its first frame on
        starts = (audio.shape[1] - crop) // HOP + 1  # frame-aligned starts
        speech = (self.mels.amax(1) > SPEECH).float()  # (N, frames)
        window = F.avg_pool1d(speech[:, None], crop // HOP, stride=1)[:, 0, :starts]  # speech share of each crop
        self.weights = window + SILENCE_WEIGHT  # (N, starts)

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, clips: torch.Tensor, starts: torch.Tensor):
        """(inputs, targets, labels, mels) of the crops of `clips` starting at frames `starts`."""
        at = (starts * HOP)[:, None] + torch.arange(self.crop)
        frames = starts[:, None] + torch.arange(self.frames)
        mels = self.mels[clips[:, None], :, frames].transpose(1, 2)  # (n, mels, frames)
        return self.inputs[clips[:, None], at], self.codes[clips[:, None], at], self.labels[clips], mels

    def draw(self, n: int, generator: torch.Generator):
        """n crops, each clip and start drawn in proportion to the speech it holds."""
        pick = torch.multinomial(self.weights.flatten(), n, replacement=True, generator=generator)
        return self.take(pick // self.weights.shape[1], pick % self.weights.shape[1])

    def most_speech(self):
        """Each clip's crop with the most speech in it (the earliest of equals)."""
        return self.take(torch.arange(len(self)), self.weights.argmax(1))


def evaluation_clips(per_digit: int = EVAL_PER_DIGIT):
    """`per_digit` held-out clips of each digit (their voices never trained on): (audio, digits)."""
    held_out = spoken_digits("test")
    pick = torch.cat([torch.nonzero(held_out.digit == d).flatten()[:per_digit] for d in range(10)])
    return held_out.audio[pick], held_out.digit[pick]


class WaveNetTask(Task):
    kind = "wavenet"
    task = "audio"
    best_metric = "misheard"
    eval_samples = 10 * EVAL_PER_DIGIT

    def __init__(self, config, accelerator, resume_from: Path | None):
        super().__init__(config, accelerator, resume_from)
        sizes = config.model
        if sizes.crop % HOP:
            raise ValueError(f"crop must be a multiple of the mel hop ({HOP} samples), not {sizes.crop}")
        self.crop, self.temperature, self.mel_noise = sizes.crop, sizes.temperature, sizes.mel_noise
        self.mel_model = sizes.mel_model
        self.local = bool(sizes.mels)
        train = spoken_digits("train")
        self.train = Crops(train.audio, train.digit, self.crop)
        audio, digits = evaluation_clips()
        self.held_out = Crops(audio, digits, self.crop)
        self.val_batch = self.held_out.most_speech()
        torch.manual_seed(config.seed)
        model = WaveNet(residual=sizes.residual, skip=sizes.skip, layers=sizes.layers, stacks=sizes.stacks,
                        mels=sizes.mels or None, mel_width=sizes.mel_width, hop=HOP)
        ema = AveragedModel(model, avg_fn=ema_average(sizes.ema_decay), use_buffers=True)
        if resume_from is not None:
            model.load_state_dict(load_file(resume_from / "model-raw.safetensors"))
            ema.load_state_dict(load_file(resume_from / "model-ema.safetensors"))
        opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        self.model, self.opt = accelerator.prepare(model, opt)
        self.ema = ema.to(accelerator.device)
        self.parameters = sum(p.numel() for p in model.parameters())
        self.noise = torch.Generator().manual_seed(self.process_seed(config.seed + 71))
        self.notes.append(f"Receptive field {model.receptive_field} samples "
                          f"({model.receptive_field / RATE * 1000:.0f} ms); crops of {self.crop} samples"
                          + (", conditioned on their log-mel spectrograms." if self.local else "."))

    @property
    def optimizers(self):
        return {"model": self.opt}

    def to_device(self, batch):
        device = self.accelerator.device
        inputs, targets, labels, mels = (part.to(device) for part in batch)
        return inputs, targets, labels, mels if self.local else None

    def batch(self, n: int):
        """n training crops: (inputs, targets, labels, spectrogram frames or None), the frames noised."""
        inputs, targets, labels, mels = self.train.draw(n, self.noise)
        mels = mels + self.mel_noise * torch.randn(mels.shape, generator=self.noise)
        return self.to_device((inputs, targets, labels, mels))

    def train_step(self, step: int) -> dict[str, float]:
        self.model.train()
        inputs, targets, labels, mels = self.batch(self.config.batch_size)
        with self.accelerator.autocast():
            loss = clip_loss(self.model, inputs, targets, labels, mels)
        self.descend(loss, self.model, self.opt, self.ema)
        return {"loss": loss.item()}

    @torch.no_grad()
    def validation_loss(self) -> dict[str, float]:
        """The EMA network's cross-entropy (nats a sample) on held-out voices, from their real spectrograms."""
        return {"val_loss": clip_loss(self.ema.module.eval(), *self.to_device(self.val_batch)).item()}

    def generate(self, labels: torch.Tensor, mels: torch.Tensor | None, seed: int = 1234) -> torch.Tensor:
        """Clips (N, RATE * SECONDS) saying `labels`, written from spectrograms `mels` (N, mels, frames)."""
        device = self.accelerator.device
        codes = self.ema.module.eval().generate(labels.to(device), None if mels is None else mels.to(device),
                                                RATE * SECONDS, temperature=self.temperature,
                                                generator=torch.Generator().manual_seed(seed))
        return from_mu_law(codes.cpu())

    def drawn_mels(self, labels: torch.Tensor, seed: int) -> torch.Tensor | None:
        """Spectrograms drawn for `labels` by the spectrogram model `mel_model`, or None where it does not load
        (not trained yet, or not a digit model)."""
        from ..models.mel_diffusion import sample
        from ..registry import load

        try:
            m = load(self.mel_model, "audio")
        except (AigcError, OSError, KeyError, RuntimeError, ValueError) as exc:
            self.skip_note(f"Spectrogram model '{self.mel_model}' did not load ({exc}); evaluation vocodes "
                           "real spectrograms only.")
            return None
        if m.kind != "mel-diffusion" or list(m.config.get("class_names") or []) != list(DIGIT_WORDS):
            self.skip_note(f"'{self.mel_model}' is not a spectrogram model of the digits; evaluation vocodes "
                           "real spectrograms only.")
            return None
        generator = torch.Generator().manual_seed(seed)
        with torch.inference_mode():
            return sample(m.net, labels, m.config.get("frames", self.train.mels.shape[-1]),
                          m.config.get("sample_steps", 16), m.config.get("guidance", 2.0), generator=generator).cpu()

    def skip_note(self, sentence: str) -> None:
        if sentence not in self.notes:
            self.notes.append(sentence)

    def evaluate(self) -> dict[str, float]:
        from ..evaluation.spoken_digits import judge

        labels, mels = self.held_out.labels, self.held_out.mels
        real = judge(self.generate(labels, mels if self.local else None), labels)
        scores = {"misheard": 1 - real["digit_accuracy"], **real}
        drawn = self.drawn_mels(labels, seed=99) if self.local else None
        if drawn is not None:
            scores.update({f"drawn_{k}": v for k, v in judge(self.generate(labels, drawn), labels).items()})
        return {**scores, **self.validation_loss()}

    def sample(self, step: int) -> dict[str, Any]:
        first = torch.stack([torch.nonzero(self.held_out.labels == d).flatten()[0] for d in range(10)])
        audio = self.generate(torch.arange(10), self.held_out.mels[first] if self.local else None, seed=7)
        spoken = torch.cat([audio, torch.zeros(10, RATE // 4)], 1).reshape(-1)  # zero to nine, a pause after each
        return {"image": grid(waveform_picture(audio), nrow=2), "audio": spoken,
                "caption": ", ".join(DIGIT_WORDS) + (" (from held-out voices' spectrograms)" if self.local else "")}

    def save_model(self, folder: Path, release: bool = False) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        module = self.ema.module
        (folder / "config.json").write_text(json.dumps({
            "kind": self.kind, "task": self.task, **module.config, "rate": RATE, "seconds": SECONDS,
            "samples": RATE * SECONDS, "receptive_field": module.receptive_field, "temperature": self.temperature,
            "mel_model": self.mel_model if self.local else None, "mel_noise": self.mel_noise, "crop": self.crop,
            "class_names": list(DIGIT_WORDS)}, indent=2))
        save_file({k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()},
                  folder / "model.safetensors")
        if not release:
            save_file({k: v.detach().cpu().contiguous() for k, v in self.ema.state_dict().items()},
                      folder / "model-ema.safetensors")
            save_file(self.accelerator.unwrap_model(self.model).state_dict(), folder / "model-raw.safetensors")

    def card_fields(self) -> dict[str, Any]:
        module = self.ema.module
        return {"receptive_field": module.receptive_field, "crop": self.crop, "temperature": self.temperature,
                "mel_model": self.mel_model if self.local else None}

    def card_figures(self, folder: Path, metrics: dict[str, float], name: str) -> dict[str, float]:
        return {"samples": self.eval_samples}
