"""What an invoke is billed (Lambda's Billed Duration) and the thread-safe recorder."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from serverless_ml.local import records
from serverless_ml.local.records import InitRecord, InvokeRecord, Recorder


def _invoke(**overrides: Any) -> InvokeRecord:
    fields: dict[str, Any] = {
        "function": "f",
        "source": "http",
        "request_id": "r",
        "environment": 1,
        "at_s": 0.0,
        "duration_ms": 1.0,
        "init_ms": None,
        "memory_mb": 1024,
        "max_memory_used_mb": 60,
    }
    fields.update(overrides)
    return InvokeRecord(**fields)


@pytest.fixture
def init_billed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(records, "LAMBDA_INIT_BILLED", True)


@pytest.fixture
def init_not_billed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(records, "LAMBDA_INIT_BILLED", False)


@pytest.mark.parametrize(
    ("duration_ms", "billed"),
    [(1.0, 1), (1.01, 2), (0.3, 1), (99.999, 100), (100.0, 100), (1234.5, 1235)],
)
def test_warm_invoke_is_billed_rounded_up_to_the_ms(duration_ms: float, billed: int) -> None:
    record = _invoke(duration_ms=duration_ms)
    assert not record.cold
    assert record.billed_ms == billed
    assert isinstance(record.billed_ms, int)


@pytest.mark.usefixtures("init_billed")
@pytest.mark.parametrize(
    ("duration_ms", "init_ms", "billed"),
    [
        (13.93, 222.70, 237),  # a real REPORT line: Duration 13.93, Init 222.70, Billed 237
        (2.03, 87.78, 90),  # another: 89.81 -> 90
        (0.4, 0.4, 1),  # the sum is rounded up once, not each part
        (10.0, 200.0, 210),
    ],
)
def test_on_demand_cold_start_bills_init_and_invoke_together(
    duration_ms: float, init_ms: float, billed: int
) -> None:
    record = _invoke(duration_ms=duration_ms, init_ms=init_ms)
    assert record.cold
    assert record.billed_ms == billed


@pytest.mark.usefixtures("init_not_billed")
def test_cold_start_bills_only_the_invoke_when_init_is_free() -> None:
    assert _invoke(duration_ms=13.93, init_ms=222.70).billed_ms == 14


def test_init_billed_is_lambdas_current_rule() -> None:
    """INIT is billed for on-demand functions since 2025-08-01."""
    assert records.LAMBDA_INIT_BILLED is True


@pytest.mark.usefixtures("init_billed")
def test_throttled_invoke_is_not_billed() -> None:
    record = _invoke(
        environment=None, duration_ms=0.0, throttled=True, error_type="TooManyRequestsException"
    )
    assert record.billed_ms == 0
    assert not record.cold


def test_recorder_collects_from_many_threads_and_snapshots_copies() -> None:
    recorder = Recorder()

    def work(thread: int) -> None:
        for i in range(200):
            recorder.invoke(_invoke(request_id=f"{thread}-{i}"))
        recorder.init(
            InitRecord(
                function="f",
                environment=thread,
                at_s=0.0,
                init_ms=1.0,
                initialization_type="on-demand",
            )
        )

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    inits, invokes = recorder.snapshot()
    assert len(invokes) == 8 * 200
    assert len({r.request_id for r in invokes}) == 8 * 200
    assert sorted(i.environment for i in inits) == list(range(8))
    invokes.clear()
    assert len(recorder.snapshot()[1]) == 8 * 200  # the snapshot was a copy
