"""How much a picture tool gets back: PSNR and SSIM against the undamaged photo, beside the classical
answer to the same damage (a 3x3 median filter for noise, bicubic interpolation for upscaling,
biharmonic inpainting for holes), on photos no tool learned from (`aigc.data.photos`, role held-out).

A tool is a function of (N, 3, H, W) tensors in [0, 1] (and hole masks for the restorer); the same
figures come from the trainer (on crops, each evaluation) and from `python -m aigc eval` (whole photos).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from ..data.damage import damage
from ..data.fidelity import psnr, ssim
from ..data.photos import SAMPLES, load_photo, shrink, to_array, to_picture

#: the damage the restorer's card reports, as (name, kind, amount)
RESTORE_CASES = (("noise25", "noise", 25.0), ("noise50", "noise", 50.0), ("saltpepper", "salt-and-pepper", 0.05),
                 ("jpeg20", "jpeg", 20), ("hole", "hole", 0.08))


def held_out(crop: int | None = None) -> list[np.ndarray]:
    """The held-out photos as (H, W, 3) arrays, or their centre crops of side `crop`."""
    out = []
    for name in SAMPLES:
        image = to_array(load_photo(name))
        if crop:
            top, left = (image.shape[0] - crop) // 2, (image.shape[1] - crop) // 2
            image = image[top:top + crop, left:left + crop]
        out.append(image)
    return out


def median3(image: np.ndarray) -> np.ndarray:
    from scipy.ndimage import median_filter

    return median_filter(image, size=(3, 3, 1), mode="reflect")


def biharmonic(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    from skimage.restoration import inpaint_biharmonic

    return inpaint_biharmonic(image, mask, channel_axis=-1)


Restore = Callable[[np.ndarray, np.ndarray | None], np.ndarray]  # (H, W, 3) damaged, mask -> restored


def restore_figures(restore: Restore, photos: list[np.ndarray], cases=RESTORE_CASES, baselines: bool = True) -> dict[str, float]:
    """Mean PSNR (dB) of the damaged photos, of `restore`'s answers and of the classical answer, per case;
    for holes, inside the hole only; SSIM of the restored noise25 photos."""
    figures: dict[str, list[float]] = {}

    def add(key, value):
        figures.setdefault(key, []).append(value)

    for i, clean in enumerate(photos):
        for name, kind, amount in cases:
            damaged, mask = damage(clean, kind, amount, seed=1000 + i)
            restored = restore(damaged, mask)
            where = mask if mask is not None else None
            add(f"{name}_psnr_damaged", psnr(damaged, clean, where))
            add(f"{name}_psnr", psnr(restored, clean, where))
            if name == "noise25":
                add("noise25_ssim", ssim(restored, clean))
            if baselines:
                classic = biharmonic(damaged, mask) if mask is not None else median3(damaged)
                add(f"{name}_psnr_{'biharmonic' if mask is not None else 'median'}", psnr(classic, clean, where))
                if name == "noise25":
                    add("noise25_ssim_median", ssim(classic, clean))
    return {k: float(np.mean(v)) for k, v in figures.items()}


def upscale_figures(upscale: Callable[[np.ndarray], np.ndarray], scale: int, photos: list[np.ndarray]) -> dict[str, float]:
    """Each photo shrunk by `scale` (PIL's bicubic, as MATLAB's imresize, the usual protocol of
    super-resolution papers), then enlarged back by `upscale` and by bicubic interpolation: mean PSNR and
    SSIM of both against the photo."""
    from PIL import Image

    figures: dict[str, list[float]] = {}
    for clean in photos:
        h, w = clean.shape[0] // scale * scale, clean.shape[1] // scale * scale
        clean = to_array(to_picture(clean[:h, :w]))  # 8-bit, as the small picture is
        small = shrink(to_picture(clean), scale)
        bicubic = to_array(small.resize((w, h), Image.BICUBIC))
        answer = upscale(to_array(small))
        for key, value in ((f"x{scale}_psnr", psnr(answer, clean)), (f"x{scale}_psnr_bicubic", psnr(bicubic, clean)),
                           (f"x{scale}_ssim", ssim(answer, clean)), (f"x{scale}_ssim_bicubic", ssim(bicubic, clean))):
            figures.setdefault(key, []).append(value)
    return {k: float(np.mean(v)) for k, v in figures.items()}


def picture_ms(tool, runs: int = 5, side: int = 512) -> float:
    """Median milliseconds for a loaded picture tool (`loaders.EditModel` of this project) to restore, or enlarge, one
    `side` x `side` picture, after a warm-up."""
    from ..timing import median_seconds

    x = torch.rand(1, 3, side, side, generator=torch.Generator().manual_seed(0)).to(tool.device)

    @torch.inference_mode()
    def once():
        tool.net(x)

    return 1000 * median_seconds(once, runs)


def evaluate_edit_model(name: str) -> dict[str, float]:
    """`python -m aigc eval` for a picture tool: its figures on the whole held-out photos, beside the
    classical answers, and `ms_512`, through the pipeline the app uses."""
    from ..errors import AigcError
    from ..pipelines.edit import restore_picture, upscale_picture
    from ..registry import load

    tool = load(name, "edit")
    photos = held_out()
    if tool.kind == "restorer":
        figures = restore_figures(lambda damaged, mask: to_array(restore_picture(to_picture(damaged), name, mask)), photos)
    elif tool.kind == "upscaler":
        figures = upscale_figures(lambda small: to_array(upscale_picture(to_picture(small), name)), tool.scale, photos)
    else:
        raise AigcError(f"'{name}' is not one of this app's picture tools, which `aigc eval` measures.")
    return {**figures, "ms_512": picture_ms(tool)}


def card_samples(name: str, photo: str = "cat"):
    """What the card shows: for each damage, the damaged photo, the restored one and the original; for an
    upscaler, bicubic enlargement, the upscaler's and the original (crops of the held-out `photo`)."""
    from PIL import Image

    from ..pipelines.edit import restore_picture, upscale_picture
    from ..registry import load

    tool = load(name, "edit")
    clean = to_array(load_photo(photo))
    rows: list[list[Image.Image]] = []
    if tool.kind == "restorer":
        for _, kind, amount in RESTORE_CASES:
            damaged, mask = damage(clean, kind, amount, seed=5)
            rows.append([to_picture(damaged), restore_picture(to_picture(damaged), name, mask), to_picture(clean)])
    else:
        scale = tool.scale
        picture = to_picture(clean)
        small = shrink(picture, scale)
        rows.append([small.resize(picture.size, Image.BICUBIC), upscale_picture(small, name), picture])
    w, h = rows[0][0].size
    sheet = Image.new("RGB", (3 * w + 8, len(rows) * (h + 4) - 4), (70, 70, 70))
    for r, row in enumerate(rows):
        for c, im in enumerate(row):
            sheet.paste(im.crop((0, 0, w, h)), (c * (w + 4), r * (h + 4)))
    return sheet
