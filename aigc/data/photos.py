"""`photos`: real photographs that ship inside installed packages, for the Edit image tab's tools.

scikit-image bundles a few photographs and textures (`skimage.data`) and scikit-learn two more
(`load_sample_images`); nothing is downloaded. Each photo has one role: its patches teach the
restorer and the upscaler (`train`), or it is kept whole for judging them (`held-out`). The textures
double as style pictures for Restyle. Licences are in `assets/SOURCES.md`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image

from ..errors import AigcError


@dataclass(frozen=True)
class Photo:
    name: str
    source: str  # "skimage:<function>" or "sklearn:<file>"
    role: str  # "train" or "held-out"
    licence: str


PHOTOS = {p.name: p for p in (
    Photo("astronaut", "skimage:astronaut", "train", "public domain (NASA)"),
    Photo("rocket", "skimage:rocket", "train", "public domain (SpaceX)"),
    Photo("hubble", "skimage:hubble_deep_field", "train", "public domain (NASA)"),
    Photo("cells", "skimage:immunohistochemistry", "train", "no known copyright restrictions"),
    Photo("retina", "skimage:retina", "train", "CC0"),
    Photo("china", "sklearn:china.jpg", "train", "CC BY 2.0, danielbuechele on Flickr"),
    Photo("camera", "skimage:camera", "train", "CC0, Lav Varshney"),
    Photo("coins", "skimage:coins", "train", "no known copyright restrictions"),
    Photo("brick", "skimage:brick", "train", "CC0 (CC0Textures)"),
    Photo("grass", "skimage:grass", "train", "CC0"),
    Photo("gravel", "skimage:gravel", "train", "CC0 (CC0Textures)"),
    Photo("coffee", "skimage:coffee", "held-out", "CC0, Rachel Michetti"),
    Photo("cat", "skimage:chelsea", "held-out", "CC0, Stefan van der Walt"),
    Photo("flower", "sklearn:flower.jpg", "held-out", "CC BY 2.0, vultilion on Flickr"),
)}
#: pictures offered as styles in Restyle (textures and colourful photos)
STYLES = ("brick", "gravel", "grass", "hubble", "cells", "retina")
#: photos offered as samples to edit (held out from every tool's training)
SAMPLES = tuple(p.name for p in PHOTOS.values() if p.role == "held-out")


@lru_cache(maxsize=None)
def _pixels(name: str) -> np.ndarray:
    if name not in PHOTOS:
        raise AigcError(f"Unknown photo '{str(name)[:40]}'; photos are {', '.join(PHOTOS)}.")
    where, _, what = PHOTOS[name].source.partition(":")
    if where == "skimage":
        import skimage.data

        pixels = getattr(skimage.data, what)()
    else:
        from sklearn.datasets import load_sample_image

        pixels = load_sample_image(what)
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[..., None], 3, axis=2)
    pixels = np.ascontiguousarray(pixels[..., :3])
    pixels.setflags(write=False)
    return pixels


def load_photo(name: str) -> Image.Image:
    """The photo as an RGB picture."""
    return Image.fromarray(_pixels(name))


def photos(role: str) -> list[Image.Image]:
    """Every photo of one role ("train" or "held-out")."""
    return [load_photo(p.name) for p in PHOTOS.values() if p.role == role]


def to_array(picture: Image.Image) -> np.ndarray:
    """(H, W, 3) float32 in [0, 1]."""
    return np.asarray(picture.convert("RGB"), dtype=np.float32) / 255.0


def to_picture(array: np.ndarray) -> Image.Image:
    return Image.fromarray((np.clip(array, 0, 1) * 255 + 0.5).astype(np.uint8))


class PatchSampler:
    """Random square patches of the training photos, each photo as often as any other (the retina
    scan alone has a third of the pixels), flipped and turned at random: an endless, seeded stream of (N, 3, size, size) tensors in [0, 1]."""

    def __init__(self, size: int, seed: int = 0, role: str = "train"):
        import torch

        self.size = size
        self.images = [torch.from_numpy(to_array(p)).permute(2, 0, 1).contiguous() for p in photos(role)]
        self.rng = np.random.default_rng(seed)

    def batch(self, n: int, rng: np.random.Generator | None = None):
        """`n` patches drawn with `rng` (a trainer passes one seeded by its step, so a resumed run
        sees the same patches), else with the sampler's own generator."""
        import torch

        rng = rng or self.rng
        out = torch.empty(n, 3, self.size, self.size)
        for i, which in enumerate(rng.integers(0, len(self.images), n)):
            im = self.images[which]
            top = rng.integers(0, im.shape[1] - self.size + 1)
            left = rng.integers(0, im.shape[2] - self.size + 1)
            patch = im[:, top:top + self.size, left:left + self.size]
            if rng.random() < 0.5:
                patch = patch.flip(2)
            out[i] = patch.rot90(int(rng.integers(4)), (1, 2))
        return out


#: ways a picture gets smaller, all of which the upscaler learns to undo (pictures users upload were
#: shrunk by whatever tool made them); "bicubic" (PIL's, like MATLAB's imresize) is the one it is judged on
SHRINKS = {"bicubic": Image.BICUBIC, "lanczos": Image.LANCZOS, "bilinear": Image.BILINEAR, "box": Image.BOX}


def shrink(picture: Image.Image, scale: int, how: str = "bicubic") -> Image.Image:
    """`picture` made `scale` times smaller (its sides rounded down) with an antialiasing filter."""
    return picture.resize((max(1, picture.width // scale), max(1, picture.height // scale)), SHRINKS[how])
