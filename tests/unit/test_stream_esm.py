"""The stream event source mapping simulator's rules (Kinesis and DynamoDB streams), with
scripted handlers (no AWS): batches, partial failure, bisect, retries, filters, record age,
throttles and the on-failure record."""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from serverless_ml.core.plan_types import StreamMappingPlan
from serverless_ml.local.event_filters import OPAQUE, EventFilter, matches, parse_pattern
from serverless_ml.local.invocation import FunctionError, InvokeResult
from serverless_ml.local.stream_esm import (
    EsmSettings,
    dynamodb_lambda_record,
    handler_invoke,
    lambda_record,
    run_shard,
    settings_from_plan,
)

ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/s"
DDB_ARN = "arn:aws:dynamodb:us-east-2:123456789012:table/orders/stream/2024-05-01T00:00:00.000"
DDB_SHARD = "shardId-00000001573689847184-864758bb"
T0 = 1_700_000_000.0


def records(n: int, *, data: bytes = b"{}", arrival: float | None = None) -> list[dict[str, Any]]:
    return [
        lambda_record(
            {
                "SequenceNumber": str(10 + i),
                "Data": data,
                "PartitionKey": "k",
                "ApproximateArrivalTimestamp": None if arrival is None else arrival + i,
            },
            stream_arn=ARN,
            shard_id="shardId-000000000000",
        )
        for i in range(n)
    ]


def ddb_records(n: int, *, created: float = T0) -> list[dict[str, Any]]:
    """Lambda-shaped DynamoDB records from boto3-shaped ones, sequence numbers 100.."""
    return [
        dynamodb_lambda_record(
            {
                "eventID": f"event-{i}",
                "eventName": "INSERT" if i % 2 == 0 else "MODIFY",
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": "us-east-2",
                "dynamodb": {
                    "ApproximateCreationDateTime": datetime.fromtimestamp(created + i, UTC),
                    "Keys": {"id": {"S": f"k{i}"}},
                    "NewImage": {"id": {"S": f"k{i}"}, "amount": {"N": str(i)}},
                    "SequenceNumber": str(100 + i),
                    "SizeBytes": 26,
                    "StreamViewType": "NEW_IMAGE",
                },
            },
            stream_arn=DDB_ARN,
        )
        for i in range(n)
    ]


def numbers(event: dict[str, Any]) -> list[str]:
    return [
        r["kinesis"]["sequenceNumber"] if "kinesis" in r else r["dynamodb"]["SequenceNumber"]
        for r in event["Records"]
    ]


def reporting(bad: set[str], seen: list[list[str]] | None = None) -> Callable[..., Any]:
    """A handler reporting the records in ``bad`` as batch item failures."""

    def handler(event: dict[str, Any]) -> Any:
        got = numbers(event)
        if seen is not None:
            seen.append(got)
        return {"batchItemFailures": [{"itemIdentifier": n} for n in got if n in bad]}

    return handler


DDB = EsmSettings(source_kind="dynamodb")


# --- Kinesis: the rules --------------------------------------------------------------------


def test_batches_in_order_and_success_checkpoints_everything() -> None:
    seen: list[list[str]] = []

    run = run_shard(
        records(5), handler_invoke(reporting(set(), seen)), EsmSettings(batch_size=2),
        on_failure=print,
    )  # fmt: skip
    assert seen == [["10", "11"], ["12", "13"], ["14"]]
    assert run.completed == ["10", "11", "12", "13", "14"] and run.on_failure == []
    assert run.filtered == 0 and [i.outcome for i in run.invocations] == ["ok"] * 3


def test_partial_failure_retries_from_the_lowest_failed_record_until_exhausted() -> None:
    seen: list[list[str]] = []

    def handler(event: dict[str, Any]) -> Any:
        seen.append(numbers(event))
        bad = [n for n in numbers(event) if n in {"13", "12"}]
        return {"batchItemFailures": [{"itemIdentifier": n} for n in reversed(bad)]}

    sent: list[dict[str, Any]] = []
    run = run_shard(
        records(5),
        handler_invoke(handler),
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
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert "functionError" not in message["responseContext"]


def test_unknown_identifier_fails_the_whole_batch_and_bisect_splits_it() -> None:
    seen: list[list[str]] = []

    def handler(event: dict[str, Any]) -> Any:
        seen.append(numbers(event))
        if len(event["Records"]) > 1:
            return {"batchItemFailures": [{"itemIdentifier": "not-in-batch"}]}
        return {"batchItemFailures": []}

    run = run_shard(
        records(4), handler_invoke(handler), EsmSettings(batch_size=4), on_failure=print
    )
    assert seen[0] == ["10", "11", "12", "13"]
    assert seen[1:] == [["10", "11"], ["10"], ["11"], ["12", "13"], ["12"], ["13"]]
    assert run.completed == ["10", "11", "12", "13"]


@pytest.mark.parametrize(
    "response",
    [{"batchItemFailures": "13"}, {"batchItemFailures": [{"itemIdentifier": None}]},
     {"batchItemFailures": [{"itemIdentifier": ""}]}, {"batchItemFailures": [{}]}],
)  # fmt: skip
def test_an_invalid_response_is_a_whole_batch_failure(response: dict[str, Any]) -> None:
    sent: list[dict[str, Any]] = []
    settings_ = EsmSettings(
        batch_size=3, maximum_retry_attempts=0, bisect_batch_on_function_error=False
    )
    run = run_shard(
        records(3), handler_invoke(lambda e: response), settings_, on_failure=sent.append
    )
    assert run.completed == [] and [i.outcome for i in run.invocations] == ["error"]
    assert sent[0]["KinesisBatchInfo"]["batchSize"] == 3
    assert "functionError" not in sent[0]["responseContext"]  # the function did not fail


def test_without_bisect_an_error_retries_the_same_batch() -> None:
    calls: list[list[str]] = []

    def handler(event: dict[str, Any]) -> Any:
        calls.append(numbers(event))
        raise RuntimeError("boom")

    sent: list[dict[str, Any]] = []
    settings_ = EsmSettings(
        batch_size=3, maximum_retry_attempts=1, bisect_batch_on_function_error=False
    )
    run = run_shard(records(3), handler_invoke(handler), settings_, on_failure=sent.append)
    assert calls == [["10", "11", "12"]] * 2
    assert run.completed == []
    assert sent[0]["responseContext"]["functionError"] == "Unhandled"
    assert sent[0]["KinesisBatchInfo"]["batchSize"] == 3


def test_without_report_batch_item_failures_the_response_is_ignored() -> None:
    settings_ = EsmSettings(batch_size=3, report_batch_item_failures=False)
    run = run_shard(records(3), handler_invoke(reporting({"11"})), settings_, on_failure=print)
    assert run.completed == ["10", "11", "12"] and len(run.invocations) == 1


def test_infinite_retries_until_the_function_recovers() -> None:
    calls = 0

    def flaky(event: dict[str, Any]) -> Any:
        nonlocal calls
        calls += 1
        if calls <= 7:
            raise TimeoutError("slow dependency")
        return None

    settings_ = EsmSettings(
        batch_size=2, maximum_retry_attempts=-1, bisect_batch_on_function_error=False
    )
    sent: list[dict[str, Any]] = []
    run = run_shard(records(2), handler_invoke(flaky), settings_, on_failure=sent.append)
    assert run.completed == ["10", "11"] and sent == [] and calls == 8


def test_settings_are_validated() -> None:
    with pytest.raises(ValueError):
        EsmSettings(batch_size=0)
    with pytest.raises(ValueError):
        EsmSettings(maximum_retry_attempts=-2)
    with pytest.raises(ValueError):
        EsmSettings(maximum_record_age_s=-5)
    with pytest.raises(ValueError, match="source_kind"):
        EsmSettings(source_kind="sqs")
    with pytest.raises(ValueError):
        EsmSettings(throttle_backoff_s=-1)
    with pytest.raises(ValueError, match="filter pattern 2 is not valid JSON"):
        EsmSettings(filter_patterns=('{"a": ["b"]}', '{"a": '))


def test_settings_from_plan() -> None:
    plan = StreamMappingPlan(
        key="orders",
        source_kind="dynamodb",
        source_arn=DDB_ARN,
        batch_size=25,
        max_batching_window_s=1,
        starting_position="LATEST",
        bisect_on_error=False,
        retry_attempts=5,
        max_record_age_s=3600,
        parallelization_factor=1,
        function_response_types=("ReportBatchItemFailures",),
        on_failure_destination="arn:aws:sqs:us-east-2:123456789012:dlq",
        filter_patterns=('{"eventName": ["INSERT", "MODIFY"]}',),
    )
    assert settings_from_plan(plan) == EsmSettings(
        batch_size=25,
        maximum_retry_attempts=5,
        bisect_batch_on_function_error=False,
        report_batch_item_failures=True,
        maximum_record_age_s=3600,
        filter_patterns=('{"eventName": ["INSERT", "MODIFY"]}',),
        source_kind="dynamodb",
    )
    plain = settings_from_plan(dataclasses.replace(plan, function_response_types=()))
    assert not plain.report_batch_item_failures


# --- invoke adapter -----------------------------------------------------------------------


def test_handler_invoke_turns_a_return_value_or_an_exception_into_a_result() -> None:
    ok = handler_invoke(lambda event: {"echo": event["x"]})({"x": 1})
    assert ok.ok and ok.payload == {"echo": 1} and ok.error is None and ok.request_id

    def broken(event: dict[str, Any]) -> Any:
        raise KeyError("amount")

    failed = handler_invoke(broken)({})
    assert failed.error == FunctionError("KeyError", "'amount'") and not failed.throttled
    assert failed.payload is None and not failed.ok


# --- DynamoDB streams ---------------------------------------------------------------------


def test_dynamodb_lambda_record_has_lambdas_shape() -> None:
    created = datetime(2024, 5, 1, 12, 0, 5, tzinfo=UTC)
    raw: dict[str, Any] = {
        "eventID": "c4ca4238a0b923820dcc509a6f75849b",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-2",
        "dynamodb": {
            "ApproximateCreationDateTime": created,
            "Keys": {"Id": {"N": "101"}},
            "NewImage": {"Message": {"S": "New item!"}, "Id": {"N": "101"}, "Blob": {"B": b"\x01"}},
            "SequenceNumber": "111",
            "SizeBytes": 26,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }
    record = dynamodb_lambda_record(raw, stream_arn=DDB_ARN)
    assert record == {
        **{k: v for k, v in raw.items() if k != "dynamodb"},
        "dynamodb": {
            **raw["dynamodb"],
            "ApproximateCreationDateTime": int(created.timestamp()),
            "NewImage": {"Message": {"S": "New item!"}, "Id": {"N": "101"}, "Blob": {"B": "AQ=="}},
        },
        "eventSourceARN": DDB_ARN,
    }
    assert isinstance(raw["dynamodb"]["ApproximateCreationDateTime"], datetime)  # not mutated
    json.dumps(record)
    bare = dynamodb_lambda_record({"dynamodb": {"SequenceNumber": "1"}}, stream_arn=DDB_ARN)
    assert bare["eventSource"] == "aws:dynamodb" and bare["awsRegion"] == "us-east-2"
    assert bare["eventVersion"] == "1.1"


def test_dynamodb_partial_failure_checkpoints_before_the_lowest_failed_record() -> None:
    seen: list[list[str]] = []
    sent: list[dict[str, Any]] = []
    settings_ = EsmSettings(source_kind="dynamodb", batch_size=4, maximum_retry_attempts=1)
    run = run_shard(
        ddb_records(6), handler_invoke(reporting({"102"}, seen)), settings_,
        on_failure=sent.append, shard_id=DDB_SHARD,
    )  # fmt: skip
    assert seen == [["100", "101", "102", "103"], ["102", "103"], ["104", "105"]]
    assert run.completed == ["100", "101", "104", "105"]
    (message,) = sent
    assert "KinesisBatchInfo" not in message
    assert message["DDBStreamBatchInfo"] == {
        "shardId": DDB_SHARD,
        "startSequenceNumber": "102",
        "endSequenceNumber": "103",
        "approximateArrivalOfFirstRecord": "2023-11-14T22:13:22Z",
        "approximateArrivalOfLastRecord": "2023-11-14T22:13:23Z",
        "batchSize": 2,
        "streamArn": DDB_ARN,
    }
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert message["requestContext"]["approximateInvokeCount"] == 2


def test_dynamodb_function_error_bisects_to_the_poison_record() -> None:
    seen: list[list[str]] = []

    def handler(event: dict[str, Any]) -> Any:
        seen.append(numbers(event))
        if "101" in numbers(event):
            raise ValueError("bad image")
        return {"batchItemFailures": []}

    sent: list[dict[str, Any]] = []
    settings_ = EsmSettings(source_kind="dynamodb", batch_size=4, maximum_retry_attempts=2)
    run = run_shard(ddb_records(4), handler_invoke(handler), settings_, on_failure=sent.append)
    assert seen == [["100", "101", "102", "103"], ["100", "101"], ["100"], ["101"], ["101"],
                    ["101"], ["102", "103"]]  # fmt: skip
    assert run.completed == ["100", "102", "103"]
    (message,) = sent
    info = message["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (
        "101", "101", 1,
    )  # fmt: skip
    assert message["responseContext"]["functionError"] == "Unhandled"
    assert message["requestContext"]["approximateInvokeCount"] == 3


def test_dynamodb_retry_exhaustion_of_a_whole_batch() -> None:
    def handler(event: dict[str, Any]) -> Any:
        raise RuntimeError("table gone")

    sent: list[dict[str, Any]] = []
    settings_ = EsmSettings(
        source_kind="dynamodb", batch_size=3, maximum_retry_attempts=2,
        bisect_batch_on_function_error=False,
    )  # fmt: skip
    run = run_shard(
        ddb_records(5), handler_invoke(handler), settings_, on_failure=sent.append,
        function_arn="arn:aws:lambda:us-east-2:123456789012:function:f", clock=lambda: T0 + 60,
    )  # fmt: skip
    assert run.completed == [] and len(run.invocations) == 3 + 3
    assert [m["DDBStreamBatchInfo"]["batchSize"] for m in sent] == [3, 2]
    first = sent[0]
    assert (
        first["requestContext"]["functionArn"] == "arn:aws:lambda:us-east-2:123456789012:function:f"
    )
    assert first["requestContext"]["approximateInvokeCount"] == 3
    assert first["version"] == "1.0" and first["timestamp"] == "2023-11-14T22:14:20.000Z"
    assert first["responseContext"] == {
        "statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled",
    }  # fmt: skip
    json.dumps(sent)


def test_dynamodb_filters_drop_records_before_batching() -> None:
    settings_ = EsmSettings(
        source_kind="dynamodb", batch_size=2, filter_patterns=('{"eventName": ["INSERT"]}',)
    )
    seen: list[list[str]] = []
    run = run_shard(ddb_records(5), handler_invoke(reporting(set(), seen)), settings_,
                    on_failure=print)  # fmt: skip
    assert seen == [["100", "102"], ["104"]]
    assert run.completed == ["100", "102", "104"] and run.filtered == 2


# --- filters in the mapping ---------------------------------------------------------------


def kinesis_payloads(*payloads: bytes) -> list[dict[str, Any]]:
    return [
        lambda_record({"SequenceNumber": str(10 + i), "Data": data}, stream_arn=ARN,
                      shard_id="shardId-000000000000")
        for i, data in enumerate(payloads)
    ]  # fmt: skip


def test_kinesis_filters_match_the_decoded_data_and_never_non_json_data() -> None:
    order: dict[str, Any] = {
        "record": 12345,
        "order": {"type": "buy", "stock": "ANYCO", "quantity": 1000},
    }
    sell = {**order, "order": {**order["order"], "type": "sell"}}
    shard = kinesis_payloads(
        json.dumps(order).encode(), json.dumps(sell).encode(), b"not json", b"\xff\xfe", b""
    )
    buys = EsmSettings(filter_patterns=('{"data": {"order": {"type": ["buy"]}}}',))
    seen: list[list[str]] = []
    run = run_shard(shard, handler_invoke(reporting(set(), seen)), buys, on_failure=print)
    assert seen == [["10"]] and run.completed == ["10"] and run.filtered == 4
    absent = EsmSettings(filter_patterns=('{"data": {"order": [{"exists": false}]}}',))
    run = run_shard(shard, handler_invoke(reporting(set())), absent, on_failure=print)
    assert run.completed == [] and run.filtered == 5  # not JSON: the filter on data never matches
    metadata = EsmSettings(filter_patterns=('{"eventSource": ["aws:kinesis"]}',))
    run = run_shard(shard, handler_invoke(reporting(set())), metadata, on_failure=print)
    assert run.filtered == 0 and len(run.completed) == 5


def test_a_batch_of_only_filtered_records_invokes_nothing() -> None:
    calls: list[Any] = []
    nothing = EsmSettings(filter_patterns=('{"data": {"kind": ["never"]}}',))
    run = run_shard(records(3), handler_invoke(calls.append), nothing, on_failure=print)
    assert calls == [] and run.invocations == [] and run.completed == [] and run.filtered == 3


def test_filtered_records_and_failures_in_one_batch() -> None:
    shard = kinesis_payloads(b'{"n": 1}', b'{"n": 2}', b'{"n": 3}', b'{"n": 4}', b'{"n": 5}')
    odd = EsmSettings(
        batch_size=10, maximum_retry_attempts=0,
        filter_patterns=('{"data": {"n": [1, 3]}}', '{"data": {"n": [{"numeric": [">=", 5]}]}}'),
    )  # fmt: skip
    sent: list[dict[str, Any]] = []
    run = run_shard(shard, handler_invoke(reporting({"12"})), odd, on_failure=sent.append)
    assert run.completed == ["10"] and run.filtered == 2
    info = sent[0]["KinesisBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (
        "12", "14", 2,
    )  # fmt: skip


# --- record age ---------------------------------------------------------------------------


def test_records_older_than_the_maximum_age_are_not_delivered() -> None:
    seen: list[list[str]] = []
    sent: list[dict[str, Any]] = []
    settings_ = EsmSettings(batch_size=10, maximum_record_age_s=60)
    run = run_shard(
        records(5, arrival=T0), handler_invoke(reporting(set(), seen)), settings_,
        on_failure=sent.append, clock=lambda: T0 + 62.5,
    )  # fmt: skip
    assert seen == [["13", "14"]] and run.completed == ["13", "14"]
    (message,) = sent
    assert message["requestContext"]["condition"] == "RecordAgeExceeded"
    assert message["requestContext"]["approximateInvokeCount"] == 0
    assert "functionError" not in message["responseContext"]
    info = message["KinesisBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (
        "10", "12", 3,
    )  # fmt: skip
    assert info["approximateArrivalOfFirstRecord"] == "2023-11-14T22:13:20.000Z"


def test_records_expire_between_retries() -> None:
    now = [T0]

    def failing(event: dict[str, Any]) -> Any:
        now[0] += 33.5  # each attempt takes 33.5 s
        raise RuntimeError("down")

    sent: list[dict[str, Any]] = []
    settings_ = EsmSettings(
        batch_size=3, maximum_retry_attempts=10, maximum_record_age_s=100,
        bisect_batch_on_function_error=False,
    )  # fmt: skip
    run = run_shard(records(3, arrival=T0), handler_invoke(failing), settings_,
                    on_failure=sent.append, clock=lambda: now[0])  # fmt: skip
    # at T0 + 100.5 the first record is too old; after the fourth attempt the others are
    assert len(run.invocations) == 4 and run.completed == []
    assert [m["requestContext"]["condition"] for m in sent] == ["RecordAgeExceeded"] * 2
    assert [m["KinesisBatchInfo"]["batchSize"] for m in sent] == [1, 2]
    assert sent[0]["responseContext"]["functionError"] == "Unhandled"
    assert sent[0]["requestContext"]["approximateInvokeCount"] == 3


def test_dynamodb_record_age_uses_the_creation_time() -> None:
    sent: list[dict[str, Any]] = []
    settings_ = EsmSettings(source_kind="dynamodb", maximum_record_age_s=10)
    run = run_shard(ddb_records(3), handler_invoke(reporting(set())), settings_,
                    on_failure=sent.append, clock=lambda: T0 + 10.5)  # fmt: skip
    assert run.completed == ["101", "102"]
    assert sent[0]["DDBStreamBatchInfo"]["startSequenceNumber"] == "100"
    assert sent[0]["requestContext"]["condition"] == "RecordAgeExceeded"


# --- throttles ----------------------------------------------------------------------------


def scripted(results: Iterator[str]) -> Callable[[dict[str, Any]], InvokeResult]:
    def invoke(event: dict[str, Any]) -> InvokeResult:
        kind = next(results)
        if kind == "throttled":
            return InvokeResult("r", error=None, throttled=True)
        if kind == "error":
            return InvokeResult("r", error=FunctionError("Sandbox.Timedout", "timed out"))
        return InvokeResult("r", payload={"batchItemFailures": []})

    return invoke


def test_throttles_are_retried_without_consuming_retries() -> None:
    waits: list[float] = []
    settings_ = EsmSettings(batch_size=2, maximum_retry_attempts=0, throttle_backoff_s=0.25)
    results = iter(["throttled"] * 5 + ["ok"])
    run = run_shard(records(2), scripted(results), settings_, on_failure=print, sleep=waits.append)
    assert run.completed == ["10", "11"] and run.on_failure == []
    assert [i.outcome for i in run.invocations] == ["throttled"] * 5 + ["ok"]
    assert waits == [0.25] * 5


def test_a_throttle_after_an_error_keeps_the_retry_count() -> None:
    settings_ = EsmSettings(batch_size=1, maximum_retry_attempts=1, throttle_backoff_s=0)
    results = iter(["error", "throttled", "throttled", "error"])
    sent: list[dict[str, Any]] = []
    run = run_shard(records(1), scripted(results), settings_, on_failure=sent.append,
                    sleep=lambda s: None)  # fmt: skip
    assert [i.outcome for i in run.invocations] == ["error", "throttled", "throttled", "error"]
    assert sent[0]["requestContext"]["condition"] == "RetryAttemptsExhausted"


def test_throttled_until_the_records_expire() -> None:
    now = [T0]

    def wait(seconds: float) -> None:
        now[0] += 30.0

    always = iter(lambda: "throttled", None)
    settings_ = EsmSettings(batch_size=2, maximum_record_age_s=100)
    sent: list[dict[str, Any]] = []
    run = run_shard(records(2, arrival=T0), scripted(always), settings_, on_failure=sent.append,
                    clock=lambda: now[0], sleep=wait)  # fmt: skip
    assert run.completed == [] and len(run.invocations) == 4  # at T0 + 0, 30, 60, 90
    assert [m["requestContext"]["condition"] for m in sent] == ["RecordAgeExceeded"]
    assert sent[0]["KinesisBatchInfo"]["batchSize"] == 2


# --- filter patterns ----------------------------------------------------------------------

EVENT: dict[str, Any] = {
    "Name": "Alice",
    "LastName": "",
    "UserID": None,
    "Location": "New York",
    "Day": "Monday",
    "PaymentType": "Debit",
    "Weather": "Sunny",
    "Price": 15,
    "Region": "us-east-2",
    "FileName": "photo.png",
    "Active": True,
    "Tags": ["red", "blue"],
    "Order": {"Items": [{"sku": "a1"}, {"sku": "b2"}], "Total": {"N": "20"}},
}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        # the comparison operators of invocation-eventfiltering.html, in its table's order
        ({"UserID": [None]}, True),  # null
        ({"Name": [None]}, False),
        ({"LastName": [""]}, True),  # empty
        ({"Name": [""]}, False),
        ({"Name": ["Alice"]}, True),  # equals
        ({"Name": ["alice"]}, False),
        ({"Name": [{"equals-ignore-case": "alice"}]}, True),
        ({"Price": [{"equals-ignore-case": "15"}]}, False),
        ({"Location": ["New York"], "Day": ["Monday"]}, True),  # and
        ({"Location": ["New York"], "Day": ["Tuesday"]}, False),
        ({"PaymentType": ["Credit", "Debit"]}, True),  # or
        ({"PaymentType": ["Credit", "Cash"]}, False),
        ({"$or": [{"Location": ["Boston"]}, {"Day": ["Monday"]}]}, True),  # or, several fields
        ({"$or": [{"Location": ["Boston"]}, {"Day": ["Sunday"]}]}, False),
        ({"Weather": [{"anything-but": ["Raining"]}]}, True),  # not
        ({"Weather": [{"anything-but": ["Raining", "Sunny"]}]}, False),
        ({"Weather": [{"anything-but": "Sunny"}]}, False),
        ({"Price": [{"anything-but": [100]}]}, True),
        ({"Missing": [{"anything-but": ["x"]}]}, False),
        ({"Region": [{"anything-but": {"prefix": "eu-"}}]}, True),
        ({"Region": [{"anything-but": {"prefix": "us-"}}]}, False),
        ({"FileName": [{"anything-but": {"suffix": ".jpg"}}]}, True),
        ({"FileName": [{"anything-but": {"suffix": ".png"}}]}, False),
        ({"Price": [{"numeric": ["=", 15]}]}, True),  # numeric, equals
        ({"Price": [{"numeric": ["=", 100]}]}, False),
        ({"Price": [{"numeric": [">", 10, "<=", 20]}]}, True),  # numeric, range
        ({"Price": [{"numeric": [">", 15, "<=", 20]}]}, False),
        ({"Price": [{"numeric": ["<", 20, ">=", 15]}]}, True),
        ({"Price": [{"numeric": ["<", 15]}]}, False),
        ({"Name": [{"numeric": [">", 0]}]}, False),
        ({"Order": {"Total": {"N": [{"numeric": [">", 10]}]}}}, False),  # DynamoDB N: a string
        ({"Name": [{"exists": True}]}, True),  # exists
        ({"UserID": [{"exists": True}]}, True),
        ({"Order": [{"exists": True}]}, False),  # an object is not a leaf
        ({"ProductName": [{"exists": True}]}, False),
        ({"ProductName": [{"exists": False}]}, True),  # does not exist
        ({"Name": [{"exists": False}]}, False),
        ({"Region": [{"prefix": "us-"}]}, True),  # begins with
        ({"Region": [{"prefix": "eu-"}]}, False),
        ({"FileName": [{"suffix": ".png"}]}, True),  # ends with
        ({"FileName": [{"suffix": ".jpg"}]}, False),
        # values of other types, arrays, nesting
        ({"Price": [15.0]}, True),
        ({"Price": ["15"]}, False),
        ({"Active": [True]}, True),
        ({"Active": [1]}, False),
        ({"Price": [True]}, False),
        ({"Tags": ["blue"]}, True),  # an array matches when one element does
        ({"Tags": ["green"]}, False),
        ({"Order": {"Items": {"sku": ["b2"]}}}, True),
        ({"Order": {"Items": {"sku": ["c3"]}}}, False),
        ({"Order": {"Total": {"N": ["20"]}}}, True),
        ({"Order": {"Missing": {"x": [{"exists": False}]}}}, True),
        ({"Name": {"first": ["Alice"]}}, False),
        ({}, True),
    ],
)
def test_filter_operators(pattern: dict[str, Any], expected: bool) -> None:
    parsed = parse_pattern(json.dumps(pattern))
    assert matches(parsed, EVENT) is expected


def test_filter_examples_from_the_aws_documentation() -> None:
    # with-kinesis-filtering.html: orders of type "buy" in the record's data
    kinesis = kinesis_payloads(
        json.dumps({"record": 12345, "order": {"type": "buy", "stock": "ANYCO"}}).encode()
    )[0]
    view = {**kinesis, "data": json.loads(base64.b64decode(kinesis["kinesis"]["data"]))}
    assert EventFilter.parse(['{"data": {"order": {"type": ["buy"]}}}']).accepts(view)
    # with-ddb-filtering.html: the table key, and the record shape of its example
    customer = {
        "eventID": "1",
        "eventVersion": "1.0",
        "dynamodb": {
            "ApproximateCreationDateTime": "1678831218.0",
            "Keys": {"CustomerName": {"S": "AnyCompany Industries"}},
            "NewImage": {
                "AccountManager": {"S": "Pat Candella"},
                "PaymentTerms": {"S": "60 days"},
                "CustomerName": {"S": "AnyCompany Industries"},
            },
            "SequenceNumber": "111",
            "SizeBytes": 26,
            "StreamViewType": "NEW_IMAGE",
        },
    }
    key = '{"dynamodb": {"Keys": {"CustomerName": {"S": ["AnyCompany Industries"]}}}}'
    terms = '{"dynamodb": {"NewImage": {"PaymentTerms": {"S": [{"prefix": "60"}]}}}}'
    manager = '{"dynamodb": {"NewImage": {"AccountManager": {"S": [{"exists": false}]}}}}'
    assert EventFilter.parse([key]).accepts(customer)
    assert EventFilter.parse([terms]).accepts(customer)
    assert not EventFilter.parse([manager]).accepts(customer)
    assert EventFilter.parse([manager, key]).accepts(customer)  # patterns are ORed
    # the CDK FilterCriteria example the stacks follow: INSERT of an item whose id BOOL is true
    cdk = '{"eventName": ["INSERT"], "dynamodb": {"NewImage": {"id": {"BOOL": [true]}}}}'
    insert = {"eventName": "INSERT", "dynamodb": {"NewImage": {"id": {"BOOL": True}}}}
    assert EventFilter.parse([cdk]).accepts(insert)
    assert not EventFilter.parse([cdk]).accepts({**insert, "eventName": "MODIFY"})
    assert EventFilter().accepts({})  # no patterns: everything is delivered


def test_opaque_data_matches_nothing() -> None:
    assert not matches({"data": [{"exists": False}]}, {"data": OPAQUE})
    assert not matches({"data": {"a": [{"exists": False}]}}, {"data": OPAQUE})
    assert matches({"eventSource": ["aws:kinesis"]}, {"data": OPAQUE, "eventSource": "aws:kinesis"})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": ', "not valid JSON"),
        ('["a"]', "must be a JSON object"),
        ('{"a": "b"}', "must be a list of rules or an object"),
        ('{"a": []}', "empty list"),
        ('{"a": [{"wildcard": "*.png"}]}', "unknown operator 'wildcard'"),
        ('{"a": [{"prefix": "x", "suffix": "y"}]}', "one-key operator"),
        ('{"a": [{"prefix": 1}]}', "invalid operand for 'prefix'"),
        ('{"a": [{"exists": "yes"}]}', "invalid operand for 'exists'"),
        ('{"a": [{"numeric": [">", "1"]}]}', "invalid operand for 'numeric'"),
        ('{"a": [{"numeric": ["!=", 1]}]}', "invalid operand for 'numeric'"),
        ('{"a": [{"numeric": [">", 5, "<", 1]}]}', "invalid operand for 'numeric'"),
        ('{"a": [{"numeric": [">", 1, ">", 2]}]}', "invalid operand for 'numeric'"),
        ('{"a": [{"anything-but": []}]}', "invalid operand for 'anything-but'"),
        ('{"a": [{"anything-but": {"wildcard": "x"}}]}', "invalid operand for 'anything-but'"),
        ('{"$or": [{"a": ["b"]}]}', "at least two patterns"),
        ('{"b": {"c": [{"nope": 1}]}}', "filter pattern 1: b: c: unknown operator"),
    ],
)
def test_invalid_patterns_are_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_pattern(text)


# --- nothing lost, whatever the poison ----------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(1, 40),
    poison_seed=st.sets(st.integers(0, 39)),
    batch_size=st.integers(1, 12),
    retries=st.integers(0, 3),
    bisect=st.booleans(),
    raise_on_poison=st.booleans(),
    kind=st.sampled_from(["kinesis", "dynamodb"]),
)
def test_every_good_record_completed_once_unless_sent_on_and_every_poison_record_sent_on(
    n: int,
    poison_seed: set[int],
    batch_size: int,
    retries: int,
    bisect: bool,
    raise_on_poison: bool,
    kind: str,
) -> None:
    shard = records(n) if kind == "kinesis" else ddb_records(n)
    sequence = numbers({"Records": shard})
    poison = {sequence[i] for i in poison_seed if i < n}

    def handler(event: dict[str, Any]) -> Any:
        bad = [x for x in numbers(event) if x in poison]
        if bad and raise_on_poison:
            raise ValueError(f"poison {bad}")
        return {"batchItemFailures": [{"itemIdentifier": x} for x in bad]}

    settings_ = EsmSettings(
        batch_size=batch_size, maximum_retry_attempts=retries,
        bisect_batch_on_function_error=bisect, source_kind=kind,
    )  # fmt: skip
    run = run_shard(shard, handler_invoke(handler), settings_, on_failure=lambda m: None)
    info_key = "KinesisBatchInfo" if kind == "kinesis" else "DDBStreamBatchInfo"
    covered: list[str] = []
    for message in run.on_failure:
        info = message[info_key]
        first = sequence.index(info["startSequenceNumber"])
        last = sequence.index(info["endSequenceNumber"])
        assert info["batchSize"] == last - first + 1
        covered.extend(sequence[first : last + 1])
    assert len(covered) == len(set(covered))  # on-failure ranges are disjoint
    assert len(run.completed) == len(set(run.completed))  # each checkpointed at most once
    assert run.completed == [x for x in sequence if x in set(run.completed)]  # in shard order
    assert poison <= set(covered) and not poison & set(run.completed)
    assert sorted(run.completed + covered, key=int) == sequence  # each exactly one of the two
