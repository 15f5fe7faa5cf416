"""One Pulumi mock render per spec per session: the fraud reference service plus variants that
cover every concurrency mode and trigger kind it does not use."""

from __future__ import annotations

import dataclasses

import pytest

from serverless_ml.core.plan import build_plan
from serverless_ml.core.plan_types import ServicePlan
from serverless_ml.reference.scenarios import fraud_detection
from serverless_ml.spec import (
    AlarmSettings,
    AlertTopic,
    CapacityProvider,
    ConcurrencyPlan,
    DynamoStreamTrigger,
    HttpTrigger,
    InferenceServiceSpec,
    KinesisTrigger,
    NewStream,
    ResultsTable,
    ScheduledAction,
    Warmer,
)
from tests.cdk.conftest import PUBLIC, SUBSCRIBERS
from tests.pulumi.harness import Rendered, render

EXISTING_STREAM = (
    "arn:aws:dynamodb:eu-west-1:123456789012:table/payments/stream/2026-01-01T00:00:00.000"
)
EXISTING_QUEUE = "arn:aws:sqs:eu-west-1:123456789012:payments-dlq"
ONCALL_TOPIC = "arn:aws:sns:eu-west-1:123456789012:oncall"
PAGER = "arn:aws:sns:eu-west-1:123456789012:pager"


def specs() -> dict[str, InferenceServiceSpec]:
    base = fraud_detection()
    (stream,) = base.part(DynamoStreamTrigger)
    return {
        "fraud": base,
        "static": dataclasses.replace(
            base, name="fraud-static", concurrency=ConcurrencyPlan.static(3),
            reserved_concurrency=20,
            triggers=(HttpTrigger(kind="function_url", auth="none", route="POST /",
                                  cors_origins=("https://shop.example.com",)), stream),
            acknowledgments=(PUBLIC,),
        ),
        "tracking": dataclasses.replace(
            base, name="fraud-tracking",
            concurrency=ConcurrencyPlan.target_tracking(min_capacity=2, max_capacity=20),
            triggers=(HttpTrigger(kind="function_url"), stream),
        ),
        "scheduled": dataclasses.replace(
            base, name="fraud-scheduled",
            concurrency=ConcurrencyPlan.scheduled(
                [ScheduledAction(name="day", schedule="cron(0 6 * * ? *)", min_capacity=3,
                                 max_capacity=3)],
                min_capacity=0, max_capacity=3,
            ),
        ),
        "snapstart": dataclasses.replace(
            base, name="fraud-snapstart", concurrency=ConcurrencyPlan.snapstart(),
            tracing=False, outputs=(),
            triggers=(
                DynamoStreamTrigger(
                    existing_stream_arn=EXISTING_STREAM, on_failure_queue_arn=EXISTING_QUEUE,
                    batch_size=500, max_batching_window_s=5, starting_position="TRIM_HORIZON",
                    retry_attempts=5, max_record_age_s=600, parallelization_factor=4,
                    event_names=("INSERT",),
                    extra_filter_patterns=({"dynamodb": {"NewImage": {"amount": {"N": [{
                        "numeric": [">", 0]}]}}}},),
                ),
            ),
            alarms=AlarmSettings(topic=ONCALL_TOPIC, extra_action_arns=(PAGER,), dashboard=False),
        ),
        "kinesis": dataclasses.replace(
            base, name="iot-kinesis",
            triggers=(
                KinesisTrigger(new_stream=NewStream(name_suffix="readings", mode="PROVISIONED",
                                                    shard_count=2, retention_hours=48)),
            ),
            outputs=(ResultsTable(name_suffix="anomalies", partition_key="device_id",
                                  sort_key="timestamp"), AlertTopic()),
        ),
        "managed": dataclasses.replace(
            base, name="fraud-managed", architecture="x86_64", memory_mb=8192,
            concurrency=ConcurrencyPlan.managed_instances(
                CapacityProvider.new(
                    subnet_ids=("subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"),
                    security_group_ids=("sg-0a1b2c3d4e5f60001", "sg-0a1b2c3d4e5f60002"),
                    excluded_instance_types=("m5.large",),
                ),
                memory_gib_per_vcpu=2.0, max_environments=20,
            ),
            alarms=AlarmSettings().with_threshold("capacity_cpu_pct", threshold=70),
        ),
        "warmed": dataclasses.replace(
            base, name="fraud-warmed",
            concurrency=ConcurrencyPlan.on_demand(warmer=Warmer(rate_minutes=5, concurrency=2)),
            triggers=(HttpTrigger(kind="http_api", auth="none", route="PUT /v1/score",
                                  cors_origins=("https://a.example.com", "https://b.example.com"),
                                  throttle_rate_per_s=7, throttle_burst=9),),
            acknowledgments=(PUBLIC,), alarms=AlarmSettings(subscribers=SUBSCRIBERS),
            log_retention_days=7, tags={"team": "risk"},
        ),
    }  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Case:
    key: str
    spec: InferenceServiceSpec
    plan: ServicePlan
    render: Rendered


_CACHE: dict[str, Case] = {}


def case(key: str) -> Case:
    """The render of ``specs()[key]``, made once per session."""
    if key not in _CACHE:
        spec = specs()[key]
        _CACHE[key] = Case(key=key, spec=spec, plan=build_plan(spec), render=render(spec))
    return _CACHE[key]


@pytest.fixture(scope="session")
def fraud() -> Case:
    return case("fraud")


@pytest.fixture(scope="session", params=sorted(specs()))
def any_case(request: pytest.FixtureRequest) -> Case:
    """Every spec, rendered once each."""
    return case(str(request.param))
