"""Folders of a checkout. Everything the package reads or writes lives under these."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets"
CHECKPOINTS = ROOT / "checkpoints"
RUNS = Path(os.environ.get("AIGC_RUNS", ROOT / "runs"))
OUTPUTS = Path(os.environ.get("AIGC_OUTPUTS", ROOT / "outputs"))
