"""Size limits on requests. Public mode (a Space, a share link) lowers them."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Limits:
    max_new_tokens: int = 1000
    prompt_chars: int = 1_000_000


PRIVATE = Limits()
PUBLIC = replace(PRIVATE, max_new_tokens=500, prompt_chars=200_000)
current = PRIVATE


def set_public(public: bool) -> Limits:
    global current
    current = PUBLIC if public else PRIVATE
    return current
