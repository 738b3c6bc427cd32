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
    shown = f"{low:,} and {high:,}" if integer else f"{low:g} and {high:g}"  # whole numbers in full, not 9.22337e+18
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise AigcError(f"{name} must be a finite number between {shown}.")
    if integer and value != int(value):
        raise AigcError(f"{name} must be a whole number between {shown}.")
    if not low <= value <= high:
        raise AigcError(f"{name} must be between {shown} (got {value:,})." if integer and float(value).is_integer()
                        else f"{name} must be between {shown} (got {value:g}).")
    return int(value) if integer else float(value)


def count(name: str, value, low: int = 1) -> int:
    """`value` as a whole number of at least `low` with no upper bound (a training run's steps, its
    batch size, its seed), or one sentence; `name` starts the sentence."""
    if (isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value) or value < low
            or value != int(value)):
        raise AigcError(f"{name} must be a whole number of {low} or more.")
    return int(value)


def above_zero(name: str, value, high: float) -> float:
    """`value` as a number above 0 and at most `high` (a learning rate), or one sentence."""
    if isinstance(value, bool) or not isinstance(value, Real) or not 0 < value <= high:  # NaN is refused too
        raise AigcError(f"The {name} must be a number above 0 and at most {high:g}.")
    return float(value)


def seed(value) -> int | None:
    """None (or -1, as the app's seed box sends for "random") means a fresh random seed."""
    number_given = isinstance(value, Real) and not isinstance(value, bool)
    if value is None or (number_given and value == -1):
        return None
    if number_given and value < 0:
        raise AigcError(f"seed must be -1 (a new random seed) or a whole number from 0 to {2**63 - 1:,} (got {value:g}).")
    return number("seed", value, 0, 2**63 - 1, integer=True)


def text(name: str, value, max_chars: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise AigcError(f"The {name} must be text.")
    if len(value) > max_chars:
        raise AigcError(f"The {name} is {len(value):,} characters long; the limit is {max_chars:,}.")
    return value
