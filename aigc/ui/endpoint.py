"""One wrapper for every endpoint of the page: what each event needs besides its own work.

`endpoint(engine, fn)` is what a tab registers with Gradio instead of `fn`. It runs `fn` under
the server's size limits (`engine.limits`), hands it the engine when it asks for one (a keyword
parameter `engine`, hidden from Gradio and the API), turns a seed of -1 or None into a fresh
random one (`seed_or_random`, for the parameters named in `seeds`), and turns an `AigcError`
into the page's error, in the page's language. A generator `fn` (a streamed answer) stays one.
"""

from __future__ import annotations

import functools
import inspect
from typing import Callable

from .. import limits
from ..device import random_seed
from ..errors import AigcError
from ..pipelines import validate
from ..serving import Engine
from .i18n import error


def seed_or_random(seed) -> int:
    """The seed to use for `seed`: -1 or None (the seed box's "random") gives a fresh one; any other is checked."""
    checked = validate.seed(seed)
    return random_seed() if checked is None else checked


def endpoint(engine: Engine, fn: Callable, *, seeds: tuple[str, ...] = ()) -> Callable:
    """`fn` as an event handler of a page served by `engine`; see the module's docstring."""
    signature = inspect.signature(fn)
    wants_engine = "engine" in signature.parameters
    shown = signature.replace(parameters=[p for name, p in signature.parameters.items() if name != "engine"])

    def prepare(args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        bound = shown.bind(*args, **kwargs)
        for name in seeds:
            if name in bound.arguments:
                bound.arguments[name] = seed_or_random(bound.arguments[name])
        return bound.args, {**bound.kwargs, **({"engine": engine} if wants_engine else {})}

    def request_of(args: tuple, kwargs: dict):
        try:
            return shown.bind_partial(*args, **kwargs).arguments.get("request")
        except TypeError:
            return None

    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def answer(*args, **kwargs):
            gen = None
            try:
                with limits.using(engine.limits):
                    given, named = prepare(args, kwargs)
                    gen = fn(*given, **named)
                while True:
                    # each step under the limits: Gradio may run the steps in different threads and contexts
                    with limits.using(engine.limits):
                        try:
                            item = next(gen)
                        except StopIteration:
                            return
                    yield item
            except AigcError as exc:
                raise error(exc, request_of(args, kwargs)) from None
            finally:
                if gen is not None:
                    gen.close()
    else:
        @functools.wraps(fn)
        def answer(*args, **kwargs):
            try:
                with limits.using(engine.limits):
                    given, named = prepare(args, kwargs)
                    return fn(*given, **named)
            except AigcError as exc:
                raise error(exc, request_of(args, kwargs)) from None

    answer.__signature__ = shown  # what Gradio reads: the inputs, the request, the progress bar
    return answer
