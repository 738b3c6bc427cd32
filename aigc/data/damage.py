"""Known damage, seeded: what the restorer learns to undo and what "damage it first" adds to a picture,
so that a tool's result can be compared with the undamaged original (PSNR, SSIM).

Arrays are float (..., H, W) or (H, W, 3) in [0, 1]; each function returns a new array.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw

KINDS = ("noise", "salt-and-pepper", "jpeg", "hole")


def gaussian(image: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian noise of `sigma` on the 0-255 scale, clipped to the picture's range."""
    return np.clip(image + rng.normal(0.0, sigma / 255.0, image.shape).astype(np.float32), 0, 1)


def salt_and_pepper(image: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """`share` of the pixels (all channels of each) set to black or white."""
    out = image.copy()
    hit = rng.random(image.shape[:2]) < share
    out[hit] = rng.integers(0, 2, (int(hit.sum()), 1)).astype(np.float32)
    return out


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    """The picture saved as a JPEG of `quality` (1-95) and read back: blocks and ringing."""
    buffer = io.BytesIO()
    Image.fromarray((np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)).save(buffer, "JPEG", quality=int(quality))
    return np.asarray(Image.open(buffer).convert("RGB"), dtype=np.float32) / 255.0


def hole_mask(height: int, width: int, rng: np.random.Generator, share: float = 0.1) -> np.ndarray:
    """A (H, W) bool mask of a few thick brush strokes and a rectangle, about `share` of the picture."""
    mask = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(mask)
    side = min(height, width)
    target = share * height * width
    while np.count_nonzero(np.asarray(mask)) < target:
        if rng.random() < 0.3:
            w, h = rng.integers(side // 10, side // 4 + 1, 2)
            x, y = rng.integers(0, width - w + 1), rng.integers(0, height - h + 1)
            draw.rectangle([x, y, x + w, y + h], fill=255)
        else:
            # A short stroke: each point within a quarter of the picture of the one before.
            points = [rng.integers(0, (width, height))]
            for _ in range(rng.integers(1, 4)):
                points.append(np.clip(points[-1] + rng.integers(-side // 4, side // 4 + 1, 2), 0, (width - 1, height - 1)))
            draw.line([tuple(map(int, p)) for p in points], fill=255, width=int(rng.integers(side // 40 + 2, side // 12 + 3)))
    return np.asarray(mask) > 127


def punch(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The picture with the masked pixels blanked (grey), as a user's painted hole looks to the restorer."""
    out = image.copy()
    out[mask] = 0.5
    return out


def damage(image: np.ndarray, kind: str, amount: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray | None]:
    """(damaged picture, hole mask or None). `amount`: sigma for noise, the share of pixels for
    salt-and-pepper, the JPEG quality, or the share of the picture a hole covers."""
    rng = np.random.default_rng(seed)
    if kind == "noise":
        return gaussian(image, amount, rng), None
    if kind == "salt-and-pepper":
        return salt_and_pepper(image, amount, rng), None
    if kind == "jpeg":
        return jpeg(image, int(amount)), None
    if kind == "hole":
        mask = hole_mask(*image.shape[:2], rng, amount)
        return punch(image, mask), mask
    raise ValueError(f"Unknown damage '{kind}'; kinds are {', '.join(KINDS)}.")
