"""Image datasets behind one interface (`ImageSet`), used by the trainer and the evaluation.

Built in and offline: `digits` (scikit-learn's 1,797 real 8x8 handwritten digits, served
at 32x32) and `shapes` (procedural, seeded, captioned). Online: `mnist`, `fashion-mnist`
and `cifar10` through torchvision. A user's .zip of images (see `uploads.py`). Both build the
container of `imageset.py`.
"""

from __future__ import annotations

import os
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import AigcError
from ..paths import ROOT
from . import shapes
from .imageset import ImageSet


@lru_cache(maxsize=2)
def digits(size: int = 32) -> ImageSet:
    """scikit-learn's real handwritten digits (values 0..16 at 8x8), resized smoothly to `size`
    (the digit fills the middle three quarters)."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    small = torch.tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0
    inner = size * 3 // 4  # the 8x8 digits touch their edges: leave a margin, as MNIST does
    big = F.interpolate(small, size=(inner, inner), mode="bilinear", align_corners=False)
    pad = (size - inner) // 2
    big = F.pad(big, (pad, size - inner - pad, pad, size - inner - pad))
    images = big.mul(255).round().clamp(0, 255).to(torch.uint8)
    return ImageSet("digits", images, torch.tensor(bunch.target, dtype=torch.long), [str(i) for i in range(10)])


def at_size(data: ImageSet, size: int) -> ImageSet:
    """The set with square images of side `size` (area-averaged when shrinking, stretched if not square)."""
    if data.images.shape[-2:] == (size, size):
        return data
    resized = F.interpolate(data.images.float(), size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    images = resized.round().clamp(0, 255).to(torch.uint8)
    return ImageSet(data.name, images, data.labels, data.class_names, data.captions, data.attributes)


def split(data: ImageSet, held_out: float = 0.2, seed: int = 0) -> tuple[ImageSet, ImageSet]:
    """A fixed random split, stratified by label when there are labels."""
    gen = torch.Generator().manual_seed(seed)
    if data.labels is None:
        order = torch.randperm(len(data), generator=gen)
        cut = int(round(len(data) * held_out))
        test_idx, train_idx = order[:cut], order[cut:]
    else:
        test_parts, train_parts = [], []
        for label in data.labels.unique().tolist():
            idx = (data.labels == label).nonzero().flatten()
            idx = idx[torch.randperm(len(idx), generator=gen)]
            cut = int(round(len(idx) * held_out))
            test_parts.append(idx[:cut])
            train_parts.append(idx[cut:])
        test_idx, train_idx = torch.cat(test_parts).sort().values, torch.cat(train_parts).sort().values
    return _subset(data, train_idx), _subset(data, test_idx)


def _subset(data: ImageSet, index: torch.Tensor) -> ImageSet:
    pick = index.tolist()
    return ImageSet(
        data.name, data.images[index], None if data.labels is None else data.labels[index], data.class_names,
        None if data.captions is None else [data.captions[i] for i in pick],
        None if data.attributes is None else [data.attributes[i] for i in pick],
    )


@lru_cache(maxsize=4)
def shapes_set(count: int = 20_000, size: int = 32, seed: int = 0) -> ImageSet:
    """A fixed pool of `shapes` images with captions (the source itself is unbounded: `shapes.render`)."""
    images, attributes = shapes.render(count, size=size, seed=seed)
    return ImageSet(f"shapes-{size}", images, captions=[shapes.caption(a) for a in attributes], attributes=attributes)


TORCHVISION = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST", "cifar10": "CIFAR10"}


def torchvision_set(name: str, train: bool = True) -> ImageSet:
    """MNIST, Fashion-MNIST or CIFAR-10, downloaded once into `data-cache/` (needs the internet)."""
    import torchvision

    cls = getattr(torchvision.datasets, TORCHVISION[name])
    root = ROOT / "data-cache"
    try:
        ds = cls(root, train=train, download=False)
    except RuntimeError:
        if os.environ.get("HF_HUB_OFFLINE") == "1" or os.environ.get("AIGC_OFFLINE") == "1":
            raise AigcError(f"'{name}' is downloaded once from the internet, and this machine is offline; "
                            "use 'digits' or 'shapes', which are built in.") from None
        try:
            ds = cls(root, train=train, download=True)
        except Exception:
            raise AigcError(f"Could not download '{name}': it needs the internet once; "
                            "'digits' and 'shapes' are built in and work offline.") from None
    data = torch.as_tensor(np.asarray(ds.data))
    images = data.unsqueeze(1) if data.dim() == 3 else data.permute(0, 3, 1, 2)
    return ImageSet(name, images.contiguous(), torch.as_tensor(np.asarray(ds.targets), dtype=torch.long), list(ds.classes))


BUILTIN = ("digits", "shapes")


def load_images(name: str) -> ImageSet:
    """A dataset by name: 'digits', 'shapes' (32x32), 'shapes-64', a torchvision one, or the
    path of a user's .zip of images (served at 32x32, the size the built-in models draw)."""
    if name.endswith(".zip"):
        from .uploads import load_zip

        return at_size(load_zip(name), 32)
    if name == "digits":
        return digits()
    if name in ("shapes", "shapes-32"):
        return shapes_set(size=32)
    if name == "shapes-64":
        return shapes_set(size=64)
    if name in TORCHVISION:
        return torchvision_set(name)
    raise AigcError(f"Unknown image dataset '{name}'; built-in ones are digits, shapes and shapes-64, "
                    f"and online: {', '.join(TORCHVISION)}.")
