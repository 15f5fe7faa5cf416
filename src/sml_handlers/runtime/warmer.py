"""Scheduled warm-up pings: recognised exactly and answered without inference, logs or metrics."""

from __future__ import annotations

from typing import Any, Final

# The event a scheduled rule sends to keep an environment warm. Treat as read-only.
WARMER_EVENT: Final[dict[str, str]] = {"serverless-ml": "warmer"}


def is_warmer(event: object) -> bool:
    """True only for an event exactly equal to ``WARMER_EVENT`` (no extra keys)."""
    return isinstance(event, dict) and event == WARMER_EVENT


def warmer_response() -> dict[str, Any]:
    return {"warmed": True}
