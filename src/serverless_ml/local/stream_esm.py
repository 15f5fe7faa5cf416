"""A small simulator of Lambda's stream event source mappings (ESM), Kinesis and DynamoDB
streams, for local runs and tests.

It reads one shard in order and invokes the function the way the mappings the stacks configure
do (``ReportBatchItemFailures``, ``BisectBatchOnFunctionError``, ``MaximumRetryAttempts``,
``MaximumRecordAgeInSeconds``, filter criteria, an SQS on-failure destination;
ParallelizationFactor 1). Rules simulated, from
https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-batchfailurereporting.html,
https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html and
https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html (error handling, which is the same
for both sources):

1. Filters first (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html,
   ``event_filters``): a record matching none of the patterns is checkpointed without being
   delivered (counted in ``EsmRun.filtered``). Patterns see the Lambda record; for Kinesis,
   ``data`` is the decoded JSON document, and matches nothing when the data is not JSON
   (https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis-filtering.html). A batch is the
   next ``batch_size`` delivered records after the checkpoint; if none is left, nothing is
   invoked.
2. Before each delivery (first or retry) of a range, records older than
   ``maximum_record_age_s`` (Kinesis ``approximateArrivalTimestamp``, DynamoDB
   ``ApproximateCreationDateTime``; -1 = no limit) are discarded: an on-failure record with
   condition ``RecordAgeExceeded`` names them. Records are in arrival order, so the expired
   ones lead the range; the rest is delivered.
3. Empty ``batchItemFailures`` (or ``ReportBatchItemFailures`` off, when the response is
   ignored): complete success, the checkpoint moves past the batch.
4. Partial failure: the lowest failed sequence number (``itemIdentifier``; Kinesis
   ``kinesis.sequenceNumber``, DynamoDB ``dynamodb.SequenceNumber``) is the checkpoint; the
   records before it are done, and the batch is retried from it ("bisected at the returned
   sequence number"). An identifier that is not in the batch, empty or null, or a
   ``batchItemFailures`` that is not a list, makes the whole batch a failure.
5. Function error (``InvokeResult.error``: the handler raised, timed out, its process died) or a
   whole-batch failure: with bisect on, a batch of 2+ records is split in two halves retried
   separately, in order; otherwise the same batch is retried.
6. Every retry of a range counts against ``maximum_retry_attempts`` (-1 = retry until the
   records expire); a bisection does not (assumed: AWS documents no count for splits; with it
   a 100-record batch could not isolate one record within 3 retries). Halves keep their
   parent's count.
7. A throttled invoke (``InvokeResult.throttled``: nothing ran) is retried, same range, after
   ``throttle_backoff_s``, without counting against retries: Lambda retries throttles until
   the records expire (rule 2).
8. When a failing range has used its retries, Lambda sends an invocation record naming the shard
   and the range's first/last sequence numbers to the on-failure destination and moves on, shape
   from https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html and
   the DynamoDB example in with-ddb.html: ``{"requestContext": {"requestId", "functionArn",
   "condition": "RetryAttemptsExhausted" | "RecordAgeExceeded", "approximateInvokeCount"},
   "responseContext": {"statusCode": 200, "executedVersion", "functionError"?}, "version":
   "1.0", "timestamp", "KinesisBatchInfo" | "DDBStreamBatchInfo": {"shardId",
   "startSequenceNumber", "endSequenceNumber", "approximateArrivalOfFirstRecord",
   "approximateArrivalOfLastRecord", "batchSize", "streamArn"}}`` (the records themselves are
   not in it: they stay in the stream until they expire). ``functionError`` is set when the
   range's last delivery raised; ``approximateInvokeCount`` is the range's retries used (plus
   the final try when they are exhausted).

Consequence worth knowing: a partial failure that exhausts its retries sends the range from the
failed record to the batch's end, so good records after a poison record are named in the
on-failure message too; they were processed on every delivery (the handler scores all good
records of a batch), so nothing is lost, but an operator replaying that range must be idempotent.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from serverless_ml.core.plan_types import StreamMappingPlan
from serverless_ml.local.event_filters import OPAQUE, EventFilter
from serverless_ml.local.invocation import FunctionError, Invoke, InvokeResult

ON_FAILURE_CONDITION: Final = "RetryAttemptsExhausted"
RECORD_AGE_CONDITION: Final = "RecordAgeExceeded"
GET_RECORDS_LIMIT: Final = 10_000  # the Kinesis GetRecords maximum
DYNAMODB_RECORD_VERSION: Final = "1.1"  # what Lambda's DynamoDB event example carries
SOURCE_KINDS: Final = ("kinesis", "dynamodb")
DEFAULT_SHARD_ID: Final = "shardId-000000000000"
DEFAULT_FUNCTION_ARN: Final = "arn:aws:lambda:us-east-1:123456789012:function:serverless-ml-local"

Handler = Callable[[dict[str, Any]], Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class EsmSettings:
    """The mapping's settings (what the stack configures); -1 means no limit where allowed."""

    batch_size: int = 100
    maximum_retry_attempts: int = 3
    bisect_batch_on_function_error: bool = True
    report_batch_item_failures: bool = True
    maximum_record_age_s: float = -1
    filter_patterns: tuple[str, ...] = ()
    source_kind: str = "kinesis"
    throttle_backoff_s: float = 0.05
    event_filter: EventFilter = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.maximum_retry_attempts < -1:
            raise ValueError("batch_size must be >= 1 and maximum_retry_attempts >= -1")
        if self.maximum_record_age_s != -1 and self.maximum_record_age_s < 0:
            raise ValueError("maximum_record_age_s must be -1 (no limit) or >= 0")
        if self.source_kind not in SOURCE_KINDS:
            raise ValueError(f"source_kind must be one of {SOURCE_KINDS}, got {self.source_kind!r}")
        if self.throttle_backoff_s < 0:
            raise ValueError("throttle_backoff_s must be >= 0")
        object.__setattr__(self, "event_filter", EventFilter.parse(self.filter_patterns))


def settings_from_plan(mapping: StreamMappingPlan) -> EsmSettings:
    """The simulator's settings for a planned mapping."""
    return EsmSettings(
        batch_size=mapping.batch_size,
        maximum_retry_attempts=mapping.retry_attempts,
        bisect_batch_on_function_error=mapping.bisect_on_error,
        report_batch_item_failures="ReportBatchItemFailures" in mapping.function_response_types,
        maximum_record_age_s=mapping.max_record_age_s,
        filter_patterns=tuple(mapping.filter_patterns),
        source_kind=mapping.source_kind,
    )


@dataclass(frozen=True, slots=True)
class Invocation:
    """One invoke: the sequence numbers it got, ``ok`` / ``partial`` / ``error`` /
    ``throttled``, and the identifiers it reported failed."""

    sequence_numbers: tuple[str, ...]
    outcome: str
    failed: tuple[str, ...] = ()


@dataclass(slots=True)
class EsmRun:
    """What happened to a shard: every invocation, the records checkpointed as processed
    (each once, in order), the on-failure messages sent, and how many records filters dropped."""

    invocations: list[Invocation] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)
    on_failure: list[dict[str, Any]] = field(default_factory=list)
    filtered: int = 0


def handler_invoke(handler: Handler) -> Invoke:
    """An ``Invoke`` calling ``handler(event)`` in process; an exception is a function error."""

    def invoke(event: dict[str, Any]) -> InvokeResult:
        request_id = str(uuid.uuid4())
        try:
            payload = handler(event)
        except Exception as error:  # the handler's failure is the result, as in Lambda
            return InvokeResult(request_id, error=FunctionError(type(error).__name__, str(error)))
        return InvokeResult(request_id, payload=payload)

    return invoke


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


def dynamodb_lambda_record(record: Mapping[str, Any], *, stream_arn: str) -> dict[str, Any]:
    """A DynamoDB Streams GetRecords record (boto3 ``dynamodbstreams`` shape) as Lambda delivers
    it (example event in with-ddb.html): eventVersion 1.1, ``eventSourceARN``, epoch-second
    ``ApproximateCreationDateTime``, binary values base64; a JSON copy (the input is kept)."""
    delivered: dict[str, Any] = json.loads(json.dumps(record, default=_json_value))
    delivered["eventVersion"] = DYNAMODB_RECORD_VERSION
    delivered.setdefault("eventSource", "aws:dynamodb")
    parts = stream_arn.split(":")
    if len(parts) > 3 and parts[0] == "arn":
        delivered.setdefault("awsRegion", parts[3])
    delivered["eventSourceARN"] = stream_arn
    return delivered


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


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


@dataclass(frozen=True, slots=True)
class _Source:
    """Where a source kind keeps what the mapping reads in its Lambda records."""

    batch_info_key: str
    sequence_path: tuple[str, str]
    arrival_path: tuple[str, str]
    time_format: str  # of the on-failure record's arrival times, as in the AWS examples
    json_data: bool  # filters see the record's ``data`` (base64) as its JSON document

    def sequence(self, record: Mapping[str, Any]) -> str:
        outer, inner = self.sequence_path
        return str(record[outer][inner])

    def arrival(self, record: Mapping[str, Any]) -> float | None:
        outer, inner = self.arrival_path
        value = record.get(outer, {}).get(inner)
        if isinstance(value, datetime):
            return value.timestamp()
        try:
            return None if value is None else float(value)
        except (TypeError, ValueError):
            return None

    def filter_view(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        """What filter patterns match on: the record; Kinesis ``data`` decoded."""
        if not self.json_data:
            return record
        return {**record, "data": _json_data(record.get("kinesis", {}).get("data"))}


def _json_data(data: Any) -> Any:
    """Kinesis ``data`` (base64) as a JSON value, or ``OPAQUE`` when it is not JSON."""
    try:
        return json.loads(base64.b64decode(str(data), validate=True).decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return OPAQUE


_SOURCES: Final = {
    "kinesis": _Source(
        "KinesisBatchInfo",
        ("kinesis", "sequenceNumber"),
        ("kinesis", "approximateArrivalTimestamp"),
        "%Y-%m-%dT%H:%M:%S.{ms}Z",
        json_data=True,
    ),
    "dynamodb": _Source(
        "DDBStreamBatchInfo",
        ("dynamodb", "SequenceNumber"),
        ("dynamodb", "ApproximateCreationDateTime"),
        "%Y-%m-%dT%H:%M:%SZ",
        json_data=False,
    ),
}


def sequence_of(record: Mapping[str, Any]) -> str:
    """A Lambda-shaped Kinesis or DynamoDB record's sequence number."""
    kind = "kinesis" if record.get("eventSource") == "aws:kinesis" else "dynamodb"
    return _SOURCES[kind].sequence(record)


def names_record(message: Mapping[str, Any], shard_id: str, sequence: str) -> bool:
    """Whether an on-failure invocation record's range holds record ``sequence`` of
    ``shard_id`` (sequence numbers of one shard grow as decimal integers)."""
    info = next(
        (message[s.batch_info_key] for s in _SOURCES.values() if s.batch_info_key in message),
        None,
    )
    if not isinstance(info, Mapping) or info.get("shardId") != shard_id:
        return False
    start, end = int(info["startSequenceNumber"]), int(info["endSequenceNumber"])
    return start <= int(sequence) <= end


def _iso(seconds: float, time_format: str) -> str:
    moment = datetime.fromtimestamp(seconds, tz=UTC)
    return moment.strftime(time_format).replace("{ms}", f"{moment.microsecond // 1000:03d}")


@dataclass(frozen=True, slots=True)
class _Range:
    start: int
    end: int  # exclusive
    retries: int
    errored: bool = False  # its last delivery was a function error


def _failed_ids(response: Any) -> list[Any] | None:
    """Reported identifiers; None when the response is not a valid partial-batch response."""
    if not isinstance(response, Mapping):
        return []
    items = response.get("batchItemFailures")
    if items is None:
        return []
    if not isinstance(items, list):
        return None
    return [item.get("itemIdentifier") if isinstance(item, Mapping) else None for item in items]


class _Shard:
    """One ``run_shard`` call's state: the delivered records and what happened to them."""

    def __init__(
        self,
        records: Sequence[Mapping[str, Any]],
        settings: EsmSettings,
        *,
        on_failure: Callable[[dict[str, Any]], None],
        shard_id: str,
        function_arn: str,
        clock: Callable[[], float],
    ) -> None:
        self.source = _SOURCES[settings.source_kind]
        self.settings = settings
        self.records = [
            r for r in records if settings.event_filter.accepts(self.source.filter_view(r))
        ]
        self.run = EsmRun(filtered=len(records) - len(self.records))
        self.sequence = [self.source.sequence(r) for r in self.records]
        self.position = {number: index for index, number in enumerate(self.sequence)}
        self.send = on_failure
        self.shard_id = shard_id
        self.function_arn = function_arn
        self.clock = clock

    def expire(self, span: _Range) -> _Range | None:
        """``span`` without its leading records older than the maximum age (sent on)."""
        limit = self.settings.maximum_record_age_s
        if limit == -1:
            return span
        now = self.clock()
        cut = span.start
        while cut < span.end:
            arrival = self.source.arrival(self.records[cut])
            if arrival is None or now - arrival <= limit:
                break
            cut += 1
        if cut > span.start:
            expired = _Range(span.start, cut, span.retries, span.errored)
            self.fail(expired, RECORD_AGE_CONDITION, invoke_count=span.retries)
        return None if cut == span.end else _Range(cut, span.end, span.retries, span.errored)

    def fail(self, span: _Range, condition: str, *, invoke_count: int) -> None:
        """Send the invocation record for ``span`` to the on-failure destination."""
        message = self._failure_record(span, condition, invoke_count)
        self.send(message)
        self.run.on_failure.append(message)

    def _failure_record(self, span: _Range, condition: str, invoke_count: int) -> dict[str, Any]:
        first, last = self.records[span.start], self.records[span.end - 1]
        time_format = self.source.time_format
        response: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
        if span.errored:
            response["functionError"] = "Unhandled"
        return {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self.function_arn,
                "condition": condition,
                "approximateInvokeCount": invoke_count,
            },
            "responseContext": response,
            "version": "1.0",
            "timestamp": _iso(self.clock(), "%Y-%m-%dT%H:%M:%S.{ms}Z"),
            self.source.batch_info_key: {
                "shardId": self.shard_id,
                "startSequenceNumber": self.sequence[span.start],
                "endSequenceNumber": self.sequence[span.end - 1],
                "approximateArrivalOfFirstRecord": _iso(
                    self.source.arrival(first) or 0.0, time_format
                ),
                "approximateArrivalOfLastRecord": _iso(
                    self.source.arrival(last) or 0.0, time_format
                ),
                "batchSize": span.end - span.start,
                "streamArn": first.get("eventSourceARN", ""),
            },
        }

    def outcome(self, span: _Range, result: InvokeResult) -> list[_Range]:
        """Checkpoint what ``result`` completed; the ranges to deliver next, in order."""
        settings, run = self.settings, self.run
        numbers = tuple(self.sequence[span.start : span.end])
        if result.error is not None:
            failed = None
        elif settings.report_batch_item_failures:
            failed = _failed_ids(result.payload)
        else:
            failed = []  # the mapping ignores the response
        if failed == []:
            run.invocations.append(Invocation(numbers, "ok"))
            run.completed.extend(numbers)
            return []
        remaining, whole = span, failed is None
        if failed is not None:
            indices = [self.position.get(i) if isinstance(i, str) else None for i in failed]
            if any(i is None or not span.start <= i < span.end for i in indices):
                whole = True  # unknown, empty or null identifier: the whole batch failed
            else:
                lowest = min(i for i in indices if i is not None)
                run.completed.extend(self.sequence[span.start : lowest])
                remaining = _Range(lowest, span.end, span.retries)
        failed_ids = tuple(str(f) for f in failed or ())
        run.invocations.append(Invocation(numbers, "error" if whole else "partial", failed_ids))
        errored = result.error is not None
        size = remaining.end - remaining.start
        if whole and settings.bisect_batch_on_function_error and size > 1:
            middle = remaining.start + size // 2
            return [
                _Range(remaining.start, middle, remaining.retries, errored),
                _Range(middle, remaining.end, remaining.retries, errored),
            ]
        limit = settings.maximum_retry_attempts
        if limit == -1 or remaining.retries < limit:
            return [_Range(remaining.start, remaining.end, remaining.retries + 1, errored)]
        exhausted = _Range(remaining.start, remaining.end, remaining.retries, errored)
        self.fail(exhausted, ON_FAILURE_CONDITION, invoke_count=remaining.retries + 1)
        return []


def run_shard(
    records: Sequence[Mapping[str, Any]],
    invoke: Invoke,
    settings: EsmSettings,
    *,
    on_failure: Callable[[dict[str, Any]], None],
    shard_id: str = DEFAULT_SHARD_ID,
    function_arn: str = DEFAULT_FUNCTION_ARN,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> EsmRun:
    """Deliver a shard's Lambda-shaped ``records`` (in shard order, of ``settings.source_kind``)
    through ``invoke`` until every record is checkpointed, filtered out or sent to
    ``on_failure``; return what happened. ``clock`` (epoch seconds) ages records; ``sleep``
    waits between throttled invokes."""
    shard = _Shard(
        records,
        settings,
        on_failure=on_failure,
        shard_id=shard_id,
        function_arn=function_arn,
        clock=clock,
    )
    queue: list[_Range] = []
    next_start = 0
    total = len(shard.records)
    while queue or next_start < total:
        if not queue:
            end = min(total, next_start + settings.batch_size)
            queue.append(_Range(next_start, end, 0))
            next_start = end
        span = shard.expire(queue.pop(0))
        if span is None:
            continue
        batch = [dict(r) for r in shard.records[span.start : span.end]]
        result = invoke({"Records": batch})
        if result.throttled:
            numbers = tuple(shard.sequence[span.start : span.end])
            shard.run.invocations.append(Invocation(numbers, "throttled"))
            sleep(settings.throttle_backoff_s)
            queue.insert(0, span)
            continue
        queue[0:0] = shard.outcome(span, result)
    return shard.run
