"""What the local runner observed: one record per INIT and per invoke, for the log lines, the
summary and the latency chart. Times are seconds since the run began (``time.monotonic``)."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Final

from serverless_ml.core.limits import LAMBDA_INIT_BILLED

KB_PER_MB: Final = 1024
ON_DEMAND: Final = "on-demand"  # InitRecord.initialization_type: Lambda's InitType values
PROVISIONED: Final = "provisioned-concurrency"


@dataclass(frozen=True, slots=True, kw_only=True)
class InitRecord:
    """One environment's INIT phase."""

    function: str
    environment: int
    at_s: float
    init_ms: float
    initialization_type: str  # on-demand | provisioned-concurrency
    error: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InvokeRecord:
    """One invoke: where it came from, how long it ran, whether it paid for an INIT."""

    function: str
    source: str  # http | dynamodb stream | kinesis stream | s3 | cloudfront | warmer
    request_id: str
    environment: int | None  # None when throttled
    at_s: float
    duration_ms: float
    init_ms: float | None  # set on a cold start (INIT ran for this request)
    memory_mb: int
    max_memory_used_mb: int
    error_type: str | None = None
    throttled: bool = False

    @property
    def cold(self) -> bool:
        return self.init_ms is not None

    @property
    def billed_ms(self) -> int:
        """Lambda's Billed Duration: rounded up to the ms; INIT included on an on-demand cold
        start (billed since 2025-08-01, ``core.limits.LAMBDA_INIT_BILLED``)."""
        if self.throttled:
            return 0
        init = self.init_ms if (self.init_ms is not None and LAMBDA_INIT_BILLED) else 0.0
        return math.ceil(self.duration_ms + init)


@dataclass
class Recorder:
    """Thread-safe collector of every record of a run."""

    inits: list[InitRecord] = field(default_factory=list)
    invokes: list[InvokeRecord] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def init(self, record: InitRecord) -> None:
        with self._lock:
            self.inits.append(record)

    def invoke(self, record: InvokeRecord) -> None:
        with self._lock:
            self.invokes.append(record)

    def snapshot(self) -> tuple[list[InitRecord], list[InvokeRecord]]:
        with self._lock:
            return list(self.inits), list(self.invokes)
