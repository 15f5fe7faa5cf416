"""The fraud (DynamoDB stream) and image (S3) functions on moto with IAM enforced, granted
exactly their plan's runtime actions; every action granted is used by a path here."""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto import mock_aws
from moto.core import set_initial_no_auth_action_count

from serverless_ml.core.plan import build_plan
from serverless_ml.reference.scenarios import fraud_detection, image_processing
from sml_handlers.fraud import handler as fraud
from tests.function_code.handler_events import (
    DECISIONS_TABLE,
    StreamTables,
    sample_transactions,
    to_item,
)
from tests.function_code.iam import SETUP_ACTIONS, enforced_iam, runtime_actions
from tests.function_code.test_image_handler import BUCKET, TABLE, Aws, digit_png, event, handler


def test_granted_runtime_actions_per_function() -> None:
    """What each function's own code may call (the report the issue asks for)."""
    assert runtime_actions(build_plan(fraud_detection())) == ["dynamodb:PutItem"]
    assert runtime_actions(build_plan(image_processing())) == [
        "dynamodb:PutItem", "s3:GetObject", "s3:GetObjectVersion", "s3:PutObject",
    ]  # fmt: skip


@set_initial_no_auth_action_count(SETUP_ACTIONS)
def test_fraud_stream_decides_and_redecides_with_only_its_grants(
    aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    actions = runtime_actions(build_plan(fraud_detection()))
    with mock_aws(), enforced_iam(monkeypatch, actions) as as_function:
        monkeypatch.setenv("SML_RESULTS_TABLE", DECISIONS_TABLE)
        tables = StreamTables()
        (txn,) = sample_transactions(1, seed=41)
        tables.put(to_item(txn))
        first = tables.next_batch()
        tables.put(to_item({**txn, "amount": txn["amount"] * 30 + 900}))
        second = tables.next_batch()
        as_function()
        assert fraud.handler(first, None) == {"batchItemFailures": []}  # PutItem
        assert fraud.handler(json.loads(json.dumps(first)), None) == {"batchItemFailures": []}
        assert fraud.handler(second, None) == {"batchItemFailures": []}  # re-decided
    # (the stream's reads and the failure queue are used by the event source mapping)


@set_initial_no_auth_action_count(SETUP_ACTIONS)
def test_image_function_reads_and_writes_with_only_its_grants(
    aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    actions = runtime_actions(build_plan(image_processing()))
    with mock_aws(), enforced_iam(monkeypatch, actions) as as_function:
        resources = Aws()
        for name, value in {"SML_RESULTS_TABLE": TABLE, "SML_RESULTS_BUCKET": BUCKET,
                            "SML_RESULTS_PREFIX": "results/"}.items():  # fmt: skip
            monkeypatch.setenv(name, value)
        record: dict[str, Any] = resources.upload("uploads/a.png", digit_png(4))
        unversioned = json.loads(json.dumps(resources.upload("uploads/b.png", digit_png(5))))
        unversioned["s3"]["object"].pop("versionId")
        as_function()
        # GetObjectVersion (a), GetObject (b), PutItem and PutObject (both), duplicates skipped
        response = handler.handler(event(record, unversioned), None)
        assert response["results_written"] == 2 and response["failed"] == 0
        assert handler.handler(event(record), None)["results_written"] == 0
        as_admin_results = resources.results()  # the admin client reads them back
    assert set(as_admin_results) == {"uploads/a.png", "uploads/b.png"}
