"""InferenceService: the whole plan as one CDK construct."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import Tags
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IConstruct

from serverless_ml.cdk.alarms import InferenceAlarms
from serverless_ml.cdk.function import InferenceFunction
from serverless_ml.cdk.gate import apply_gate
from serverless_ml.cdk.refs import RefResolver
from serverless_ml.cdk.resources import RESOURCE_RENDERERS
from serverless_ml.cdk.triggers import BINDING_RENDERERS, HttpEndpoint
from serverless_ml.core.gate import GateReport, enforce
from serverless_ml.core.plan import build_plan
from serverless_ml.core.plan_types import (
    ALARM_KEY_ID,
    ALARM_TOPIC_ID,
    FUNCTION_ID,
    LOG_GROUP_ID,
    ROLE_POLICY_ID,
    WARMER_ID,
    BucketPlan,
    KinesisStreamPlan,
    QueuePlan,
    ServicePlan,
    TablePlan,
    TopicPlan,
)
from serverless_ml.spec.service import InferenceServiceSpec


class InferenceService(Construct):
    """Deploy ``spec``: bundle (cached), tables, failure queue, function + alias, triggers,
    alarms. Children (ids are API): ``Table-<key>``, ``Queue-<key>``, ``Kinesis-<key>``,
    ``Topic-<key>``, ``CapacityProvider`` (Lambda Managed Instances), ``Inference``, ``Http``,
    ``Stream-<key>``, ``Alarms``.

    Each plan node is rendered by the function its type maps to (``RESOURCE_RENDERERS``,
    ``BINDING_RENDERERS``); ``nodes`` holds every rendered construct by node id.
    ``code_dir`` skips bundling with a prebuilt artifact directory.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        spec: InferenceServiceSpec,
        code_dir: Path | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.plan: ServicePlan = build_plan(spec)
        plan = self.plan
        self.gate: GateReport = enforce(plan)  # the security gate: refuses before any resource
        if code_dir is None:
            from serverless_ml.bundling import bundle_function

            code_dir = bundle_function(plan.function).path
        refs = RefResolver()
        self.nodes: dict[str, Construct] = {}
        for node in plan.resources:
            self.nodes[node.node_id] = RESOURCE_RENDERERS[type(node)](self, node, refs)
        self.inference = InferenceFunction(
            self, "Inference", plan=plan, code_dir=code_dir, refs=refs
        )
        self.alias = self.inference.alias
        self.function = self.inference.function
        self.inference.attach_policy()
        self.inference.add_async_config()
        self.inference.add_scaling()
        self.inference.add_warmer()
        for binding in plan.bindings:
            rendered = BINDING_RENDERERS[type(binding)](self, binding, self.alias, refs)
            self.nodes[binding.node_id] = rendered
        self.alarms = InferenceAlarms(self, "Alarms", plan=plan.monitoring, refs=refs)
        apply_gate(self.gate, self._subjects(), refs)
        for key, value in plan.tags:
            Tags.of(self).add(key, value)

    def _subjects(self) -> dict[str, IConstruct]:
        """The construct each gate subject is rendered as."""
        fn = self.inference
        optional = {
            ROLE_POLICY_ID: fn.policy,
            WARMER_ID: fn.warmer,
            # The whole monitoring construct: its subscriptions are what nag's SNS rules read.
            ALARM_TOPIC_ID: self.alarms if self.alarms.topic else None,
            ALARM_KEY_ID: self.alarms.key,
        }
        return {
            **self.nodes,
            FUNCTION_ID: self.function,
            LOG_GROUP_ID: fn.log_group,
            **{k: v for k, v in optional.items() if v is not None},
        }

    def _rendered(self, cls: type, kind: type) -> dict[str, Any]:
        return {
            n.key: self.nodes[n.node_id]
            for n in (*self.plan.resources, *self.plan.bindings)
            if isinstance(n, cls) and isinstance(self.nodes[n.node_id], kind)
        }

    @property
    def tables(self) -> dict[str, dynamodb.Table]:
        return self._rendered(TablePlan, dynamodb.Table)

    @property
    def queues(self) -> dict[str, sqs.Queue]:
        return self._rendered(QueuePlan, sqs.Queue)

    @property
    def streams(self) -> dict[str, kinesis.Stream]:
        return self._rendered(KinesisStreamPlan, kinesis.Stream)

    @property
    def topics(self) -> dict[str, sns.Topic]:
        return self._rendered(TopicPlan, sns.Topic)

    @property
    def buckets(self) -> dict[str, s3.Bucket]:
        return self._rendered(BucketPlan, s3.Bucket)

    @property
    def http(self) -> HttpEndpoint | None:
        plan = self.plan.http
        node = None if plan is None else self.nodes[plan.node_id]
        return node if isinstance(node, HttpEndpoint) else None
