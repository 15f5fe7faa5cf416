"""Nothing lost: a Kinesis shard with poison records through the simulated event source mapping
(batch 100, ReportBatchItemFailures, bisect on error, 3 retries, SQS on-failure destination)
and the real IoT handler, against moto Kinesis, DynamoDB, SNS and SQS."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from serverless_ml.local.stream_esm import (
    EsmSettings,
    handler_invoke,
    lambda_record,
    read_shard,
    run_shard,
    sqs_destination,
)
from sml_handlers.iot.features import parse_reading
from tests.function_code.iot_support import (
    ANOMALIES_TABLE,
    STREAM_NAME,
    AwsResources,
    encode,
    iot_handler,
    mixed_readings,
    reference_scores,
    threshold,
)

iot = iot_handler()
SETTINGS = EsmSettings(
    batch_size=100,
    maximum_retry_attempts=3,
    bisect_batch_on_function_error=True,
    report_batch_item_failures=True,
)
POISON = {
    5: b"{oops",
    6: b"[1, 2]",
    140: b'{"device_id": "x"}',
    141: b"\xff\xfe not utf-8",
    199: b"null",
    230: b"",  # an empty JSON document
}


class Stream:
    def __init__(self, resources: AwsResources) -> None:
        import boto3

        self.kinesis = boto3.client("kinesis")
        self.kinesis.create_stream(StreamName=STREAM_NAME, ShardCount=1)
        description = self.kinesis.describe_stream(StreamName=STREAM_NAME)["StreamDescription"]
        self.arn: str = description["StreamARN"]
        self.shard_id: str = description["Shards"][0]["ShardId"]
        self.dlq = resources.sqs.create_queue(QueueName="iot-on-failure")["QueueUrl"]

    def put(self, payloads: list[bytes]) -> None:
        for start in range(0, len(payloads), 500):  # PutRecords takes at most 500 records
            chunk = payloads[start : start + 500]
            result = self.kinesis.put_records(
                StreamName=STREAM_NAME,
                Records=[{"Data": data, "PartitionKey": "fleet"} for data in chunk],
            )
            assert result.get("FailedRecordCount", 0) == 0

    def records(self) -> list[dict[str, Any]]:
        return [
            lambda_record(r, stream_arn=self.arn, shard_id=self.shard_id)
            for r in read_shard(self.kinesis, STREAM_NAME, self.shard_id)
        ]


@pytest.fixture
def aws(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsResources]:
    with mock_aws():
        resources = AwsResources()
        monkeypatch.setenv("SML_RESULTS_TABLE", ANOMALIES_TABLE)
        monkeypatch.setenv("SML_ALERT_TOPIC_ARN", resources.topic_arn)
        yield resources


def test_every_good_record_scored_once_every_poison_record_on_the_failure_queue(
    aws: AwsResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    readings = mixed_readings(215, 35, seed=21)  # 250 records, 35 anomalies among the good
    payloads = [encode(r) for r in readings]
    for index, data in POISON.items():
        payloads[index] = data
    stream = Stream(aws)
    stream.put(payloads)
    records = stream.records()
    assert len(records) == 250
    sequence = [r["kinesis"]["sequenceNumber"] for r in records]
    assert sequence == sorted(sequence, key=int)

    scored: Counter[str] = Counter()  # sequence numbers of records whose reading was scored
    real_parse = iot.parse_records

    def observed(batch: list[Any]) -> Any:
        readings_in_batch, failures = real_parse(batch)
        scored.update(batch[i]["kinesis"]["sequenceNumber"] for i, _ in readings_in_batch)
        return readings_in_batch, failures

    monkeypatch.setattr(iot, "parse_records", observed)
    run = run_shard(
        records,
        handler_invoke(lambda event: iot.handler(event, None)),
        SETTINGS,
        on_failure=sqs_destination(aws.sqs, stream.dlq),
        shard_id=stream.shard_id,
    )

    good = [i for i in range(250) if i not in POISON]
    poison_numbers = {sequence[i] for i in POISON}
    good_numbers = [sequence[i] for i in good]

    # Checkpointed at most once each, in shard order, never a poison record.
    assert run.completed == [n for n in sequence if n in set(run.completed)]
    assert len(run.completed) == len(set(run.completed))
    assert not poison_numbers & set(run.completed)
    # Every good record was scored (redeliveries after a failure score it again, by design).
    assert set(scored) == set(good_numbers)

    # Effects exactly once: one anomaly row per flagged good reading, each alerted once.
    good_readings = [readings[i] for i in good]
    scores = reference_scores(good_readings)
    flagged = [r for r, s in zip(good_readings, scores, strict=True) if s >= threshold()]
    expected_keys = {(p.device_id, p.timestamp) for p in map(parse_reading, flagged)}
    rows = aws.anomalies()
    assert set(rows) == expected_keys and len(rows) == 35
    alerted = [n for alert in aws.alerts() for n in alert["sequence_numbers"]]
    assert Counter(alerted) == Counter(row["sequence_number"]["S"] for row in rows.values())

    # Every poison record ends on the on-failure queue, named by a Kinesis invocation record.
    messages = aws.drain(stream.dlq)
    assert messages == run.on_failure
    covered: set[str] = set()
    for message in messages:
        info = message["KinesisBatchInfo"]
        assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
        assert (
            message["requestContext"]["approximateInvokeCount"]
            == SETTINGS.maximum_retry_attempts + 1
        )
        assert info["shardId"] == stream.shard_id and info["streamArn"] == stream.arn
        start, end = int(info["startSequenceNumber"]), int(info["endSequenceNumber"])
        in_range = [n for n in sequence if start <= int(n) <= end]
        assert info["batchSize"] == len(in_range)
        covered.update(in_range)
    assert poison_numbers <= covered
    # Each good record is either checkpointed or named by an on-failure range (when a partial
    # failure exhausts its retries, Lambda gives up on the range from the failed record to the
    # batch end): never both, never neither. Either way its effects above exist exactly once.
    assert covered.isdisjoint(run.completed)
    assert set(run.completed) | (covered - poison_numbers) == set(good_numbers)


def test_bisect_isolates_an_all_poison_batch() -> None:
    """A batch whose records all fail raises; bisection isolates each record before giving up."""

    def handler(event: dict[str, Any]) -> Any:
        return iot.handler(event, None)

    records = [
        lambda_record(
            {"SequenceNumber": str(100 + i), "Data": b"[]", "PartitionKey": "k"},
            stream_arn="arn:aws:kinesis:us-east-1:123456789012:stream/s",
            shard_id="shardId-000000000000",
        )
        for i in range(4)
    ]
    sent: list[dict[str, Any]] = []
    run = run_shard(
        records, handler_invoke(handler), EsmSettings(batch_size=4), on_failure=sent.append
    )
    assert run.completed == []
    assert [m["KinesisBatchInfo"]["startSequenceNumber"] for m in sent] == [
        "100",
        "101",
        "102",
        "103",
    ]
    assert all(m["KinesisBatchInfo"]["batchSize"] == 1 for m in sent)
    assert all(m["responseContext"]["functionError"] == "Unhandled" for m in sent)
    # 1 batch of 4 -> 2 halves -> 4 singles, each tried 1 + 3 times.
    assert len(run.invocations) == 1 + 2 + 4 * 4
    json.dumps(sent)  # the messages are plain JSON
