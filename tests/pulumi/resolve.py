"""What a plan ``Value`` must have rendered to, read from the mocks' recorded outputs."""

from __future__ import annotations

from serverless_ml.core.alarms import ALARM_TOPIC_ID
from serverless_ml.core.plan_types import LOG_GROUP_ID, Joined, Pseudo, Ref, ServicePlan, Value
from tests.pulumi.harness import ACCOUNT, RecordedResource, Rendered

_ATTRIBUTE = {"arn": "arn", "stream_arn": "streamArn"}


def created(render: Rendered, type_: str, physical_name: str) -> RecordedResource:
    found = [r for r in render.of_type(type_) if r.inputs.get("name") == physical_name]
    assert len(found) == 1, f"{len(found)} {type_} named {physical_name!r}"
    return found[0]


def resource_of(render: Rendered, plan: ServicePlan, ref: Ref) -> RecordedResource:
    kind, _, key = ref.resource.partition(":")
    if ref.resource == LOG_GROUP_ID:
        return created(render, "aws:cloudwatch/logGroup:LogGroup", plan.function.log_group_name)
    if ref.resource == ALARM_TOPIC_ID:
        assert plan.monitoring.topic_name is not None
        return created(render, "aws:sns/topic:Topic", plan.monitoring.topic_name)
    if kind == "table":
        return created(render, "aws:dynamodb/table:Table", plan.table(key).name)
    if kind == "queue":
        return created(render, "aws:sqs/queue:Queue", plan.queue(key).name)
    if kind == "stream":
        (stream,) = [s for s in plan.streams if s.key == key]
        return created(render, "aws:kinesis/stream:Stream", stream.name)
    if kind == "topic":
        (topic,) = [t for t in plan.topics if t.key == key]
        return created(render, "aws:sns/topic:Topic", topic.name)
    if kind == "capacity_provider":
        (provider,) = [c for c in plan.capacity_providers if c.key == key]
        return created(render, "aws:lambda/capacityProvider:CapacityProvider", provider.name)
    raise AssertionError(f"the plan refers to an unknown resource: {ref}")


def expected(render: Rendered, plan: ServicePlan, value: Value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Pseudo):
        assert value.name in ("account_id", "partition")
        return ACCOUNT if value.name == "account_id" else "aws"
    if isinstance(value, Joined):
        return "".join(expected(render, plan, part) for part in value.parts)
    attribute = resource_of(render, plan, value).outputs[_ATTRIBUTE[value.attribute]]
    assert isinstance(attribute, str) and attribute.startswith("arn:aws:")
    return attribute + value.suffix
