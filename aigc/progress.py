"""Steps of a long generation, told to whoever asked: the app's progress bar.

A caller wraps its work in `reporting(callback)`; denoising loops call `callback(done,
total)` after each step. Outside `reporting` nothing is told and nothing is printed.
"""

from __future__ import annotations

import contextlib
import contextvars
from typing import Callable, Iterable, Iterator

_callback: contextvars.ContextVar[Callable[[int, int], None] | None] = contextvars.ContextVar("aigc_progress", default=None)


@contextlib.contextmanager
def reporting(callback: Callable[[int, int], None]) -> Iterator[None]:
    token = _callback.set(callback)
    try:
        yield
    finally:
        _callback.reset(token)


class Steps:
    """What diffusers pipelines expect of `self.progress_bar(...)`: an iterable over
    `iterable`, or with `total` a context manager whose `update()` counts a step."""

    def __init__(self, iterable: Iterable | None = None, total: int | None = None):
        self.iterable = iterable
        self.total = total if total is not None else len(iterable)  # type: ignore[arg-type]
        self.done = 0
        self.callback = _callback.get()

    def __iter__(self):
        for item in self.iterable:  # type: ignore[union-attr]
            yield item
            self.update()

    def update(self, n: int = 1) -> None:
        self.done += n
        if self.callback is not None:
            self.callback(self.done, self.total)

    def __enter__(self) -> "Steps":
        return self

    def __exit__(self, *exc) -> bool:
        return False

    def close(self) -> None:
        pass


def report_steps(pipe):
    """A diffusers pipeline whose denoising loop reports to `reporting` instead of drawing a bar."""
    pipe.progress_bar = Steps  # looked up on the instance first: Steps(iterable=..., total=...)
    return pipe
