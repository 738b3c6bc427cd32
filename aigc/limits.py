"""Size limits on requests. Public mode (a Space, a share link) lowers them.

A server chooses its limits once (`for_server`) and every request runs under them
(`with using(limits): ...`); code that checks a request reads `current()`. The limits live in a
context variable, not a module global, so that a worker serving several callers at once never
sees another caller's limits, and code outside any request (the library) gets PRIVATE.
"""

from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass, replace
from typing import Iterator


@dataclass(frozen=True)
class Limits:
    max_new_tokens: int = 1000
    prompt_chars: int = 1_000_000
    max_images: int = 64
    max_diffusion_steps: int = 100
    max_walk_frames: int = 64
    caption_chars: int = 1000
    max_side: int = 1024  # width and height of a Hub text-to-image picture
    max_video_frames: int = 64  # frames of a Hub text-to-video clip (built-in models draw their own number)
    max_clips: int = 16  # sound clips in one request
    max_audio_seconds: float = 30.0  # length of a Hub model's sound
    upload_bytes: int = 20_000_000
    upload_pixels: int = 4096 * 4096
    edit_side: int = 2048  # longest side a picture tool works on, and of what it gives back (an upscaled picture)
    training: bool = True  # the Train tab may start runs
    max_train_steps: int = 1_000_000
    max_train_batch: int = 1024
    stop_own_runs_only: bool = False  # Stop ends only a run the same browser started or resumed


PRIVATE = Limits()
PUBLIC = replace(PRIVATE, max_new_tokens=500, prompt_chars=200_000, max_images=16, max_diffusion_steps=50, max_walk_frames=32,
                 max_side=768, max_video_frames=24, max_clips=8, max_audio_seconds=10.0, upload_bytes=8_000_000, upload_pixels=2048 * 2048,
                 edit_side=1024,
                 max_train_steps=2000, max_train_batch=128, stop_own_runs_only=True)
_current: contextvars.ContextVar[Limits] = contextvars.ContextVar("aigc_limits", default=PRIVATE)


def for_server(public: bool, training: bool = True) -> Limits:
    """A server's limits; `training=False` turns the Train tab's Start and Resume off."""
    return replace(PUBLIC if public else PRIVATE, training=training)


def current() -> Limits:
    """The limits of the request being served (PRIVATE outside any: the library's own use)."""
    return _current.get()


@contextlib.contextmanager
def using(limits: Limits) -> Iterator[Limits]:
    """Run the block under `limits`; they end with it, whatever happens inside."""
    token = _current.set(limits)
    try:
        yield limits
    finally:
        _current.reset(token)
