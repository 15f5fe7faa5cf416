"""IoT anomaly detection locally: generated sensor readings put on the Kinesis stream in
``PutRecords`` calls (poison mixed in), scored by the function through the local mapping;
anomalies land in the table and one alert per batch on the topic, which the run subscribes a
queue to so it can count them."""

from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import datetime, timedelta
from typing import Any, Final

from serverless_ml.core.plan import build_plan
from serverless_ml.local.services.base import ServiceResults, queue_messages
from serverless_ml.local.services.streaming import StreamFedService, unreported
from serverless_ml.local.tables import scan
from serverless_ml.reference.scenarios import iot_anomaly_detection
from serverless_ml.spec import ConcurrencyPlan
from sml_handlers.runtime import env

READINGS_PER_SEND: Final = 25  # one PutRecords call carries this many readings
DEVICES: Final = 50
POISON_EVERY: Final = 10  # the 3rd call, then every 10th, carries one malformed record
POISON_AT: Final = 2
STORED_TIMESTAMP: Final = "%Y-%m-%dT%H:%M:%S.%fZ"  # sml_handlers.iot.features' sort key
POISON: Final = (b"not json at all", b'{"device_id": "dev-x"}', b"[1, 2, 3]")


class IoTService(StreamFedService):
    scenario = "iot-anomaly"
    unit = f"PutRecords calls of {READINGS_PER_SEND} readings"

    def __init__(self, concurrency: ConcurrencyPlan | None = None) -> None:
        super().__init__(build_plan(iot_anomaly_detection(concurrency=concurrency)))
        self.lock = threading.Lock()
        self.sent: Counter[str] = Counter()
        self.readings: list[dict[str, Any]] = []
        self.labels: list[str] = []
        self.sent_keys: dict[tuple[str, str], str] = {}  # (device, timestamp) -> label
        self.poison_positions: dict[str, tuple[str, str]] = {}  # call -> (shard, sequence)

    def open(self) -> list[str]:
        from serverless_ml.models.iot_data import generate_readings

        self.readings, self.labels = generate_readings(DEVICES, 120, seed=self.ctx.options.seed)
        self.stream = self.plan.streams[0]
        self.inbox = self._subscribe_inbox()
        self.start_poller()
        return [f"Kinesis stream: {self.stream.name} -> {self.function.name}"]

    def _subscribe_inbox(self) -> str:
        """A queue subscribed to the alert topic (raw delivery), so alerts can be counted."""
        resources = self.ctx.resources
        sqs, sns = resources.client("sqs"), resources.client("sns")
        url: str = sqs.create_queue(QueueName=f"{self.plan.service}-local-alerts")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        topic = self.ctx.environment[env.ALERT_TOPIC_ARN]
        sns.subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint=arn,
            Attributes={"RawMessageDelivery": "true"},
        )
        self.exits.callback(lambda: sqs.delete_queue(QueueUrl=url))
        return url

    def reading(self, position: int) -> tuple[dict[str, Any], str]:
        """Reading ``position`` of an endless series: the generated readings, replayed a day
        later on each pass (so every reading has its own table key), and its label. Timestamps
        are written the way the handler stores them (microseconds, ``Z``)."""
        cycle, offset = divmod(position, len(self.readings))
        reading = self.readings[offset]
        at = datetime.fromisoformat(str(reading["timestamp"])) + timedelta(days=cycle)
        return {**reading, "timestamp": at.strftime(STORED_TIMESTAMP)}, self.labels[offset]

    def send(self, index: int) -> None:
        chunk = [self.reading(index * READINGS_PER_SEND + i) for i in range(READINGS_PER_SEND)]
        records = [
            {"Data": json.dumps(r).encode(), "PartitionKey": str(r["device_id"])} for r, _ in chunk
        ]
        poison = index % POISON_EVERY == POISON_AT
        if poison:
            records[-1] = {"Data": POISON[index % len(POISON)], "PartitionKey": "poison"}
        answer = self.ctx.resources.client("kinesis").put_records(
            StreamName=self.stream.name, Records=records
        )
        with self.lock:
            for (reading, label), record in zip(chunk, records, strict=True):
                if record["PartitionKey"] != "poison":
                    self.sent_keys[(str(reading["device_id"]), str(reading["timestamp"]))] = label
            self.sent["records"] += len(records) - answer.get("FailedRecordCount", 0)
            self.sent["poison"] += poison
            put = answer["Records"][-1]
            if poison and "SequenceNumber" in put:
                self.poison_positions[f"call {index}"] = (put["ShardId"], put["SequenceNumber"])
            self.sent["put_failed"] += answer.get("FailedRecordCount", 0)

    def results(self) -> ServiceResults:
        results = ServiceResults()
        table = self.ctx.environment[env.RESULTS_TABLE]
        anomalies = list(scan(self.ctx.resources.client("dynamodb"), table))
        alerts = queue_messages(self.ctx.resources, self.inbox)
        messages = self.stream_lines(results)
        results.lines.append(
            f"{self.sent['records']} records put ({self.sent['poison']} poison); "
            f"{len(anomalies)} anomalies written, {len(alerts)} alert(s) published"
        )
        results.check(
            self.sent["put_failed"] == 0, f"Kinesis accepted every record ({self.sent['records']})"
        )
        written = {(str(a["device_id"]["S"]), str(a["timestamp"]["S"])) for a in anomalies}
        labelled = {key for key, label in self.sent_keys.items() if label}
        caught = len(written & labelled)
        results.lines.append(
            f"labelled anomalies sent {len(labelled)}: {caught} written "
            f"({caught / len(labelled):.0%})"
            if labelled
            else "no labelled anomaly sent"
        )
        results.check(
            written <= set(self.sent_keys),
            f"every anomaly row is a reading that was sent ({len(written - set(self.sent_keys))} not)",
        )
        results.check(
            bool(anomalies) and bool(alerts),
            f"anomalies in the table ({len(anomalies)}) and alerts on the topic ({len(alerts)})",
        )
        missing = unreported(self.poison_positions, messages)
        results.check(
            not missing and len(self.poison_positions) == self.sent["poison"],
            f"every poison record ({self.sent['poison']}) inside a range on the failure queue "
            f"({len(messages)} range(s))" + (f"; not: {missing[:5]}" if missing else ""),
        )
        results.figures.update(
            records=self.sent["records"], anomalies=len(anomalies), alerts=len(alerts)
        )
        results.written = f"{len(anomalies)} anomalies written, {len(alerts)} alerts published"
        results.failures = f"{self.sent['poison']} poison -> {len(messages)} failure-queue range(s)"
        return results
