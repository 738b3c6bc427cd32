"""How long a call takes: the one timing rule shared by `python -m aigc bench`, `python -m aigc eval`
and the speed a training run writes on its card, so that their figures compare.

A base module (see docs/architecture.md): it imports nothing of the package, and any layer may use it.
"""

from __future__ import annotations

import statistics
import time
from typing import Callable


def median_seconds(fn: Callable[[], object], runs: int) -> float:
    """Median wall time of `fn()` over `runs` calls, after one call to load and warm up."""
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
