"""A class-conditional diffusion model of log-mel spectrograms, small enough to draw a page of clips in
about a second on a CPU.

A spectrogram is read as a sequence of frames whose channels are the mel bands, so the denoiser is a
one-dimensional U-Net over time (convolutions over frames, as in Grad-TTS-like and WaveGrad-like
audio models), far cheaper than a 2-D U-Net over the spectrogram as a picture. Residual blocks take the
timestep and the condition through FiLM (scale and shift of each block's features), one self-attention
layer at the coarsest resolution sees the whole word at once. The condition is a class (a digit) or a
caption's attributes (a sound effect's kind, pitch, length...: the sum of one embedding per attribute).
Each embedding has one more entry, "not said", which training uses for dropped labels and attributes:
so one network knows the unconditional estimate that classifier-free guidance needs (Ho and Salimans,
2021), and a caption that names only some attributes leaves the others to the model. It is trained with v-prediction
(Salimans and Ho, 2022) under a cosine schedule (Nichol and Dhariwal, 2021), and sampled with DDIM in
"trailing" steps (Lin et al., 2024). diffusers supplies the schedule and the solver, and its timestep
embedding; the network is this file.

`MelUNet2D` reads the same spectrogram as a picture instead: diffusers' 2-D U-Net over the 64x64
log-mel, its 2x2 neighbourhoods folded into channels (pixel unshuffle) so that it works at 32x32.
A formant moves across neighbouring mel bands as a vowel changes, which 2-D kernels follow and a
convolution over time with every band as a channel must learn band by band: for the same training
time, its digits are heard as asked far more often. Both take and give (N, mels, frames).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class FiLMBlock(nn.Module):
    def __init__(self, channels: int, out: int, embed: int):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(8, channels), nn.Conv1d(channels, out, 3, padding=1)
        self.film = nn.Linear(embed, 2 * out)
        self.norm2, self.conv2 = nn.GroupNorm(8, out), nn.Conv1d(out, out, 3, padding=1)
        self.skip = nn.Conv1d(channels, out, 1) if channels != out else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        scale, shift = self.film(emb).unsqueeze(-1).chunk(2, dim=1)
        h = self.conv2(F.silu(self.norm2(h) * (1 + scale) + shift))
        return self.skip(x) + h


class SelfAttention(nn.Module):
    def __init__(self, channels: int, heads: int = 4):
        super().__init__()
        self.norm = nn.GroupNorm(8, channels)
        self.attn = nn.MultiheadAttention(channels, heads, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm(x).transpose(1, 2)
        return x + self.attn(h, h, h, need_weights=False)[0].transpose(1, 2)


class MelUNet(nn.Module):
    """(N, mels, frames) noisy spectrograms, timesteps (N,), classes (N,) -> (N, mels, frames).
    `frames` must be a multiple of 2 ** (len(widths) - 1)."""

    def __init__(self, mels: int = 64, classes: int = 10, widths: tuple[int, ...] = (96, 128, 192), embed: int = 128,
                 attributes: tuple[int, ...] | None = None):
        """`classes`: a class-conditional model; `attributes` (the number of values of each): a caption model."""
        super().__init__()
        from diffusers.models.embeddings import TimestepEmbedding, Timesteps

        self.config = {"mels": mels, "classes": classes, "widths": list(widths), "embed": embed}
        self.time = nn.Sequential(Timesteps(embed, flip_sin_to_cos=True, downscale_freq_shift=0),
                                  TimestepEmbedding(embed, embed))
        if attributes:
            self.config["attributes"] = list(attributes)
            self.attributes = nn.ModuleList(nn.Embedding(n + 1, embed) for n in attributes)  # the last: not said
        else:
            self.label = nn.Embedding(classes + 1, embed)  # the last one: no label
        self.inp = nn.Conv1d(mels, widths[0], 3, padding=1)
        self.down = nn.ModuleList()
        self.up = nn.ModuleList()
        for i, w in enumerate(widths):
            prev = widths[max(0, i - 1)]
            self.down.append(nn.ModuleList([FiLMBlock(prev, w, embed), FiLMBlock(w, w, embed)]))
        self.middle = nn.ModuleList([FiLMBlock(widths[-1], widths[-1], embed), SelfAttention(widths[-1]),
                                     FiLMBlock(widths[-1], widths[-1], embed)])
        for i in reversed(range(len(widths))):
            w, below = widths[i], widths[max(0, i - 1)]
            self.up.append(nn.ModuleList([FiLMBlock(2 * w, w, embed), FiLMBlock(w, below, embed)]))
        self.out = nn.Sequential(nn.GroupNorm(8, widths[0]), nn.SiLU(), nn.Conv1d(widths[0], mels, 3, padding=1))
        nn.init.zeros_(self.out[-1].weight)
        nn.init.zeros_(self.out[-1].bias)

    def unconditional(self, n: int) -> torch.Tensor:
        """The condition that says nothing, for `n` samples."""
        if "attributes" in self.config:
            return torch.tensor(self.config["attributes"]).expand(n, -1)
        return torch.full((n,), self.config["classes"])

    @property
    def no_label(self) -> int:
        return self.config["classes"]

    def condition(self, label: torch.Tensor) -> torch.Tensor:
        if "attributes" in self.config:  # (N, attributes): each attribute's value, or its count for "not said"
            return sum(table(label[:, i]) for i, table in enumerate(self.attributes))
        return self.label(label)

    def forward(self, x: torch.Tensor, t: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        emb = F.silu(self.time(t.expand(len(x)).to(x.dtype)) + self.condition(label))
        h = self.inp(x)
        skips = []
        for i, (first, second) in enumerate(self.down):
            if i:
                h = F.avg_pool1d(h, 2)
            h = second(first(h, emb), emb)
            skips.append(h)
        first, attention, second = self.middle
        h = second(attention(first(h, emb)), emb)
        for i, (first, second) in enumerate(self.up):
            h = second(first(torch.cat([h, skips.pop()], 1), emb), emb)
            if i < len(self.up) - 1:
                h = F.interpolate(h, scale_factor=2, mode="nearest")
        return self.out(h)


class MelUNet2D(nn.Module):
    """The interface of MelUNet, with diffusers' UNet2DModel over the spectrogram as a picture. The
    condition (a class or a caption's attributes, each with its "not said" entry) is this module's
    embedding, added to the timestep's (the U-Net's `class_embed_type="identity"`)."""

    def __init__(self, mels: int = 64, classes: int = 10, widths: tuple[int, ...] = (32, 64, 96),
                 attributes: tuple[int, ...] | None = None):
        super().__init__()
        from diffusers import UNet2DModel

        self.config = {"net": "2d", "mels": mels, "classes": classes, "widths": list(widths)}
        embed = 4 * widths[0]  # the U-Net's timestep embedding
        blocks = len(widths)
        self.unet = UNet2DModel(
            sample_size=mels // 2, in_channels=4, out_channels=4, layers_per_block=1, block_out_channels=tuple(widths),
            norm_num_groups=8, class_embed_type="identity",
            down_block_types=("DownBlock2D",) * (blocks - 1) + ("AttnDownBlock2D",),
            up_block_types=("AttnUpBlock2D",) + ("UpBlock2D",) * (blocks - 1))
        if attributes:
            self.config["attributes"] = list(attributes)
            self.attributes = nn.ModuleList(nn.Embedding(n + 1, embed) for n in attributes)  # the last: not said
        else:
            self.label = nn.Embedding(classes + 1, embed)  # the last one: no label

    unconditional = MelUNet.unconditional
    no_label = MelUNet.no_label
    condition = MelUNet.condition

    def forward(self, x: torch.Tensor, t: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        folded = F.pixel_unshuffle(x.unsqueeze(1), 2)
        out = self.unet(folded, t.expand(len(x)), class_labels=self.condition(label).to(x.dtype)).sample
        return F.pixel_shuffle(out, 2).squeeze(1)


def mel_unet(config: dict) -> nn.Module:
    """The network a saved config describes (its weights not loaded)."""
    attributes = tuple(config["attributes"]) if config.get("attributes") else None
    if config.get("net") == "2d":
        return MelUNet2D(config["mels"], config["classes"], tuple(config["widths"]), attributes)
    return MelUNet(config["mels"], config["classes"], tuple(config["widths"]), config["embed"], attributes)


def training_scheduler():
    from diffusers import DDPMScheduler

    return DDPMScheduler(num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2", prediction_type="v_prediction")


@torch.inference_mode()
def sample(model: MelUNet | MelUNet2D, labels: torch.Tensor, frames: int, steps: int = 20, guidance: float = 2.0,
           generator: torch.Generator | None = None, on_step=None, scheduler: str = "ddim") -> torch.Tensor:
    """Spectrograms in the model's scale, (N, mels, frames), one per label (a class, or a row of attribute
    values), by the solver `scheduler` (aigc.models.diffusion.SCHEDULERS) with classifier-free guidance
    (`guidance` 1 means none); `on_step(i, x)` is called after each step."""
    from .diffusion import solver

    sched = solver(training_scheduler(), scheduler)
    sched.set_timesteps(steps)
    device = next(model.parameters()).device
    labels = labels.to(device)
    x = torch.randn((len(labels), model.config["mels"], frames), generator=generator).to(device)
    none = model.unconditional(len(labels)).to(device)
    for i, t in enumerate(sched.timesteps):
        if guidance == 1:
            v = model(x, t.to(device), labels)
        else:
            v_label, v_none = model(torch.cat([x, x]), t.to(device), torch.cat([labels, none])).chunk(2)
            v = v_none + guidance * (v_label - v_none)
        x = sched.step(v, t, x).prev_sample
        if on_step is not None:
            on_step(i, x)
    return x
