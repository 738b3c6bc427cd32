"""Conditional DCGAN (Mirza and Osindero, 2014, on the DCGAN of Radford et al., 2016).

The condition is a vector: a learned embedding of a class label, or a caption encoded
by `CaptionEncoder`. The generator reads it joined to the noise; the discriminator
reads it tiled over the image as extra input channels, so that it judges whether an
image is real *and* matches its condition. Each network has its own encoder, trained
with it.
"""

from __future__ import annotations

import re

import torch
from torch import nn

from .dcgan import Discriminator, Generator


class LabelEncoder(nn.Module):
    """Class label -> condition vector."""

    def __init__(self, classes: int, dim: int):
        super().__init__()
        self.dim = dim
        self.embed = nn.Embedding(classes, dim)

    def forward(self, labels: torch.Tensor) -> torch.Tensor:
        return self.embed(labels)


class Vocabulary:
    """Caption words to ids (0 pads). `filler` words are accepted and dropped; any other
    word outside `words` is unknown, and the caller says so instead of guessing."""

    def __init__(self, words: list[str], filler: list[str] = ()):
        self.words, self.filler = list(words), set(filler)
        self.ids = {w: i + 1 for i, w in enumerate(self.words)}

    def split(self, text: str) -> list[str]:
        return re.findall(r"[a-z]+", text.lower())

    def unknown(self, text: str) -> list[str]:
        return sorted({w for w in self.split(text) if w not in self.ids and w not in self.filler})

    def encode(self, captions: list[str], length: int) -> torch.Tensor:
        """Token ids (N, length) of the known words, cut at `length`."""
        out = torch.zeros(len(captions), length, dtype=torch.long)
        for row, text in enumerate(captions):
            ids = [self.ids[w] for w in self.split(text) if w in self.ids][:length]
            out[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
        return out


class CaptionEncoder(nn.Module):
    """Caption ids -> condition vector: word and position embeddings, one Transformer encoder
    layer (Vaswani et al., 2017) and the mean over the words. An empty caption maps to a
    learned vector of its own, "nothing said"."""

    def __init__(self, vocab_size: int, dim: int = 64, length: int = 8, heads: int = 4):
        super().__init__()
        self.dim = dim
        self.words = nn.Embedding(vocab_size + 1, dim, padding_idx=0)
        self.positions = nn.Parameter(torch.randn(length, dim) * 0.02)
        self.layer = nn.TransformerEncoderLayer(dim, heads, dim_feedforward=2 * dim, dropout=0.0, batch_first=True)
        self.nothing = nn.Parameter(torch.zeros(dim))
        self.out = nn.Linear(dim, dim)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        pad = ids == 0
        empty = pad.all(1)
        # Attention over nothing but padding divides by zero: let an empty row see its first slot.
        first = torch.arange(ids.shape[1], device=ids.device) == 0
        pad = pad & ~(empty[:, None] & first)
        x = self.layer(self.words(ids) + self.positions[: ids.shape[1]], src_key_padding_mask=pad)
        keep = (~pad).unsqueeze(-1).float()
        pooled = (x * keep).sum(1) / keep.sum(1)
        pooled = torch.where(empty[:, None], self.nothing.expand_as(pooled), pooled)
        return self.out(pooled)


class ConditionalGenerator(nn.Module):
    def __init__(self, encoder: nn.Module, z_dim: int = 100, channels: int = 1, width: int = 64):
        super().__init__()
        self.encoder, self.z_dim = encoder, z_dim
        self.net = Generator(z_dim + encoder.dim, channels, width)

    def forward(self, z: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([z, self.encoder(condition)], 1))


class ConditionalDiscriminator(nn.Module):
    """`aux` (attribute -> number of values) adds heads that name each attribute of an image
    (Odena et al., 2017, AC-GAN). They read the image with the empty condition, so they
    cannot copy the answer from the caption."""

    def __init__(self, encoder: nn.Module, channels: int = 1, width: int = 64, cond_channels: int = 8,
                 norm: str = "batch", aux: dict[str, int] | None = None):
        super().__init__()
        self.encoder = encoder
        self.to_maps = nn.Linear(encoder.dim, cond_channels)
        self.net = Discriminator(channels + cond_channels, width, norm)
        self.aux = nn.ModuleDict({k: nn.Linear(4 * width * 4 * 4, n) for k, n in (aux or {}).items()})

    def _with_condition(self, x: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        maps = self.to_maps(self.encoder(condition))[:, :, None, None].expand(-1, -1, *x.shape[-2:])
        return torch.cat([x, maps], 1)

    def forward(self, x: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        return self.net(self._with_condition(x, condition))

    def attributes(self, x: torch.Tensor, nothing: torch.Tensor) -> dict[str, torch.Tensor]:
        """Logits per attribute; `nothing` is the empty condition (all padding)."""
        features = self.net.net[:-1](self._with_condition(x, nothing)).flatten(1)
        return {k: head(features) for k, head in self.aux.items()}


def conditional_generator(config: dict) -> ConditionalGenerator:
    """The generator described by a saved `config.json` (kind `cgan` or `text2img`)."""
    if config["kind"] == "text2img":
        encoder = CaptionEncoder(len(config["vocabulary"]), config["embed"], config["caption_length"])
    else:
        encoder = LabelEncoder(len(config["class_names"]), config["embed"])
    return ConditionalGenerator(encoder, config["z_dim"], config["channels"], config["width"])
