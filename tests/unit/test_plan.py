"""build_plan decides every name, setting, permission and alarm once."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from serverless_ml.core import defaults, limits
from serverless_ml.core.alarms import dashboard_body
from serverless_ml.core.plan import build_plan
from serverless_ml.core.plan_types import Ref, ServicePlan
from serverless_ml.reference.scenarios import fraud_detection
from serverless_ml.spec import (
    AlarmSettings,
    AlertTopic,
    ConcurrencyPlan,
    DynamoStreamTrigger,
    HttpTrigger,
    KinesisTrigger,
    NewStream,
    ResultsTable,
    SpecError,
    Warmer,
)


@pytest.fixture(scope="module")
def plan() -> ServicePlan:
    return build_plan(fraud_detection())


def test_names_are_pinned(plan: ServicePlan) -> None:
    assert plan.function.name == "fraud-detection"
    assert plan.function.role_name == "fraud-detection-fn-role"
    assert plan.function.log_group_name == "/aws/lambda/fraud-detection"
    assert [t.name for t in plan.tables] == [
        "fraud-detection-transactions",
        "fraud-detection-decisions",
    ]
    assert [q.name for q in plan.queues] == ["fraud-detection-failures"]
    assert plan.monitoring.topic_name == "fraud-detection-alarms"
    assert plan.http is not None and plan.http.name == "fraud-detection-http"
    assert plan.function.handler == "sml_handlers.fraud.handler.handler"


def test_function_defaults(plan: ServicePlan) -> None:
    f = plan.function
    assert (f.runtime, f.architecture, f.memory_mb, f.timeout_s) == (
        "python3.13",
        "arm64",
        1024,
        10,
    )
    env = dict(f.environment)
    assert env["SML_RESULTS_TABLE"] == "fraud-detection-decisions"
    assert env["POWERTOOLS_SERVICE_NAME"] == "fraud-detection"
    assert f.tracing and not f.snapstart
    assert f.bundle.requirements == defaults.FUNCTION_REQUIREMENTS
    assert f.bundle.max_unzipped_bytes == limits.LAMBDA_UNZIPPED_BYTES


def test_stream_defaults_lose_nothing(plan: ServicePlan) -> None:
    (m,) = plan.stream_mappings
    assert m.bisect_on_error and m.function_response_types == ("ReportBatchItemFailures",)
    assert 0 <= m.retry_attempts <= 10 and 60 <= m.max_record_age_s <= 86_400
    assert m.on_failure_destination == Ref("queue:failures", "arn")
    assert m.source_arn == Ref("table:transactions", "stream_arn")
    assert json.loads(m.filter_patterns[0]) == {"eventName": ["INSERT", "MODIFY"]}


def test_scheduled_pc_tracks_maximum_with_floor(plan: ServicePlan) -> None:
    assert plan.alias.provisioned >= 1
    s = plan.scaling
    assert s is not None
    assert (s.metric_name, s.metric_statistic) == ("ProvisionedConcurrencyUtilization", "Maximum")
    assert s.resource_id == "function:fraud-detection:live"
    assert s.min_capacity >= 1 and s.target_utilization == 0.7
    assert [a.name for a in s.scheduled_actions] == [
        "fraud-detection-business-hours",
        "fraud-detection-off-hours",
    ]
    assert dict(s.metric_dimensions)["Resource"] == "fraud-detection:live"


def test_iam_is_least_privilege(plan: ServicePlan) -> None:
    by_sid = {s.sid: s for s in plan.iam}
    assert by_sid["WriteResults"].actions == ("dynamodb:PutItem",)
    assert by_sid["WriteResults"].resources == (Ref("table:decisions", "arn"),)
    assert by_sid["SendFailures"].resources == (Ref("queue:failures", "arn"),)
    wildcard = [s.sid for s in plan.iam if "*" in s.resources]
    assert wildcard == ["XRayTracing"]
    for statement in plan.iam:
        assert all(not a.endswith(":*") for a in statement.actions)
        assert statement.reason


def test_alarm_preset_is_alias_aware(plan: ServicePlan) -> None:
    keys = [a.key for a in plan.monitoring.alarms]
    assert keys == [
        "errors", "error_rate_pct", "throttles", "duration_p99", "cold_starts", "pc_spillover",
        "pc_utilization", "iterator_age", "failure_queue_depth",
    ]  # fmt: skip
    errors = plan.monitoring.alarms[0]
    assert errors.metric is not None
    assert dict(errors.metric.dimensions)["Resource"] == "fraud-detection:live"
    duration = next(a for a in plan.monitoring.alarms if a.key == "duration_p99")
    assert duration.threshold == 8000  # 80% of 10 s
    body = json.loads(dashboard_body(plan.monitoring, "eu-west-1"))
    assert {w["properties"]["region"] for w in body["widgets"]} == {"eu-west-1"}


def test_on_demand_plan_has_no_pc_alarms_or_scaling() -> None:
    spec = dataclasses.replace(
        fraud_detection(),
        concurrency=ConcurrencyPlan.on_demand(warmer=Warmer(rate_minutes=5, concurrency=2)),
        triggers=fraud_detection().part(HttpTrigger),
        alarms=AlarmSettings(topic=None, dashboard=False),
    )
    plan = build_plan(spec)
    assert plan.scaling is None and plan.alias.provisioned == 0
    keys = {a.key for a in plan.monitoring.alarms}
    assert not keys & {"pc_spillover", "pc_utilization", "iterator_age"}
    assert plan.monitoring.topic_name is None and plan.monitoring.dashboard_name is None
    assert plan.warmer is not None
    assert plan.warmer.schedule == "rate(5 minutes)" and plan.warmer.target_ids == (
        "warm0",
        "warm1",
    )
    assert json.loads(plan.warmer.input_json) == {"serverless-ml": "warmer"}


def test_static_and_snapstart_modes() -> None:
    static = build_plan(
        dataclasses.replace(fraud_detection(), concurrency=ConcurrencyPlan.static(3))
    )
    assert static.alias.provisioned == 3 and static.scaling is None
    snap = build_plan(
        dataclasses.replace(fraud_detection(), concurrency=ConcurrencyPlan.snapstart())
    )
    assert snap.function.snapstart and snap.alias.provisioned == 0


def test_existing_stream_and_function_url() -> None:
    arn = "arn:aws:dynamodb:us-east-1:123456789012:table/payments/stream/2026-01-01T00:00:00.000"
    spec = dataclasses.replace(
        fraud_detection(),
        triggers=(
            DynamoStreamTrigger(existing_stream_arn=arn, batch_size=500),
            HttpTrigger(kind="function_url"),
        ),
    )
    plan = build_plan(spec)
    (m,) = plan.stream_mappings
    assert m.source_arn == arn and m.key == "payments"
    assert [t.key for t in plan.tables] == ["decisions"]
    list_streams = next(s for s in plan.iam if s.sid.startswith("ListStreams"))
    assert list_streams.resources == (
        "arn:aws:dynamodb:us-east-1:123456789012:table/payments/stream/*",
    )
    assert plan.http is not None and plan.http.access_log_group_name is None


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("batch_size", 10_001, "SML201"),
        ("max_batching_window_s", 301, "SML202"),
        ("retry_attempts", -1, "SML203"),
        ("max_record_age_s", -1, "SML204"),
        ("parallelization_factor", 11, "SML205"),
        ("batch_size", 5000, "SML206"),
    ],
)
def test_stream_limits_are_checked(field: str, value: int, code: str) -> None:
    base = fraud_detection()
    (trigger,) = base.part(DynamoStreamTrigger)
    spec = dataclasses.replace(
        base,
        triggers=(*base.part(HttpTrigger), dataclasses.replace(trigger, **{field: value})),
    )
    with pytest.raises(SpecError) as info:
        build_plan(spec)
    assert info.value.code == code


def _kinesis_spec(**trigger: Any) -> Any:
    return dataclasses.replace(
        fraud_detection(),
        triggers=(KinesisTrigger(new_stream=NewStream(name_suffix="readings"), **trigger),),
        outputs=(ResultsTable(name_suffix="anomalies", partition_key="device_id",
                              sort_key="timestamp"), AlertTopic()),
    )  # fmt: skip


def test_kinesis_trigger_plan_loses_nothing() -> None:
    plan = build_plan(_kinesis_spec())
    (stream,) = plan.streams
    assert (stream.name, stream.mode, stream.encryption_key) == (
        "fraud-detection-readings", "ON_DEMAND", "alias/aws/kinesis",
    )  # fmt: skip
    (m,) = plan.stream_mappings
    assert m.source_kind == "kinesis" and m.source_arn == Ref("stream:readings", "arn")
    assert m.bisect_on_error and m.function_response_types == ("ReportBatchItemFailures",)
    assert m.on_failure_destination == Ref("queue:failures", "arn") and not m.filter_patterns
    read = next(s for s in plan.iam if s.sid == "ReadKinesisReadings")
    assert read.resources == (Ref("stream:readings", "arn"),)
    assert "kinesis:GetRecords" in read.actions
    publish = next(s for s in plan.iam if s.sid == "PublishAlerts")
    assert publish.resources == (Ref("topic:alerts", "arn"),)
    assert dict(plan.function.environment)["SML_ALERT_TOPIC_ARN"] == Ref("topic:alerts", "arn")
    assert "SML_ALERT_TOPIC_ARN" not in plan.function.literal_environment()
    keys = {a.key for a in plan.monitoring.alarms}
    assert {"iterator_age", "kinesis_iterator_age_readings", "failure_queue_depth"} <= keys
    kinesis_age = next(
        a for a in plan.monitoring.alarms if a.key == "kinesis_iterator_age_readings"
    )
    assert kinesis_age.metric is not None
    assert kinesis_age.metric.metric_name == "GetRecords.IteratorAgeMilliseconds"
    assert dict(kinesis_age.metric.dimensions) == {"StreamName": "fraud-detection-readings"}
    (table,) = [t for t in plan.tables if t.key == "anomalies"]
    assert (table.sort_key, table.sort_key_type) == ("timestamp", "S")


@pytest.mark.parametrize(
    ("trigger", "code"),
    [
        ({"batch_size": 10_001}, "SML201"),
        ({"retry_attempts": -1}, "SML203"),
        ({"max_record_age_s": -1}, "SML204"),
        ({"parallelization_factor": 11}, "SML205"),
    ],
)
def test_kinesis_limits_are_checked(trigger: dict[str, int], code: str) -> None:
    with pytest.raises(SpecError) as info:
        build_plan(_kinesis_spec(**trigger))
    assert info.value.code == code


def test_kinesis_spec_refusals() -> None:
    with pytest.raises(SpecError, match="SML174"):
        KinesisTrigger()
    with pytest.raises(SpecError, match="SML140"):
        KinesisTrigger(existing_stream_arn="arn:aws:sqs:us-east-1:123456789012:q")
    with pytest.raises(SpecError, match="SML171"):
        NewStream(name_suffix="s", mode="PROVISIONED")
    with pytest.raises(SpecError, match="SML171"):
        NewStream(name_suffix="s", shard_count=2)
    with pytest.raises(SpecError, match="SML172"):
        NewStream(name_suffix="s", mode="PROVISIONED", shard_count=0)
    with pytest.raises(SpecError, match="SML173"):
        NewStream(name_suffix="s", retention_hours=12)
    with pytest.raises(SpecError, match="SML170"):
        NewStream(name_suffix="s", mode="BURST")  # type: ignore[arg-type]
    with pytest.raises(SpecError, match="SML167"):
        dataclasses.replace(
            _kinesis_spec(),
            triggers=(
                KinesisTrigger(new_stream=NewStream(name_suffix="a")),
                KinesisTrigger(new_stream=NewStream(name_suffix="a")),
            ),
        )
