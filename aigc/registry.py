"""Loaded models, each loaded once: `load(name, task)` resolves a name in the catalogue
(`aigc.catalog`), loads it with the loader of its task and kind (`aigc.loaders`) on first use,
and keeps it. Safe to call from many threads at once: each model loads once, under its own lock.
Built-in models and runs stay loaded; Hub models are evicted oldest first. See docs/architecture.md.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable

from .catalog import ModelInfo, resolve
from .loaders import load_model

MAX_HUB_MODELS_IN_MEMORY = 2


class ModelCache:
    """Loaded models by (task, location, version). Built-ins stay; Hub models are evicted oldest first."""

    def __init__(self) -> None:
        self._models: OrderedDict[tuple[str, str, int], Any] = OrderedDict()
        self._locks: dict[tuple[str, str, int], threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, info: ModelInfo, loader: Callable[[ModelInfo], Any] = load_model) -> Any:
        key = (info.task, info.location, info.version)
        with self._guard:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            with self._guard:
                if key in self._models:
                    return self._models[key]
            model = loader(info)
            with self._guard:
                for stale in [k for k in self._models if k[:2] == key[:2]]:  # an older best of the same run
                    del self._models[stale]
                self._models[key] = model
                hub_keys = [k for k, m in self._models.items() if getattr(m, "info", None) and m.info.source == "hub"]
                for old in hub_keys[:-MAX_HUB_MODELS_IN_MEMORY]:
                    del self._models[old]
            return model

    def clear(self) -> None:
        with self._guard:
            self._models.clear()


CACHE = ModelCache()


def load(name: str, task: str) -> Any:
    """The loaded model for `name` (see `aigc.catalog.resolve`), loading it on first use."""
    return CACHE.get(resolve(name, task))
