"""Crash-safe checkpoint files: a reader sees the old checkpoint or the new one, never half of one."""

from __future__ import annotations

import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import torch
from safetensors.torch import load_file, save_file

from ..paths import fsync_dir


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as f:
                os.fsync(f.fileno())
    for sub in [*(p for p in folder.rglob("*") if p.is_dir()), folder]:
        fsync_dir(sub)


@contextmanager
def atomic_folder(target: Path) -> Iterator[Path]:
    """Write into a temporary sibling folder, then swap it in with renames.

    Between the two renames only `<target>.old` exists; `existing_checkpoint`
    falls back to it, so a kill at any point leaves one complete checkpoint.
    """
    target = Path(target)
    tmp = target.with_name(target.name + ".tmp")
    old = target.with_name(target.name + ".old")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    yield tmp
    _fsync_tree(tmp)
    if target.exists():
        shutil.rmtree(old, ignore_errors=True)
        target.rename(old)
    tmp.rename(target)
    fsync_dir(target.parent)  # the renames themselves survive a power cut, not only the files
    shutil.rmtree(old, ignore_errors=True)


def existing_checkpoint(target: Path) -> Path | None:
    target = Path(target)
    for candidate in (target, target.with_name(target.name + ".old")):
        if candidate.is_dir():
            return candidate
    return None


def save_optimizer(optimizer: torch.optim.Optimizer, path: Path) -> None:
    """An optimizer's state in safetensors (tensors) plus JSON (everything else): no pickle."""
    state = optimizer.state_dict()
    tensors, scalars = {}, {}
    for index, param_state in state["state"].items():
        for key, value in param_state.items():
            if torch.is_tensor(value):
                tensors[f"{index}.{key}"] = value.detach().cpu().contiguous()
            else:
                scalars[f"{index}.{key}"] = value
    meta = {"param_groups": state["param_groups"], "scalars": scalars}
    save_file(tensors, str(path), metadata={"optimizer": json.dumps(meta)})


def load_optimizer(optimizer: torch.optim.Optimizer, path: Path) -> None:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        meta = json.loads(f.metadata()["optimizer"])
    tensors = load_file(str(path))
    state: dict[int, dict] = {}
    for flat, value in list(tensors.items()) + list(meta["scalars"].items()):
        index, key = flat.split(".", 1)
        state.setdefault(int(index), {})[key] = value
    optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
