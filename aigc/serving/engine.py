"""The engine's shared parts: the roles, the Engine and Stream protocols, `InThreads`, and what every
engine runs around a call (`as_a_web_request`, `run_stream_step`). `aigc.serving` re-exports them;
the engines in `local.py` and `ray.py` and the worker-side `calls.py` import them from here, so that no
module of the package imports the package's `__init__` that imports it back. See docs/architecture.md.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Callable, Iterator, Protocol

from .. import limits as limits_
from ..limits import Limits
from ..progress import Stop, reporting, stoppable

try:  # the catalogue's job once the registry is split; the registry's before
    from ..catalog import names_from_the_web
except ImportError:  # pragma: no cover - depends on the registry's layout
    from ..registry import names_from_the_web

# Role: what its worker does, in the sentence a caller reads when that worker ends mid-call.
ROLES = {"draw": "draws pictures", "write": "writes text"}


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    return role


def ended(role: str) -> str:
    """What the calls a role's worker held read when it ended (they are not retried: a call that
    ended its worker would end the next one too)."""
    return f"The process that {ROLES[role]} ended before it answered; please try again."


class Stream(Protocol):
    """What a streamed call yields, read in the caller's process. `close()` stops it early: a
    generator that registered `aigc.progress.on_stop` is told at once and ends by itself (its last
    events still arrive: a text's finish reason); any other is closed at its next yield."""

    def __iter__(self) -> Iterator[Any]: ...

    def close(self) -> None: ...


class Engine(Protocol):
    """Runs functions for the web app by role; see the module's docstring."""

    limits: Limits  # the server's size limits, applied to every call

    def call(self, role: str, fn: Callable, /, *args, progress: Callable[[int, int], None] | None = None, **kwargs):
        """`fn(*args, **kwargs)` run by `role`; `progress(done, total)` is called in the caller's thread at
        each step the function reports (aigc.progress.reporting). Returns fn's result or raises AigcError."""

    def stream(self, role: str, fn: Callable, /, *args, **kwargs) -> Stream:
        """`fn` is a generator function; the Stream yields what it yields, in the caller's process."""

    def warm(self, role: str, fn: Callable, /, *args, **kwargs) -> None:
        """Start the role now and run `fn` there in the background (load a model); errors are ignored."""

    def close(self) -> None:
        """End the role's workers; a later call starts them again."""


@contextlib.contextmanager
def as_a_web_request(limits: Limits, progress: Callable[[int, int], None] | None = None,
                     stop: Stop | None = None) -> Iterator[None]:
    """How every engine runs a call: names as the web gives them, the server's limits, steps told to
    `progress`, and a stream's `stop`. Context variables, not globals: calls at once do not mix."""
    with names_from_the_web(), limits_.using(limits), reporting(progress), stoppable(stop):
        yield


def run_stream_step(gen: Iterator, limits: Limits, stop: Stop):
    """The next item of a streamed generator, each step run as a web request (a step may run in
    another thread, with another context, than the one before). Raises StopIteration at the end,
    and at once when its reader stopped it and it registered no way to stop."""
    if stop.requested and not stop.heard:
        gen.close()
        raise StopIteration
    with as_a_web_request(limits, stop=stop):
        return next(gen)


class _StreamHere:
    """A Stream whose generator runs in the thread that reads it."""

    def __init__(self, limits: Limits, fn: Callable, args: tuple, kwargs: dict):
        self.limits, self.stop = limits, Stop()
        self.stepping = threading.Lock()  # held while a step runs: the generator cannot be closed then
        self.done = False
        self.gen = fn(*args, **kwargs)  # a generator function: nothing runs until the first step

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self):
        with self.stepping:
            if self.done:
                raise StopIteration
            try:
                return run_stream_step(self.gen, self.limits, self.stop)
            except BaseException:
                self.done = True
                raise

    def close(self) -> None:
        self.stop()
        if not self.stop.heard and self.stepping.acquire(blocking=False):  # else the next step ends it
            try:
                self.gen.close()
                self.done = True
            finally:
                self.stepping.release()


class InThreads:
    """An engine that runs every call in the caller's thread: for the library, tests and
    `app.py --one-process` (no worker process: less memory, slower under load)."""

    def __init__(self, limits: Limits = limits_.PRIVATE):
        self.limits = limits

    def call(self, role: str, fn: Callable, /, *args, progress: Callable[[int, int], None] | None = None, **kwargs):
        check_role(role)
        with as_a_web_request(self.limits, progress):
            return fn(*args, **kwargs)

    def stream(self, role: str, fn: Callable, /, *args, **kwargs) -> Stream:
        check_role(role)
        return _StreamHere(self.limits, fn, args, kwargs)

    def warm(self, role: str, fn: Callable, /, *args, **kwargs) -> None:
        check_role(role)
        threading.Thread(target=quietly, args=(self.call, role, fn, args, kwargs), daemon=True,
                         name=f"warm-{role}").start()

    def close(self) -> None:
        pass


def load_model(name: str, task: str) -> None:
    """Load a model where this runs (an engine's warm-up); nothing comes back, since a model does not travel."""
    from .. import registry

    registry.load(name, task)


def quietly(call: Callable, role: str, fn: Callable, args: tuple, kwargs: dict) -> None:
    """`call(role, fn, ...)`, its errors ignored: a model missing from this copy is said by the first request."""
    try:
        call(role, fn, *args, **kwargs)
    except Exception:  # noqa: BLE001 - see the docstring
        pass

