"""Folders of a checkout. Everything the package reads or writes lives under these."""

from __future__ import annotations

import os
import re
import secrets
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets"
CHECKPOINTS = ROOT / "checkpoints"
RUNS = Path(os.environ.get("AIGC_RUNS", ROOT / "runs"))
OUTPUTS = Path(os.environ.get("AIGC_OUTPUTS", ROOT / "outputs"))


def fsync_dir(folder: Path) -> None:
    """Make the names in `folder` (a rename, a new file) survive a power cut, not only their contents."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_text(path: Path, text: str) -> None:
    """Write `path` so that a reader sees the old text or the new one, never half of one."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)
    fsync_dir(path.parent)


def new_output(folder: Path, stem: str, suffix: str) -> Path:
    """A fresh path in `folder` (made if missing) named after `stem`, a model's name and a seed.
    The app serves OUTPUTS/images and OUTPUTS/videos as they are, so every name ends in 64
    random bits: nobody finds another person's pictures by guessing."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", stem)[-60:].strip("-.") or "output"
    return folder / f"{stem}-{secrets.token_hex(8)}{suffix}"


def prune_outputs(older_than_s: float, folder: Path | None = None) -> int:
    """Delete generated files (pictures, clips, run downloads) older than `older_than_s`
    seconds; returns how many. A public server runs this now and then, so strangers'
    outputs do not fill its disk."""
    cutoff, removed = time.time() - older_than_s, 0
    for path in (folder or OUTPUTS).rglob("*"):
        try:
            if path.is_file() and not path.is_symlink() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError:
            pass  # taken by another pruner, or being written
    return removed
