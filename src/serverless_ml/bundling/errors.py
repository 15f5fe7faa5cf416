"""Coded bundling errors (SML3xx) and the warning category for degraded builds."""

from __future__ import annotations

from typing import Final

# Stable codes; each message says what is wrong and what to do about it.
INVALID_SPEC: Final = "SML300"
UNZIPPED_TOO_LARGE: Final = "SML301"
ZIPPED_TOO_LARGE: Final = "SML302"
PIP_FAILED: Final = "SML303"
PACKAGE_NOT_FOUND: Final = "SML304"
MODEL_NOT_FOUND: Final = "SML305"
BAD_INTERPRETER: Final = "SML306"
BYTECODE_FAILED: Final = "SML307"


class BundleError(RuntimeError):
    """A Lambda artifact that cannot be built or would be refused by AWS."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class BundleWarning(UserWarning):
    """A bundle was built, but without a cold-start lever (e.g. no precompiled .pyc)."""
