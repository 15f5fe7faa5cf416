"""Handler logging on the standard library only.

Lambda's runtime already routes ``logging`` to CloudWatch; with the function's log format set to
JSON it writes one JSON object per record, including ``extra=`` fields, and filters by the
configured application log level. ``POWERTOOLS_LOG_LEVEL`` (the name serverless-ml's plan sets)
also raises or lowers the handlers' own level.
"""

from __future__ import annotations

import logging
import os
from typing import Final

from sml_handlers.runtime import env

LOG_LEVEL_ENV: Final = env.LOG_LEVEL
ROOT: Final = "sml_handlers"


def get_logger(name: str) -> logging.Logger:
    """A logger under ``sml_handlers``; that package logger takes ``$POWERTOOLS_LOG_LEVEL``."""
    level = os.environ.get(LOG_LEVEL_ENV, "").upper()
    if level in logging.getLevelNamesMapping():
        logging.getLogger(ROOT).setLevel(level)
    return logging.getLogger(name)
