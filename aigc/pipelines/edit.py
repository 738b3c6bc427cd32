"""The Edit image tab's built-in tools on any picture: restore (noise, JPEG blocks, a painted hole),
upscale (x2, x4) and restyle; "damage it first" adds known damage so that the result can be measured
against the undamaged picture (PSNR, SSIM).

`edit_image` is the one entry point (the API, the CLI and the tab call it); it returns plain values:
PNG paths and figures. Hub tools (Swin2SR, diffusion upscalers, InstructPix2Pix) are in `edit_hub`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from .. import limits
from ..data.damage import KINDS as DAMAGE_KINDS
from ..data.damage import damage as add_damage
from ..data.fidelity import psnr, ssim
from ..data.photos import PHOTOS, load_photo, shrink, to_array, to_picture
from ..errors import AigcError
from ..loaders import EditModel
from ..registry import load
from . import validate
from .conditional import open_image
from .edit_hub import DEFAULT_INSTRUCT, DEFAULT_UPSCALER, hub_upscale, instruct
from .image import save_png
from .restyle import MAX_SIDE as RESTYLE_SIDE
from .restyle import restyle

TOOLS = ("restore", "upscale", "restyle", "instruct")
DEFAULT_MODELS = {"restore": "restorer-photos", "upscale": "upscaler-x2-photos"}
UPSCALERS = {2: "upscaler-x2-photos", 4: "upscaler-x4-photos"}
# What "damage it first" does by default, per kind: sigma, share of pixels, JPEG quality, share of the picture.
DAMAGE_AMOUNTS = {"noise": (25.0, 1.0, 75.0), "salt-and-pepper": (0.05, 0.005, 0.5), "jpeg": (20, 5, 95),
                  "hole": (0.08, 0.01, 0.4)}


def fit(picture: Image.Image, side: int, notes: list[str], why: str | None = None) -> Image.Image:
    """`picture` shrunk (keeping its shape) so that its longest side is at most `side`, with a note
    ending in `why` (by default, that this server works on at most `side` pixels a side)."""
    if max(picture.size) <= side:
        return picture
    scale = side / max(picture.size)
    size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
    notes.append(f"The picture was {picture.width}x{picture.height}; it was shrunk to {size[0]}x{size[1]} "
                 + (why or f"(this server works on at most {side} pixels a side)") + ".")
    return picture.resize(size, Image.LANCZOS)


def _tool(model: str, kind: str) -> EditModel:
    m = load(model, "edit")
    if getattr(m, "kind", None) != kind:
        ours = DEFAULT_MODELS["restore"] if kind == "restorer" else ", ".join(UPSCALERS.values())
        raise AigcError(f"'{m.info.name}' is not a{'n' if kind[0] in 'aeiou' else ''} {kind}; use this app's ({ours}).")
    return m


def _tensor(picture: Image.Image, device) -> torch.Tensor:
    return torch.from_numpy(to_array(picture)).permute(2, 0, 1)[None].to(device, memory_format=torch.channels_last)


@torch.inference_mode()
def restore_picture(picture: Image.Image, model: str = DEFAULT_MODELS["restore"], mask: np.ndarray | None = None) -> Image.Image:
    """`picture` with its noise, salt-and-pepper or JPEG blocks removed; where `mask` (H, W, True in
    the hole) is given, the hole filled and the rest kept as it was."""
    m = _tool(model, "restorer")
    x = _tensor(picture, m.device)
    hole = None if mask is None else torch.from_numpy(mask.astype(np.float32))[None, None].to(m.device)
    if hole is not None:
        x = torch.where(hole > 0, torch.full_like(x, 0.5), x)  # the hole's pixels carry nothing
    out = m.net(x, hole)[0].float().clamp(0, 1).permute(1, 2, 0).cpu().numpy()
    if mask is not None:
        out = np.where(mask[..., None], out, to_array(picture))
    return to_picture(out)


@torch.inference_mode()
def upscale_picture(picture: Image.Image, model: str = DEFAULT_MODELS["upscale"]) -> Image.Image:
    """`picture` enlarged by the model's scale (2 or 4)."""
    m = _tool(model, "upscaler")
    out = m.net(_tensor(picture, m.device))[0].float().clamp(0, 1).permute(1, 2, 0).cpu().numpy()
    return to_picture(out)


def _mask_of(value, size: tuple[int, int]) -> np.ndarray | None:
    """A painted mask (any picture, white where the hole is) as a (H, W) bool array of `size`, or None."""
    if value is None:
        return None
    painted = open_image(value, "mask")
    if painted.size != size:
        painted = painted.resize(size, Image.NEAREST)
    mask = np.asarray(painted) > 127
    return mask if mask.any() else None


def edit_image(image, tool: str = "restore", model: str | None = None, *, scale: int = 2, mask=None,
               damage: str | None = None, amount: float | None = None, seed: int | None = 0,
               style=None, steps: int | None = None, strength: float | None = None, instruction: str | None = None,
               guidance: float | None = None) -> dict[str, Any]:
    """Run one tool on `image` (a path, a PIL picture, an array, or a photo's name: "coffee", "cat", "flower").

    - `restore`: removes noise and JPEG blocks; with `mask` (white where to fill) fills the hole.
    - `upscale`: x`scale` (2 or 4) with this app's upscaler, or `model` (a Hub id, see `edit_hub`).
    - `restyle`: the picture painted in the texture of `style` (a photo name of `aigc.data.photos.STYLES`
      or an uploaded picture), `steps` steps of optimisation, `strength` how much style.
    - `instruct`: a Hub InstructPix2Pix `model` edits the picture as `instruction` says, in `steps` steps
      with text guidance `guidance`.
    - `damage` ("noise", "salt-and-pepper", "jpeg", "hole"; for upscale "shrink") first damages the
      picture by `amount` (seeded), so the result is measured against the undamaged picture.

    Returns {"before": PNG path (what the tool was given), "after": PNG path, "original": PNG path or
    None, "figures": {"psnr_before", "psnr_after", "ssim_before", "ssim_after", "seconds"}, "notes": [...]}.
    """
    if tool not in TOOLS:
        raise AigcError(f"Unknown tool '{str(tool)[:40]}'; tools are {', '.join(TOOLS)}.")
    notes: list[str] = []
    if isinstance(image, str) and image in PHOTOS and not Path(image).exists():
        image = load_photo(image)
    picture = open_image(image)
    seed = 0 if seed is None else validate.number("seed", seed, 0, 2**32 - 1, integer=True)
    damaging = damage not in (None, "", "none") and tool in ("restore", "upscale")
    if tool != "upscale":  # restyle optimises every pixel, far slower than one pass of a network: smaller still
        side = limits.current().edit_side
        picture = fit(picture, min(side, RESTYLE_SIDE) if tool == "restyle" else side, notes)
    else:  # the enlarged picture must fit too: the one to enlarge is smaller
        model, scale, hub, most = _upscaler(model, scale)
        picture = fit(picture, most if damaging else most // scale, notes,
                      None if damaging else f"so that, enlarged, it stays within this server's {most} pixels a side")
        if damaging:  # whole multiples of the scale, so that the enlarged picture lies exactly on the original
            picture = picture.crop((0, 0, max(scale, picture.width // scale * scale), max(scale, picture.height // scale * scale)))
    original, hole = None, _mask_of(mask, picture.size) if tool == "restore" else None
    given = picture
    if damaging:
        original = picture
        given, hole = _damaged(picture, tool, damage, amount, seed, scale)
    start = time.perf_counter()
    if tool == "restore":
        result = restore_picture(given, model or DEFAULT_MODELS["restore"], hole)
    elif tool == "upscale":
        if hub:
            result = hub_upscale(given, model, seed=seed)
        else:
            result = upscale_picture(given, model)
    elif tool == "restyle":
        result = restyle(given, style, steps=steps, strength=strength, seed=seed)
    else:
        result = instruct(given, instruction, model=model or DEFAULT_INSTRUCT, steps=steps,
                          guidance_scale=guidance, seed=seed)
    figures = {"seconds": time.perf_counter() - start}
    if original is not None and tool in ("restore", "upscale"):
        figures.update(_compare(original, given, result, hole, tool))
    stem = f"edit-{tool}"
    return {"before": save_png(given, stem), "after": save_png(result, stem),
            "original": save_png(original, stem) if original is not None else None,
            "figures": figures, "notes": notes}


def _damaged(picture: Image.Image, tool: str, kind: str, amount, seed: int, scale: int):
    """(the damaged picture, its hole mask or None)."""
    if tool == "upscale":
        if kind != "shrink":
            raise AigcError("To see how much the upscaler gets back, damage the picture by 'shrink'.")
        return shrink(picture, scale), None
    if kind not in DAMAGE_KINDS:
        raise AigcError(f"Unknown damage '{str(kind)[:40]}'; choose one of {', '.join(DAMAGE_KINDS)}.")
    default, low, high = DAMAGE_AMOUNTS[kind]
    amount = validate.number(f"The amount of {kind}", amount, low, high, default=default)
    damaged, hole = add_damage(to_array(picture), kind, amount, seed)
    return to_picture(damaged), hole


def _upscaler(model: str | None, scale) -> tuple[str, int, bool, int]:
    """(the upscaler's name, its scale, whether it is a Hub model, the longest side of its answer): the
    built-in upscaler of `scale` when no `model` is named."""
    if not model:
        scale = validate.number("scale", scale, 2, 4, integer=True)
        if scale not in UPSCALERS:
            raise AigcError("The scale must be 2 or 4.")
        return UPSCALERS[scale], scale, False, limits.current().edit_side
    m = load(model, "edit")
    if m.what != "upscale":
        raise AigcError(f"'{m.info.name}' does not upscale pictures; choose one of this app's upscalers "
                        f"({', '.join(UPSCALERS.values())}) or a Hub upscaler such as {DEFAULT_UPSCALER}.")
    hub = m.kind == "hub"
    # diffusion upscalers on a CPU: the Hub pictures' side limit, not the built-in tools'
    return model, int(m.scale), hub, limits.current().max_side if hub else limits.current().edit_side


def _compare(original: Image.Image, given: Image.Image, result: Image.Image, hole, tool: str) -> dict[str, float]:
    """PSNR and SSIM of what the tool was given and of its result against the undamaged picture (inside
    the hole only, for PSNR of a filled hole). A shrunk picture is compared after bicubic enlargement."""
    clean = to_array(original)
    if tool == "upscale":
        h, w = min(clean.shape[0], result.height), min(clean.shape[1], result.width)
        clean = clean[:h, :w]
        before = to_array(given.resize(original.size, Image.BICUBIC))[:h, :w]
        after = to_array(result)[:h, :w]
    else:
        before, after = to_array(given), to_array(result)
    return {"psnr_before": psnr(before, clean, hole), "psnr_after": psnr(after, clean, hole),
            "ssim_before": ssim(before, clean), "ssim_after": ssim(after, clean)}
