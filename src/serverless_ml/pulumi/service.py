"""InferenceService: the whole plan as one Pulumi component."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pulumi
import pulumi_aws as aws

from serverless_ml.core.plan import build_plan
from serverless_ml.core.plan_types import (
    KinesisStreamPlan,
    QueuePlan,
    ServicePlan,
    TablePlan,
    TopicPlan,
)
from serverless_ml.pulumi.alarms import InferenceAlarms, InferenceAlarmsArgs
from serverless_ml.pulumi.function import InferenceFunction, InferenceFunctionArgs
from serverless_ml.pulumi.policies import queue_tls_policy, topic_tls_policy
from serverless_ml.pulumi.refs import RefResolver
from serverless_ml.pulumi.triggers import (
    DynamoStreamTrigger,
    DynamoStreamTriggerArgs,
    HttpEndpoint,
    HttpEndpointArgs,
    KinesisStreamTrigger,
)
from serverless_ml.spec.service import InferenceServiceSpec


@dataclass(frozen=True, kw_only=True)
class InferenceServiceArgs:
    """``spec``: what to deploy. ``code_dir``: a prebuilt artifact directory; without it the
    function is bundled (cached by content hash) while the program runs."""

    spec: InferenceServiceSpec
    code_dir: Path | None = None


class InferenceService(pulumi.ComponentResource):
    """Deploy ``args.spec``: tables, failure queue, function + alias, triggers, alarms.

    Children (names are API; ``<n>`` is this component's name): ``<n>-table-<key>``,
    ``<n>-queue-<key>``, ``<n>-queue-<key>-policy``, ``<n>-kinesis-<key>``,
    ``<n>-topic-<key>``, ``<n>-topic-<key>-policy``, and the components ``<n>``
    (:class:`InferenceFunction`), ``<n>`` (:class:`HttpEndpoint`), ``<n>-stream-<key>``
    (:class:`DynamoStreamTrigger` / :class:`KinesisStreamTrigger`), ``<n>``
    (:class:`InferenceAlarms`). Physical names all
    come from the plan (``build_plan(spec)``, kept as :attr:`plan`).

    Escape hatch: ``opts=pulumi.ResourceOptions(transforms=[...])``. Pulumi applies the
    transforms to this component and every descendant, so one callback can change any
    property the plan does not cover, e.g.::

        def bigger(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
            if args.type_ == "aws:lambda/function:Function":
                return pulumi.ResourceTransformResult({**args.props, "memorySize": 2048}, args.opts)
            return None

    ``props`` use the engine's (camelCase) property names. Prefer changing the spec: a
    transform bypasses the plan's checks.
    """

    TYPE: ClassVar[str] = "serverless-ml:index:InferenceService"

    function_name: pulumi.Output[str]
    function_arn: pulumi.Output[str]
    alias_name: pulumi.Output[str]
    alias_arn: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    endpoint_url: pulumi.Output[str] | None
    table_names: dict[str, pulumi.Output[str]]
    table_arns: dict[str, pulumi.Output[str]]
    queue_urls: dict[str, pulumi.Output[str]]
    queue_arns: dict[str, pulumi.Output[str]]
    stream_names: dict[str, pulumi.Output[str]]
    stream_arns: dict[str, pulumi.Output[str]]
    alert_topic_arns: dict[str, pulumi.Output[str]]
    topic_arn: pulumi.Output[str] | None
    dashboard_name: pulumi.Output[str] | None

    def __init__(
        self, name: str, args: InferenceServiceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(self.TYPE, name, None, opts)
        self.plan: ServicePlan = build_plan(args.spec)
        plan = self.plan
        code_dir = args.code_dir
        if code_dir is None:
            from serverless_ml.bundling import bundle_function

            code_dir = bundle_function(plan.function).path
        tags = dict(plan.tags)
        refs = RefResolver()
        self.tables = {t.key: self._table(name, t, tags, refs) for t in plan.tables}
        self.queues = {q.key: self._queue(name, q, tags, refs) for q in plan.queues}
        self.kinesis_streams = {k.key: self._stream(name, k, tags, refs) for k in plan.streams}
        self.topics = {t.key: self._topic(name, t, tags, refs) for t in plan.topics}
        self.inference = InferenceFunction(
            name,
            InferenceFunctionArgs(plan=plan, code=pulumi.FileArchive(str(code_dir)), refs=refs),
            pulumi.ResourceOptions(parent=self),
        )
        self.http = (
            None
            if plan.http is None
            else HttpEndpoint(
                name,
                HttpEndpointArgs(plan=plan.http, target=self.inference, tags=tags),
                pulumi.ResourceOptions(parent=self),
            )
        )
        self.streams = {
            m.key: _TRIGGERS[m.source_kind](
                f"{name}-stream-{m.key}",
                DynamoStreamTriggerArgs(plan=m, target=self.inference, refs=refs, tags=tags),
                pulumi.ResourceOptions(parent=self),
            )
            for m in plan.stream_mappings
        }
        self.alarms = InferenceAlarms(
            name,
            InferenceAlarmsArgs(plan=plan.monitoring, tags=tags),
            pulumi.ResourceOptions(parent=self),
        )

        self.function_name = self.inference.function_name
        self.function_arn = self.inference.function_arn
        self.alias_name = self.inference.alias_name
        self.alias_arn = self.inference.alias_arn
        self.role_arn = self.inference.role_arn
        self.endpoint_url = None if self.http is None else self.http.endpoint_url
        self.table_names = {k: t.name for k, t in self.tables.items()}
        self.table_arns = {k: t.arn for k, t in self.tables.items()}
        self.queue_urls = {k: q.url for k, q in self.queues.items()}
        self.queue_arns = {k: q.arn for k, q in self.queues.items()}
        self.stream_names = {k: s.name for k, s in self.kinesis_streams.items()}
        self.stream_arns = {k: s.arn for k, s in self.kinesis_streams.items()}
        self.alert_topic_arns = {k: t.arn for k, t in self.topics.items()}
        self.topic_arn = self.alarms.topic_arn
        self.dashboard_name = self.alarms.dashboard_name
        outputs: dict[str, Any] = {
            "function_name": self.function_name,
            "function_arn": self.function_arn,
            "alias_name": self.alias_name,
            "alias_arn": self.alias_arn,
            "role_arn": self.role_arn,
            "table_names": self.table_names,
            "queue_urls": self.queue_urls,
            "stream_names": self.stream_names,
            "alert_topic_arns": self.alert_topic_arns,
        }
        optional = {
            "endpoint_url": self.endpoint_url,
            "topic_arn": self.topic_arn,
            "dashboard_name": self.dashboard_name,
        }
        outputs.update({k: v for k, v in optional.items() if v is not None})
        self.register_outputs(outputs)

    def _table(
        self, name: str, t: TablePlan, tags: dict[str, str], refs: RefResolver
    ) -> aws.dynamodb.Table:
        """Retained on ``pulumi destroy`` (like CDK's ``RemovalPolicy.RETAIN``): data outlives
        the stack, and deletion protection would make the delete fail anyway."""
        table = aws.dynamodb.Table(
            f"{name}-table-{t.key}",
            name=t.name,
            billing_mode=t.billing_mode,
            hash_key=t.partition_key,
            range_key=t.sort_key,
            attributes=[
                aws.dynamodb.TableAttributeArgs(name=t.partition_key, type=t.partition_key_type),
                *(
                    [aws.dynamodb.TableAttributeArgs(name=t.sort_key, type=t.sort_key_type)]
                    if t.sort_key and t.sort_key_type
                    else []
                ),
            ],
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(
                enabled=t.point_in_time_recovery
            ),
            stream_enabled=t.stream_view_type is not None,
            stream_view_type=t.stream_view_type,
            deletion_protection_enabled=t.deletion_protection,
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=t.encrypted),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=t.retain_on_delete),
        )
        refs.register(f"table:{t.key}", arn=table.arn, stream_arn=table.stream_arn)
        return table

    def _queue(
        self, name: str, q: QueuePlan, tags: dict[str, str], refs: RefResolver
    ) -> aws.sqs.Queue:
        queue = aws.sqs.Queue(
            f"{name}-queue-{q.key}",
            name=q.name,
            message_retention_seconds=q.retention_s,
            visibility_timeout_seconds=q.visibility_timeout_s,
            sqs_managed_sse_enabled=q.sqs_managed_sse,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        if q.enforce_tls:
            aws.sqs.QueuePolicy(
                f"{name}-queue-{q.key}-policy",
                queue_url=queue.url,
                policy=queue_tls_policy(queue.arn),
                opts=pulumi.ResourceOptions(parent=self),
            )
        refs.register(f"queue:{q.key}", arn=queue.arn)
        return queue

    def _stream(
        self, name: str, k: KinesisStreamPlan, tags: dict[str, str], refs: RefResolver
    ) -> aws.kinesis.Stream:
        stream = aws.kinesis.Stream(
            f"{name}-kinesis-{k.key}",
            name=k.name,
            stream_mode_details=aws.kinesis.StreamStreamModeDetailsArgs(stream_mode=k.mode),
            shard_count=k.shard_count,
            retention_period=k.retention_hours,
            encryption_type="KMS",
            kms_key_id=k.encryption_key,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        refs.register(f"stream:{k.key}", arn=stream.arn)
        return stream

    def _topic(
        self, name: str, t: TopicPlan, tags: dict[str, str], refs: RefResolver
    ) -> aws.sns.Topic:
        topic = aws.sns.Topic(
            f"{name}-topic-{t.key}",
            name=t.name,
            kms_master_key_id=t.kms_key,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        if t.enforce_tls:
            aws.sns.TopicPolicy(
                f"{name}-topic-{t.key}-policy",
                arn=topic.arn,
                policy=topic_tls_policy(topic.arn),
                opts=pulumi.ResourceOptions(parent=self),
            )
        refs.register(f"topic:{t.key}", arn=topic.arn)
        return topic


_TRIGGERS: dict[str, type[DynamoStreamTrigger]] = {
    "dynamodb": DynamoStreamTrigger,
    "kinesis": KinesisStreamTrigger,
}
