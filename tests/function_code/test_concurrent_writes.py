"""Concurrent writes in the stream handlers: bounded, per-key order kept, each failure its own
record's; the fraud handler's decisions are the same as one put after another."""

from __future__ import annotations

import threading
import time

import pytest

from sml_handlers.runtime.concurrent_writes import write_each


def test_results_come_back_in_item_order_and_failures_are_returned() -> None:
    def write(n: int) -> int:
        if n == 3:
            raise ValueError("poison")
        time.sleep(0.001 * (5 - n % 5))
        return n * 10

    outcomes = write_each(list(range(8)), write, key=lambda n: n, max_workers=4)
    assert [o for i, o in enumerate(outcomes) if i != 3] == [0, 10, 20, 40, 50, 60, 70]
    assert isinstance(outcomes[3], ValueError)


def test_writes_overlap_but_never_beyond_the_bound() -> None:
    lock, running, peak = threading.Lock(), [0], [0]

    def write(n: int) -> None:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.01)
        with lock:
            running[0] -= 1

    write_each(list(range(40)), write, key=lambda n: n, max_workers=6)
    assert 1 < peak[0] <= 6


def test_writes_sharing_a_key_run_in_batch_order() -> None:
    seen: list[tuple[str, int]] = []
    lock = threading.Lock()

    def write(item: tuple[str, int]) -> None:
        time.sleep(0.002 if item[1] % 2 == 0 else 0)
        with lock:
            seen.append(item)

    items = [(key, n) for n in range(6) for key in ("a", "b", "c")]
    write_each(items, write, key=lambda item: item[0], max_workers=8)
    for key in "abc":
        assert [n for k, n in seen if k == key] == list(range(6))


def test_a_value_of_none_is_a_result_not_a_missing_outcome() -> None:
    assert write_each([1, 2], lambda n: None, key=lambda n: n) == [None, None]
    assert write_each([], lambda n: n, key=lambda n: n) == []


@pytest.mark.parametrize("concurrency", [1, 16])
def test_fraud_stream_decides_the_same_whatever_the_concurrency(
    aws_env: None, concurrency: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A transaction inserted then changed within one batch: the later record decides, also
    when writes overlap; a poison record fails alone; everything else is written once."""
    from moto import mock_aws

    from sml_handlers.fraud import handler as fraud
    from sml_handlers.fraud.features import feature_vector, parse_transaction
    from tests.function_code.handler_events import (
        DECISIONS_TABLE,
        StreamTables,
        sample_transactions,
        to_item,
    )

    monkeypatch.setattr(fraud, "WRITE_CONCURRENCY", concurrency)
    monkeypatch.setenv("SML_RESULTS_TABLE", DECISIONS_TABLE)
    with mock_aws():
        tables = StreamTables()
        txns = sample_transactions(40, seed=5)
        for txn in txns:
            tables.put(to_item(txn))
        changed = {**txns[0], "amount": txns[0]["amount"] * 40 + 5000}
        tables.put(to_item(changed))
        tables.put(to_item({**txns[7], "amount": "twelve"}))  # poison: the schema refuses it
        event = tables.next_batch()
        names = [r["eventName"] for r in event["Records"]]
        assert names.count("MODIFY") == 2 and len(names) == 42
        response = fraud.handler(event, None)
        (poison,) = response["batchItemFailures"]
        assert event["Records"][-1]["dynamodb"]["SequenceNumber"] == poison["itemIdentifier"]
        stored = tables.decisions()
        assert set(stored) == {t["transaction_id"] for t in txns}
        expected = fraud.features_digest(feature_vector(parse_transaction(changed)))
        assert stored[txns[0]["transaction_id"]]["features_digest"]["S"] == expected
