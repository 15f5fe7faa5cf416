"""Field-level validation shared by the handlers' input parsers (standard library only).

A parser collects one :class:`Invalid` per bad field into a :class:`FieldErrors` subclass, so a
client learns everything that is wrong with its input at once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import ClassVar

_SHOWN = 42  # characters of a bad value quoted back in a message


class FieldErrors(ValueError):
    """Invalid input; ``errors`` maps each bad field to what is wrong and what is expected."""

    what: ClassVar[str] = "input"

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors: dict[str, str] = dict(errors)
        summary = "; ".join(f"{name}: {message}" for name, message in self.errors.items())
        super().__init__(f"invalid {self.what} ({len(self.errors)} field(s)): {summary}")


class Invalid(Exception):
    """One field's problem (collected into a :class:`FieldErrors`)."""


def describe(value: object) -> str:
    """How a bad value is quoted back: ``null``, ``true``, ``the string 'x'``, ``1e309``..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"the string {shorten(repr(value))}"
    if isinstance(value, int | float):
        return shorten(repr(value))
    return f"a {type(value).__name__}"


def shorten(text: str, limit: int = _SHOWN) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def finite_number(value: object, expected: str) -> float:
    """A finite JSON number (never a bool), or :class:`Invalid` saying what was expected."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid(f"must be {expected}, got {describe(value)}")
    try:
        result = float(value)
    except OverflowError:
        raise Invalid(f"must be {expected}, got a number too large to use") from None
    if not math.isfinite(result):
        raise Invalid(f"must be {expected}, got {describe(value)} (not a finite number)")
    return result


def as_utc(moment: datetime, expected: str, value: object) -> datetime:
    """``moment`` (which carries a UTC offset) in UTC, or Invalid: an offset can push a moment
    at the ends of datetime's range (year 1 or 9999) out of it, and that is the client's
    input, not an error of ours."""
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise Invalid(f"must be {expected}; got {describe(value)}") from None
