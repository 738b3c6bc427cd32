"""Checks for numbers and strings that arrive through the API as if no slider existed."""

from __future__ import annotations

import math
from numbers import Real

from ..errors import AigcError


def number(name: str, value, low: float, high: float, *, integer: bool = False, default=None):
    """`value` as an int or float within [low, high], or one sentence saying what is allowed."""
    if value is None and default is not None:
        return default
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise AigcError(f"{name} must be a number, not '{value[:40]}'.") from None
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise AigcError(f"{name} must be a finite number between {low:g} and {high:g}.")
    if integer and value != int(value):
        raise AigcError(f"{name} must be a whole number between {low:g} and {high:g}.")
    if not low <= value <= high:
        raise AigcError(f"{name} must be between {low:g} and {high:g} (got {value:g}).")
    return int(value) if integer else float(value)


def seed(value) -> int | None:
    """None (or -1, as the app's seed box sends for "random") means a fresh random seed."""
    if value is None or (isinstance(value, Real) and not isinstance(value, bool) and value == -1):
        return None
    return number("seed", value, 0, 2**63 - 1, integer=True)


def text(name: str, value, max_chars: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise AigcError(f"The {name} must be text.")
    if len(value) > max_chars:
        raise AigcError(f"The {name} is {len(value):,} characters long; the limit is {max_chars:,}.")
    return value
