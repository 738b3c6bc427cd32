"""The Hugging Face Hub as the registry sees it: whether a Hub id must load from the local cache
alone, which files a Hub model has, and what a failed load means, in one sentence.

Everything here goes through huggingface_hub's public API: its offline mode (`HF_HUB_OFFLINE`,
read by `is_offline_mode()`), `HfApi.model_info` with a short timeout, and its typed exceptions.
See docs/architecture.md for the registry's parts.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Iterator

from huggingface_hub import HfApi, is_offline_mode, snapshot_download
from huggingface_hub.errors import (
    EntryNotFoundError,
    GatedRepoError,
    HfHubHTTPError,
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from .errors import AigcError

# A first request must not wait for the Hub client's retries when there is no network: one quick
# question, whose answer holds for a while (a second model asked for soon after waits for nothing).
ANSWER_SECONDS = 3.0
ANSWER_HOLDS_SECONDS = 60.0

_answer_lock = threading.Lock()
_answer: tuple[float, bool] | None = None  # (when asked, whether the Hub answered)


def _answers(repo_id: str) -> bool:
    """Whether the Hub answers a question about `repo_id` within ANSWER_SECONDS. Any HTTP answer
    counts, "no such model" too: the Hub is there, and loading will say what it said."""
    try:
        HfApi().model_info(repo_id, timeout=ANSWER_SECONDS)
    except HfHubHTTPError:
        return True
    except Exception:  # noqa: BLE001 - no answer at all: refused, timed out, no name resolution, offline mode
        return False
    return True


def files_only(repo_id: str) -> bool:
    """True when `repo_id` must load from the local cache alone (`local_files_only`): offline mode
    is on, or the Hub did not answer a quick question, so that an uncached id fails at once."""
    global _answer
    if is_offline_mode():
        return True
    with _answer_lock:
        if _answer is not None and time.monotonic() - _answer[0] < ANSWER_HOLDS_SECONDS:
            return not _answer[1]
    answered = _answers(repo_id)
    with _answer_lock:
        _answer = (time.monotonic(), answered)
    return not answered


def forget_answer() -> None:
    """Ask the Hub again next time (the network may have come back)."""
    global _answer
    with _answer_lock:
        _answer = None


def repo_files(repo_id: str) -> list[str]:
    """The file names of the Hub model `repo_id`: from the Hub when it answers, else from its
    snapshot in the local cache; [] when neither knows it."""
    if not files_only(repo_id):
        try:
            return [s.rfilename for s in HfApi().model_info(repo_id, timeout=ANSWER_SECONDS).siblings or []]
        except Exception:  # noqa: BLE001 - then the cache is all there is to look at
            pass
    try:
        folder = Path(snapshot_download(repo_id, local_files_only=True))
    except (LocalEntryNotFoundError, OSError, ValueError):
        return []
    return [str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()]


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and what it was raised from or while handling: libraries wrap the Hub's errors in their own."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


# Raised when the Hub could not be asked: offline mode, no local copy of a file while it cannot be
# reached, or the network itself (a refused or timed-out connection, a name that does not resolve).
_UNREACHABLE = (OfflineModeIsEnabled, LocalEntryNotFoundError, ConnectionError, TimeoutError, socket.gaierror)


def load_error(name: str, exc: BaseException) -> AigcError:
    """The one sentence for a Hub model `name` that failed to load with `exc`."""
    causes = list(_causes(exc))

    def found(*types: type[BaseException]) -> BaseException | None:
        return next((e for e in causes if isinstance(e, types)), None)

    if found(GatedRepoError):  # a subclass of RepositoryNotFoundError: asked first
        return AigcError(f"'{name}' is gated on the Hugging Face Hub: accept its terms on its page and log in "
                         "(hf auth login) first.")
    if found(RepositoryNotFoundError):
        return AigcError(f"'{name}' is not a model on the Hugging Face Hub (or it is private).")
    if found(RevisionNotFoundError):
        return AigcError(f"'{name}' has no such revision on the Hugging Face Hub.")
    if found(*_UNREACHABLE):
        return AigcError(f"'{name}' is not in the local cache and the Hugging Face Hub cannot be reached; "
                         "pick a built-in model or connect to the internet.")
    missing = found(EntryNotFoundError)
    if missing is not None:
        return AigcError(f"'{name}' lacks a file this app needs on the Hugging Face Hub: {_first_line(missing)}")
    return AigcError(f"Could not load '{name}' from the Hugging Face Hub: {_first_line(exc)}")


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]
