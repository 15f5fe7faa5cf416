"""Kinesis trigger: a new encrypted data stream or an existing one; an event source mapping on
the alias, and the stream's own iterator-age alarm."""

from __future__ import annotations

import json

from serverless_ml.core import naming
from serverless_ml.core.acknowledgments import aws_managed_key
from serverless_ml.core.alarms import alarm
from serverless_ml.core.fragments import Fragment, PartContext
from serverless_ml.core.iam import sid
from serverless_ml.core.plan_types import (
    AlarmPlan,
    IamStatement,
    KinesisStreamPlan,
    MetricPlan,
    Value,
)
from serverless_ml.core.triggers.streams import (
    iterator_age_alarms,
    iterator_age_widgets,
    mapping_plan,
    own_failure_queue,
)
from serverless_ml.spec.triggers import KinesisTrigger, NewStream, is_token


def stream_plan(service: str, stream: NewStream) -> KinesisStreamPlan:
    """Encrypted with the AWS-managed ``aws/kinesis`` key: consumers in the account decrypt
    through Kinesis without extra KMS grants, and there is no key to pay for or rotate."""
    return KinesisStreamPlan(
        key=stream.name_suffix,
        name=naming.stream_name(service, stream.name_suffix),
        mode=stream.mode,
        shard_count=stream.shard_count,
        retention_hours=stream.retention_hours,
        encryption_key="alias/aws/kinesis",
        retain_on_delete=True,
    )


def kinesis_fragment(trigger: KinesisTrigger, ctx: PartContext) -> Fragment:
    resources: tuple[KinesisStreamPlan, ...] = ()
    source: Value
    stream_name: str | None
    if trigger.new_stream is not None:
        stream = stream_plan(ctx.service, trigger.new_stream)
        resources = (stream,)
        source, stream_name = stream.ref("arn"), stream.name
    else:
        assert trigger.existing_stream_arn is not None
        source = trigger.existing_stream_arn
        # A deploy-time token has no name to put in the alarm's StreamName dimension: the
        # Lambda IteratorAge alarm still watches the mapping.
        stream_name = None if is_token(source) else source.rsplit("/", 1)[-1]
    patterns = tuple(json.dumps(p, sort_keys=True) for p in trigger.filter_patterns)
    mapping = mapping_plan(
        trigger, ctx, key=trigger.key, kind="kinesis", source=source, filter_patterns=patterns
    )
    statement = IamStatement(
        sid=sid("ReadKinesis", trigger.key),
        actions=(
            "kinesis:DescribeStream",
            "kinesis:DescribeStreamSummary",
            "kinesis:GetRecords",
            "kinesis:GetShardIterator",
            "kinesis:ListShards",
            "kinesis:SubscribeToShard",
        ),
        resources=(source,),
        reason="the event source mapping reads the stream's shards",
    )
    return Fragment(
        resources=resources,
        bindings=(mapping,),
        statements=(statement, *own_failure_queue(trigger.on_failure_queue_arn, trigger.key)),
        alarms=iterator_age_alarms(ctx)
        + (_stream_age_alarms(ctx, stream_name) if stream_name else ()),
        widgets=iterator_age_widgets(ctx),
        acknowledgments=aws_managed_key(*resources),
    )


def _stream_age_alarms(ctx: PartContext, stream: str) -> tuple[AlarmPlan, ...]:
    """Records waiting in the stream itself (seen before Lambda reads them)."""
    t = ctx.alarms.iterator_age_ms
    if not t.enabled:
        return ()
    metric = MetricPlan(
        namespace="AWS/Kinesis",
        metric_name="GetRecords.IteratorAgeMilliseconds",
        dimensions=(("StreamName", stream),),
        statistic="Maximum",
        period_s=t.period_s,
    )
    return (
        alarm(
            ctx.service,
            f"kinesis_iterator_age_{stream.removeprefix(ctx.service + '-')}",
            f"Records waiting in Kinesis stream {stream} (GetRecords.IteratorAgeMilliseconds)",
            t,
            metric,
        ),
    )
