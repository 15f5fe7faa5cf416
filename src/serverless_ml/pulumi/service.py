"""InferenceService: the whole plan as one Pulumi component."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pulumi
import pulumi_aws as aws

from serverless_ml.core.gate import GateReport, enforce
from serverless_ml.core.plan import build_plan
from serverless_ml.core.plan_types import (
    BucketPlan,
    HttpPlan,
    KinesisStreamPlan,
    QueuePlan,
    ServicePlan,
    StreamMappingPlan,
    TablePlan,
    TopicPlan,
)
from serverless_ml.pulumi.alarms import InferenceAlarms, InferenceAlarmsArgs
from serverless_ml.pulumi.function import InferenceFunction, InferenceFunctionArgs
from serverless_ml.pulumi.refs import RefResolver
from serverless_ml.pulumi.resources import RESOURCE_RENDERERS, RenderContext
from serverless_ml.pulumi.triggers import BINDING_RENDERERS, DynamoStreamTrigger, HttpEndpoint
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
    ``<n>-topic-<key>``, ``<n>-topic-<key>-policy``, ``<n>-capacity-provider`` (+
    ``-operator``, ``-operator-policy-<i>``: Lambda Managed Instances), and the components ``<n>``
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
        self.gate: GateReport = enforce(plan)  # the security gate: refuses before any resource
        code_dir = args.code_dir
        if code_dir is None:
            from serverless_ml.bundling import bundle_function

            code_dir = bundle_function(plan.function).path
        tags = dict(plan.tags)
        refs = RefResolver(invoke_parent=self)
        ctx = RenderContext(name=name, parent=self, tags=tags, refs=refs)
        self.nodes: dict[str, pulumi.Resource] = {
            node.node_id: RESOURCE_RENDERERS[type(node)](node, ctx) for node in plan.resources
        }
        self.inference = InferenceFunction(
            name,
            InferenceFunctionArgs(plan=plan, code=pulumi.FileArchive(str(code_dir)), refs=refs),
            pulumi.ResourceOptions(parent=self),
        )
        for binding in plan.bindings:
            self.nodes[binding.node_id] = BINDING_RENDERERS[type(binding)](
                name, binding, self.inference, refs, tags, pulumi.ResourceOptions(parent=self)
            )
        self.alarms = InferenceAlarms(
            name,
            InferenceAlarmsArgs(plan=plan.monitoring, tags=tags, refs=refs),
            pulumi.ResourceOptions(parent=self),
        )

        self.tables: dict[str, aws.dynamodb.Table] = self._rendered(TablePlan)
        self.queues: dict[str, aws.sqs.Queue] = self._rendered(QueuePlan)
        self.kinesis_streams: dict[str, aws.kinesis.Stream] = self._rendered(KinesisStreamPlan)
        self.topics: dict[str, aws.sns.Topic] = self._rendered(TopicPlan)
        self.buckets: dict[str, aws.s3.Bucket] = self._rendered(BucketPlan)
        self.streams: dict[str, DynamoStreamTrigger] = self._rendered(StreamMappingPlan)
        http = self._rendered(HttpPlan)
        self.http: HttpEndpoint | None = next(iter(http.values()), None)

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
        self.bucket_names = {k: b.bucket for k, b in self.buckets.items()}
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
            "bucket_names": self.bucket_names,
        }
        optional = {
            "endpoint_url": self.endpoint_url,
            "topic_arn": self.topic_arn,
            "dashboard_name": self.dashboard_name,
        }
        outputs.update({k: v for k, v in optional.items() if v is not None})
        self.register_outputs(outputs)

    def _rendered(self, cls: type) -> dict[str, Any]:
        """The rendered resources of one plan node type, by node key."""
        nodes = (*self.plan.resources, *self.plan.bindings)
        return {n.key: self.nodes[n.node_id] for n in nodes if isinstance(n, cls)}
