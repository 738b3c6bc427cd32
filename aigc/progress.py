"""Steps of a long generation, told to whoever asked: the app's progress bar; and the other
way, a request to stop, told to the generation.

A caller wraps its work in `reporting(callback)`; denoising loops call `callback(done,
total)` after each step: this project's own loops through `Steps`, diffusers pipelines through
their `callback_on_step_end` (`step_callback`, given where a pipeline is called). Outside
`reporting` nothing is told and nothing is printed.
A stream's generator that can stop at once registers how (`on_stop(callback)`); whoever
serves it calls the callbacks (`Stop`) when its reader closes the stream early.
"""

from __future__ import annotations

import contextlib
import contextvars
import inspect
import threading
from typing import Any, Callable, Iterable, Iterator

_callback: contextvars.ContextVar[Callable[[int, int], None] | None] = contextvars.ContextVar("aigc_progress", default=None)


@contextlib.contextmanager
def reporting(callback: Callable[[int, int], None]) -> Iterator[None]:
    token = _callback.set(callback)
    try:
        yield
    finally:
        _callback.reset(token)


class Steps:
    """This project's own denoising loops: `for t in Steps(timesteps)` tells `reporting` each step done."""

    def __init__(self, iterable: Iterable):
        self.iterable = iterable
        self.total = len(iterable)  # type: ignore[arg-type]
        self.callback = _callback.get()

    def __iter__(self):
        for done, item in enumerate(self.iterable, 1):
            yield item
            if self.callback is not None:
                self.callback(done, self.total)


def step_callback(pipe, steps: int) -> dict[str, Any]:
    """Keyword arguments for calling the diffusers pipeline `pipe` so that it tells `reporting` each
    denoising step: diffusers' `callback_on_step_end`, or in older pipelines that lack it (ModelScope's
    text-to-video) their `callback` with `callback_steps=1`. Nothing when nobody listens or the pipeline
    takes neither (it then reports no steps). `steps`: the total when the pipeline does not say."""
    callback = _callback.get()
    if callback is None:
        return {}
    takes = inspect.signature(pipe.__call__).parameters
    if "callback_on_step_end" in takes:
        def on_step_end(pipe, index: int, timestep, tensors: dict) -> dict:
            callback(index + 1, getattr(pipe, "num_timesteps", None) or steps)
            return tensors  # unchanged: the pipeline goes on with its own latents

        return {"callback_on_step_end": on_step_end}
    if "callback" in takes and "callback_steps" in takes:
        return {"callback": lambda index, timestep, latents: callback(index + 1, steps), "callback_steps": 1}
    return {}


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
