"""How well a picture was restyled: how much closer its texture statistics came to the style picture's, and how
much of the content picture's structure it kept.

The style distance is measured in the feature space of a judge that the transfer never optimised: random
filters too (no pretrained network is available offline), but another architecture, other widths and another
seed than `aigc.models.style.RandomFeatures`. A transfer that only fooled its own features would not move these.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..models.style import as_batch, gram, match_colours, match_scale

JUDGE_SEED = 20161


class JudgeFeatures(nn.Module):
    """A pyramid of the picture (full, 1/2, 1/4, 1/8 size); at each level one layer of 5x5 random filters and a
    second of 3x3 ones, each followed by a ReLU (Ustyuzhaninov et al. 2016's single-layer random texture model,
    made multi-scale by the pyramid instead of by large filters). Uniform weights with a per-filter random
    bias, unlike the transfer's zero-mean Gaussian filters without bias."""

    def __init__(self, widths: tuple[int, int] = (48, 96), levels: int = 4, seed: int = JUDGE_SEED):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.levels = levels
        self.first = nn.ModuleList()
        self.second = nn.ModuleList()
        for _ in range(levels):
            for kernel, (cin, cout), layers in ((5, (3, widths[0]), self.first), (3, widths, self.second)):
                conv = nn.Conv2d(cin, cout, kernel, padding=kernel // 2, padding_mode="reflect")
                bound = math.sqrt(6.0 / (cin * kernel * kernel))
                with torch.no_grad():
                    conv.weight.copy_((torch.rand(conv.weight.shape, generator=gen) * 2 - 1) * bound)
                    conv.bias.copy_((torch.rand(cout, generator=gen) * 2 - 1) * 0.1)
                conv.requires_grad_(False)
                layers.append(conv)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = x * 2 - 1
        out = []
        for level in range(self.levels):
            if level:
                x = F.avg_pool2d(x, 2)
            a = F.relu(self.first[level](x))
            out += [a, F.relu(self.second[level](a))]
        return out


_judge: JudgeFeatures | None = None


def judge_features() -> JudgeFeatures:
    global _judge
    if _judge is None:
        _judge = JudgeFeatures()
    return _judge


@torch.no_grad()
def gram_distance(a: torch.Tensor, b: torch.Tensor, net: nn.Module | None = None) -> float:
    """Mean over the judge's layers of ||G(a) - G(b)|| / ||G(b)|| (Frobenius norms, not squared)."""
    net = net or judge_features()
    ga = [gram(f) for f in net(as_batch(a))]
    gb = [gram(f) for f in net(as_batch(b))]
    return float(torch.stack([(x - y).norm() / y.norm().clamp_min(1e-12) for x, y in zip(ga, gb)]).mean())


def luma(x: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) -> (N, 1, H, W), ITU-R BT.601 weights."""
    w = torch.tensor([0.299, 0.587, 0.114], dtype=x.dtype).view(1, 3, 1, 1)
    return (x * w).sum(1, keepdim=True)


@torch.no_grad()
def judge_restyle(content, style, result, style_scale: float = 1.0) -> dict[str, float]:
    """`style_distance_ratio`: the judge's Gram distance from the result to the style picture over the one from
    the content picture to it (1 = no closer; the style picture is brought to the content's scale as the
    transfer does). `content_ssim`: SSIM of the result's and the content's luma (the structure kept; colours
    are the style's to change); `content_ssim_rgb`: the same over the three channels."""
    from torchmetrics.functional.image import structural_similarity_index_measure as ssim

    c, r = as_batch(content), as_batch(result)
    s = match_scale(as_batch(style), tuple(c.shape[-2:]), style_scale)
    net = judge_features()
    # the same ratio once both pictures wear the style's palette (mean and covariance of colours, luma included):
    # what is left is texture; a transfer that only recoloured scores about 1 here
    plain_c, plain_r = match_colours(c, s, 1.0, 1.0), match_colours(r, s, 1.0, 1.0)
    return {
        "style_distance_ratio": gram_distance(r, s, net) / max(gram_distance(c, s, net), 1e-12),
        "texture_distance_ratio": gram_distance(plain_r, s, net) / max(gram_distance(plain_c, s, net), 1e-12),
        "content_ssim": float(ssim(luma(r), luma(c), data_range=1.0)),
        "content_ssim_rgb": float(ssim(r, c, data_range=1.0)),
    }
