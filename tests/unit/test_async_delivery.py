"""Lambda's asynchronous invocation, simulated: retries of function errors, throttles that use no
retry, event age, the on-failure invocation record field by field, duplicates, close."""

from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from serverless_ml.local.async_delivery import (
    EVENT_AGE_EXCEEDED,
    RETRIES_EXHAUSTED,
    AsyncDelivery,
    retry_delay_s,
    throttle_backoff_s,
)
from serverless_ml.local.invocation import FunctionError, InvokeResult

ARN = "arn:aws:lambda:us-east-1:123456789012:function:image-processing:live"
FAST = 1e-4  # 1 min -> 6 ms
BOOM = FunctionError("ValueError", "bad image")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

Outcome = str  # "ok" | "error" | "throttled" | "raise"


class Script:
    """An invoke answering each event (by its ``id``) from a list of outcomes; the last one
    repeats. ``tick`` moves ``clock`` on every call (a fake clock only invokes advance)."""

    def __init__(self, outcomes: list[Outcome], *, tick: float = 0.0) -> None:
        self.outcomes, self.tick = outcomes, tick
        self.calls: Counter[str] = Counter()
        self.now = 0.0
        self._lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def __call__(self, event: dict[str, Any]) -> InvokeResult:
        with self._lock:
            n = self.calls[event["id"]]
            self.calls[event["id"]] += 1
            self.now += self.tick
        outcome = self.outcomes[min(n, len(self.outcomes) - 1)]
        if outcome == "raise":
            raise ConnectionError("pool gone")
        if outcome == "throttled":
            return InvokeResult(request_id=f"r{n}", throttled=True)
        if outcome == "error":
            return InvokeResult(request_id=f"r{n}", error=BOOM)
        return InvokeResult(request_id=f"r{n}", payload={"ok": event["id"]})


@pytest.fixture
def failures() -> list[dict[str, Any]]:
    return []


def _delivery(
    invoke: Callable[[dict[str, Any]], InvokeResult],
    failures: list[dict[str, Any]] | None,
    **options: Any,
) -> AsyncDelivery:
    settings: dict[str, Any] = {
        "max_retries": 2,
        "max_event_age_s": 3600,
        "on_failure": None if failures is None else failures.append,
        "function_arn": ARN,
        "delay_scale": FAST,
    }
    return AsyncDelivery(invoke, **{**settings, **options})


@pytest.fixture
def closing() -> Iterator[list[AsyncDelivery]]:
    made: list[AsyncDelivery] = []
    yield made
    for delivery in made:
        delivery.close()


def test_documented_delays() -> None:
    assert [retry_delay_s(n) for n in (0, 1)] == [60.0, 120.0]
    assert retry_delay_s(1, 0.5) == 60.0
    backoff, delays = 0.0, []
    for _ in range(11):
        backoff, delay = throttle_backoff_s(backoff, 2.0)
        delays.append(delay)
    assert delays == [2, 4, 8, 16, 32, 64, 128, 256, 512, 600, 600]


def test_retries_then_success(failures: list[dict[str, Any]], closing: list[Any]) -> None:
    script = Script(["error", "error", "ok"])
    delivery = _delivery(script, failures)
    closing.append(delivery)
    delivery.submit({"id": "a"})
    assert delivery.drain(10)
    stats = delivery.stats
    assert (stats.submitted, stats.invocations, stats.retried, stats.succeeded) == (1, 3, 2, 1)
    assert stats.sent_to_on_failure == 0 and failures == []


def test_retries_exhausted_record(failures: list[dict[str, Any]], closing: list[Any]) -> None:
    delivery = _delivery(Script(["error"]), failures)
    closing.append(delivery)
    event = {"id": "b", "Records": [{"eventSource": "aws:s3"}]}
    request_id = delivery.submit(event)
    assert delivery.drain(10)
    [record] = failures
    assert TIMESTAMP.match(record.pop("timestamp"))
    assert record == {
        "version": "1.0",
        "requestContext": {
            "requestId": request_id,
            "functionArn": ARN,
            "condition": RETRIES_EXHAUSTED,
            "approximateInvokeCount": 3,
        },
        "requestPayload": event,
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "responsePayload": {"errorType": "ValueError", "errorMessage": "bad image"},
    }
    stats = delivery.stats
    assert (stats.invocations, stats.retried, stats.retries_exhausted) == (3, 2, 1)
    assert stats.sent_to_on_failure == 1 and stats.dropped == 0
    assert delivery.describe() == (
        "1 submitted, 3 invocations (0 succeeded), 2 retried, 0 throttled, 0 duplicates, "
        "1 to on-failure"
    )


def test_no_retries(failures: list[dict[str, Any]], closing: list[Any]) -> None:
    delivery = _delivery(Script(["error"]), failures, max_retries=0)
    closing.append(delivery)
    delivery.submit({"id": "c"})
    assert delivery.drain(10)
    assert [f["requestContext"]["approximateInvokeCount"] for f in failures] == [1]
    assert delivery.stats.retried == 0


def test_event_age_exceeded_with_throttles(
    failures: list[dict[str, Any]], closing: list[Any]
) -> None:
    """Throttles use no retry: the event is retried until it is older than the max age (each
    throttled invoke moves the fake clock 100 s: tries at 0, 100, 200, expired at 300; backoff
    scaled to 0, since only invokes move this clock)."""
    script = Script(["throttled"], tick=100.0)
    delivery = _delivery(script, failures, max_event_age_s=250, clock=script.clock,
                         delay_scale=0.0)  # fmt: skip
    closing.append(delivery)
    delivery.submit({"id": "d"})
    assert delivery.drain(10)
    stats = delivery.stats
    assert (stats.throttled, stats.invocations, stats.retried) == (3, 0, 0)
    assert stats.event_age_exceeded == 1 and stats.sent_to_on_failure == 1
    [record] = failures
    assert record["requestContext"]["condition"] == EVENT_AGE_EXCEEDED
    assert record["requestContext"]["approximateInvokeCount"] == 0
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert "responsePayload" not in record


def test_event_age_exceeded_waiting_for_a_retry(
    failures: list[dict[str, Any]], closing: list[Any]
) -> None:
    script = Script(["error"], tick=100.0)
    delivery = _delivery(script, failures, max_event_age_s=150, clock=script.clock,
                         delay_scale=0.0)  # fmt: skip
    closing.append(delivery)
    delivery.submit({"id": "e"})
    assert delivery.drain(10)
    [record] = failures
    assert record["requestContext"]["condition"] == EVENT_AGE_EXCEEDED
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"] == BOOM.payload()


def test_invoker_failure_is_retried_like_a_throttle(closing: list[Any]) -> None:
    script = Script(["raise", "throttled", "raise", "error", "ok"])
    delivery = _delivery(script, None, max_retries=1)
    closing.append(delivery)
    delivery.submit({"id": "f"})
    assert delivery.drain(10)
    stats = delivery.stats
    assert (stats.system_errors, stats.throttled, stats.retried, stats.succeeded) == (2, 1, 1, 1)
    assert stats.invocations == 2 and stats.dropped == 0


def test_failed_without_destination_is_dropped(closing: list[Any]) -> None:
    delivery = _delivery(Script(["error"]), None, max_retries=0)
    closing.append(delivery)
    delivery.submit({"id": "g"})
    assert delivery.drain(10)
    assert (delivery.stats.dropped, delivery.stats.sent_to_on_failure) == (1, 0)


def test_destination_failure_is_counted(closing: list[Any]) -> None:
    def broken(_record: dict[str, Any]) -> None:
        raise RuntimeError("queue gone")

    delivery = _delivery(Script(["error"]), None, max_retries=0, on_failure=broken)
    closing.append(delivery)
    delivery.submit({"id": "h"})
    assert delivery.drain(10)
    assert (delivery.stats.destination_errors, delivery.stats.sent_to_on_failure) == (1, 0)


def test_duplicates_at_rate(closing: list[Any]) -> None:
    script = Script(["ok"])
    delivery = _delivery(script, None, duplicate_rate=0.25, seed=7, workers=8)
    closing.append(delivery)
    for n in range(400):
        delivery.submit({"id": str(n)})
    assert delivery.drain(30)
    draws = random.Random(7)
    expected = sum(draws.random() < 0.25 for _ in range(400))
    stats = delivery.stats
    assert 60 < expected < 140 and stats.duplicates == expected
    assert stats.submitted == 400
    assert stats.invocations == stats.succeeded == 400 + expected
    assert Counter(script.calls.values()) == {1: 400 - expected, 2: expected}


def test_no_duplicates_by_default(closing: list[Any]) -> None:
    script = Script(["ok"])
    delivery = _delivery(script, None)
    closing.append(delivery)
    for n in range(50):
        delivery.submit({"id": str(n)})
    assert delivery.drain(10)
    assert delivery.stats.duplicates == 0 and set(script.calls.values()) == {1}


def test_submit_returns_before_the_invoke(closing: list[Any]) -> None:
    release = threading.Event()

    def slow(event: dict[str, Any]) -> InvokeResult:
        release.wait(10)
        return InvokeResult(request_id="r")

    delivery = _delivery(slow, None, workers=1)
    closing.append(delivery)
    ids = {delivery.submit({"id": str(n)}) for n in range(3)}
    assert len(ids) == 3
    assert not delivery.idle()
    assert not delivery.drain(0.05)
    release.set()
    assert delivery.drain(10) and delivery.idle()
    assert delivery.stats.succeeded == 3


def test_close_reports_pending_as_lost() -> None:
    """Events waiting for their 1-minute retry when the delivery closes are counted lost."""
    script = Script(["error"])
    delivery = _delivery(script, None, delay_scale=1.0)
    for n in range(3):
        delivery.submit({"id": str(n)})
    deadline = time.monotonic() + 10
    while delivery.stats.invocations < 3 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert not delivery.idle()
    delivery.close()
    stats = delivery.stats
    assert (stats.invocations, stats.retried, stats.lost, stats.dropped) == (3, 3, 3, 0)
    assert delivery.describe().endswith(", 3 lost")
    assert delivery.idle()
    with pytest.raises(RuntimeError, match="closed"):
        delivery.submit({"id": "late"})
    delivery.close()  # idempotent


@pytest.mark.parametrize(
    "options",
    [{"max_retries": 3}, {"max_retries": -1}, {"max_event_age_s": 0}, {"duplicate_rate": 1.5},
     {"workers": 0}, {"delay_scale": -1.0}],
)  # fmt: skip
def test_invalid_settings(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        _delivery(Script(["ok"]), None, **options)
