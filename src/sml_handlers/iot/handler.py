"""IoT anomaly Lambda for Kinesis batches of sensor readings ("sml_handlers.iot.handler.handler").

- Kinesis batch (``ReportBatchItemFailures`` on): each record's data is one reading as JSON
  (``sml_handlers.iot.features``). All valid readings are scored in one model call; each
  anomaly (``anomaly_score >= threshold`` from the model card) is written once to
  ``$SML_RESULTS_TABLE`` (key ``device_id`` + ``timestamp``, conditional put: replays write
  nothing), and one aggregated alert per batch goes to ``$SML_ALERT_TOPIC_ARN`` covering the
  anomalies this invocation newly wrote (none: no publish). If the publish fails, the rows it
  covered are deleted and the handler raises, so the retry writes and alerts them again: an
  anomaly row exists only once its alert was sent.
- A record that is not base64 JSON of an object, lacks fields or has wrong-typed values is
  reported by its exact ``sequenceNumber`` in ``batchItemFailures``; every other record is still
  scored. If every record failed the handler raises so Lambda bisects / retries (Powertools
  ``BatchProcessor`` semantics).
- ``{"serverless-ml": "warmer"}``: ``{"warmed": true}``, no inference, logs or metrics.

INIT loads and warms the model; boto3 loads on the first batch.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final, NamedTuple

from sml_handlers.iot.features import (
    FEATURE_NAMES,
    SENSORS,
    Reading,
    ReadingError,
    feature_vector,
    parse_reading,
    suspect_sensor,
)
from sml_handlers.runtime import aws, batch, concurrent_writes, env, kinesis, snapstart, warmer
from sml_handlers.runtime.logs import get_logger
from sml_handlers.runtime.metrics import Metrics
from sml_handlers.runtime.model import (
    Model,
    check_features,
    default_model_dir,
    load_model,
    ready_fields,
)
from sml_handlers.runtime.unrecognised import unrecognised_event

SERVICE: Final = "iot"
RESULTS_TABLE_ENV: Final = env.RESULTS_TABLE
ALERT_TOPIC_ENV: Final = env.ALERT_TOPIC_ARN
SCORE_DECIMALS: Final = 6
WRITE_CONCURRENCY = concurrent_writes.MAX_WORKERS  # 1: one conditional put after another
ALERT_TOP: Final = 10  # highest-scoring anomalies listed in an alert
ALERT_MAX_DEVICES: Final = 100  # device ids listed in an alert (the count is always exact)
SUBJECT_LIMIT: Final = 100  # SNS subjects are at most 100 characters

logger = get_logger(__name__)


def _check_model(model: Model) -> float:
    """Refuse at INIT a model with other features or no numeric threshold; return the threshold."""
    check_features(model, FEATURE_NAMES)
    threshold = model.card.get("threshold")
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise ValueError("model_card.json needs a numeric 'threshold'")
    return float(threshold)


MODEL: Final = load_model(default_model_dir())
THRESHOLD: Final = _check_model(MODEL)
METRICS: Final = Metrics.from_env(SERVICE)
SNAPSTART_HOOKS: Final = snapstart.register_hooks(MODEL)
logger.info(
    "model ready", extra=ready_fields(MODEL, threshold=THRESHOLD, snapstart_hooks=SNAPSTART_HOOKS)
)


class Anomaly(NamedTuple):
    record_index: int  # position in the batch
    sequence_number: str
    reading: Reading
    score: float


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Lambda entry point."""
    if warmer.is_warmer(event):
        METRICS.absorb_cold_start()
        return warmer.warmer_response()
    METRICS.record_cold_start()
    records = kinesis.batch_records(event)
    if records is None:
        raise unrecognised_event(event, "a Kinesis batch", logger)
    return handle_batch(records)


def score(rows: Sequence[Sequence[float]]) -> list[float]:
    """``anomaly_score`` for each row of ``n_features`` numbers, in one model call."""
    start = time.perf_counter()
    result = MODEL.predict(rows)
    METRICS.record_latency((time.perf_counter() - start) * 1000.0)
    return [row[0] for row in result]


def _env(name: str) -> str:
    value = os.environ.get(name)
    if value:
        return value
    raise RuntimeError(f"{name} is not set: anomalies have nowhere to go")


def parse_records(records: Sequence[Any]) -> tuple[list[tuple[int, Reading]], dict[int, str]]:
    """Valid readings with their batch index, and the failure reason of every other record."""
    readings: list[tuple[int, Reading]] = []
    failures: dict[int, str] = {}
    for index, record in enumerate(records):
        try:
            readings.append((index, parse_reading(kinesis.json_object(record))))
        except kinesis.RecordError as error:
            failures[index] = f"unreadable record: {error}"
        except ReadingError as error:
            failures[index] = f"invalid reading: {', '.join(sorted(error.errors))}"
    return readings, failures


def handle_batch(records: Sequence[Any]) -> dict[str, Any]:
    """Score a Kinesis batch; write and alert its anomalies; report the failed records."""
    table, topic = _env(RESULTS_TABLE_ENV), _env(ALERT_TOPIC_ENV)
    readings, failures = parse_records(records)
    anomalies: list[Anomaly] = []
    if readings:
        values = score([feature_vector(r) for _, r in readings])
        for (index, reading), value in zip(readings, values, strict=True):
            if value >= THRESHOLD:
                sequence = kinesis.sequence_number(records[index]) or ""
                anomalies.append(Anomaly(index, sequence, reading, value))
    written: list[Anomaly] = []
    if anomalies:
        client = aws.client("dynamodb")
        detected_at = datetime.now(UTC).isoformat(timespec="milliseconds")
        outcomes = concurrent_writes.write_each(
            anomalies,
            lambda anomaly: _put_anomaly(client, table, anomaly, detected_at),
            key=lambda anomaly: (anomaly.reading.device_id, anomaly.reading.timestamp),
            max_workers=WRITE_CONCURRENCY,
        )
        for anomaly, outcome in zip(anomalies, outcomes, strict=True):
            if isinstance(outcome, Exception):  # any write failure fails this record alone
                failures[anomaly.record_index] = (
                    f"write failed: {type(outcome).__name__}: {outcome}"
                )
            elif outcome:
                written.append(anomaly)
    if written:
        _alert(topic, written, records)
    _report(records, readings, anomalies, written, failures)
    ordered = sorted(failures)
    return batch.partial_batch_response(
        [kinesis.sequence_number(records[index]) for index in ordered],
        [failures[index] for index in ordered],
        total=len(records),
    )


def _key(anomaly: Anomaly) -> dict[str, Any]:
    return {
        "device_id": {"S": anomaly.reading.device_id},
        "timestamp": {"S": anomaly.reading.timestamp},
    }


def _put_anomaly(client: Any, table: str, anomaly: Anomaly, detected_at: str) -> bool:
    """Write the anomaly unless its row exists; True if this call wrote it."""
    reading = anomaly.reading
    item = {
        **_key(anomaly),
        "anomaly_score": {"N": f"{anomaly.score:.{SCORE_DECIMALS}f}"},
        "threshold": {"N": f"{THRESHOLD:.{SCORE_DECIMALS}f}"},
        "suspect_sensor": {"S": suspect_sensor(reading)},
        "sequence_number": {"S": anomaly.sequence_number},
        "model_name": {"S": MODEL.name},
        "model_version": {"S": MODEL.version},
        "detected_at": {"S": detected_at},
        **{
            sensor: {"N": repr(value)}
            for sensor, value in zip(SENSORS, reading.values, strict=True)
        },
    }
    try:
        client.put_item(
            TableName=table,
            Item=item,
            ConditionExpression="attribute_not_exists(device_id)",
            # The row already there comes back with the refusal (no read permission needed):
            # the same values are an earlier delivery of this reading, other values a collision.
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except client.exceptions.ConditionalCheckFailedException as refused:
        existing = refused.response.get("Item") or {}
        if all(existing.get(sensor) == item[sensor] for sensor in SENSORS):
            return False  # written by an earlier delivery of this record (and alerted then)
        raise ReadingCollision(
            f"another reading of device {reading.device_id!r} at {reading.timestamp} with other "
            "values is already stored: give readings distinct timestamps"
        ) from None
    return True


class ReadingCollision(RuntimeError):
    """Two different readings share one device and timestamp: reported as this record's
    failure (never merged into one row silently)."""


def alert_message(written: Sequence[Anomaly], records: Sequence[Any]) -> dict[str, Any]:
    """The aggregated alert for a batch's newly written anomalies."""
    devices = sorted({a.reading.device_id for a in written})
    top = sorted(written, key=lambda a: a.score, reverse=True)[:ALERT_TOP]
    first = records[0] if records else {}
    return {
        "type": "serverless-ml.iot.anomalies",
        "anomalies": len(written),
        "devices": devices[:ALERT_MAX_DEVICES],
        "device_count": len(devices),
        "top": [
            {
                "device_id": a.reading.device_id,
                "timestamp": a.reading.timestamp,
                "anomaly_score": round(a.score, SCORE_DECIMALS),
                "suspect_sensor": suspect_sensor(a.reading),
                "sequence_number": a.sequence_number,
            }
            for a in top
        ],
        "threshold": THRESHOLD,
        "model_version": MODEL.version,
        "event_source_arn": first.get("eventSourceARN") if isinstance(first, Mapping) else None,
        "sequence_numbers": [a.sequence_number for a in written],
    }


def _alert(topic: str, written: Sequence[Anomaly], records: Sequence[Any]) -> None:
    """One SNS publish for the batch; on failure undo the rows it covered and raise."""
    message = alert_message(written, records)
    subject = f"serverless-ml: {len(written)} IoT anomalies on {message['device_count']} devices"
    try:
        aws.client("sns").publish(
            TopicArn=topic, Subject=subject[:SUBJECT_LIMIT], Message=json.dumps(message)
        )
    except Exception:
        client = aws.client("dynamodb")
        for anomaly in written:
            try:
                client.delete_item(TableName=_env(RESULTS_TABLE_ENV), Key=_key(anomaly))
            except Exception:  # the retry still scores it; this row just will not re-alert
                logger.exception("could not undo an anomaly row after a failed alert")
        raise


def _report(
    records: Sequence[Any],
    readings: Sequence[tuple[int, Reading]],
    anomalies: Sequence[Anomaly],
    written: Sequence[Anomaly],
    failures: Mapping[int, str],
) -> None:
    for index in sorted(failures):
        logger.warning(
            "kinesis record failed",
            extra={
                "sequence_number": kinesis.sequence_number(records[index]),
                "reason": failures[index],
            },
        )
    counts = {
        "RecordsScored": len(readings),
        "Anomalies": len(anomalies),
        "AnomaliesWritten": len(written),
        "RecordsFailed": len(failures),
    }
    logger.info("kinesis batch", extra={"records": len(records), **counts})
    METRICS.record_counts(counts)
