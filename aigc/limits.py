"""Size limits on requests. Public mode (a Space, a share link) lowers them."""

from __future__ import annotations

from dataclasses import dataclass, replace


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
    upload_bytes: int = 20_000_000
    upload_pixels: int = 4096 * 4096
    training: bool = True  # the Train tab may start runs
    max_train_steps: int = 1_000_000
    max_train_batch: int = 1024
    stop_own_runs_only: bool = False  # Stop ends only a run the same browser started or resumed


PRIVATE = Limits()
PUBLIC = replace(PRIVATE, max_new_tokens=500, prompt_chars=200_000, max_images=16, max_diffusion_steps=50, max_walk_frames=32,
                 max_side=768, max_video_frames=24, upload_bytes=8_000_000, upload_pixels=2048 * 2048,
                 max_train_steps=2000, max_train_batch=128, stop_own_runs_only=True)
current = PRIVATE


def set_public(public: bool, training: bool = True) -> Limits:
    """Choose the limits; `training=False` turns the Train tab's Start and Resume off."""
    global current
    current = replace(PUBLIC if public else PRIVATE, training=training)
    return current
