"""One synth per session: every reference stack plus a stack of concurrency/trigger variants,
through the cdk-nag gate (a finding fails ``app.synth()``)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Stack

from serverless_ml.cdk import InferenceService
from serverless_ml.cdk.edge import EdgePersonalization
from serverless_ml.reference.cdk_app import build_app
from serverless_ml.reference.cdk_stacks import EdgePersonalizationStack
from serverless_ml.reference.scenarios import (
    EDGE_STACK_IDS,
    STACK_IDS,
    edge_personalization,
    fraud_detection,
    image_processing,
    iot_anomaly_detection,
)
from serverless_ml.spec import (
    Acknowledge,
    AlarmSettings,
    AlarmSubscriber,
    AlertTopic,
    CapacityProvider,
    ConcurrencyPlan,
    DynamoStreamTrigger,
    EdgePersonalizationSpec,
    HttpOrigin,
    HttpTrigger,
    InferenceServiceSpec,
    KinesisTrigger,
    ModelArtifact,
    NewStream,
    ResultsTable,
    S3Trigger,
    Warmer,
)

EXISTING_STREAM = (
    "arn:aws:dynamodb:us-east-1:123456789012:table/payments/stream/2026-01-01T00:00:00.000"
)
TOPIC = "arn:aws:sns:us-east-1:123456789012:oncall"
EXISTING_KINESIS = "arn:aws:kinesis:us-east-1:123456789012:stream/plant-telemetry"
EXISTING_QUEUE = "arn:aws:sqs:us-east-1:123456789012:scans-dlq"
WEB_ACL = (
    "arn:aws:wafv2:us-east-1:123456789012:global/webacl/shop/0a1b2c3d-1111-2222-3333-444455556666"
)
CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666"
PUBLIC = Acknowledge(
    rule="http-auth", part="http",
    reason="a public storefront scores anonymous checkouts; throttling and WAF front it",
)  # fmt: skip
SUBNETS = ("subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002", "subnet-0a1b2c3d4e5f60003")
SECURITY_GROUP = "sg-0a1b2c3d4e5f60001"
EXISTING_PROVIDER = "arn:aws:lambda:us-east-1:123456789012:capacity-provider:shared-trusted"
MANAGED = ConcurrencyPlan.managed_instances(
    CapacityProvider.new(
        subnet_ids=SUBNETS, security_group_ids=(SECURITY_GROUP,),
        allowed_instance_types=("m7g.large", "m7g.xlarge"), max_vcpu=64,
        target_cpu_utilization=60,
    ),
    max_concurrency=8, min_environments=3, max_environments=12,
)  # fmt: skip
SUBSCRIBERS = (
    AlarmSubscriber(protocol="email", endpoint="oncall@example.com"),
    AlarmSubscriber(protocol="https", endpoint="https://hooks.example.com/alarms"),
    AlarmSubscriber(protocol="sqs", endpoint="arn:aws:sqs:us-east-1:123456789012:alarm-feed"),
)


def variant_specs() -> dict[str, InferenceServiceSpec]:
    """Every concurrency mode and trigger kind not in the reference stacks."""
    base = fraud_detection()
    (stream,) = base.part(DynamoStreamTrigger)
    return {
        "Static": dataclasses.replace(
            base, name="fraud-static", concurrency=ConcurrencyPlan.static(3),
            reserved_concurrency=20,
        ),
        "Tracking": dataclasses.replace(
            base, name="fraud-tracking",
            concurrency=ConcurrencyPlan.target_tracking(min_capacity=2, max_capacity=20),
            triggers=(HttpTrigger(kind="function_url"), stream),
        ),
        "SnapStart": dataclasses.replace(
            base, name="fraud-snapstart", concurrency=ConcurrencyPlan.snapstart(),
            triggers=(*base.part(HttpTrigger),
                      DynamoStreamTrigger(existing_stream_arn=EXISTING_STREAM)),
            alarms=AlarmSettings(topic=TOPIC, dashboard=False),
        ),
        "Kinesis": dataclasses.replace(
            base, name="iot-kinesis",
            triggers=(
                KinesisTrigger(new_stream=NewStream(name_suffix="readings"), batch_size=500,
                               parallelization_factor=2),
                KinesisTrigger(existing_stream_arn=EXISTING_KINESIS),
            ),
            outputs=(ResultsTable(name_suffix="anomalies", partition_key="device_id",
                                  sort_key="timestamp"), AlertTopic()),
        ),
        "S3Existing": dataclasses.replace(
            image_processing(), name="scans",
            triggers=(S3Trigger(existing_bucket_name="partner-scans", prefix="inbox/",
                                suffix=".png", on_failure_queue_arn=EXISTING_QUEUE),),
            outputs=(ResultsTable(name_suffix="results", partition_key="object_id"),),
        ),
        "Compiled": dataclasses.replace(
            base, name="fraud-compiled",
            model=ModelArtifact.packaged("fraud", runtime="compiled"),
        ),
        "Managed": fraud_detection(name="fraud-managed", concurrency=MANAGED),
        "ManagedExisting": iot_anomaly_detection(
            name="iot-managed",
            concurrency=ConcurrencyPlan.managed_instances(
                CapacityProvider.existing(EXISTING_PROVIDER), memory_gib_per_vcpu=8.0
            ),
        ),
        "Warmed": dataclasses.replace(
            base, name="fraud-warmed",
            concurrency=ConcurrencyPlan.on_demand(warmer=Warmer(rate_minutes=5, concurrency=2)),
            triggers=(HttpTrigger(kind="http_api", auth="none"),),
            acknowledgments=(PUBLIC,),
            alarms=AlarmSettings(subscribers=SUBSCRIBERS),
        ),
    }  # fmt: skip


def edge_variant_specs() -> dict[str, EdgePersonalizationSpec]:
    """Edge personalization the reference stack does not cover: a viewer-request function in
    header mode before your own origin, with a WAF web ACL, a certificate and no caching."""
    base = edge_personalization()
    function = dataclasses.replace(
        base.function,
        name="edge-hardened",
        event_type="viewer-request",
        config={"mode": "header", "paths": "/,/shop"},
    )
    return {
        "Hardened": EdgePersonalizationSpec(
            function=function,
            origin=HttpOrigin(domain_name="shop.example.com", origin_path="/site"),
            cache_ttl_s=0,
            web_acl_arn=WEB_ACL,
            certificate_arn=CERTIFICATE,
            domain_names=("www.example.com",),
            alarms=AlarmSettings(topic=TOPIC, dashboard=False),
        ),
    }  # fmt: skip


@dataclass
class Synth:
    outdir: Path
    templates: dict[str, dict[str, Any]]
    services: dict[str, InferenceService]
    edge: dict[str, EdgePersonalization]


_SYNTH: list[Synth] = []  # one per process: tests/parity imports this fixture too


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """Every conftest that imports this fixture gets its own session fixture definition, so the
    synth itself is memoized here: one jsii synth per process."""
    if not _SYNTH:
        _SYNTH.append(_synthesize(tmp_path_factory.mktemp("cdk.out")))
    return _SYNTH[0]


def _synthesize(outdir: Path) -> Synth:
    app = build_app(outdir=outdir)
    variants = Stack(app, "VariantsStack", env={"region": "us-east-1"})
    services = {
        key: InferenceService(variants, key, spec=spec) for key, spec in variant_specs().items()
    }
    for scenario, stack_id in STACK_IDS.items():  # every reference scenario, by its name
        stack = app.node.find_child(stack_id)
        services[scenario] = stack.node.find_child("Service")  # type: ignore[assignment]
    edge = {
        scenario: app.node.find_child(stack_id).node.find_child("Service")
        for scenario, stack_id in EDGE_STACK_IDS.items()
    }
    for key, edge_spec in edge_variant_specs().items():
        edge[key] = EdgePersonalizationStack(app, f"Edge{key}Stack", spec=edge_spec).service
    app.synth()  # the cdk-nag gate: raises on any unacknowledged finding
    templates = {
        p.name.removesuffix(".template.json"): json.loads(p.read_text())
        for p in outdir.glob("*.template.json")
    }
    return Synth(outdir=outdir, templates=templates, services=services, edge=edge)  # type: ignore[arg-type]


def resources(template: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}
