"""The committed IoT anomaly model, its card, its generator, and the reading features."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from serverless_ml.models import iot_model, onnx_export
from serverless_ml.models.build import ARTIFACTS_ROOT, REGISTRY, validate_committed
from serverless_ml.models.iot_data import FAULT_TYPES, NORMAL, generate_readings
from serverless_ml.models.thresholds import threshold_for_false_alarm_rate
from sml_handlers.iot.features import (
    FEATURE_NAMES,
    SENSORS,
    Z_CLIP,
    ReadingError,
    feature_vector,
    parse_reading,
    suspect_sensor,
)

IOT_DIR = ARTIFACTS_ROOT / "iot"
MODEL = IOT_DIR / "model.onnx"


@pytest.fixture(scope="module")
def card() -> dict[str, Any]:
    return dict(json.loads((IOT_DIR / "model_card.json").read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def scorer() -> ort.InferenceSession:
    return onnx_export.session(MODEL)


def sample(n_devices: int = 4, n_steps: int = 120, seed: int = 3) -> list[dict[str, Any]]:
    readings, _ = generate_readings(n_devices, n_steps, seed=seed)
    return readings


# --- the committed artifact and its card ---------------------------------------------------------


def test_registered_and_card_describes_the_committed_file(card: dict[str, Any]) -> None:
    assert REGISTRY["iot"] == "serverless_ml.models.iot_model:build"
    (validated,) = validate_committed(names=["iot"])
    assert validated == card
    assert card["name"] == "iot-anomaly"
    assert card["features"] == list(FEATURE_NAMES)
    assert (card["input_name"], card["output_name"]) == ("features", "anomaly_score")
    assert card["size_bytes"] < 5 * 1024 * 1024
    assert card["training"]["labels_used_for_fitting"] is False
    assert card["training"]["estimator"] == "sklearn.ensemble.IsolationForest"
    assert 0 <= card["parity"]["max_abs_diff"] <= 1e-5


def test_graph_has_one_anomaly_score_output(card: dict[str, Any]) -> None:
    model = onnx.load(str(MODEL))
    assert [o.name for o in model.graph.output] == ["anomaly_score"]
    assert [i.name for i in model.graph.input] == ["features"]
    opsets = {e.domain or "ai.onnx": e.version for e in model.opset_import}
    assert opsets["ai.onnx"] == card["opset"] == 17
    metadata = {p.key: p.value for p in model.metadata_props}
    assert metadata["features"].split(",") == card["features"]


def test_threshold_meets_the_stated_false_alarm_rate_on_validation(card: dict[str, Any]) -> None:
    validation = card["metrics"]["validation_at_threshold"]
    assert validation["false_alarm_rate"] <= card["target_false_alarm_rate"]
    test = card["metrics"]["at_threshold"]
    assert set(test["per_fault_type"]) == set(FAULT_TYPES)
    for numbers in test["per_fault_type"].values():
        assert numbers["readings"] > 0
        assert numbers["detected"] == round(numbers["recall"] * numbers["readings"])


def test_per_fault_metrics_recomputed_from_the_committed_model(
    card: dict[str, Any], scorer: ort.InferenceSession
) -> None:
    """The card's test-fleet numbers are what the committed model scores on a regenerated fleet."""
    test = iot_model.load_split("test")
    assert test.seed == card["training"]["split_seeds"]["test"]
    scores = onnx_export.probabilities(scorer, test.features, output_name="anomaly_score")[:, 0]
    recomputed = iot_model.per_fault_metrics(test.labels, scores, card["threshold"])
    assert recomputed == card["metrics"]["at_threshold"]


def test_scores_rank_faults_above_healthy_readings(scorer: ort.InferenceSession) -> None:
    readings, labels = generate_readings(10, 600, seed=99)
    features = iot_model.featurize(readings)
    scores = onnx_export.probabilities(scorer, features, output_name="anomaly_score")[:, 0]
    y = np.asarray(labels)
    for kind in ("spike", "dropout"):
        if (y == kind).any():
            assert np.median(scores[y == kind]) > np.quantile(scores[y == NORMAL], 0.99)
    assert np.all((scores > 0) & (scores <= 1))


# --- generator --------------------------------------------------------------------------------


def test_generator_is_deterministic_and_labels_every_fault_type() -> None:
    first = generate_readings(6, 1440, seed=5)
    assert first == generate_readings(6, 1440, seed=5)
    assert first != generate_readings(6, 1440, seed=6)
    readings, labels = first
    assert len(readings) == len(labels) == 6 * 1440
    assert set(labels) <= {NORMAL, *FAULT_TYPES}
    assert 0.0 < sum(1 for label in labels if label) / len(labels) < 0.2
    for reading in readings:
        parse_reading(reading)  # every generated reading is valid input


def test_stuck_and_dropout_look_like_their_names() -> None:
    readings, labels = generate_readings(20, 1440, seed=11)
    stuck = [r for r, label in zip(readings, labels, strict=True) if label == "stuck"]
    dropout = [r for r, label in zip(readings, labels, strict=True) if label == "dropout"]
    assert stuck and dropout
    assert np.median([max(r[f"{s}_repeats"] for s in SENSORS) for r in stuck]) >= 5
    assert all(any(r[s] == 0 for s in SENSORS) for r in dropout)


# --- features ----------------------------------------------------------------------------------


def test_feature_vector_and_suspect_sensor() -> None:
    reading = dict(sample()[0])
    reading.update(
        {"vibration_mm_s": 9.0, "vibration_mm_s_baseline": 2.0, "vibration_mm_s_baseline_std": 0.5}
    )
    parsed = parse_reading(reading)
    row = feature_vector(parsed)
    assert len(row) == len(FEATURE_NAMES)
    assert row[0] == pytest.approx(14.0)
    assert row[1] == pytest.approx(math.log1p(max(reading[f"{s}_repeats"] for s in SENSORS)))
    assert suspect_sensor(parsed) == "vibration_mm_s"
    far = parse_reading(dict(reading, rpm=99_999.0))
    assert feature_vector(far)[0] == Z_CLIP
    stuck = parse_reading(dict(reading, pressure_kpa_repeats=40))
    assert suspect_sensor(stuck) == "pressure_kpa"


def test_timestamps_normalised_to_utc_microseconds() -> None:
    reading = sample()[0]
    assert parse_reading(dict(reading, timestamp="2026-01-05T01:00:00+01:00")).timestamp == (
        "2026-01-05T00:00:00.000000Z"
    )
    assert parse_reading(dict(reading, timestamp=1767571200.5)).timestamp == (
        "2026-01-05T00:00:00.500000Z"
    )
    # Less than a millisecond apart: still two readings (issue #8).
    a = parse_reading(dict(reading, timestamp="2026-01-05T00:00:00.000100Z")).timestamp
    b = parse_reading(dict(reading, timestamp="2026-01-05T00:00:00.000600Z")).timestamp
    assert a != b and sorted([b, a]) == [a, b]


@pytest.mark.parametrize(
    "value",
    ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59.999999-23:59"],
)
def test_timestamps_at_the_ends_of_datetime_are_invalid_fields_not_crashes(value: str) -> None:
    with pytest.raises(ReadingError) as error:
        parse_reading(dict(sample()[0], timestamp=value))
    assert set(error.value.errors) == {"timestamp"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"device_id": ""}, "device_id"),
        ({"timestamp": "2026-01-05T00:00:00"}, "timestamp"),
        ({"timestamp": True}, "timestamp"),
        ({"temperature_c": "20"}, "temperature_c"),
        ({"rpm": float("nan")}, "rpm"),
        ({"rpm": True}, "rpm"),
        ({"pressure_kpa": -1.0}, "pressure_kpa"),
        ({"vibration_mm_s_baseline_std": 0}, "vibration_mm_s_baseline_std"),
        ({"rpm_repeats": 1.5}, "rpm_repeats"),
        ({"rpm_repeats": -1}, "rpm_repeats"),
    ],
)
def test_invalid_fields_named(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ReadingError) as caught:
        parse_reading(dict(sample()[0], **change))
    assert set(caught.value.errors) == {field}


def test_missing_fields_and_non_objects() -> None:
    reading = dict(sample()[0])
    del reading["rpm"], reading["device_id"]
    with pytest.raises(ReadingError) as caught:
        parse_reading(reading)
    assert caught.value.errors == {"device_id": "is required", "rpm": "is required"}
    with pytest.raises(ReadingError) as non_object:
        parse_reading([1])
    assert set(non_object.value.errors) == {"reading"}


def test_false_alarm_threshold_helper() -> None:
    normal = np.linspace(0.0, 1.0, 1000, dtype=np.float32)
    cut = threshold_for_false_alarm_rate(normal, 0.01)
    assert int((normal >= cut).sum()) == 10
    ties = np.ones(100, dtype=np.float32)
    assert int((ties >= threshold_for_false_alarm_rate(ties, 0.05)).sum()) == 0
    with pytest.raises(ValueError):
        threshold_for_false_alarm_rate(normal, 0.0)
