"""Lambda's asynchronous invocation, for local runs: an internal queue, retries, event age, an
on-failure destination, and at-least-once delivery.

Rules (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html, and the error
handling / destinations pages under it):

1. ``submit`` queues the event and returns a request id at once (Invoke answers 202); worker
   threads take events off the queue and invoke the function.
2. A function error is retried up to ``max_retries`` (0..2) times: 1 minute after the first
   attempt, then 2 minutes (both times ``delay_scale``).
3. A throttle (or nothing ran: the invoker itself failed, Lambda's 5xx case) puts the event
   back with exponential backoff, from 1 s doubling up to 5 min (times ``delay_scale``),
   without using a retry.
4. An event older than ``max_event_age_s`` (on ``clock``, not scaled: a runner that compresses
   time passes a scaled age) when its turn comes is discarded: ``EventAgeExceeded``. An event
   out of retries: ``RetriesExhausted``. Either goes to ``on_failure`` as an invocation record
   (the documented shape, below), or is dropped when there is none.
5. The queue is at-least-once: with ``duplicate_rate``, that share of events (seeded) is
   delivered a second time, a little later, as a separate delivery with its own retries.

Invocation record: ``{"version": "1.0", "timestamp", "requestContext": {"requestId",
"functionArn", "condition", "approximateInvokeCount"}, "requestPayload": event,
"responseContext": {"statusCode": 200, "executedVersion", "functionError": "Unhandled"},
"responsePayload": {"errorType", "errorMessage"}}``. ``requestId`` is the one ``submit``
returned; ``approximateInvokeCount`` counts attempts that ran. Assumed (not documented): an
event that expired without a failed run (only throttled) has neither ``functionError`` nor
``responsePayload``, like the stream mappings' records (``stream_esm``).
"""

from __future__ import annotations

import heapq
import itertools
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Final, Literal

from serverless_ml.local.invocation import FunctionError, Invoke, InvokeResult

RETRY_DELAYS_S: Final = (60.0, 120.0)  # before the 1st and the 2nd retry of a function error
BACKOFF_START_S: Final = 1.0
BACKOFF_CAP_S: Final = 300.0
DUPLICATE_LAG_S: Final = 1.0  # how much later a duplicate delivery is due (times delay_scale)
POLL_S: Final = 0.02  # longest a worker sleeps before looking at ``clock`` again
RETRIES_EXHAUSTED: Final = "RetriesExhausted"
EVENT_AGE_EXCEEDED: Final = "EventAgeExceeded"

Condition = Literal["RetriesExhausted", "EventAgeExceeded"]
OnFailure = Callable[[dict[str, Any]], None]


@dataclass(frozen=True, slots=True)
class AsyncStats:
    """Counts since start. ``invocations`` ran the handler; ``throttled`` and
    ``system_errors`` did not. ``dropped``: failed with no ``on_failure``; ``destination_errors``:
    ``on_failure`` raised (the record is lost); ``lost``: still queued at ``close()``."""

    submitted: int = 0
    invocations: int = 0
    succeeded: int = 0
    retried: int = 0
    throttled: int = 0
    system_errors: int = 0
    duplicates: int = 0
    sent_to_on_failure: int = 0
    retries_exhausted: int = 0
    event_age_exceeded: int = 0
    dropped: int = 0
    destination_errors: int = 0
    lost: int = 0


@dataclass(slots=True)
class _Delivery:
    """One delivery of an event through the queue (a duplicate is a second one)."""

    request_id: str
    event: dict[str, Any]
    submitted_at: float
    duplicate: bool = False
    runs: int = 0  # attempts that ran the handler
    retries: int = 0  # function-error retries used
    backoff_s: float = 0.0  # next throttle backoff (unscaled); 0 = not throttled yet
    last_error: FunctionError | None = None  # of the last attempt that ran


@dataclass(order=True, slots=True)
class _Due:
    at: float
    seq: int
    delivery: _Delivery = field(compare=False)


def retry_delay_s(retries_used: int, scale: float = 1.0) -> float:
    """How long after a function error the next retry is due (retries used so far: 0 or 1)."""
    return RETRY_DELAYS_S[retries_used] * scale


def throttle_backoff_s(previous_s: float, scale: float = 1.0) -> tuple[float, float]:
    """The next throttle backoff after ``previous_s`` (0 for the first throttle), unscaled,
    and the delay it means (scaled)."""
    backoff = min(BACKOFF_CAP_S, previous_s * 2 or BACKOFF_START_S)
    return backoff, backoff * scale


class AsyncDelivery:
    """Asynchronous invocation of ``invoke`` (see module doc). Use as a context manager, or
    call ``close()``."""

    def __init__(
        self,
        invoke: Invoke,
        *,
        max_retries: int,
        max_event_age_s: float,
        on_failure: OnFailure | None,
        function_arn: str,
        executed_version: str = "$LATEST",
        delay_scale: float = 1.0,
        duplicate_rate: float = 0.0,
        seed: int = 0,
        workers: int = 4,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 <= max_retries <= 2:
            raise ValueError(f"max_retries={max_retries}: Lambda allows 0..2")
        if max_event_age_s <= 0 or delay_scale < 0 or workers < 1:
            raise ValueError("max_event_age_s must be > 0, delay_scale >= 0, workers >= 1")
        if not 0.0 <= duplicate_rate <= 1.0:
            raise ValueError(f"duplicate_rate={duplicate_rate}: use 0..1")
        self._invoke, self._on_failure = invoke, on_failure
        self.max_retries, self.max_event_age_s = max_retries, max_event_age_s
        self.function_arn, self.executed_version = function_arn, executed_version
        self._scale, self._duplicate_rate = delay_scale, duplicate_rate
        self._random = random.Random(seed)
        self._clock = clock
        self._lock = threading.Condition()
        self._queue: list[_Due] = []
        self._seq = itertools.count()
        self._in_flight = 0
        self._closed = False
        self._stats = AsyncStats()
        self._threads = [
            threading.Thread(target=self._work, name=f"async-invoke-{n}", daemon=True)
            for n in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    # --- API ------------------------------------------------------------------------------
    def submit(self, event: dict[str, Any]) -> str:
        """Queue ``event``; its request id (what Invoke with ``Event`` type returns)."""
        request_id = str(uuid.uuid4())
        with self._lock:
            if self._closed:
                raise RuntimeError("AsyncDelivery is closed")
            now = self._clock()
            delivery = _Delivery(request_id, event, now)
            self._push(now, delivery)
            self._count(submitted=1)
            if self._duplicate_rate and self._random.random() < self._duplicate_rate:
                twin = _Delivery(request_id, event, now, duplicate=True)
                self._push(now + DUPLICATE_LAG_S * self._scale, twin)
                self._count(duplicates=1)
        return request_id

    @property
    def stats(self) -> AsyncStats:
        with self._lock:
            return self._stats

    def describe(self) -> str:
        """The counts, for a run's report."""
        s = self.stats
        text = (f"{s.submitted} submitted, {s.invocations} invocations ({s.succeeded} succeeded), "
                f"{s.retried} retried, {s.throttled} throttled, {s.duplicates} duplicates, "
                f"{s.sent_to_on_failure} to on-failure")  # fmt: skip
        extra = {"dropped": s.dropped, "destination errors": s.destination_errors,
                 "system errors": s.system_errors, "lost": s.lost}  # fmt: skip
        return ", ".join([text, *(f"{n} {what}" for what, n in extra.items() if n)])

    def idle(self) -> bool:
        """Nothing queued, waiting to be retried, or being invoked."""
        with self._lock:
            return not self._queue and self._in_flight == 0

    def drain(self, timeout_s: float) -> bool:
        """Wait (real time) until ``idle()``; whether it got there within ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while self._queue or self._in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(min(left, POLL_S))
            return True

    def close(self) -> None:
        """Stop the workers (after the invokes in flight); what is still queued is counted
        as ``lost``."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._lock.notify_all()
        for thread in self._threads:
            thread.join()
        with self._lock:
            self._count(lost=len(self._queue))
            self._queue.clear()
            self._lock.notify_all()

    def __enter__(self) -> AsyncDelivery:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- workers --------------------------------------------------------------------------
    def _push(self, at: float, delivery: _Delivery) -> None:
        heapq.heappush(self._queue, _Due(at, next(self._seq), delivery))
        self._lock.notify()

    def _count(self, **increments: int) -> None:
        values = {name: getattr(self._stats, name) + n for name, n in increments.items()}
        self._stats = replace(self._stats, **values)

    def _take(self) -> _Delivery | None:
        """The next due delivery (now in flight), or None when closing."""
        with self._lock:
            while not self._closed:
                if self._queue:
                    wait = self._queue[0].at - self._clock()
                    if wait <= 0:
                        self._in_flight += 1
                        return heapq.heappop(self._queue).delivery
                    self._lock.wait(min(wait, POLL_S))
                else:
                    self._lock.wait(POLL_S)
            return None

    def _work(self) -> None:
        while (delivery := self._take()) is not None:
            try:
                record = self._attempt(delivery)
                if record is not None:
                    self._send(record)
            finally:
                with self._lock:
                    self._in_flight -= 1
                    self._lock.notify_all()

    def _attempt(self, d: _Delivery) -> dict[str, Any] | None:
        """Invoke once; reschedule, or return the on-failure record (still in flight)."""
        if self._clock() - d.submitted_at > self.max_event_age_s:
            return self._failed(d, EVENT_AGE_EXCEEDED)
        try:
            result: InvokeResult | None = self._invoke(d.event)
        except Exception:  # the invoker failed: nothing ran (Lambda's 5xx): like a throttle
            result = None
        with self._lock:
            now = self._clock()
            if result is None or result.throttled:
                self._count(**({"throttled": 1} if result else {"system_errors": 1}))
                d.backoff_s, delay = throttle_backoff_s(d.backoff_s, self._scale)
                self._push(now + delay, d)
                return None
            d.runs += 1
            self._count(invocations=1)
            if result.error is None:
                self._count(succeeded=1)
                return None
            d.last_error = result.error
            if d.retries < self.max_retries:
                self._push(now + retry_delay_s(d.retries, self._scale), d)
                d.retries += 1
                self._count(retried=1)
                return None
        return self._failed(d, RETRIES_EXHAUSTED)

    def _failed(self, d: _Delivery, condition: Condition) -> dict[str, Any] | None:
        with self._lock:
            if condition == RETRIES_EXHAUSTED:
                self._count(retries_exhausted=1)
            else:
                self._count(event_age_exceeded=1)
            if self._on_failure is None:
                self._count(dropped=1)
                return None
        return self._record(d, condition)

    def _send(self, record: dict[str, Any]) -> None:
        assert self._on_failure is not None
        try:
            self._on_failure(record)
            sent = {"sent_to_on_failure": 1}
        except Exception:  # DestinationDeliveryFailures: the record is lost
            sent = {"destination_errors": 1}
        with self._lock:
            self._count(**sent)

    def _record(self, d: _Delivery, condition: Condition) -> dict[str, Any]:
        """What Lambda sends to the on-failure destination for ``d``."""
        context: dict[str, Any] = {"statusCode": 200, "executedVersion": self.executed_version}
        if d.last_error is not None:
            context["functionError"] = "Unhandled"
        moment = datetime.now(UTC)
        record: dict[str, Any] = {
            "version": "1.0",
            "timestamp": moment.strftime("%Y-%m-%dT%H:%M:%S.")
            + f"{moment.microsecond // 1000:03d}Z",
            "requestContext": {
                "requestId": d.request_id,
                "functionArn": self.function_arn,
                "condition": condition,
                "approximateInvokeCount": d.runs,
            },
            "requestPayload": d.event,
            "responseContext": context,
        }
        if d.last_error is not None:
            record["responsePayload"] = d.last_error.payload()
        return record
