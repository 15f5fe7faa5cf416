"""The IoT function run on moto with IAM enforced, granted exactly the actions the plan gives
its role, on the success path and on the recovery path (undo the rows when the alert fails,
so the retry alerts again). Without enforcement moto allows everything, and a missing action
only shows in production (issue #8).

moto evaluates IAM actions here but not these services' resource ARNs, so the function user
gets the plan's actions on ``*``: the test proves the action set; the resource scoping is
compared by the parity tests instead.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws
from moto.core import set_initial_no_auth_action_count

from serverless_ml.core.plan import build_plan
from serverless_ml.reference.scenarios import iot_anomaly_detection
from tests.function_code.iam import SETUP_ACTIONS, enforced_iam, runtime_actions
from tests.function_code.iot_support import (
    ANOMALIES_TABLE,
    AwsResources,
    encode,
    iot_handler,
    kinesis_event,
    mixed_readings,
)

iot = iot_handler()


def function_actions() -> list[str]:
    return runtime_actions(build_plan(iot_anomaly_detection()))


@pytest.fixture
def enforced(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsResources]:
    """Admin-made resources; the handler's own clients use the function's credentials."""
    with mock_aws(), enforced_iam(monkeypatch, function_actions()) as as_function:
        resources = AwsResources()
        as_function()
        monkeypatch.setenv("SML_RESULTS_TABLE", ANOMALIES_TABLE)
        monkeypatch.setenv("SML_ALERT_TOPIC_ARN", resources.topic_arn)
        yield resources


def test_the_plan_grants_the_undo_the_recovery_path_needs() -> None:
    assert function_actions() == ["dynamodb:DeleteItem", "dynamodb:PutItem", "sns:Publish"]


@set_initial_no_auth_action_count(SETUP_ACTIONS)
def test_success_and_recovery_paths_under_enforced_iam(
    enforced: AwsResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    readings = mixed_readings(5, 3, seed=11)
    event = kinesis_event([encode(r) for r in readings])
    monkeypatch.setenv("SML_ALERT_TOPIC_ARN", enforced.topic_arn + "-missing")
    with pytest.raises(Exception, match=r"(?i)not ?found|does not exist"):
        iot.handler(event, None)  # the alert fails: its rows are undone
    assert enforced.anomalies() == {}, "the undo (DeleteItem) was denied: the retry alerts nobody"
    monkeypatch.setenv("SML_ALERT_TOPIC_ARN", enforced.topic_arn)
    assert iot.handler(event, None) == {"batchItemFailures": []}
    assert len(enforced.anomalies()) == 3
    (alert,) = enforced.alerts()
    assert alert["anomalies"] == 3
