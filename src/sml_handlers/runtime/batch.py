"""Partial batch responses for stream event sources (``ReportBatchItemFailures``).

Same semantics as Powertools' ``BatchProcessor`` / ``process_partial_response``: list exactly the
failed records; if every record failed, raise, so Lambda retries (or bisects) the whole batch
instead of reading an all-failed response. For streams Lambda resumes from the lowest failed
sequence number, so records after it are delivered again: record processing must be idempotent.
https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class BatchFailedError(RuntimeError):
    """Every record of the batch failed (the Powertools ``BatchProcessingError`` case)."""

    def __init__(self, failures: Sequence[str | None], reasons: Sequence[str]) -> None:
        shown = "; ".join(reasons[:5]) + (" ..." if len(reasons) > 5 else "")
        super().__init__(f"all {len(failures)} records of the batch failed: {shown}")
        self.failures = tuple(failures)


def partial_batch_response(
    failures: Sequence[str | None], reasons: Sequence[str], *, total: int
) -> dict[str, Any]:
    """``{"batchItemFailures": [...]}`` for ``failures`` (item identifiers) out of ``total``."""
    if total > 0 and len(failures) == total:
        raise BatchFailedError(failures, reasons)
    return {"batchItemFailures": [{"itemIdentifier": item} for item in failures]}


def event_records(event: object, source: str) -> list[Any] | None:
    """The records if ``event`` is a batch from ``source`` (``aws:dynamodb``, ``aws:kinesis``:
    judged by the first record), else None."""
    if not isinstance(event, dict):
        return None
    records = event.get("Records")
    if not isinstance(records, list) or not records:
        return None
    first = records[0]
    if not isinstance(first, Mapping) or first.get("eventSource") != source:
        return None
    return records
