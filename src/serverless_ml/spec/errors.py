"""Coded errors: every refusal names a code, what is wrong and what to change."""

from __future__ import annotations


class SpecError(ValueError):
    """An invalid specification, raised before any resource is created.

    ``code`` is stable (SML1xx spec, SML2xx plan) and documented in docs/errors.md.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
