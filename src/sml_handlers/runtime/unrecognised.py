"""The answer to an event no entry point of a handler recognises: logged once, raised clearly."""

from __future__ import annotations

import logging

from sml_handlers.runtime.warmer import WARMER_EVENT


def unrecognised_event(event: object, expected: str, logger: logging.Logger) -> ValueError:
    """A ValueError naming what the handler expected (``expected``, e.g. "a Kinesis batch")
    and the shape it got, which is logged as ``event_shape``."""
    if isinstance(event, dict):
        shape = f"an object with keys {sorted(map(str, event))[:10]}"
    else:
        shape = f"a {type(event).__name__}"
    logger.error("unrecognised event", extra={"event_shape": shape})
    return ValueError(f"unrecognised event: expected {expected} or {WARMER_EVENT}; got {shape}")
