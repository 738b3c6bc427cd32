"""Training configuration: one dataclass per model kind, whose fields' defaults are its recipe.

`TrainConfig` is what a run is told, and what its `config.json` keeps (`dataclasses.asdict`).
Each kind subclasses it with its own defaults, and its `model` field holds a dataclass of the
kind's sizes, so a task reads `config.model.z_dim` and a default lives in exactly one place.
The Train tab, the command line (`python -m aigc train`) and `aigc.train` all read these.

This module imports no trainer (nor torch): the command line builds its flags from it cheaply.
"""

from __future__ import annotations

import importlib
import math
import os
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from typing import Any, ClassVar


@dataclass
class TrainConfig:
    kind: str
    dataset: str
    steps: int
    batch_size: int
    lr: float
    seed: int = 0
    warmup: int = 100
    min_lr_ratio: float = 0.1
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    eval_every: int = 250
    sample_every: int = 500
    checkpoint_every: int = 500
    log_every: int = 10
    log_seconds: float = 1.0  # also report when this long has passed, so slow kinds' curves still move
    precision: str = "auto"  # auto | no | bf16 | fp16
    device: str | None = None
    model: Any = field(default_factory=dict)  # the kind's sizes: a dataclass (a dict for a kind without one)
    command: str = ""
    log_with: str | None = None  # an accelerate tracker ("tensorboard"), writing under the run folder

    #: the datasets it trains on (the first is the `dataset` default)
    datasets: ClassVar[tuple[str, ...]] = ()
    #: learns from pictures alone, so a user's .zip of images can teach it
    uploads: ClassVar[bool] = False
    #: steps a first run takes in the Train tab: enough to see it learn in a few minutes on a CPU
    #: (the shipped models trained longer; their cards say how long)
    first_run_steps: ClassVar[int] = 1000
    #: the `Task` that trains it, as "module:Class" under aigc.training (imported only to train)
    task_path: ClassVar[str] = ""

    def __post_init__(self) -> None:
        sizes = self.sizes_class()
        if sizes is not None and isinstance(self.model, dict):  # read back from config.json
            self.model = sizes(**self.model)

    @classmethod
    def sizes_class(cls) -> type | None:
        """The dataclass of the kind's sizes (its `model` field's default), or None."""
        factory = next(f.default_factory for f in fields(cls) if f.name == "model")
        return factory if factory is not MISSING and is_dataclass(factory) else None

    @classmethod
    def task_class(cls) -> type:
        module, name = cls.task_path.split(":")
        return getattr(importlib.import_module(f".{module}", __package__), name)

    def lr_at(self, step: int) -> float:
        """Linear warm-up, then a cosine decay to `min_lr_ratio * lr` at the last step."""
        if step < self.warmup:
            return self.lr * (step + 1) / self.warmup
        progress = min(1.0, (step - self.warmup) / max(1, self.steps - self.warmup))
        return self.lr * (self.min_lr_ratio + (1 - self.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


# -- text ------------------------------------------------------------------------------------------


@dataclass
class GPTSizes:
    n_layer: int = 6
    n_embd: int = 192
    n_head: int = 6
    block_size: int = 256
    dropout: float = 0.0


@dataclass
class GPTConfig(TrainConfig):
    kind: str = "gpt"
    dataset: str = "shakespeare"
    steps: int = 6000
    batch_size: int = 32
    lr: float = 2e-3
    warmup: int = 200
    weight_decay: float = 0.1
    model: GPTSizes = field(default_factory=GPTSizes)
    datasets: ClassVar[tuple[str, ...]] = ("shakespeare", "tang-poems")
    task_path: ClassVar[str] = "gpt:GPTTask"


@dataclass
class LSTMSizes:
    n_embd: int = 128
    hidden: int = 384  # a 512-wide LSTM trains at half the speed on a CPU
    layers: int = 2
    dropout: float = 0.0  # a couple of passes over the corpus do not overfit
    block_size: int = 256  # characters a training window holds (the state starts empty at each)


@dataclass
class LSTMConfig(TrainConfig):
    kind: str = "lstm"
    dataset: str = "shakespeare"
    steps: int = 2500
    batch_size: int = 32
    lr: float = 2e-3
    warmup: int = 200
    weight_decay: float = 0.0
    model: LSTMSizes = field(default_factory=LSTMSizes)
    datasets: ClassVar[tuple[str, ...]] = ("shakespeare", "tang-poems")
    task_path: ClassVar[str] = "lstm:LSTMTask"


@dataclass
class MaskedLMSizes:
    n_layer: int = 4
    n_embd: int = 192
    n_head: int = 4
    max_len: int = 64  # tokens a passage holds, [CLS] and [SEP] included
    dropout: float = 0.1
    vocab_size: int = 6000  # WordPiece tokens learned from the training text
    mask_p: float = 0.15  # the share of words masked (whole words)


@dataclass
class MaskedLMConfig(TrainConfig):
    kind: str = "bert"
    dataset: str = "shakespeare"
    steps: int = 3000
    batch_size: int = 64
    lr: float = 1e-3
    warmup: int = 300
    weight_decay: float = 0.01
    eval_every: int = 500
    model: MaskedLMSizes = field(default_factory=MaskedLMSizes)
    datasets: ClassVar[tuple[str, ...]] = ("shakespeare",)
    first_run_steps: ClassVar[int] = 1000
    task_path: ClassVar[str] = "bert:MaskedLMTask"


# -- GANs: the DCGAN recipe (Adam 2e-4 at a constant rate, full precision) -------------------------


@dataclass
class GANConfig(TrainConfig):
    steps: int = 3000
    batch_size: int = 64
    lr: float = 2e-4
    warmup: int = 0
    min_lr_ratio: float = 1.0
    eval_every: int = 250
    sample_every: int = 250
    checkpoint_every: int = 250
    precision: str = "no"


@dataclass
class DCGANSizes:
    z_dim: int = 100
    width: int = 64
    ema_decay: float = 0.999
    d_norm: str = "batch"
    augment_p: float = 0.5


@dataclass
class DCGANConfig(GANConfig):
    kind: str = "dcgan"
    dataset: str = "digits"
    checkpoint_every: int = 500
    model: DCGANSizes = field(default_factory=DCGANSizes)
    datasets: ClassVar[tuple[str, ...]] = ("digits", "shapes")
    uploads: ClassVar[bool] = True
    task_path: ClassVar[str] = "dcgan:DCGANTask"


@dataclass
class CGANSizes:
    z_dim: int = 100
    width: int = 64
    ema_decay: float = 0.999
    augment_p: float = 0.5
    embed: int = 32


@dataclass
class CGANConfig(GANConfig):
    kind: str = "cgan"
    dataset: str = "digits"
    model: CGANSizes = field(default_factory=CGANSizes)
    datasets: ClassVar[tuple[str, ...]] = ("digits",)
    task_path: ClassVar[str] = "cgan:CGANTask"


@dataclass
class Text2ImgSizes(CGANSizes):
    augment_p: float = 0.0
    embed: int = 64
    drop: float = 0.3  # each attribute left out of a training caption with this probability


@dataclass
class Text2ImgConfig(GANConfig):
    kind: str = "text2img"
    dataset: str = "shapes"
    model: Text2ImgSizes = field(default_factory=Text2ImgSizes)
    datasets: ClassVar[tuple[str, ...]] = ("shapes",)
    task_path: ClassVar[str] = "cgan:Text2ImgTask"


@dataclass
class Text2VideoSizes:
    z_dim: int = 64
    width: int = 48
    d_width: int = 24
    ema_decay: float = 0.999
    embed: int = 64
    drop: float = 0.3
    clips: int = 6000  # the pool of rendered training clips
    frame_d: float = 1.0  # weight of the per-frame discriminator's loss
    frame_picks: int = 4  # frames of each clip it judges
    steady: float = 4000.0  # weight of the histogram drift (video.py)


@dataclass
class Text2VideoConfig(GANConfig):
    kind: str = "text2video"
    dataset: str = "moving-shapes"
    batch_size: int = 16
    model: Text2VideoSizes = field(default_factory=Text2VideoSizes)
    datasets: ClassVar[tuple[str, ...]] = ("moving-shapes",)
    first_run_steps: ClassVar[int] = 500
    task_path: ClassVar[str] = "video:Text2VideoTask"


# -- likelihood and diffusion models ------------------------------------------------------------------


@dataclass
class VAESizes:
    # Measured on `digits` (1,000 prior samples judged): latent 16 with sigma 0.2 gave 22% confident
    # digits, latent 8 with sigma 0.3 gave 42%; a small latent space and a looser likelihood leave
    # fewer holes between the posteriors for prior samples to fall into.
    latent: int = 8
    width: int = 32
    sigma: float = 0.4
    beta: float = 1.0


@dataclass
class VAEConfig(TrainConfig):
    kind: str = "vae"
    dataset: str = "digits"
    steps: int = 6000
    batch_size: int = 64
    lr: float = 2e-3
    sample_every: int = 250
    precision: str = "no"
    model: VAESizes = field(default_factory=VAESizes)
    datasets: ClassVar[tuple[str, ...]] = ("digits", "shapes")
    uploads: ClassVar[bool] = True
    first_run_steps: ClassVar[int] = 2000
    task_path: ClassVar[str] = "vae:VAETask"


@dataclass
class DiffusionSizes:
    width: int = 16
    ema_decay: float = 0.999
    sample_steps: int = 25  # the sampler's steps when the trainer judges samples


@dataclass
class DiffusionConfig(TrainConfig):
    kind: str = "diffusion"
    dataset: str = "digits"
    steps: int = 5000
    batch_size: int = 64
    lr: float = 1e-3
    warmup: int = 200
    eval_every: int = 1000
    precision: str = "no"
    model: DiffusionSizes = field(default_factory=DiffusionSizes)
    datasets: ClassVar[tuple[str, ...]] = ("digits", "shapes")
    uploads: ClassVar[bool] = True
    task_path: ClassVar[str] = "diffusion:DiffusionTask"


@dataclass
class GuidedDiffusionSizes(DiffusionSizes):
    guidance: float = 2.0
    p_uncond: float = 0.1  # share of training images whose label is dropped


@dataclass
class GuidedDiffusionConfig(DiffusionConfig):
    kind: str = "guided-diffusion"
    model: GuidedDiffusionSizes = field(default_factory=GuidedDiffusionSizes)
    datasets: ClassVar[tuple[str, ...]] = ("digits",)
    uploads: ClassVar[bool] = False
    task_path: ClassVar[str] = "diffusion:GuidedDiffusionTask"


# -- audio -------------------------------------------------------------------------------------------


@dataclass
class MelDiffusionSizes:
    net: str = "2d"  # "2d": the spectrogram as a picture (MelUNet2D); "1d": frames with bands as channels (MelUNet)
    width: int = 32  # channels at the finest of three resolutions (then 2x and 3x; 1.5x and 2x for "1d")
    embed: int = 128  # "1d" only: the 2-D U-Net's embedding is 4x its width
    ema_decay: float = 0.999
    guidance: float = 2.0
    p_uncond: float = 0.1
    sample_steps: int = 16
    sampler: str = "ddim"  # the solver of evaluation and of the saved model (aigc.models.diffusion.SCHEDULERS)
    drop: float = 0.3  # sound effects: each attribute left out of a training caption with this probability

    @property
    def widths(self) -> tuple[int, int, int]:
        if self.net == "2d":
            return self.width, self.width * 2, self.width * 3
        return self.width, self.width * 3 // 2, self.width * 2


@dataclass
class MelDiffusionConfig(TrainConfig):
    kind: str = "mel-diffusion"
    dataset: str = "spoken-digits"
    steps: int = 6000
    batch_size: int = 64
    lr: float = 1e-3
    warmup: int = 200
    eval_every: int = 1000
    sample_every: int = 500
    precision: str = "no"
    model: MelDiffusionSizes = field(default_factory=MelDiffusionSizes)
    datasets: ClassVar[tuple[str, ...]] = ("spoken-digits", "sound-effects")
    first_run_steps: ClassVar[int] = 1000
    task_path: ClassVar[str] = "audio:MelDiffusionTask"


@dataclass
class WaveNetSizes:
    residual: int = 32
    skip: int = 64
    layers: int = 8  # per stack: dilations 1, 2, ..., 128; two stacks see 512 samples, four mel frames
    stacks: int = 2
    mels: int | None = 64  # bands of the log-mel spectrogram it is conditioned on locally (0 or None: the class alone)
    mel_width: int = 128  # channels of the convolution that reads the spectrogram
    crop: int = 2560  # samples of a training crop, a multiple of the mel hop
    mel_noise: float = 0.1  # std of the noise on the training spectrograms (model scale): drawn ones are imperfect
    mel_model: str = "mel-digits"  # the spectrogram model the app draws from, and evaluation also vocodes
    ema_decay: float = 0.999
    temperature: float = 1.0  # of the clips the trainer judges


@dataclass
class WaveNetConfig(TrainConfig):
    kind: str = "wavenet"
    dataset: str = "spoken-digits"
    steps: int = 8000
    batch_size: int = 8
    lr: float = 1e-3
    warmup: int = 200
    eval_every: int = 500
    sample_every: int = 500
    checkpoint_every: int = 250
    precision: str = "no"
    model: WaveNetSizes = field(default_factory=WaveNetSizes)
    datasets: ClassVar[tuple[str, ...]] = ("spoken-digits",)
    first_run_steps: ClassVar[int] = 500
    task_path: ClassVar[str] = "wavenet:WaveNetTask"


# -- picture tools (the Edit image tab) -------------------------------------------------------------


@dataclass
class RestorerSizes:
    width: int = 32  # channels at the finest scale (half the picture's size); twice and four times that below
    patch: int = 96  # side of the training patches


@dataclass
class RestorerConfig(TrainConfig):
    kind: str = "restorer"
    dataset: str = "photos"
    steps: int = 2000
    batch_size: int = 16
    lr: float = 2e-3
    eval_every: int = 250
    checkpoint_every: int = 100
    model: RestorerSizes = field(default_factory=RestorerSizes)
    datasets: ClassVar[tuple[str, ...]] = ("photos",)
    first_run_steps: ClassVar[int] = 300
    task_path: ClassVar[str] = "edit:RestorerTask"


@dataclass
class UpscalerSizes:
    scale: int = 2  # 2 or 4
    width: int = 32
    layers: int = 3  # convolutions before the sub-pixel one
    patch: int = 96  # side of the large training patches


@dataclass
class UpscalerConfig(TrainConfig):
    kind: str = "upscaler"
    dataset: str = "photos"
    steps: int = 1500
    batch_size: int = 32
    lr: float = 1e-3
    eval_every: int = 250
    checkpoint_every: int = 100
    model: UpscalerSizes = field(default_factory=UpscalerSizes)
    datasets: ClassVar[tuple[str, ...]] = ("photos",)
    first_run_steps: ClassVar[int] = 300
    task_path: ClassVar[str] = "edit:UpscalerTask"


#: the kinds that train, by name, each with its configuration
KINDS: dict[str, type[TrainConfig]] = {
    config.kind: config for config in (GPTConfig, LSTMConfig, MaskedLMConfig, DCGANConfig, VAEConfig, DiffusionConfig, GuidedDiffusionConfig,
                                       CGANConfig, Text2ImgConfig, Text2VideoConfig, MelDiffusionConfig,
                                       WaveNetConfig, RestorerConfig, UpscalerConfig)
}

#: the `TrainConfig` fields that `python -m aigc train` takes as flags (besides --steps and --seed)
COMMAND_LINE = ("batch_size", "lr", "warmup", "eval_every", "sample_every", "checkpoint_every", "device", "precision",
                "log_with")


def load_config(data: dict[str, Any]) -> TrainConfig:
    """A `config.json`'s settings as its kind's dataclass (the plain `TrainConfig` for a kind unknown here)."""
    return KINDS.get(data.get("kind"), TrainConfig)(**data)


def as_kind_config(config: TrainConfig) -> TrainConfig:
    """`config` as its kind's dataclass, for a caller that built a plain `TrainConfig`."""
    kind = KINDS.get(config.kind)
    if kind is None or isinstance(config, kind):
        return config
    values = {f.name: getattr(config, f.name) for f in fields(config)}
    return kind(**values)


def size_options() -> dict[str, type]:
    """Every kind's size names, with the type of their values (for command-line flags)."""
    options: dict[str, type] = {}
    for config in KINDS.values():
        options.update({f.name: type(f.default) for f in fields(config.sizes_class())})
    return options


# -- settings from the environment (read here only) ------------------------------------------------


def launched_processes() -> int:
    """Processes started together by `accelerate launch` (its launcher tells each one WORLD_SIZE); 1 otherwise."""
    return max(1, int(os.environ.get("WORLD_SIZE", "1")))


def max_runs_setting() -> int | None:
    """AIGC_MAX_RUNS: how many runs the app trains at a time (`python app.py --max-runs N` sets it)."""
    value = os.environ.get("AIGC_MAX_RUNS")
    return max(1, int(value)) if value else None
