"""Output parts: where a service's results go (a results table, an alert topic).

Each part has a ``key`` (unique among the service's parts) and names the environment variable
its handler reads (``sml_handlers.runtime.env``).
"""

from __future__ import annotations

from dataclasses import dataclass

from serverless_ml.spec.errors import SpecError
from serverless_ml.spec.triggers import check_key


@dataclass(frozen=True, kw_only=True)
class ResultsTable:
    """A DynamoDB table the stack creates for results (on-demand, PITR, encrypted, retained);
    string keys. The function may only put items (idempotent conditional writes)."""

    name_suffix: str
    partition_key: str
    sort_key: str | None = None

    @property
    def key(self) -> str:
        return self.name_suffix

    def __post_init__(self) -> None:
        check_key(self.name_suffix, "ResultsTable name_suffix")
        for attribute in (self.partition_key, self.sort_key):
            if attribute is not None and not 1 <= len(attribute.encode()) <= 255:
                raise SpecError(
                    "SML178", f"ResultsTable key attribute {attribute!r}: use 1..255 bytes"
                )


@dataclass(frozen=True, kw_only=True)
class AlertTopic:
    """An SNS topic (TLS-only, SSE with the AWS-managed key) the function publishes alerts to:
    subscribe people or systems to it after deploy."""

    name_suffix: str = "alerts"

    @property
    def key(self) -> str:
        return self.name_suffix

    def __post_init__(self) -> None:
        check_key(self.name_suffix, "AlertTopic name_suffix")


Output = ResultsTable | AlertTopic
"""Every output kind a service's ``outputs`` may hold."""
