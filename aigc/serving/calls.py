"""What a role's worker does with a call, whichever engine carried it there.

A local worker process (aigc.serving.local) and a Ray Serve replica (aigc.serving.ray) differ in
how a call arrives and how its answer travels back; what they do in between is the same, and lives
here: set the role up once, run the call as a web request with its progress told to the caller,
step a streamed generator until it ends or its reader stops it, and turn whatever went wrong into
an exception that pickles and that the caller can show. See docs/architecture.md.
"""

from __future__ import annotations

from typing import Any, Callable

from ..errors import AigcError
from ..limits import Limits
from ..progress import Stop
from .engine import as_a_web_request, run_stream_step


def _write_setup() -> None:
    import torch

    torch.set_num_threads(1)  # a small text model's steps are too short to share among threads


SETUP: dict[str, Callable[[], None]] = {"write": _write_setup}  # run once in a role's worker as it starts


def set_up(role: str) -> None:
    """What a worker of `role` does once, before its first call."""
    if role in SETUP:
        SETUP[role]()


def error(exc: BaseException) -> Exception:
    """An exception that pickles and says what happened: a user's sentence as is, anything else by its type."""
    if isinstance(exc, AigcError):
        return AigcError(str(exc))
    return RuntimeError(f"{type(exc).__name__}: {exc}")


def answer(limits: Limits, fn: Callable, args: tuple, kwargs: dict,
           progress: Callable[[int, int], None] | None = None) -> tuple[str, Any]:
    """`fn(*args, **kwargs)` as a web request under `limits`, each step it reports told to `progress`:
    ("done", its result) or ("error", an exception from `error`)."""
    try:
        with as_a_web_request(limits, progress):
            return "done", fn(*args, **kwargs)
    except BaseException as exc:  # noqa: BLE001 - told to the caller
        return "error", error(exc)


def relay(limits: Limits, fn: Callable, args: tuple, kwargs: dict, stop: Stop,
          emit: Callable[[Any], None]) -> tuple[str, Any]:
    """The generator `fn(*args, **kwargs)` stepped as a web request, each item handed to `emit`, until it
    ends or `stop` (its reader's) ends it: ("done", None) or ("error", an exception from `error`)."""
    gen = None
    try:
        gen = fn(*args, **kwargs)
        while True:
            try:
                item = run_stream_step(gen, limits, stop)
            except StopIteration:
                return "done", None
            emit(item)
    except BaseException as exc:  # noqa: BLE001 - told to the caller
        return "error", error(exc)
    finally:
        if gen is not None:
            gen.close()
