"""IoT handler on Kinesis batches: real onnxruntime on the committed model, moto for AWS."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from moto import mock_aws

from sml_handlers.iot.features import parse_reading
from sml_handlers.runtime.batch import BatchFailedError
from tests.function_code.iot_support import (
    ANOMALIES_TABLE,
    AwsResources,
    encode,
    iot_handler,
    kinesis_event,
    mixed_readings,
    reference_scores,
    sequence_number,
    threshold,
)

iot = iot_handler()


@pytest.fixture
def aws(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsResources]:
    with mock_aws():
        resources = AwsResources()
        monkeypatch.setenv("SML_RESULTS_TABLE", ANOMALIES_TABLE)
        monkeypatch.setenv("SML_ALERT_TOPIC_ARN", resources.topic_arn)
        yield resources


@pytest.fixture
def score_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = iot.score

    def counting(rows: np.ndarray) -> np.ndarray:
        calls.append(len(rows))
        return np.asarray(real(rows))

    monkeypatch.setattr(iot, "score", counting)
    return calls


def failures(response: dict[str, Any]) -> list[str]:
    return [item["itemIdentifier"] for item in response["batchItemFailures"]]


def keys(readings: list[dict[str, Any]]) -> set[tuple[str, str]]:
    parsed = [parse_reading(r) for r in readings]
    return {(r.device_id, r.timestamp) for r in parsed}


def expected_anomalies(readings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    scores = reference_scores(readings)
    return [r for r, s in zip(readings, scores, strict=True) if s >= threshold()]


def test_batch_scored_in_one_call_anomalies_written_one_alert(
    aws: AwsResources, score_calls: list[int]
) -> None:
    readings = mixed_readings(40, 8, seed=7)
    response = iot.handler(kinesis_event([encode(r) for r in readings]), None)
    assert response == {"batchItemFailures": []}
    assert score_calls == [48]
    rows = aws.anomalies()
    assert set(rows) == keys(expected_anomalies(readings))
    assert len(rows) == 8
    (alert,) = aws.alerts()
    assert alert["anomalies"] == 8
    assert alert["device_count"] == len({d for d, _ in rows})
    assert sorted(alert["devices"]) == sorted({d for d, _ in rows})
    tops = [entry["anomaly_score"] for entry in alert["top"]]
    assert tops == sorted(tops, reverse=True) and len(tops) == 8
    assert all(score >= threshold() for score in tops)
    some = next(iter(rows.values()))
    assert float(some["anomaly_score"]["N"]) >= threshold()
    assert some["suspect_sensor"]["S"] in {"temperature_c", "vibration_mm_s", "pressure_kpa", "rpm"}


def test_poison_records_reported_by_exact_sequence_number_neighbours_scored(
    aws: AwsResources, score_calls: list[int]
) -> None:
    readings = mixed_readings(20, 4, seed=8)
    payloads = [encode(r) for r in readings]
    missing_field = dict(readings[3])
    del missing_field["rpm"]
    wrong_type = dict(readings[5], temperature_c="hot")
    payloads[1] = b"{not json"
    payloads[3] = encode(missing_field)
    payloads[5] = encode(wrong_type)
    payloads[7] = encode([1, 2, 3])
    event = kinesis_event(payloads)
    event["Records"][9]["kinesis"]["data"] = "%%% not base64 %%%"
    response = iot.handler(event, None)
    poison = [1, 3, 5, 7, 9]
    assert failures(response) == [sequence_number(i) for i in poison]
    assert score_calls == [len(readings) - len(poison)]
    good = [r for i, r in enumerate(readings) if i not in poison]
    assert set(aws.anomalies()) == keys(expected_anomalies(good))


def test_all_poison_batch_raises_for_bisect(aws: AwsResources) -> None:
    with pytest.raises(BatchFailedError):
        iot.handler(kinesis_event([b"[]", b"null", b"{}"]), None)
    assert aws.anomalies() == {}
    assert aws.alerts() == []


def test_replay_writes_nothing_and_alerts_nothing(aws: AwsResources) -> None:
    readings = mixed_readings(10, 5, seed=9)
    event = kinesis_event([encode(r) for r in readings])
    iot.handler(event, None)
    first_rows = aws.anomalies()
    assert len(aws.alerts()) == 1
    assert iot.handler(event, None) == {"batchItemFailures": []}
    assert aws.anomalies() == first_rows
    assert aws.alerts() == []


def test_no_anomaly_no_alert(aws: AwsResources, score_calls: list[int]) -> None:
    readings = mixed_readings(30, 0, seed=10)
    assert iot.handler(kinesis_event([encode(r) for r in readings]), None) == {
        "batchItemFailures": []
    }
    assert score_calls == [30]
    assert aws.anomalies() == {}
    assert aws.alerts() == []


def test_failed_alert_undoes_rows_so_the_retry_alerts(
    aws: AwsResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    readings = mixed_readings(5, 3, seed=11)
    event = kinesis_event([encode(r) for r in readings])
    monkeypatch.setenv("SML_ALERT_TOPIC_ARN", aws.topic_arn + "-missing")
    with pytest.raises(Exception, match=r"(?i)not ?found|does not exist"):
        iot.handler(event, None)
    assert aws.anomalies() == {}
    monkeypatch.setenv("SML_ALERT_TOPIC_ARN", aws.topic_arn)
    iot.handler(event, None)
    assert len(aws.anomalies()) == 3
    (alert,) = aws.alerts()
    assert alert["anomalies"] == 3


def test_decodes_base64_json_and_normalises_timestamps(aws: AwsResources) -> None:
    (reading,) = mixed_readings(0, 1, seed=12)
    epoch = dict(reading, timestamp=1767571200.25)  # 2026-01-05T00:00:00.250000Z
    event = kinesis_event([encode(epoch)])
    assert json.loads(base64.b64decode(event["Records"][0]["kinesis"]["data"])) == epoch
    iot.handler(event, None)
    assert set(aws.anomalies()) == {(reading["device_id"], "2026-01-05T00:00:00.250000Z")}


def test_warmer_and_unrecognised_events(aws: AwsResources) -> None:
    assert iot.handler({"serverless-ml": "warmer"}, None) == {"warmed": True}
    with pytest.raises(ValueError, match="Kinesis"):
        iot.handler({"Records": [{"eventSource": "aws:sqs"}]}, None)


def test_missing_configuration_fails_loudly(
    aws: AwsResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SML_RESULTS_TABLE")
    with pytest.raises(RuntimeError, match="SML_RESULTS_TABLE"):
        iot.handler(kinesis_event([b"{}"]), None)


def test_distinct_readings_stay_distinct_and_a_collision_is_reported(aws: AwsResources) -> None:
    """Issue #8: readings of one device less than a millisecond apart are two rows; two
    different readings with the very same device and timestamp are never merged silently."""
    anomalous = expected_anomalies(mixed_readings(0, 3, seed=12))
    first = dict(anomalous[0], timestamp="2026-01-05T00:00:00.000100Z")
    close = dict(anomalous[1], device_id=first["device_id"],
                 timestamp="2026-01-05T00:00:00.000600Z")  # fmt: skip
    clash = dict(anomalous[2], device_id=first["device_id"], timestamp=first["timestamp"])
    replay = dict(first)
    response = iot.handler(kinesis_event([encode(r) for r in (first, close, clash, replay)]), None)
    assert failures(response) == [sequence_number(2)]  # the clash, alone
    rows = aws.anomalies()
    assert set(rows) == {
        (first["device_id"], "2026-01-05T00:00:00.000100Z"),
        (first["device_id"], "2026-01-05T00:00:00.000600Z"),
    }
    (alert,) = aws.alerts()
    assert alert["anomalies"] == 2
