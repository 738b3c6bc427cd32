"""Neural style transfer (Gatys, Ecker and Bethge 2016, "Image style transfer using convolutional neural
networks"): the picture is optimised so that the Gram matrices of its convolutional features match a style
picture's, while a deeper feature stays close to the content picture's.

No pretrained weights ship, and offline none can be fetched, so the default features come from a shallow
convolutional network with random, fixed weights. Random filters followed by a non-linearity already capture
texture: Ustyuzhaninov, Brendel, Gatys and Bethge 2016, "Texture synthesis using shallow convolutional networks
with random filters" (arXiv:1606.00021), and He, Wang and Hopcroft 2016, "A powerful generative model using random
weights for the deep image representation" (NeurIPS 2016), who also transfer style with random weights. The
network is drawn from a seed in milliseconds, so nothing ships and the same seed gives the same features.
VGG-19 from torchvision is used instead when its ImageNet weights are already on this machine
(`vgg19_features`).
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import AigcError
from ..progress import Steps

# ImageNet statistics: the random filters are zero-mean, so the picture is centred for them to see contrast and
# colour rather than brightness alone; VGG was trained on pictures normalised this way.
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


class RandomFeatures(nn.Module):
    """A few stages of (3x3 conv, ReLU), halving the resolution between stages by average pooling: each stage
    sees twice the neighbourhood of the one before, so the Gram matrices describe texture at several scales.
    Weights are drawn once from `seed` (He-normal, zero-mean per filter) and never trained.

    `forward(x)` returns the features of every stage; `content_layer` says which one holds the content.
    """

    def __init__(self, widths: Sequence[int] = (32, 64, 128, 256), kernel: int = 3, seed: int = 0,
                 content_layer: int = 2):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.convs = nn.ModuleList()
        channels = 3
        for width in widths:
            conv = nn.Conv2d(channels, width, kernel, padding=kernel // 2, padding_mode="reflect")
            with torch.no_grad():
                w = torch.randn(conv.weight.shape, generator=gen)
                conv.weight.copy_(w * math.sqrt(2.0 / (channels * kernel * kernel)))
                conv.bias.zero_()
            conv.requires_grad_(False)
            self.convs.append(conv)
            channels = width
        self.content_layer = content_layer
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = (x - self.mean) / self.std
        out = []
        for i, conv in enumerate(self.convs):
            if i:
                x = F.avg_pool2d(x, 2)
            x = F.relu(conv(x))
            out.append(x)
        return out


def vgg19_features(weights_path: str | None = None) -> nn.Module:
    """VGG-19's convolutional features with ImageNet weights, as used by Gatys et al.: from `weights_path`, or
    from torch's cache when torchvision put them there before. Never downloads; raises AigcError when the
    weights are not on this machine."""
    import os

    import torchvision

    weights = torchvision.models.VGG19_Weights.IMAGENET1K_V1
    if weights_path is None:
        cached = os.path.join(torch.hub.get_dir(), "checkpoints", os.path.basename(weights.url))
        if not os.path.exists(cached):
            raise AigcError(f"VGG-19 weights are not on this machine (looked for {cached}); "
                            "the random-feature network works without them.")
        weights_path = cached
    net = torchvision.models.vgg19()
    try:
        net.load_state_dict(torch.load(weights_path, map_location="cpu", weights_only=True))
    except (OSError, RuntimeError) as e:
        raise AigcError(f"Could not read VGG-19 weights from {weights_path}: {str(e)[:200]}") from e
    return VGGFeatures(net.features)


class VGGFeatures(nn.Module):
    """Gatys et al.'s layers: relu1_1 .. relu5_1 for style, relu4_2 for content."""

    STYLE = (1, 6, 11, 20, 29)  # indices of relu1_1, relu2_1, relu3_1, relu4_1, relu5_1 in vgg19().features
    CONTENT = 22  # relu4_2

    def __init__(self, body: nn.Sequential):
        super().__init__()
        self.body = body[:self.STYLE[-1] + 1].eval().requires_grad_(False)
        taps = sorted({*self.STYLE, self.CONTENT})
        self.taps = taps
        self.content_layer = taps.index(self.CONTENT)
        self.style_layers = [taps.index(i) for i in self.STYLE]
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = (x - self.mean) / self.std
        out = []
        for i, layer in enumerate(self.body):
            x = layer(x)
            if i in self.taps:
                out.append(x)
        return out


def gram(features: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> (N, C, C): the feature channels' correlations averaged over positions, so pictures of
    different sizes compare."""
    n, c, h, w = features.shape
    f = features.reshape(n, c, h * w)
    return f @ f.transpose(1, 2) / (h * w)


def style_distance(grams: Sequence[torch.Tensor], targets: Sequence[torch.Tensor]) -> torch.Tensor:
    """Mean over layers of the squared Gram difference relative to the target's: each scale counts alike,
    whatever its width or the size of its activations."""
    return torch.stack([((g - t) ** 2).sum() / (t ** 2).sum().clamp_min(1e-12)
                        for g, t in zip(grams, targets)]).mean()


def content_distance(feature: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return ((feature - target) ** 2).sum() / (target ** 2).sum().clamp_min(1e-12)


def total_variation(x: torch.Tensor) -> torch.Tensor:
    return (x[..., 1:, :] - x[..., :-1, :]).abs().mean() + (x[..., :, 1:] - x[..., :, :-1]).abs().mean()


def as_batch(picture) -> torch.Tensor:
    """A PIL picture, an (H, W, 3) array in [0, 1] or uint8, or a (3, H, W) / (1, 3, H, W) tensor in [0, 1]
    -> (1, 3, H, W) float32."""
    if isinstance(picture, torch.Tensor):
        x = picture.detach().float()
    else:
        a = np.asarray(picture.convert("RGB") if hasattr(picture, "convert") else picture)
        x = torch.from_numpy(a.astype(np.float32) / (255.0 if a.dtype == np.uint8 else 1.0)).permute(2, 0, 1)
    if x.dim() == 3:
        x = x[None]
    if x.dim() != 4 or x.shape[:2] != (1, 3):
        raise AigcError(f"A picture should be one RGB image; got a tensor of shape {tuple(x.shape)}.")
    return x.clamp(0, 1).contiguous()


def match_scale(style: torch.Tensor, size: tuple[int, int], scale: float = 1.0) -> torch.Tensor:
    """The style picture resized so that its shorter side is `scale` times the content's longer side (the
    content's `size` = (H, W)): a texture then shows at about the size it has in the picture it came from
    relative to the whole picture, and covers the content. Gram matrices are averages over positions, so
    neither picture needs cropping to the other's shape."""
    h, w = style.shape[-2:]
    factor = scale * max(size) / min(h, w)
    new = (max(8, round(h * factor)), max(8, round(w * factor)))
    if new == (h, w):
        return style
    return F.interpolate(style, size=new, mode="bilinear", antialias=factor < 1, align_corners=False).clamp(0, 1)


# ITU-R BT.601 luma and chroma (YCbCr without offsets): luma carries the picture's structure, chroma its palette
_YCC = torch.tensor([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]])


def match_colours(picture: torch.Tensor, style: torch.Tensor, chroma: float = 1.0, luma: float = 0.5) -> torch.Tensor:
    """`picture` (1, 3, H, W) with its colours moved towards the style picture's, in closed form: chroma (Cb, Cr)
    by the linear Monge-Kantorovich map between the two pictures' Gaussian statistics (mean and covariance),
    luma by matching mean and spread. `chroma` and `luma` blend from the picture (0) to the full map (1).
    The palette is then the style's at once and the optimisation spends its steps on texture; luma moves only
    part of the way, since darkening or flattening a picture erases its structure (a night sky's near-black
    would leave little of a photo)."""
    ycc = _YCC.to(picture.dtype)

    def split(x):
        v = torch.einsum("ij,jn->in", ycc, x.reshape(3, -1)).double()
        mu = v.mean(1, keepdim=True)
        return v, mu, (v - mu) @ (v - mu).T / v.shape[1]

    v, mu_p, cov_p = split(picture)
    _, mu_s, cov_s = split(style)
    out = v.clone()
    if luma:
        y = mu_s[0] + (v[0] - mu_p[0]) * (cov_s[0, 0] / cov_p[0, 0].clamp_min(1e-8)).sqrt()
        out[0] = (1 - luma) * v[0] + luma * y
    if chroma:
        eye = 1e-6 * torch.eye(2, dtype=v.dtype)
        cp, cs = cov_p[1:, 1:] + eye, cov_s[1:, 1:] + eye
        half, inv_half = _sqrtm(cp), _sqrtm(cp, -0.5)
        a = inv_half @ _sqrtm(half @ cs @ half) @ inv_half
        out[1:] = (1 - chroma) * v[1:] + chroma * (mu_s[1:] + a @ (v[1:] - mu_p[1:]))
    rgb = torch.linalg.solve(ycc.double(), out).float()
    return rgb.reshape(picture.shape).clamp(0, 1).contiguous()


def _sqrtm(m: torch.Tensor, power: float = 0.5) -> torch.Tensor:
    e, u = torch.linalg.eigh(m)
    return u @ torch.diag(e.clamp_min(1e-12) ** power) @ u.T


def _resize(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    down = size[0] < x.shape[-2]
    return F.interpolate(x, size=size, mode="bilinear", antialias=down, align_corners=False).clamp(0, 1)


def transfer(content, style, steps: int = 200, style_weight: float = 1.0, content_weight: float = 1.0,
             tv_weight: float = 0.0, features: nn.Module | None = None, seed: int = 0,
             style_scale: float = 1.0, noise: float = 0.0, chroma: float = 1.0, luma: float = 0.5, loss_scale: float = 1e4, history: int = 20,
             scales: int = 1, coarse_steps: int = 100, chroma_tv: float = 0.0,
             callback: Callable[[int, int, torch.Tensor], None] | None = None) -> torch.Tensor:
    """The content picture restyled: (3, H, W) in [0, 1].
    """
    if steps < 1:
        raise AigcError("Restyle needs at least one step.")
    c_full = as_batch(content)
    s_full = as_batch(style)
    net = features if features is not None else RandomFeatures(seed=seed)
    h, w = c_full.shape[-2:]
    sizes = [(max(16, h >> k), max(16, w >> k)) for k in reversed(range(scales))]
    budgets = [coarse_steps] * (scales - 1) + [steps]
    total = sum(budgets)
    ticks = iter(Steps(range(total)))
    evaluations = 0
    x = None
    for size, budget in zip(sizes, budgets):
        c = _resize(c_full, size)
        s = match_scale(s_full, size, style_scale)
        c = match_colours(c, s, chroma, luma)
        with torch.no_grad():
            style_feats = net(s)
            style_layers = list(getattr(net, "style_layers", range(len(style_feats))))
            target_grams = [gram(style_feats[i]) for i in style_layers]
            target_content = net(c)[net.content_layer]
        if x is None:
            start = c
            if noise:
                gen = torch.Generator().manual_seed(seed)
                start = (c + noise * torch.randn(c.shape, generator=gen)).clamp(0, 1)
        else:
            start = F.interpolate(x.detach(), size=size, mode="bicubic", align_corners=False).clamp(0, 1)
        x = start.clone().contiguous().requires_grad_(True)

        def closure() -> torch.Tensor:
            nonlocal evaluations
            next(ticks, None)
            opt.zero_grad(set_to_none=True)
            feats = net(x)
            loss = style_weight * style_distance([gram(feats[i]) for i in style_layers], target_grams)
            loss = loss + content_weight * content_distance(feats[net.content_layer], target_content)
            if tv_weight:
                loss = loss + tv_weight * total_variation(x)
            if chroma_tv:
                loss = loss + chroma_tv * total_variation(x - x.mean(1, keepdim=True))
            loss = loss + 10 * ((x - x.clamp(0, 1)) ** 2).mean()
            loss = loss * loss_scale
            loss.backward()
            evaluations += 1
            if callback is not None:
                callback(evaluations, total, x.detach()[0].clamp(0, 1))
            return loss

        opt = torch.optim.LBFGS([x], lr=1, max_iter=budget, max_eval=budget, history_size=history,
                                tolerance_grad=0.0, tolerance_change=1e-12, line_search_fn="strong_wolfe")
        opt.step(closure)
    for _ in ticks:
        pass
    return x.detach()[0].clamp(0, 1)
