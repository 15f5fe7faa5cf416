"""A small simulator of Lambda's Kinesis event source mapping (ESM), for local runs and tests.

It reads one shard in order and invokes a handler the way the mapping the stacks configure does
(``ReportBatchItemFailures`` on, ``BisectBatchOnFunctionError``, ``MaximumRetryAttempts``,
an SQS on-failure destination; ParallelizationFactor 1). Rules simulated, from
https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-batchfailurereporting.html and
https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html (error handling):

1. A batch is the next ``batch_size`` records of the shard after the checkpoint.
2. Empty ``batchItemFailures``: complete success, the checkpoint moves past the batch.
3. Partial failure: the lowest failed sequence number is the checkpoint; the records before it
   are done, and the batch is retried from it ("bisected at the returned sequence number": only
   the remaining records are retried). An identifier that is not in the batch, empty or null
   makes the whole batch a failure.
4. Function error (the handler raised): with bisect on, a batch of 2+ records is split in two
   halves retried separately, in order; otherwise the same batch is retried.
5. Every retry of a range counts against ``MaximumRetryAttempts``; a bisection does not (assumed:
   AWS documents no count for splits; with it a 100-record batch could not isolate one record
   within 3 retries). Halves keep their parent's count.
6. When a failing range has used its retries, Lambda sends an invocation record naming the shard
   and the range's first/last sequence numbers to the on-failure destination and moves on. Its
   shape follows the example in
   https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html:
   ``{"requestContext": {"requestId", "functionArn", "condition": "RetryAttemptsExhausted",
   "approximateInvokeCount"}, "responseContext": {"statusCode": 200, "executedVersion",
   "functionError"?}, "version": "1.0", "timestamp", "KinesisBatchInfo": {"shardId",
   "startSequenceNumber", "endSequenceNumber", "approximateArrivalOfFirstRecord",
   "approximateArrivalOfLastRecord", "batchSize", "streamArn"}}`` (the records themselves are not
   in it: they stay in the stream until they expire).

Consequence worth knowing: a partial failure that exhausts its retries sends the range from the
failed record to the batch's end, so good records after a poison record are named in the
on-failure message too; they were processed on every delivery (the handler scores all good
records of a batch), so nothing is lost, but an operator replaying that range must be idempotent.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

ON_FAILURE_CONDITION: Final = "RetryAttemptsExhausted"
GET_RECORDS_LIMIT: Final = 10_000  # the Kinesis GetRecords maximum

Handler = Callable[[dict[str, Any]], Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class EsmSettings:
    """The mapping's error-handling settings (what the stack configures for Kinesis)."""

    batch_size: int = 100
    maximum_retry_attempts: int = 3
    bisect_batch_on_function_error: bool = True
    report_batch_item_failures: bool = True

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.maximum_retry_attempts < 0:
            raise ValueError("batch_size must be >= 1 and maximum_retry_attempts >= 0")


@dataclass(frozen=True, slots=True)
class Invocation:
    """One handler call: the sequence numbers it got, ``ok`` / ``partial`` / ``error``, and the
    identifiers it reported failed."""

    sequence_numbers: tuple[str, ...]
    outcome: str
    failed: tuple[str, ...] = ()


@dataclass(slots=True)
class EsmRun:
    """What happened to a shard: every invocation, the records checkpointed as processed
    (each once, in order), and the on-failure messages sent."""

    invocations: list[Invocation] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)
    on_failure: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Range:
    start: int
    end: int  # exclusive
    retries: int


def lambda_record(
    record: Mapping[str, Any], *, stream_arn: str, shard_id: str, region: str = "us-east-1"
) -> dict[str, Any]:
    """A Kinesis GetRecords record as Lambda delivers it (example event in with-kinesis.html)."""
    arrival = record.get("ApproximateArrivalTimestamp")
    data = record["Data"]
    raw = data if isinstance(data, bytes) else str(data).encode("utf-8")
    sequence = str(record["SequenceNumber"])
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": record.get("PartitionKey", ""),
            "sequenceNumber": sequence,
            "data": base64.b64encode(raw).decode("ascii"),
            "approximateArrivalTimestamp": (
                arrival.timestamp() if isinstance(arrival, datetime) else arrival
            ),
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{sequence}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/serverless-ml-local",
        "awsRegion": region,
        "eventSourceARN": stream_arn,
    }


def read_shard(client: Any, stream_name: str, shard_id: str) -> Iterator[dict[str, Any]]:
    """Every record of a shard from its trim horizon (``client``: a boto3 ``kinesis`` client)."""
    iterator = client.get_shard_iterator(
        StreamName=stream_name, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    while iterator:
        page = client.get_records(ShardIterator=iterator, Limit=GET_RECORDS_LIMIT)
        if not page["Records"]:
            return
        yield from page["Records"]
        iterator = page.get("NextShardIterator")


def sqs_destination(client: Any, queue_url: str) -> Callable[[dict[str, Any]], None]:
    """An on-failure sender writing each invocation record as one SQS message."""

    def send(message: dict[str, Any]) -> None:
        client.send_message(QueueUrl=queue_url, MessageBody=json.dumps(message))

    return send


def _failed_ids(response: Any) -> list[Any] | None:
    """Reported identifiers; None when the response is not a valid partial-batch response."""
    if response is None:
        return []
    if not isinstance(response, Mapping):
        return []
    items = response.get("batchItemFailures")
    if items is None:
        return []
    if not isinstance(items, list):
        return None
    return [item.get("itemIdentifier") if isinstance(item, Mapping) else None for item in items]


def _invocation_record(
    records: Sequence[Mapping[str, Any]],
    *,
    invoke_count: int,
    function_error: bool,
    function_arn: str,
    shard_id: str,
) -> dict[str, Any]:
    first, last = records[0], records[-1]

    def arrival(record: Mapping[str, Any]) -> str:
        seconds = float(record["kinesis"].get("approximateArrivalTimestamp") or 0.0)
        return datetime.fromtimestamp(seconds, tz=UTC).isoformat(timespec="milliseconds")

    response: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    if function_error:
        response["functionError"] = "Unhandled"
    return {
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": function_arn,
            "condition": ON_FAILURE_CONDITION,
            "approximateInvokeCount": invoke_count,
        },
        "responseContext": response,
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "KinesisBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": first["kinesis"]["sequenceNumber"],
            "endSequenceNumber": last["kinesis"]["sequenceNumber"],
            "approximateArrivalOfFirstRecord": arrival(first),
            "approximateArrivalOfLastRecord": arrival(last),
            "batchSize": len(records),
            "streamArn": first["eventSourceARN"],
        },
    }


def run_shard(
    records: Sequence[Mapping[str, Any]],
    handler: Handler,
    settings: EsmSettings,
    *,
    on_failure: Callable[[dict[str, Any]], None],
    shard_id: str = "shardId-000000000000",
    function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:serverless-ml-local",
) -> EsmRun:
    """Deliver a shard's Lambda-shaped ``records`` (in shard order) to ``handler`` until every
    record is checkpointed or sent to ``on_failure``; return what happened."""
    run = EsmRun()
    sequence = [str(r["kinesis"]["sequenceNumber"]) for r in records]
    position = {number: index for index, number in enumerate(sequence)}
    queue: list[_Range] = []
    next_start = 0
    while queue or next_start < len(records):
        if not queue:
            end = min(len(records), next_start + settings.batch_size)
            queue.append(_Range(next_start, end, 0))
            next_start = end
        current = queue.pop(0)
        batch = [dict(r) for r in records[current.start : current.end]]
        numbers = tuple(sequence[current.start : current.end])
        errored = False
        try:
            response = handler({"Records": batch})
        except Exception:
            errored = True
            response = None
        failed = None if errored else _failed_ids(response)
        if not settings.report_batch_item_failures and failed:
            failed = None  # the mapping ignores the response: any failure fails the batch
        if failed is not None and not failed:
            run.invocations.append(Invocation(numbers, "ok"))
            run.completed.extend(numbers)
            continue
        remaining = current
        if failed is not None:
            indices = [position.get(item) if isinstance(item, str) else None for item in failed]
            if any(i is None or not current.start <= i < current.end for i in indices):
                errored = True  # unknown, empty or null identifier: the whole batch failed
            else:
                lowest = min(i for i in indices if i is not None)
                run.completed.extend(sequence[current.start : lowest])
                remaining = _Range(lowest, current.end, current.retries)
        outcome = "error" if errored else "partial"
        run.invocations.append(Invocation(numbers, outcome, tuple(str(f) for f in failed or ())))
        size = remaining.end - remaining.start
        if errored and settings.bisect_batch_on_function_error and size > 1:
            middle = remaining.start + size // 2
            queue[0:0] = [
                _Range(remaining.start, middle, remaining.retries),
                _Range(middle, remaining.end, remaining.retries),
            ]
        elif remaining.retries < settings.maximum_retry_attempts:
            queue.insert(0, _Range(remaining.start, remaining.end, remaining.retries + 1))
        else:
            message = _invocation_record(
                records[remaining.start : remaining.end],
                invoke_count=remaining.retries + 1,
                function_error=errored,
                function_arn=function_arn,
                shard_id=shard_id,
            )
            on_failure(message)
            run.on_failure.append(message)
    return run
