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
    string keys. The function may put items (idempotent conditional writes) and, with
    ``undo_writes``, delete them: a handler that undoes its rows when a later step of the same
    record fails (the IoT alert), so that the retry redoes both."""

    name_suffix: str
    partition_key: str
    sort_key: str | None = None
    undo_writes: bool = False

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


@dataclass(frozen=True, kw_only=True)
class ResultObjects:
    """Results written as JSON objects under ``prefix`` in a bucket an S3 trigger of the
    service creates (``bucket``: its ``NewBucket.name_suffix``), at
    ``<prefix><source key>.json``. Refused when they would land where that
    trigger watches (SML189): every result would invoke the function again."""

    bucket: str
    prefix: str = "results/"

    @property
    def key(self) -> str:
        return f"{self.bucket}-results"

    def __post_init__(self) -> None:
        check_key(self.bucket, "ResultObjects bucket")
        if not self.prefix or not self.prefix.endswith("/") or "*" in self.prefix:
            raise SpecError(
                "SML190",
                f"ResultObjects prefix {self.prefix!r}: a literal folder such as 'results/'",
            )


Output = ResultsTable | AlertTopic | ResultObjects
"""Every output kind a service's ``outputs`` may hold."""
