"""Steps of a long generation, told to whoever asked: the app's progress bar; and the other
way, a request to stop, told to the generation.

A caller wraps its work in `reporting(callback)`; denoising loops call `callback(done,
total)` after each step. Outside `reporting` nothing is told and nothing is printed.
A stream's generator that can stop at once registers how (`on_stop(callback)`); whoever
serves it calls the callbacks (`Stop`) when its reader closes the stream early.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
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


class Stop:
    """A reader's request that a generation stop, and what to call when it comes (from another thread)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.callbacks: list[Callable[[], None]] = []
        self.requested = False
        self.heard = False  # the generation registered a way to stop: it then ends by itself when asked

    def add(self, callback: Callable[[], None]) -> None:
        with self.lock:
            self.heard = True
            if not self.requested:
                self.callbacks.append(callback)
                return
        callback()  # asked already

    def __call__(self) -> None:
        with self.lock:
            callbacks, self.callbacks, self.requested = self.callbacks, [], True
        for callback in callbacks:
            callback()


_stop: contextvars.ContextVar[Stop | None] = contextvars.ContextVar("aigc_stop", default=None)


@contextlib.contextmanager
def stoppable(stop: Stop | None) -> Iterator[Stop | None]:
    token = _stop.set(stop)
    try:
        yield stop
    finally:
        _stop.reset(token)


def on_stop(callback: Callable[[], None]) -> None:
    """Call `callback()` when the reader of the stream this code runs in stops early; outside one, never."""
    stop = _stop.get()
    if stop is not None:
        stop.add(callback)
