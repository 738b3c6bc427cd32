"""A small convolutional restorer: one network that removes Gaussian noise, salt-and-pepper noise and
JPEG blocks, and fills painted holes, without being told which (blind, like DnCNN-B).

It learns the residual (the damage), as DnCNN does (Zhang et al. 2017), and works on the picture folded
into 2x2 sub-images with the hole mask beside them, as FFDNet does (Zhang et al. 2018): a quarter of
the pixels at the finest scale, so a 512x512 photo is restored in a fraction of a second on a CPU. A
U-Net (Ronneberger et al. 2015) of three scales with dilated convolutions at the coarsest gives each
output pixel a field of view of more than a hundred pixels, which filling a hole needs; a hole is first
filled smoothly by biharmonic inpainting (`fill_holes`), and the network adds its detail.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def _block(cin: int, cout: int, dilation: int = 1) -> nn.Sequential:
    # Batch normalisation makes residual learning of the damage train several times faster (DnCNN's finding,
    # and measured here); at inference it folds into the convolution's scale and shift.
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=dilation, dilation=dilation, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


def fill_holes(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """`x` with its holes (`mask` 1) filled smoothly from their edges by biharmonic inpainting (scikit-image's,
    a sparse linear solve per picture): the restorer then adds what a smooth surface misses, the same
    residual learning as for noise. Pictures without a hole are left as they are."""
    from skimage.restoration import inpaint_biharmonic

    out = x.clone()
    for i in range(x.shape[0]):
        hole = mask[i, 0] > 0
        if hole.any() and not hole.all():
            picture = x[i].detach().permute(1, 2, 0).cpu().numpy()
            filled = inpaint_biharmonic(picture, hole.cpu().numpy(), channel_axis=-1)
            out[i] = torch.from_numpy(filled.astype("float32")).permute(2, 0, 1).to(x.device, x.dtype)
    return out


class Restorer(nn.Module):
    """(N, 3, H, W) pictures in [0, 1] and (N, 1, H, W) hole masks (1 inside a hole) -> restored pictures.
    Any H and W: the picture is padded to a multiple of 8 and cropped back."""

    def __init__(self, width: int = 32):
        super().__init__()
        w = width
        self.settings = {"width": width}
        self.enc1 = nn.Sequential(_block(16, w), _block(w, w))
        self.enc2 = nn.Sequential(nn.Conv2d(w, 2 * w, 3, stride=2, padding=1), nn.ReLU(inplace=True), _block(2 * w, 2 * w))
        self.enc3 = nn.Sequential(nn.Conv2d(2 * w, 4 * w, 3, stride=2, padding=1), nn.ReLU(inplace=True),
                                  _block(4 * w, 4 * w, 2), _block(4 * w, 4 * w, 4), _block(4 * w, 4 * w, 8), _block(4 * w, 4 * w))
        self.up2 = nn.Sequential(nn.Conv2d(4 * w, 8 * w, 1), nn.PixelShuffle(2))  # -> 2w at 1/4
        self.dec2 = nn.Sequential(_block(4 * w, 2 * w), _block(2 * w, 2 * w))
        self.up1 = nn.Sequential(nn.Conv2d(2 * w, 4 * w, 1), nn.PixelShuffle(2))  # -> w at 1/2
        self.dec1 = nn.Sequential(_block(2 * w, w), _block(w, w))
        self.out = nn.Conv2d(w, 12, 3, padding=1)
        nn.init.zeros_(self.out.weight)  # start as the identity: the damaged picture itself
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        n, _, h, w = x.shape
        if mask is None:
            mask = x.new_zeros(n, 1, h, w)
        else:
            x = fill_holes(x, mask)
        pad_h, pad_w = -h % 8, -w % 8
        inputs = torch.cat([x, mask], 1)
        if pad_h or pad_w:
            inputs = F.pad(inputs, (0, pad_w, 0, pad_h), mode="replicate")
        folded = F.pixel_unshuffle(inputs * 2 - 1, 2)  # 16 channels at half size
        a = self.enc1(folded)
        b = self.enc2(a)
        c = self.enc3(b)
        b = self.dec2(torch.cat([self.up2(c), b], 1))
        a = self.dec1(torch.cat([self.up1(b), a], 1))
        residual = F.pixel_shuffle(self.out(a), 2)[:, :, :h, :w]
        return x + residual
