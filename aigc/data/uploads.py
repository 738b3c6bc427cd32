"""A user's .zip of images as an `ImageSet`, read in memory and checked before use.

Nothing is extracted to disk, so a name in the archive never becomes a path; names
that try to climb out (`../x`, `/etc/x`, `C:\\x`) are refused anyway, because they show
an archive made to attack, not to train. Sub-folders name the labels.
"""

from __future__ import annotations

import io
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from ..errors import AigcError
from .imageset import ImageSet

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"}


@dataclass(frozen=True)
class UploadLimits:
    archive_bytes: int = 100 * 2**20
    unpacked_bytes: int = 400 * 2**20
    images: int = 20_000
    side: int = 256
    ratio: int = 200  # unpacked/packed beyond this is a zip bomb, not a photo album


def _unsafe(name: str) -> bool:
    parts = PurePosixPath(name.replace("\\", "/")).parts
    return name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":")


def _skipped(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return name.endswith("/") or any(p.startswith(".") or p == "__MACOSX" for p in parts)


def load_zip(path: str | Path, limits: UploadLimits = UploadLimits()) -> ImageSet:
    path = Path(path)
    if not path.is_file():
        raise AigcError(f"There is no file '{path}'; give the path of a .zip of images.")
    if path.stat().st_size > limits.archive_bytes:
        raise AigcError(f"The archive is {path.stat().st_size / 2**20:.0f} MB; the limit is {limits.archive_bytes // 2**20} MB.")
    if not zipfile.is_zipfile(path):
        raise AigcError(f"'{path.name}' is not a .zip archive.")
    with zipfile.ZipFile(path) as archive:
        bad = next((e.filename for e in archive.infolist() if _unsafe(e.filename)), None)
        if bad is not None:
            raise AigcError(f"The archive holds a path that points outside it ('{bad[:80]}'); it is refused.")
        entries = [e for e in archive.infolist() if not _skipped(e.filename)]
        entries = [e for e in entries if PurePosixPath(e.filename).suffix.lower() in IMAGE_SUFFIXES]
        if not entries:
            raise AigcError("The archive holds no images (.png, .jpg, .bmp, .gif or .webp).")
        if len(entries) > limits.images:
            raise AigcError(f"The archive holds {len(entries):,} images; the limit is {limits.images:,}.")
        unpacked = sum(e.file_size for e in entries)
        packed = max(1, sum(e.compress_size for e in entries))
        if unpacked > limits.unpacked_bytes or unpacked / packed > limits.ratio:
            raise AigcError(f"The archive unpacks to {unpacked / 2**20:,.0f} MB from {packed / 2**20:,.1f} MB; "
                            "that is too large to be a set of training images.")
        pictures = [_read(archive, e, limits) for e in entries]
    sizes = Counter(p.size for p in pictures)
    if len(sizes) > 1:
        shown = ", ".join(f"{w}x{h} ({n})" for (w, h), n in sizes.most_common(3))
        raise AigcError(f"The images have different sizes ({shown}); resize them to one size first.")
    gray = all(p.mode in ("1", "L", "LA", "I;16") for p in pictures)
    arrays = np.stack([np.asarray(p.convert("L" if gray else "RGB")) for p in pictures])
    images = torch.from_numpy(arrays).unsqueeze(1) if gray else torch.from_numpy(arrays).permute(0, 3, 1, 2)
    labels, class_names = _labels([e.filename for e in entries])
    return ImageSet(path.stem, images.contiguous(), labels, class_names)


def _read(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, limits: UploadLimits) -> Image.Image:
    try:
        picture = Image.open(io.BytesIO(archive.read(entry)))  # reads the header only
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise AigcError(f"'{entry.filename[:80]}' is not a readable image.") from None
    if max(picture.size) > limits.side:
        raise AigcError(f"'{entry.filename[:80]}' is {picture.size[0]}x{picture.size[1]}; "
                        f"images may be at most {limits.side} pixels on a side.")
    try:
        picture.load()
    except (OSError, ValueError, Image.DecompressionBombError):
        raise AigcError(f"'{entry.filename[:80]}' is not a readable image.") from None
    return picture


def _labels(names: list[str]) -> tuple[torch.Tensor | None, list[str] | None]:
    """Labels from the folder just above each image, when every image has one and there are several."""
    folders = [PurePosixPath(n).parent for n in names]
    if any(f == PurePosixPath(".") for f in folders):
        return None, None
    classes = sorted({f.name for f in folders})
    if len(classes) < 2:
        return None, None
    index = {c: i for i, c in enumerate(classes)}
    return torch.tensor([index[f.name] for f in folders], dtype=torch.long), classes
