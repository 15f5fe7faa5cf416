"""InferenceService: the whole plan as one CDK construct."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration, RemovalPolicy, Tags
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from serverless_ml.cdk.alarms import InferenceAlarms
from serverless_ml.cdk.function import InferenceFunction
from serverless_ml.cdk.l1 import cfn_of
from serverless_ml.cdk.nag import acknowledge
from serverless_ml.cdk.refs import RefResolver
from serverless_ml.cdk.triggers import HttpEndpoint, StreamMapping
from serverless_ml.core.plan import build_plan
from serverless_ml.core.plan_types import (
    KinesisStreamPlan,
    QueuePlan,
    ServicePlan,
    TablePlan,
    TopicPlan,
)
from serverless_ml.spec.service import InferenceServiceSpec

_KEY_TYPES = {"S": dynamodb.AttributeType.STRING, "N": dynamodb.AttributeType.NUMBER}


class InferenceService(Construct):
    """Deploy ``spec``: bundle (cached), tables, failure queue, function + alias, triggers,
    alarms. Children (ids are API): ``Table-<key>``, ``Queue-<key>``, ``Inference``, ``Http``,
    ``Stream-<key>``, ``Alarms``.

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
        if code_dir is None:
            from serverless_ml.bundling import bundle_function

            code_dir = bundle_function(plan.function).path
        refs = RefResolver()
        self.tables = {t.key: self._table(t, refs) for t in plan.tables}
        self.queues = {q.key: self._queue(q, refs) for q in plan.queues}
        self.streams = {k.key: self._stream(k, refs) for k in plan.streams}
        self.topics = {t.key: self._topic(t, refs) for t in plan.topics}
        self.inference = InferenceFunction(
            self, "Inference", plan=plan, code_dir=code_dir, refs=refs
        )
        self.alias = self.inference.alias
        self.function = self.inference.function
        self.inference.attach_policy()
        if plan.alias.async_on_failure_queue is not None:
            queue = self.queues[plan.alias.async_on_failure_queue]
            self.inference.add_async_config(queue.queue_arn)
        self.inference.add_scaling()
        self.inference.add_warmer()
        self.http = (
            None
            if plan.http is None
            else HttpEndpoint(self, "Http", plan=plan.http, alias=self.alias)
        )
        for m in plan.stream_mappings:
            StreamMapping(self, f"Stream-{m.key}", plan=m, alias=self.alias, refs=refs)
        self.alarms = InferenceAlarms(self, "Alarms", plan=plan.monitoring)
        for key, value in plan.tags:
            Tags.of(self).add(key, value)

    def _table(self, t: TablePlan, refs: RefResolver) -> dynamodb.Table:
        table = dynamodb.Table(
            self,
            f"Table-{t.key}",
            table_name=t.name,
            partition_key=dynamodb.Attribute(
                name=t.partition_key, type=_KEY_TYPES[t.partition_key_type]
            ),
            sort_key=dynamodb.Attribute(name=t.sort_key, type=_KEY_TYPES[t.sort_key_type])
            if t.sort_key and t.sort_key_type
            else None,
            billing_mode=dynamodb.BillingMode(t.billing_mode),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=t.point_in_time_recovery
            ),
            stream=dynamodb.StreamViewType(t.stream_view_type) if t.stream_view_type else None,
            deletion_protection=t.deletion_protection,
            encryption=dynamodb.TableEncryption.AWS_MANAGED if t.encrypted else None,
            removal_policy=RemovalPolicy.RETAIN if t.retain_on_delete else RemovalPolicy.DESTROY,
        )
        refs.register(
            f"table:{t.key}",
            cfn_of(table),
            arn=lambda: table.table_arn,
            stream_arn=lambda: str(table.table_stream_arn),
        )
        return table

    def _queue(self, q: QueuePlan, refs: RefResolver) -> sqs.Queue:
        queue = sqs.Queue(
            self,
            f"Queue-{q.key}",
            queue_name=q.name,
            retention_period=Duration.seconds(q.retention_s),
            visibility_timeout=Duration.seconds(q.visibility_timeout_s),
            encryption=sqs.QueueEncryption.SQS_MANAGED if q.sqs_managed_sse else None,
            enforce_ssl=q.enforce_tls,
        )
        acknowledge(
            queue,
            "AwsSolutions",
            "AwsSolutions-SQS3",
            "this is the terminal failure queue; its depth has its own alarm",
        )
        acknowledge(
            queue,
            "Serverless",
            "Serverless-SQSRedrivePolicy",
            "this is the terminal failure queue; its depth has its own alarm",
        )
        refs.register(f"queue:{q.key}", cfn_of(queue), arn=lambda: queue.queue_arn)
        return queue

    def _stream(self, k: KinesisStreamPlan, refs: RefResolver) -> kinesis.Stream:
        stream = kinesis.Stream(
            self,
            f"Kinesis-{k.key}",
            stream_name=k.name,
            stream_mode=kinesis.StreamMode(k.mode),
            shard_count=k.shard_count,
            retention_period=Duration.hours(k.retention_hours),
            encryption=kinesis.StreamEncryption.MANAGED,
        )
        cfn_stream = cfn_of(stream)
        assert isinstance(cfn_stream, kinesis.CfnStream)
        cfn_stream.stream_encryption = kinesis.CfnStream.StreamEncryptionProperty(
            encryption_type="KMS", key_id=k.encryption_key
        )
        refs.register(f"stream:{k.key}", cfn_of(stream), arn=lambda: stream.stream_arn)
        return stream

    def _topic(self, t: TopicPlan, refs: RefResolver) -> sns.Topic:
        topic = sns.Topic(
            self,
            f"Topic-{t.key}",
            topic_name=t.name,
            enforce_ssl=t.enforce_tls,
        )
        cfn_topic = cfn_of(topic)
        assert isinstance(cfn_topic, sns.CfnTopic)
        cfn_topic.kms_master_key_id = t.kms_key  # the plan's key alias, as the Pulumi renderer
        refs.register(f"topic:{t.key}", cfn_of(topic), arn=lambda: topic.topic_arn)
        return topic
