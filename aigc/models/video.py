"""A caption-to-clip GAN, factorised in time (in the spirit of TGAN, Saito et al., 2017, and
MoCoGAN, Tulyakov et al., 2018).

Generator: one clip's noise and caption vector are shared by all its frames; each frame adds
a learned embedding of its time step, and a small MLP mixes the three before the DCGAN
generator of `dcgan.py` draws the frame. What stays fixed in a clip (color, shape, size,
background) can only come from what all frames share, so the object does not flicker; where
it is at frame t comes from the caption's motion and t. Discriminator: 3D convolutions over
the whole clip (time, height, width), with the caption tiled as extra input channels, so it
judges motion and its match with the caption, not single frames only.
"""

from __future__ import annotations

import torch
from torch import nn

from .cgan import CaptionEncoder
from .dcgan import Generator


class VideoGenerator(nn.Module):
    def __init__(self, encoder: nn.Module, z_dim: int = 64, frames: int = 16, channels: int = 3, width: int = 64,
                 time_dim: int = 16, hidden: int = 256):
        super().__init__()
        self.encoder, self.z_dim, self.frames = encoder, z_dim, frames
        self.time = nn.Parameter(torch.randn(frames, time_dim))
        self.mix = nn.Sequential(nn.Linear(z_dim + encoder.dim + time_dim, hidden), nn.ReLU(True),
                                 nn.Linear(hidden, hidden), nn.ReLU(True))
        self.net = Generator(hidden, channels, width)

    def forward(self, z: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        """(N, z_dim) noise and N conditions -> clips (N, frames, channels, 32, 32) in [-1, 1]."""
        n, t = len(z), self.frames
        shared = torch.cat([z, self.encoder(condition)], 1)
        x = torch.cat([shared[:, None].expand(-1, t, -1), self.time[None].expand(n, -1, -1)], 2)
        frames = self.net(self.mix(x.reshape(n * t, -1)))
        return frames.view(n, t, *frames.shape[1:])


class VideoDiscriminator(nn.Module):
    """`aux` adds heads that name each attribute of a clip, read with the empty condition
    (AC-GAN, as `ConditionalDiscriminator` in cgan.py)."""

    def __init__(self, encoder: nn.Module, channels: int = 3, width: int = 32, cond_channels: int = 8, frames: int = 16,
                 aux: dict[str, int] | None = None):
        super().__init__()
        self.encoder = encoder
        self.to_maps = nn.Linear(encoder.dim, cond_channels)
        w = width
        # (T, 32, 32) -> (T/2, 16, 16) -> (T/4, 8, 8) -> (T/8, 4, 4) -> one logit
        self.net = nn.Sequential(
            nn.Conv3d(channels + cond_channels, w, 4, 2, 1), nn.LeakyReLU(0.2, True),
            nn.Conv3d(w, 2 * w, 4, 2, 1), nn.GroupNorm(8, 2 * w), nn.LeakyReLU(0.2, True),
            nn.Conv3d(2 * w, 4 * w, 4, 2, 1), nn.GroupNorm(8, 4 * w), nn.LeakyReLU(0.2, True),
            nn.Flatten(),
        )
        features = 4 * w * (frames // 8) * 4 * 4
        self.logit = nn.Linear(features, 1)
        self.aux = nn.ModuleDict({k: nn.Linear(features, n) for k, n in (aux or {}).items()})
        for module in self.net:
            if isinstance(module, nn.Conv3d):  # N(0, 0.02), as Radford et al. start a DCGAN
                nn.init.normal_(module.weight, 0.0, 0.02)
                nn.init.zeros_(module.bias)

    def _features(self, clips: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        x = clips.transpose(1, 2)  # Conv3d wants (N, C, T, H, W)
        maps = self.to_maps(self.encoder(condition))[:, :, None, None, None].expand(-1, -1, *x.shape[2:])
        return self.net(torch.cat([x, maps], 1))

    def forward(self, clips: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        """clips (N, T, C, H, W) -> one logit each."""
        return self.logit(self._features(clips, condition)).flatten()

    def attributes(self, clips: torch.Tensor, nothing: torch.Tensor) -> dict[str, torch.Tensor]:
        features = self._features(clips, nothing)
        return {k: head(features) for k, head in self.aux.items()}


def video_generator(config: dict) -> VideoGenerator:
    """The generator described by a saved `config.json` (kind `text2video`)."""
    encoder = CaptionEncoder(len(config["vocabulary"]), config["embed"], config["caption_length"])
    return VideoGenerator(encoder, config["z_dim"], config["frames"], config["channels"], config["width"])
