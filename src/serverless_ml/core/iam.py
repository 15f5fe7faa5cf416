"""Least-privilege IAM statements for the function's role."""

from __future__ import annotations

from serverless_ml.core.plan_types import IamStatement, Ref, StreamMappingPlan, Value

LOG_GROUP = "log_group"


def function_statements(
    *,
    tracing: bool,
    stream_mappings: tuple[StreamMappingPlan, ...],
    results_table: str | None,
    failure_queue: str | None,
    alert_topic: str | None = None,
) -> tuple[IamStatement, ...]:
    """Everything the function (and its event source mappings) may do, nothing more."""
    statements = [
        IamStatement(
            sid="WriteOwnLogs",
            actions=("logs:CreateLogStream", "logs:PutLogEvents"),
            resources=(Ref(LOG_GROUP, "arn", ":*"),),
            reason="write log events to the function's own log group",
        )
    ]
    if tracing:
        statements.append(
            IamStatement(
                sid="XRayTracing",
                actions=("xray:PutTraceSegments", "xray:PutTelemetryRecords"),
                resources=("*",),
                reason="X-Ray trace segments have no resource-level permissions",
            )
        )
    for mapping in stream_mappings:
        stream: Value = mapping.source_arn
        if mapping.source_kind == "kinesis":
            statements.append(
                IamStatement(
                    sid=_sid("ReadKinesis", mapping.key),
                    actions=(
                        "kinesis:DescribeStream",
                        "kinesis:DescribeStreamSummary",
                        "kinesis:GetRecords",
                        "kinesis:GetShardIterator",
                        "kinesis:ListShards",
                        "kinesis:SubscribeToShard",
                    ),
                    resources=(stream,),
                    reason="the event source mapping reads the stream's shards",
                )
            )
            continue
        statements.append(
            IamStatement(
                sid=_sid("ReadStream", mapping.key),
                actions=(
                    "dynamodb:DescribeStream",
                    "dynamodb:GetRecords",
                    "dynamodb:GetShardIterator",
                ),
                resources=(stream,),
                reason="the event source mapping reads the stream",
            )
        )
        streams_of_table: Value = (
            Ref(f"table:{mapping.source_table}", "arn", "/stream/*")
            if mapping.source_table is not None
            else str(stream).split("/stream/", 1)[0] + "/stream/*"
        )
        statements.append(
            IamStatement(
                sid=_sid("ListStreams", mapping.key),
                actions=("dynamodb:ListStreams",),
                resources=(streams_of_table,),
                reason="the event source mapping lists the table's streams",
            )
        )
    if failure_queue is not None:
        statements.append(
            IamStatement(
                sid="SendFailures",
                actions=("sqs:SendMessage", "sqs:GetQueueAttributes"),
                resources=(Ref(f"queue:{failure_queue}", "arn"),),
                reason="failed batches and async events go to the failure queue",
            )
        )
    if results_table is not None:
        statements.append(
            IamStatement(
                sid="WriteResults",
                actions=("dynamodb:PutItem",),
                resources=(Ref(f"table:{results_table}", "arn"),),
                reason="idempotent conditional writes of results",
            )
        )
    if alert_topic is not None:
        statements.append(
            IamStatement(
                sid="PublishAlerts",
                actions=("sns:Publish",),
                resources=(Ref(f"topic:{alert_topic}", "arn"),),
                reason="one aggregated alert per batch",
            )
        )
    return tuple(statements)


def _sid(prefix: str, key: str) -> str:
    return prefix + "".join(part.capitalize() for part in key.replace("-", "_").split("_"))
