"""The Kinesis event source mapping simulator's rules, with scripted handlers (no AWS)."""

from __future__ import annotations

from typing import Any

import pytest

from serverless_ml.local.kinesis_esm import EsmSettings, lambda_record, run_shard

ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/s"


def records(n: int) -> list[dict[str, Any]]:
    return [
        lambda_record(
            {"SequenceNumber": str(10 + i), "Data": b"{}", "PartitionKey": "k"},
            stream_arn=ARN,
            shard_id="shardId-000000000000",
        )
        for i in range(n)
    ]


def numbers(event: dict[str, Any]) -> list[str]:
    return [r["kinesis"]["sequenceNumber"] for r in event["Records"]]


def test_batches_in_order_and_success_checkpoints_everything() -> None:
    seen: list[list[str]] = []

    def handler(event: dict[str, Any]) -> Any:
        seen.append(numbers(event))
        return {"batchItemFailures": []}

    run = run_shard(records(5), handler, EsmSettings(batch_size=2), on_failure=print)
    assert seen == [["10", "11"], ["12", "13"], ["14"]]
    assert run.completed == ["10", "11", "12", "13", "14"] and run.on_failure == []


def test_partial_failure_retries_from_the_lowest_failed_record_until_exhausted() -> None:
    seen: list[list[str]] = []

    def handler(event: dict[str, Any]) -> Any:
        seen.append(numbers(event))
        bad = [n for n in numbers(event) if n in {"13", "12"}]
        return {"batchItemFailures": [{"itemIdentifier": n} for n in reversed(bad)]}

    sent: list[dict[str, Any]] = []
    run = run_shard(
        records(5),
        handler,
        EsmSettings(batch_size=5, maximum_retry_attempts=2),
        on_failure=sent.append,
    )
    assert seen == [["10", "11", "12", "13", "14"]] + [["12", "13", "14"]] * 2
    assert run.completed == ["10", "11"]
    (message,) = sent
    info = message["KinesisBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (
        "12",
        "14",
        3,
    )
    assert message["requestContext"]["approximateInvokeCount"] == 3
    assert "functionError" not in message["responseContext"]


def test_unknown_identifier_fails_the_whole_batch_and_bisect_splits_it() -> None:
    seen: list[list[str]] = []

    def handler(event: dict[str, Any]) -> Any:
        seen.append(numbers(event))
        if len(event["Records"]) > 1:
            return {"batchItemFailures": [{"itemIdentifier": "not-in-batch"}]}
        return {"batchItemFailures": []}

    run = run_shard(records(4), handler, EsmSettings(batch_size=4), on_failure=print)
    assert seen[0] == ["10", "11", "12", "13"]
    assert seen[1:] == [["10", "11"], ["10"], ["11"], ["12", "13"], ["12"], ["13"]]
    assert run.completed == ["10", "11", "12", "13"]


def test_without_bisect_an_error_retries_the_same_batch() -> None:
    calls: list[list[str]] = []

    def handler(event: dict[str, Any]) -> Any:
        calls.append(numbers(event))
        raise RuntimeError("boom")

    sent: list[dict[str, Any]] = []
    settings = EsmSettings(
        batch_size=3, maximum_retry_attempts=1, bisect_batch_on_function_error=False
    )
    run = run_shard(records(3), handler, settings, on_failure=sent.append)
    assert calls == [["10", "11", "12"]] * 2
    assert run.completed == []
    assert sent[0]["responseContext"]["functionError"] == "Unhandled"
    assert sent[0]["KinesisBatchInfo"]["batchSize"] == 3


def test_settings_are_validated() -> None:
    with pytest.raises(ValueError):
        EsmSettings(batch_size=0)
