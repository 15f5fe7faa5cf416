"""Names are API: type tokens and logical names are pinned (renaming replaces resources)."""

from __future__ import annotations

from tests.pulumi.conftest import Case, case

SERVICE = "serverless-ml:index:InferenceService"
FUNCTION = "serverless-ml:lambda:InferenceFunction"
HTTP = "serverless-ml:triggers:HttpEndpoint"
STREAM = "serverless-ml:triggers:DynamoStreamTrigger"
ALARMS = "serverless-ml:monitoring:InferenceAlarms"

FRAUD = {
    (SERVICE, "fraud-detection", ""),
    ("aws:dynamodb/table:Table", "fraud-detection-table-transactions", SERVICE),
    ("aws:dynamodb/table:Table", "fraud-detection-table-decisions", SERVICE),
    ("aws:sqs/queue:Queue", "fraud-detection-queue-failures", SERVICE),
    ("aws:sqs/queuePolicy:QueuePolicy", "fraud-detection-queue-failures-policy", SERVICE),
    (FUNCTION, "fraud-detection", SERVICE),
    ("aws:cloudwatch/logGroup:LogGroup", "fraud-detection-logs", FUNCTION),
    ("aws:iam/role:Role", "fraud-detection-role", FUNCTION),
    ("aws:iam/rolePolicy:RolePolicy", "fraud-detection-policy", FUNCTION),
    ("aws:lambda/function:Function", "fraud-detection-function", FUNCTION),
    ("aws:lambda/alias:Alias", "fraud-detection-alias", FUNCTION),
    (
        "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig",
        "fraud-detection-provisioned",
        FUNCTION,
    ),
    (
        "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
        "fraud-detection-async",
        FUNCTION,
    ),
    ("aws:appautoscaling/target:Target", "fraud-detection-scaling-target", FUNCTION),
    ("aws:appautoscaling/policy:Policy", "fraud-detection-scaling-policy", FUNCTION),
    (
        "aws:appautoscaling/scheduledAction:ScheduledAction",
        "fraud-detection-business-hours",
        FUNCTION,
    ),
    ("aws:appautoscaling/scheduledAction:ScheduledAction", "fraud-detection-off-hours", FUNCTION),
    (HTTP, "fraud-detection", SERVICE),
    ("aws:cloudwatch/logGroup:LogGroup", "fraud-detection-access-logs", HTTP),
    ("aws:apigatewayv2/api:Api", "fraud-detection-api", HTTP),
    ("aws:apigatewayv2/integration:Integration", "fraud-detection-integration", HTTP),
    ("aws:apigatewayv2/route:Route", "fraud-detection-route", HTTP),
    ("aws:apigatewayv2/stage:Stage", "fraud-detection-stage", HTTP),
    ("aws:lambda/permission:Permission", "fraud-detection-api-permission", HTTP),
    (STREAM, "fraud-detection-stream-transactions", SERVICE),
    (
        "aws:lambda/eventSourceMapping:EventSourceMapping",
        "fraud-detection-stream-transactions-mapping",
        STREAM,
    ),
    (ALARMS, "fraud-detection", SERVICE),
    ("aws:sns/topic:Topic", "fraud-detection-topic", ALARMS),
    ("aws:sns/topicPolicy:TopicPolicy", "fraud-detection-topic-policy", ALARMS),
    ("aws:kms/key:Key", "fraud-detection-key", ALARMS),
    ("aws:kms/alias:Alias", "fraud-detection-key-alias", ALARMS),
    *(
        ("aws:cloudwatch/metricAlarm:MetricAlarm", f"fraud-detection-alarm-{key}", ALARMS)
        for key in (
            "errors",
            "error-rate-pct",
            "throttles",
            "duration-p99",
            "cold-starts",
            "iterator-age",
            "failure-queue-depth",
            "pc-spillover",
            "pc-utilization",
        )
    ),
    ("aws:cloudwatch/dashboard:Dashboard", "fraud-detection-dashboard", ALARMS),
}


def _inventory(c: Case) -> set[tuple[str, str, str]]:
    return {(r.type, r.name, c.render.parent_type(r)) for r in c.render.resources}


def test_fraud_tokens_names_and_parents_are_pinned(fraud: Case) -> None:
    assert _inventory(fraud) == FRAUD
    assert len(fraud.render.resources) == len(FRAUD)  # no duplicate registrations


def test_root_component_is_parented_to_the_stack(fraud: Case) -> None:
    root = fraud.render.named("fraud-detection", SERVICE)
    assert root.parent.split("::")[2] == "pulumi:pulumi:Stack"


def test_variant_only_children_are_pinned() -> None:
    static = _inventory(case("static"))
    assert ("aws:lambda/functionUrl:FunctionUrl", "fraud-static-url", HTTP) in static
    assert ("aws:lambda/permission:Permission", "fraud-static-url-permission", HTTP) in static
    assert (
        "aws:lambda/permission:Permission",
        "fraud-static-url-invoke-permission",
        HTTP,
    ) in static
    warmed = _inventory(case("warmed"))
    assert {
        ("aws:cloudwatch/eventRule:EventRule", "fraud-warmed-warmer", FUNCTION),
        ("aws:cloudwatch/eventTarget:EventTarget", "fraud-warmed-warmer-target-0", FUNCTION),
        ("aws:cloudwatch/eventTarget:EventTarget", "fraud-warmed-warmer-target-1", FUNCTION),
        ("aws:lambda/permission:Permission", "fraud-warmed-warmer-permission", FUNCTION),
    } <= warmed
    snap = _inventory(case("snapstart"))
    assert (STREAM, "fraud-snapstart-stream-payments", SERVICE) in snap


def test_children_are_prefixed_with_the_component_name(any_case: Case) -> None:
    """Two services in one stack never collide: every logical name starts with its own."""
    root = next(r for r in any_case.render.resources if r.type == SERVICE)
    for r in any_case.render.resources:
        assert r.name.startswith(root.name), r.name
