"""Pieces of the local runner that need no process or server: event builders, the committed
model's integrity check, the Lambda SDK link set."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from serverless_ml.local.events import as_lambda_record, http_event, stream_batches, to_item
from serverless_ml.local.lambda_sdk import link_sdk, sdk_modules
from serverless_ml.models.build import ARTIFACTS_ROOT, CARD_FILE, MODEL_FILE, validate_committed
from serverless_ml.models.errors import ARTIFACT_MISSING, ARTIFACT_OUT_OF_DATE, ModelError


def test_to_item_types_and_refuses_nan() -> None:
    item = to_item({"id": "a", "amount": 12.5, "n": 3, "present": True, "note": None})
    assert item == {
        "id": {"S": "a"},
        "amount": {"N": "12.5"},
        "n": {"N": "3"},
        "present": {"BOOL": True},
        "note": {"NULL": True},
    }
    with pytest.raises(ValueError, match="finite"):
        to_item({"amount": float("nan")})


def test_http_event_kinds() -> None:
    assert http_event("{}")["routeKey"] == "POST /score"
    assert http_event("{}", kind="function_url")["requestContext"]["authorizer"]["iam"]
    rest = http_event("{}", kind="rest_api")  # AWS's apigateway-aws-proxy shape, payload 1.0
    assert rest["httpMethod"] == "POST" and rest["requestContext"]["resourcePath"] == "/score"
    with pytest.raises(ValueError, match="kind"):
        http_event("{}", kind="alb")


def test_lambda_record_and_batches() -> None:
    created = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    raw = {
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "dynamodb": {"ApproximateCreationDateTime": created, "SequenceNumber": "1"},
    }
    record = as_lambda_record(raw, "arn:stream")
    assert record["eventSourceARN"] == "arn:stream"
    assert record["dynamodb"]["ApproximateCreationDateTime"] == int(created.timestamp())
    assert isinstance(raw["dynamodb"]["ApproximateCreationDateTime"], datetime)  # not mutated
    batches = stream_batches([{**record, "n": i} for i in range(250)], 100)
    assert [len(b["Records"]) for b in batches] == [100, 100, 50]
    assert [r["n"] for b in batches for r in b["Records"]] == list(range(250))
    with pytest.raises(ValueError):
        stream_batches([record], 0)


def test_validate_committed_accepts_the_committed_models() -> None:
    cards = validate_committed()
    assert [card["name"] for card in cards] == [
        "fraud-gbdt",
        "iot-anomaly",
        "digits-cnn",
        "personalization-gbdt",
    ]
    assert (
        cards[0]["sha256"]
        == json.loads((ARTIFACTS_ROOT / "fraud" / CARD_FILE).read_text())["sha256"]
    )


def test_validate_committed_catches_a_changed_model(tmp_path: Path) -> None:
    shutil.copytree(ARTIFACTS_ROOT / "fraud", tmp_path / "fraud")
    model = tmp_path / "fraud" / MODEL_FILE
    model.write_bytes(model.read_bytes() + b"\0")
    with pytest.raises(ModelError) as caught:
        validate_committed(tmp_path)
    assert caught.value.code == ARTIFACT_OUT_OF_DATE
    model.unlink()
    with pytest.raises(ModelError) as caught:
        validate_committed(tmp_path)
    assert caught.value.code == ARTIFACT_MISSING


def test_sdk_links_boto3_and_its_requirements_only(tmp_path: Path) -> None:
    modules = sdk_modules()
    assert {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3"} <= set(modules)
    assert not {"moto", "numpy", "onnxruntime", "serverless_ml"} & set(modules)
    linked = link_sdk(tmp_path / "sdk")
    assert (linked / "boto3" / "__init__.py").is_file()
    assert all(entry.is_symlink() for entry in linked.iterdir())
