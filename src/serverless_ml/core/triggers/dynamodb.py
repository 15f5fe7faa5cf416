"""DynamoDB-stream trigger: a new table with a NEW_IMAGE stream, or an existing stream; an
event source mapping on the alias that reads it."""

from __future__ import annotations

import json

from serverless_ml.core.acknowledgments import aws_managed_key
from serverless_ml.core.fragments import Fragment, PartContext
from serverless_ml.core.iam import sid
from serverless_ml.core.plan_types import IamStatement, TablePlan, Value
from serverless_ml.core.tables import table_plan
from serverless_ml.core.triggers.streams import (
    iterator_age_alarms,
    iterator_age_widgets,
    mapping_plan,
    own_failure_queue,
)
from serverless_ml.spec.triggers import DynamoStreamTrigger


def dynamodb_fragment(trigger: DynamoStreamTrigger, ctx: PartContext) -> Fragment:
    key = trigger.key
    resources: tuple[TablePlan, ...] = ()
    stream: Value
    streams_of_table: Value
    if trigger.new_table is not None:
        t = trigger.new_table
        table = table_plan(
            ctx.service, key=t.name_suffix, partition_key=t.partition_key,
            sort_key=t.sort_key, stream=True,
        )  # fmt: skip
        resources = (table,)
        stream = table.ref("stream_arn")
        streams_of_table = table.ref("arn", "/stream/*")
    else:
        assert trigger.existing_stream_arn is not None
        stream = trigger.existing_stream_arn
        streams_of_table = stream.split("/stream/", 1)[0] + "/stream/*"
    patterns = [json.dumps({"eventName": list(trigger.event_names)}, sort_keys=True)]
    patterns += [json.dumps(p, sort_keys=True) for p in trigger.extra_filter_patterns]
    mapping = mapping_plan(
        trigger, ctx, key=key, kind="dynamodb", source=stream, filter_patterns=tuple(patterns)
    )
    statements = (
        IamStatement(
            sid=sid("ReadStream", key),
            actions=("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"),
            resources=(stream,),
            reason="the event source mapping reads the stream",
        ),
        IamStatement(
            sid=sid("ListStreams", key),
            actions=("dynamodb:ListStreams",),
            resources=(streams_of_table,),
            reason="the event source mapping lists the table's streams",
        ),
    )
    return Fragment(
        resources=resources,
        bindings=(mapping,),
        statements=statements + own_failure_queue(trigger.on_failure_queue_arn, key),
        alarms=iterator_age_alarms(ctx),
        widgets=iterator_age_widgets(ctx),
        acknowledgments=aws_managed_key(*resources),
    )
