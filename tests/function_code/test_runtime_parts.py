"""The small runtime pieces: warmer, AWS clients, SnapStart hooks, EMF metrics, DynamoDB JSON,
strict HTTP bodies and partial batch responses."""

from __future__ import annotations

import base64
import json
import random
import subprocess
import sys
import types
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sml_handlers.runtime import aws, batch, http_api, metrics, snapstart, warmer
from sml_handlers.runtime.dynamodb import ImageError, from_dynamodb_image
from sml_handlers.runtime.model import load_model

# --- warmer -----------------------------------------------------------------------------------


def test_warmer_event_is_the_one_the_library_schedules() -> None:
    from serverless_ml.core.defaults import WARMER_EVENT_JSON

    assert json.loads(WARMER_EVENT_JSON) == warmer.WARMER_EVENT
    assert warmer.is_warmer(json.loads(WARMER_EVENT_JSON))


@pytest.mark.parametrize(
    "event",
    [
        {"serverless-ml": "warmer", "extra": 1},
        {"serverless-ml": "Warmer"},
        {"serverless_ml": "warmer"},
        {},
        ["serverless-ml", "warmer"],
        "warmer",
        None,
    ],
)
def test_only_the_exact_warmer_event_is_recognised(event: object) -> None:
    assert not warmer.is_warmer(event)


# --- AWS clients ------------------------------------------------------------------------------


@pytest.mark.usefixtures("aws_env")
def test_clients_are_cached_and_reset() -> None:
    first = aws.client("dynamodb")
    assert aws.client("dynamodb") is first
    assert aws.cached_client_names() == ("dynamodb",)
    assert first.meta.config.connect_timeout == aws.CONNECT_TIMEOUT_S
    assert first.meta.config.read_timeout == aws.READ_TIMEOUT_S
    aws.reset_clients()
    assert aws.cached_client_names() == ()
    assert aws.client("dynamodb") is not first


def test_boto3_loads_on_first_client_only() -> None:
    code = (
        "import sys\n"
        "from sml_handlers.runtime import aws\n"
        "before = 'boto3' in sys.modules\n"
        "aws.client('dynamodb')\n"
        "print(before, 'boto3' in sys.modules)\n"
    )
    env = {"AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "True"]


# --- SnapStart --------------------------------------------------------------------------------


class _RecordingModel:
    def __init__(self) -> None:
        self.warm_ups = 0

    def warm_up(self) -> None:
        self.warm_ups += 1


def test_before_snapshot_warms_the_session(fraud_model_dir: Path) -> None:
    recording = _RecordingModel()
    snapstart.before_snapshot(recording)  # type: ignore[arg-type]
    assert recording.warm_ups == 1
    snapstart.before_snapshot(load_model(fraud_model_dir, memory_mb=1024))  # a real session


@pytest.mark.usefixtures("aws_env")
def test_after_restore_reseeds_rngs_and_drops_clients() -> None:
    random.seed(1234)
    np.random.seed(1234)
    python_state = random.getstate()
    numpy_key = np.random.get_state(legacy=False)["state"]["key"].copy()
    aws.client("dynamodb")
    snapstart.after_restore()
    assert random.getstate() != python_state
    assert not np.array_equal(np.random.get_state(legacy=False)["state"]["key"], numpy_key)
    assert aws.cached_client_names() == ()


def test_hooks_are_not_registered_outside_lambda(fraud_model_dir: Path) -> None:
    assert "snapshot_restore_py" not in sys.modules
    assert snapstart.register_hooks(load_model(fraud_model_dir, memory_mb=1024)) is False


def test_hooks_register_with_snapshot_restore_py(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stand in for the runtime's module: register_before_snapshot/after_restore(func, *args)."""
    registered: dict[str, tuple[Any, tuple[Any, ...]]] = {}
    fake = types.ModuleType("snapshot_restore_py")
    fake.register_before_snapshot = lambda func, *args: registered.update(before=(func, args))  # type: ignore[attr-defined]
    fake.register_after_restore = lambda func, *args: registered.update(after=(func, args))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", fake)
    recording = _RecordingModel()
    assert snapstart.register_hooks(recording) is True  # type: ignore[arg-type]
    before, before_args = registered["before"]
    after, after_args = registered["after"]
    assert (before, after) == (snapstart.before_snapshot, snapstart.after_restore)
    before(*before_args)  # what Lambda does at snapshot time
    after(*after_args)
    assert recording.warm_ups == 1


# --- EMF metrics ------------------------------------------------------------------------------


def _emitted(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]


def test_cold_start_is_counted_once(capsys: pytest.CaptureFixture[str]) -> None:
    recorder = metrics.Metrics(namespace="NS", service="fraud", function_name="fraud-fn")
    assert recorder.record_cold_start() is True
    assert recorder.record_cold_start() is False
    (document,) = _emitted(capsys)
    assert document["_aws"]["CloudWatchMetrics"] == [
        {
            "Namespace": "NS",
            "Dimensions": [["service", "function_name"]],
            "Metrics": [{"Name": "ColdStart", "Unit": "Count"}],
        }
    ]
    assert (document["service"], document["function_name"], document["ColdStart"]) == (
        "fraud",
        "fraud-fn",
        1,
    )
    assert isinstance(document["_aws"]["Timestamp"], int)


def test_cold_start_outside_lambda_has_no_empty_dimension(
    capsys: pytest.CaptureFixture[str],
) -> None:
    metrics.Metrics(namespace="NS", service="fraud", function_name="").record_cold_start()
    (document,) = _emitted(capsys)
    assert document["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]]
    assert "function_name" not in document


def test_a_warmer_absorbs_the_cold_start(capsys: pytest.CaptureFixture[str]) -> None:
    recorder = metrics.Metrics(namespace="NS", service="fraud", function_name="f")
    recorder.absorb_cold_start()
    assert recorder.record_cold_start() is False
    assert _emitted(capsys) == []


def test_metrics_settings_from_powertools_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Custom")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "payments")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "payments-fn")
    recorder = metrics.Metrics.from_env("fraud")
    assert (recorder.namespace, recorder.service, recorder.function_name) == (
        "Custom",
        "payments",
        "payments-fn",
    )
    monkeypatch.delenv("POWERTOOLS_METRICS_NAMESPACE")
    monkeypatch.delenv("POWERTOOLS_SERVICE_NAME")
    assert metrics.Metrics.from_env("fraud").namespace == metrics.DEFAULT_NAMESPACE
    assert metrics.Metrics.from_env("fraud").service == "fraud"


def test_latency_document_matches_powertools(capsys: pytest.CaptureFixture[str]) -> None:
    """Same EMF document as Powertools' Metrics for the same metric (it wraps values in lists)."""
    from aws_lambda_powertools import Metrics as PowertoolsMetrics
    from aws_lambda_powertools.metrics import MetricUnit

    recorder = metrics.Metrics(namespace="ServerlessML", service="fraud", function_name="f")
    recorder.record_latency(0.25)
    (ours,) = _emitted(capsys)
    theirs_metrics = PowertoolsMetrics(namespace="ServerlessML", service="fraud")
    theirs_metrics.add_metric(name="InferenceLatency", unit=MetricUnit.Milliseconds, value=0.25)
    theirs: dict[str, Any] = json.loads(json.dumps(theirs_metrics.serialize_metric_set()))
    theirs_metrics.clear_metrics()
    for document in (ours, theirs):
        del document["_aws"]["Timestamp"]
    assert ours["_aws"] == theirs["_aws"]
    assert theirs["InferenceLatency"] == [ours.pop("InferenceLatency")]
    del theirs["InferenceLatency"]
    assert ours == theirs


# --- DynamoDB JSON ----------------------------------------------------------------------------

RICH_ITEM: dict[str, Any] = {
    "id": "t-1",
    "amount": Decimal("12.5"),
    "count": Decimal("3"),
    "big": Decimal("12345678901234567890"),
    "flag": True,
    "nothing": None,
    "blob": b"\x00\xff",
    "nested": {"a": [Decimal("1"), "x", {"b": False}]},
    "tags": {"a", "b"},
    "scores": {Decimal("1.5"), Decimal("2")},
}


def test_image_decoding_agrees_with_boto3() -> None:
    from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer

    serializer, deserializer = TypeSerializer(), TypeDeserializer()
    image = {name: serializer.serialize(value) for name, value in RICH_ITEM.items()}

    def plain(value: Any) -> Any:
        if isinstance(value, Decimal):
            return int(value) if value == value.to_integral_value() else float(value)
        if isinstance(value, Binary):
            return bytes(value)
        if isinstance(value, set):
            return sorted(plain(item) for item in value)
        if isinstance(value, list):
            return [plain(item) for item in value]
        if isinstance(value, dict):
            return {key: plain(item) for key, item in value.items()}
        return value

    ours = from_dynamodb_image(
        json.loads(json.dumps(image, default=lambda b: base64.b64encode(bytes(b)).decode()))
    )
    ours = {
        key: sorted(value) if key in ("tags", "scores") else value for key, value in ours.items()
    }
    assert ours == {name: plain(deserializer.deserialize(typed)) for name, typed in image.items()}
    assert isinstance(ours["count"], int)
    assert isinstance(ours["amount"], float)


@pytest.mark.parametrize(
    ("image", "message"),
    [
        ({"amount": {"N": "twelve"}}, "not a number"),
        ({"amount": {"N": "NaN"}}, "not finite"),
        ({"amount": {"N": 12}}, "must be a string"),
        ({"amount": {"X": "1"}}, "unknown attribute type"),
        ({"amount": {"N": "1", "S": "1"}}, "exactly one type key"),
        ({"amount": "12"}, "exactly one type key"),
        ({"flag": {"BOOL": "true"}}, "BOOL"),
        ({"blob": {"B": "%%%"}}, "base64"),
        ({"deep": {"M": {"inner": {"L": [{"N": "x"}]}}}}, "'deep'"),
        (["not", "a", "map"], "must be an object"),
    ],
)
def test_bad_images_raise_image_error(image: Any, message: str) -> None:
    with pytest.raises(ImageError, match=message):
        from_dynamodb_image(image)


# --- strict HTTP bodies -----------------------------------------------------------------------


def _event(body: Any, *, encoded: bool = False) -> dict[str, Any]:
    return {
        "rawPath": "/",
        "requestContext": {"http": {"method": "POST"}},
        "body": body,
        "isBase64Encoded": encoded,
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"a": NaN}', "NaN"),
        ('{"a": Infinity}', "Infinity"),
        ('{"a": [-Infinity]}', "-Infinity"),
        ('{"a": 1e400}', "out of range"),
        ('{"a": 123456789012345678901234567890}', "out of range"),
        ('{"a": 1, "a": 2}', "duplicate key"),
        ("[" * 100_000, "exceeds"),
        ("[" * 8_000 + "]" * 8_000, "nested too deeply"),
        ('{"a": 1', "malformed JSON"),
        ("", "missing"),
        (None, "missing"),
        (17, "must be a string"),
        ("[]", "got array"),
        ('"text"', "got string"),
        ("3", "got number"),
        ("null", "got null"),
    ],
)
def test_strict_json_bodies(body: Any, message: str) -> None:
    with pytest.raises(http_api.RequestError, match=message) as caught:
        http_api.json_object_body(_event(body), max_bytes=16_384)
    assert list(caught.value.fields) == ["body"]


def test_size_limit_counts_utf8_bytes() -> None:
    text = json.dumps({"a": "é" * 5000}, ensure_ascii=False)  # 5000 characters, 10000 bytes
    assert http_api.json_object_body(_event(text), max_bytes=10_010) == {"a": "é" * 5000}
    with pytest.raises(http_api.RequestError, match="exceeds"):
        http_api.json_object_body(_event(text), max_bytes=10_000)


def test_base64_bodies() -> None:
    encoded = base64.b64encode(b'{"a": 1}').decode()
    assert http_api.json_object_body(_event(encoded, encoded=True), max_bytes=100) == {"a": 1}
    with pytest.raises(http_api.RequestError, match="base64"):
        http_api.json_object_body(_event("not base64!", encoded=True), max_bytes=100)
    invalid_utf8 = base64.b64encode(b'{"a": "\xff"}').decode()
    with pytest.raises(http_api.RequestError, match="UTF-8"):
        http_api.json_object_body(_event(invalid_utf8, encoded=True), max_bytes=100)
    too_big = base64.b64encode(b" " * 101).decode()
    with pytest.raises(http_api.RequestError, match="exceeds"):
        http_api.json_object_body(_event(too_big, encoded=True), max_bytes=100)


def test_json_response_shape() -> None:
    response = http_api.json_response(405, {"error": "x"}, headers={"Allow": "POST"})
    assert response == {
        "statusCode": 405,
        "headers": {"Content-Type": "application/json", "Allow": "POST"},
        "body": '{"error":"x"}',
        "isBase64Encoded": False,
    }


# --- partial batch responses ------------------------------------------------------------------


def test_partial_batch_response() -> None:
    assert batch.partial_batch_response([], [], total=3) == {"batchItemFailures": []}
    assert batch.partial_batch_response(["2"], ["bad"], total=3) == {
        "batchItemFailures": [{"itemIdentifier": "2"}]
    }
    with pytest.raises(batch.BatchFailedError, match="all 2 records") as caught:
        batch.partial_batch_response(["1", "2"], ["bad", "worse"], total=2)
    assert caught.value.failures == ("1", "2")
