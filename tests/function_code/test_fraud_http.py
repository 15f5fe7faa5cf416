"""Fraud handler over HTTP API 2.0 and function URL requests, on the committed model."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sml_handlers.fraud import handler as fraud
from sml_handlers.fraud.features import decide, feature_vector, parse_transaction
from sml_handlers.runtime.metrics import Metrics
from tests.function_code.handler_events import http_event, sample_transactions

KINDS = ["http_api", "function_url", "rest_api"]
RESPONSE_KEYS = {"transaction_id", "decision", "score", "model_version"}


@pytest.fixture(scope="module")
def reference_session(fraud_model_dir_module: Path) -> ort.InferenceSession:
    """An independent session (ORT defaults, one thread) to check the handler's scores against."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(
        str(fraud_model_dir_module / "model.onnx"), options, providers=["CPUExecutionProvider"]
    )


@pytest.fixture(scope="module")
def fraud_model_dir_module() -> Path:
    import os

    return Path(os.environ["SML_MODEL_DIR"])


@pytest.fixture(scope="module")
def card(fraud_model_dir_module: Path) -> dict[str, Any]:
    return dict(json.loads((fraud_model_dir_module / "model_card.json").read_text()))


def reference_scores(session: ort.InferenceSession, txns: list[dict[str, Any]]) -> np.ndarray:
    rows = np.asarray([feature_vector(parse_transaction(t)) for t in txns], dtype=np.float32)
    (probabilities,) = session.run(["probabilities"], {"features": rows})
    return np.asarray(probabilities)[:, 1]


def call(event: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, Any]]:
    response = fraud.handler(event, None)
    assert set(response) == {"statusCode", "headers", "body", "isBase64Encoded"}
    assert response["headers"]["Content-Type"] == "application/json"
    assert response["isBase64Encoded"] is False
    return response["statusCode"], response["headers"], json.loads(response["body"])


def assert_bad_request(event: dict[str, Any], *fields: str) -> dict[str, str]:
    status, _, body = call(event)
    assert status == 400, body
    assert body["error"] == "invalid_transaction"
    assert set(fields) <= set(body["fields"]), body
    assert all(isinstance(message, str) and message for message in body["fields"].values())
    return dict(body["fields"])


@pytest.fixture(scope="module")
def txns() -> list[dict[str, Any]]:
    return sample_transactions(300, seed=2024)


# --- valid requests ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_scores_match_an_independent_session(
    kind: str,
    txns: list[dict[str, Any]],
    reference_session: ort.InferenceSession,
    card: dict[str, Any],
) -> None:
    expected = reference_scores(reference_session, txns)
    review, decline = card["thresholds"]["review"], card["thresholds"]["decline"]
    for txn, score in zip(txns, expected.tolist(), strict=True):
        status, _, body = call(http_event(json.dumps(txn), kind=kind))
        assert status == 200, body
        assert set(body) == RESPONSE_KEYS
        assert body["transaction_id"] == txn["transaction_id"]
        assert body["model_version"] == card["version"]
        assert body["score"] == pytest.approx(score, abs=2e-6)
        assert body["decision"] == decide(score, review, decline)


def test_approve_and_decline_examples(
    txns: list[dict[str, Any]], reference_session: ort.InferenceSession, card: dict[str, Any]
) -> None:
    scores = reference_scores(reference_session, txns)
    review, decline = card["thresholds"]["review"], card["thresholds"]["decline"]
    low = [t for t, s in zip(txns, scores, strict=True) if s < review]
    high = [t for t, s in zip(txns, scores, strict=True) if s >= decline]
    assert low and high, "the generator should yield clear approvals and declines"
    assert call(http_event(json.dumps(low[0])))[2]["decision"] == "approve"
    assert call(http_event(json.dumps(high[0])))[2]["decision"] == "decline"


@pytest.mark.parametrize("kind", KINDS)
def test_base64_body_is_decoded(kind: str, txns: list[dict[str, Any]]) -> None:
    body = json.dumps(txns[0])
    plain = call(http_event(body, kind=kind))
    encoded = call(http_event(body, kind=kind, base64_body=True))
    assert encoded == plain
    assert plain[0] == 200


def test_body_at_the_size_limit_is_accepted(txns: list[dict[str, Any]]) -> None:
    body = json.dumps(txns[0])
    padded = body + " " * (fraud.MAX_BODY_BYTES - len(body.encode()))
    assert len(padded.encode()) == fraud.MAX_BODY_BYTES
    assert call(http_event(padded))[0] == 200
    assert_bad_request(http_event(padded + " "), "body")


def test_a_valid_request_emits_its_inference_latency(
    txns: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    call(http_event(json.dumps(txns[0])))
    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    latency = [d for d in documents if "InferenceLatency" in d]
    assert len(latency) == 1
    assert latency[0]["service"] == "fraud"
    assert latency[0]["InferenceLatency"] >= 0.0


# --- client errors: 400, never 500 -------------------------------------------------------------


@pytest.mark.parametrize("field", ["transaction_id", "amount", "card_present", "timestamp"])
def test_missing_field(field: str, txns: list[dict[str, Any]]) -> None:
    txn = {key: value for key, value in txns[0].items() if key != field}
    assert_bad_request(http_event(json.dumps(txn)), field)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount", "12.50"),
        ("amount", None),
        ("amount", True),
        ("card_present", "yes"),
        ("transaction_id", 12345),
        ("txn_count_1h", [1]),
        ("merchant_category", {"name": "x"}),
    ],
)
def test_mistyped_field(field: str, value: Any, txns: list[dict[str, Any]]) -> None:
    assert_bad_request(http_event(json.dumps({**txns[0], field: value})), field)


def test_every_bad_field_is_listed(txns: list[dict[str, Any]]) -> None:
    txn = {**txns[0], "amount": "lots", "card_present": "maybe"}
    del txn["account_age_days"]
    assert_bad_request(http_event(json.dumps(txn)), "amount", "card_present", "account_age_days")


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_rejected(literal: str, txns: list[dict[str, Any]]) -> None:
    body = json.dumps({**txns[0], "amount": 0.5}).replace("0.5", literal, 1)
    assert literal in body
    assert_bad_request(http_event(body), "body")


@pytest.mark.parametrize(
    "body",
    ['{"transaction_id": "t-1", ', "not json", "[1, 2]", '"a string"', "42", "null", "", "{}}"],
)
def test_malformed_or_non_object_bodies(body: str) -> None:
    assert_bad_request(http_event(body), "body")


def test_missing_body() -> None:
    assert_bad_request(http_event(None), "body")


def test_oversized_body(txns: list[dict[str, Any]]) -> None:
    huge = json.dumps({**txns[0], "note": "x" * (fraud.MAX_BODY_BYTES + 1)})
    assert_bad_request(http_event(huge), "body")
    assert_bad_request(http_event(huge, base64_body=True), "body")


def test_bad_base64() -> None:
    event = http_event("{}")
    event.update(body="***not-base64***", isBase64Encoded=True)
    assert "base64" in assert_bad_request(event, "body")["body"]


def test_invalid_utf8_body() -> None:
    event = http_event("{}")
    event.update(body="eyJhIjogIv8ifQ==", isBase64Encoded=True)  # {"a": "\xff"}
    assert_bad_request(event, "body")


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"])
@pytest.mark.parametrize("kind", KINDS)
def test_wrong_method_is_405(method: str, kind: str, txns: list[dict[str, Any]]) -> None:
    status, headers, body = call(http_event(json.dumps(txns[0]), method=method, kind=kind))
    assert status == 405
    assert headers["Allow"] == "POST"
    assert body["error"] == "method_not_allowed"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.one_of(st.text(max_size=300), st.binary(max_size=300).map(lambda b: b.hex())))
def test_fuzzed_text_bodies_never_500(body: str) -> None:
    status, _, _ = call(http_event(body))
    assert status == 400


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fuzzed_field_values_are_200_or_400(data: st.DataObject) -> None:
    txn = dict(sample_transactions(1, seed=5)[0])
    for field in data.draw(st.sets(st.sampled_from(sorted(txn)), max_size=3)):
        txn[field] = data.draw(JSON_VALUES)
    status, _, body = call(http_event(json.dumps(txn)))
    assert status in (200, 400)
    if status == 400:
        assert body["error"] == "invalid_transaction"


# --- warmer, cold start, unknown events ---------------------------------------------------------


def test_warmer_is_answered_without_inference_logs_or_metrics(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    def no_inference(rows: np.ndarray) -> np.ndarray:
        raise AssertionError("a warmer must not run the model")

    monkeypatch.setattr(fraud, "score", no_inference)
    capsys.readouterr()
    with caplog.at_level(logging.DEBUG):
        assert fraud.handler({"serverless-ml": "warmer"}, None) == {"warmed": True}
    assert capsys.readouterr().out == ""
    assert caplog.records == []


def test_cold_start_metric_once_per_environment(
    monkeypatch: pytest.MonkeyPatch, txns: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        fraud, "METRICS", Metrics(namespace="NS", service="fraud", function_name="f")
    )
    capsys.readouterr()
    call(http_event(json.dumps(txns[0])))
    call(http_event(json.dumps(txns[1])))
    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [d.get("ColdStart") for d in documents if "ColdStart" in d] == [1]


def test_a_warmer_first_takes_the_cold_start_silently(
    monkeypatch: pytest.MonkeyPatch, txns: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        fraud, "METRICS", Metrics(namespace="NS", service="fraud", function_name="f")
    )
    fraud.handler({"serverless-ml": "warmer"}, None)
    capsys.readouterr()
    call(http_event(json.dumps(txns[0])))
    assert "ColdStart" not in capsys.readouterr().out


@pytest.mark.parametrize(
    ("event", "hint"),
    [
        ({"httpMethod": "POST", "requestContext": {}, "body": "{}"}, "keys ['body'"),
        ({"Records": [{"eventSource": "aws:sqs", "body": "{}"}]}, "keys ['Records']"),
        ({"Records": []}, "keys ['Records']"),
        ({"serverless-ml": "warmer", "x": 1}, "keys"),
        ({}, "keys []"),
        (["a"], "a list"),
        (None, "a NoneType"),
    ],
)
def test_unknown_events_raise_a_clear_error(
    event: object, hint: str, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.ERROR),
        pytest.raises(ValueError, match="unrecognised event") as err,
    ):
        fraud.handler(event, None)
    assert hint in str(err.value)
    assert any(record.message == "unrecognised event" for record in caplog.records)
