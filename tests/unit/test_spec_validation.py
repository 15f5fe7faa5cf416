"""Every spec refusal carries its code and says what to change."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from serverless_ml.reference.scenarios import fraud_detection
from serverless_ml.spec import (
    AlarmSettings,
    AlarmThreshold,
    AlertTopic,
    ConcurrencyPlan,
    DynamoStreamTrigger,
    HttpTrigger,
    InferenceServiceSpec,
    ModelArtifact,
    NewTable,
    ResultsTable,
    ScheduledAction,
    SpecError,
    Warmer,
)


def _spec(**changes: Any) -> InferenceServiceSpec:
    return dataclasses.replace(fraud_detection(), **changes)


@pytest.mark.parametrize(
    ("changes", "code", "hint"),
    [
        ({"name": "Fraud_Detection"}, "SML101", "lowercase"),
        ({"alias_name": "$LATEST"}, "SML102", "bypass provisioned concurrency"),
        ({"alias_name": "123"}, "SML103", "alias_name"),
        ({"function_package": "handler"}, "SML104", "dotted package"),
        ({"runtime": "python3.11"}, "SML105", "glibc 2.28"),
        ({"architecture": "sparc"}, "SML106", "arm64 or x86_64"),
        ({"memory_mb": 64}, "SML107", "128..10240"),
        ({"timeout_s": 901}, "SML108", "1..900"),
        ({"ephemeral_storage_mb": 100}, "SML109", "512..10240"),
        ({"log_retention_days": 42}, "SML160", "CloudWatch accepts"),
        ({"reserved_concurrency": 5}, "SML162", "below the peak provisioned"),
        (
            {"concurrency": ConcurrencyPlan.snapstart(), "runtime": "python3.12",
             "ephemeral_storage_mb": 1024},
            "SML164",
            "ephemeral storage",
        ),
        ({"environment": {"AWS_REGION": "x"}}, "SML166", "reserved prefix"),
        ({"environment": {"bad-key": "x"}}, "SML165", "letters"),
        (
            {"outputs": (ResultsTable(name_suffix="transactions", partition_key="id"),)},
            "SML168",
            "loop",
        ),
        (
            {"outputs": (ResultsTable(name_suffix="decisions", partition_key="id"),
                         AlertTopic(name_suffix="decisions"))},
            "SML167",
            "unique",
        ),
    ],
)  # fmt: skip
def test_spec_refusals(changes: dict[str, Any], code: str, hint: str) -> None:
    with pytest.raises(SpecError) as info:
        _spec(**changes)
    assert info.value.code == code
    assert hint in str(info.value)


def test_results_table_cannot_be_the_triggering_table() -> None:
    with pytest.raises(SpecError) as info:
        _spec(
            triggers=(
                DynamoStreamTrigger(new_table=NewTable(name_suffix="t", partition_key="id")),
            ),
            outputs=(ResultsTable(name_suffix="t", partition_key="id"),),
        )
    assert info.value.code == "SML168"


@pytest.mark.parametrize(
    ("build", "code"),
    [
        (lambda: ConcurrencyPlan(mode="static"), "SML111"),
        (lambda: ConcurrencyPlan(mode="on_demand", provisioned=3), "SML112"),
        (lambda: ConcurrencyPlan.target_tracking(min_capacity=5, max_capacity=2), "SML113"),
        (lambda: ConcurrencyPlan(mode="static", provisioned=1, min_capacity=1), "SML114"),
        (lambda: ConcurrencyPlan(mode="target_tracking", min_capacity=1, max_capacity=2), "SML115"),
        (lambda: ConcurrencyPlan.target_tracking(min_capacity=1, max_capacity=2,
                                                 target_utilization=0.99), "SML117"),
        (lambda: ConcurrencyPlan.scheduled([], min_capacity=1, max_capacity=2), "SML118"),
        (lambda: ScheduledAction(name="x", schedule="every day", min_capacity=1, max_capacity=1),
         "SML121"),
        (lambda: ScheduledAction(name="x", schedule="cron(0 8 * * ? *)", min_capacity=3,
                                 max_capacity=1), "SML122"),
        (lambda: Warmer(rate_minutes=0), "SML123"),
        (lambda: Warmer(concurrency=6), "SML124"),
        (lambda: ConcurrencyPlan(mode="burst"), "SML110"),  # type: ignore[arg-type]
    ],
)  # fmt: skip
def test_concurrency_refusals(build: Any, code: str) -> None:
    with pytest.raises(SpecError) as info:
        build()
    assert info.value.code == code


def test_snapstart_needs_python_312() -> None:
    # python3.11 is refused earlier (onnxruntime needs glibc 2.28); the SnapStart rule stands
    # on its own for any runtime string that gets through.
    with pytest.raises(SpecError) as info:
        _spec(concurrency=ConcurrencyPlan.snapstart(), runtime="python3.11")
    assert info.value.code in ("SML105", "SML163")


def test_trigger_refusals() -> None:
    with pytest.raises(SpecError, match="SML145"):
        DynamoStreamTrigger()
    with pytest.raises(SpecError, match="SML145"):
        DynamoStreamTrigger(
            new_table=NewTable(name_suffix="t", partition_key="id"),
            existing_stream_arn="arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x",
        )
    with pytest.raises(SpecError, match="SML140"):
        DynamoStreamTrigger(existing_stream_arn="arn:aws:sqs:us-east-1:123456789012:q")
    with pytest.raises(SpecError, match="SML146"):
        DynamoStreamTrigger(
            new_table=NewTable(name_suffix="t", partition_key="id"), event_names=("UPSERT",)
        )
    with pytest.raises(SpecError, match="SML143"):
        HttpTrigger(route="score")
    with pytest.raises(SpecError, match="SML144"):
        HttpTrigger(throttle_rate_per_s=0)


def test_alarm_refusals_and_overrides() -> None:
    with pytest.raises(SpecError, match="SML150"):
        AlarmThreshold(threshold=1, period_s=45)
    with pytest.raises(SpecError, match="SML151"):
        AlarmThreshold(threshold=1, evaluation_periods=2, datapoints=3)
    with pytest.raises(SpecError, match="SML153"):
        AlarmSettings().with_threshold("nope", threshold=1)  # type: ignore[arg-type]
    settings = AlarmSettings().with_threshold("errors", threshold=7)
    assert settings.errors.threshold == 7
    assert settings.throttles == AlarmSettings().throttles


def test_model_artifact_must_exist(tmp_path: Any) -> None:
    with pytest.raises(SpecError, match="SML130"):
        ModelArtifact(name="x", directory=tmp_path)


def test_concurrency_plan_json_round_trip(tmp_path: Any) -> None:
    plan = fraud_detection().concurrency
    path = tmp_path / "plan.json"
    import json

    path.write_text(json.dumps(plan.to_dict()))
    assert ConcurrencyPlan.from_json_file(path) == plan
    path.write_text(json.dumps({"mode": "static", "provisioned": 2, "bogus": 1}))
    with pytest.raises(SpecError, match="SML127"):
        ConcurrencyPlan.from_json_file(path)
    path.write_text("{not json")
    with pytest.raises(SpecError, match="SML129"):
        ConcurrencyPlan.from_json_file(path)
