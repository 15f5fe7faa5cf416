"""What one invoke of a local function returns, shared by the environment pool and every event
source (HTTP fronts, stream pollers, S3 async delivery), so none of them knows about processes.

``error`` follows Lambda's function-error payload (``errorType`` / ``errorMessage``): set when the
handler raised, timed out, ran out of memory or its process died. ``throttled`` means no
environment could take the request (the function is at its concurrency): nothing ran.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

# errorType values Lambda uses for failures outside the handler's own exceptions.
TIMEOUT_ERROR: Final = "Sandbox.Timedout"
EXIT_ERROR: Final = "Runtime.ExitError"
INIT_ERROR: Final = "Runtime.ImportModuleError"
THROTTLED_ERROR: Final = "TooManyRequestsException"


@dataclass(frozen=True, slots=True)
class FunctionError:
    """A failed invoke, as Lambda reports it (``X-Amz-Function-Error: Unhandled``)."""

    error_type: str
    message: str

    def payload(self) -> dict[str, Any]:
        """The response payload Lambda returns for the failure."""
        return {"errorType": self.error_type, "errorMessage": self.message}


@dataclass(frozen=True, slots=True)
class InvokeResult:
    """The handler's JSON-decoded return value, or why there is none."""

    request_id: str
    payload: Any = None
    error: FunctionError | None = None
    throttled: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None and not self.throttled


Invoke = Callable[[dict[str, Any]], InvokeResult]
"""Invoke the function once with an event (blocking); what every event source is given."""
