"""CDK render functions for the plan's resource nodes (created before the function): one per
node type, registered in ``RESOURCE_RENDERERS``. Construct ids (API): ``Table-<key>``,
``Queue-<key>``, ``Kinesis-<key>``, ``Topic-<key>``, ``Bucket-<key>``, ``CapacityProvider``
(children ``OperatorRole``, ``Provider``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from serverless_ml.cdk.function import ARCHITECTURES
from serverless_ml.cdk.l1 import cfn_of
from serverless_ml.cdk.refs import RefResolver
from serverless_ml.core.plan_types import (
    BucketPlan,
    CapacityProviderPlan,
    KinesisStreamPlan,
    PolicyStatementPlan,
    QueuePlan,
    TablePlan,
    TopicPlan,
)
from serverless_ml.core.policies import statement_json

_KEY_TYPES = {"S": dynamodb.AttributeType.STRING, "N": dynamodb.AttributeType.NUMBER}


def policy_statements(
    statements: tuple[PolicyStatementPlan, ...], refs: RefResolver
) -> list[iam.PolicyStatement]:
    """The plan's resource-policy statements, in core's one JSON form."""
    return [iam.PolicyStatement.from_json(statement_json(s, refs.resolve)) for s in statements]


def render_table(scope: Construct, t: TablePlan, refs: RefResolver) -> dynamodb.Table:
    table = dynamodb.Table(
        scope,
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
        t.node_id,
        cfn_of(table),
        arn=lambda: table.table_arn,
        stream_arn=lambda: str(table.table_stream_arn),
    )
    return table


def render_queue(scope: Construct, q: QueuePlan, refs: RefResolver) -> sqs.Queue:
    queue = sqs.Queue(
        scope,
        f"Queue-{q.key}",
        queue_name=q.name,
        retention_period=Duration.seconds(q.retention_s),
        visibility_timeout=Duration.seconds(q.visibility_timeout_s),
        encryption=sqs.QueueEncryption.SQS_MANAGED if q.sqs_managed_sse else None,
        removal_policy=RemovalPolicy.RETAIN if q.retain_on_delete else RemovalPolicy.DESTROY,
    )
    refs.register(q.node_id, cfn_of(queue), arn=lambda: queue.queue_arn)
    for statement in policy_statements(q.policy, refs):
        queue.add_to_resource_policy(statement)
    return queue


def render_stream(scope: Construct, k: KinesisStreamPlan, refs: RefResolver) -> kinesis.Stream:
    stream = kinesis.Stream(
        scope,
        f"Kinesis-{k.key}",
        stream_name=k.name,
        stream_mode=kinesis.StreamMode(k.mode),
        shard_count=k.shard_count,
        retention_period=Duration.hours(k.retention_hours),
        encryption=kinesis.StreamEncryption.MANAGED,
        removal_policy=RemovalPolicy.RETAIN if k.retain_on_delete else RemovalPolicy.DESTROY,
    )
    cfn_stream = cfn_of(stream)
    assert isinstance(cfn_stream, kinesis.CfnStream)
    cfn_stream.stream_encryption = kinesis.CfnStream.StreamEncryptionProperty(
        encryption_type="KMS", key_id=k.encryption_key
    )
    refs.register(k.node_id, cfn_stream, arn=lambda: stream.stream_arn)
    return stream


def render_topic(scope: Construct, t: TopicPlan, refs: RefResolver) -> sns.Topic:
    topic = sns.Topic(scope, f"Topic-{t.key}", topic_name=t.name)
    cfn_topic = cfn_of(topic)
    assert isinstance(cfn_topic, sns.CfnTopic)
    cfn_topic.kms_master_key_id = t.kms_key  # the plan's key alias, as the Pulumi renderer
    refs.register(t.node_id, cfn_topic, arn=lambda: topic.topic_arn)
    for statement in policy_statements(t.policy, refs):
        topic.add_to_resource_policy(statement)
    return topic


def render_bucket(scope: Construct, b: BucketPlan, refs: RefResolver) -> s3.Bucket:
    """Named from the plan (``<service>-<key>-<account>-<region>``); nothing in the stack
    refers to it by ``Ref``, so its notification can depend on the invoke permission."""
    bucket = s3.Bucket(
        scope,
        f"Bucket-{b.key}",
        bucket_name=refs.resolve(b.name),
        encryption=s3.BucketEncryption.S3_MANAGED
        if b.encryption == "AES256"
        else s3.BucketEncryption.KMS_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL if b.block_public_access else None,
        versioned=b.versioned,
        removal_policy=RemovalPolicy.RETAIN if b.retain_on_delete else RemovalPolicy.DESTROY,
    )
    refs.register(
        b.node_id, cfn_of(bucket), arn=lambda: bucket.bucket_arn, name=lambda: bucket.bucket_name
    )
    for statement in policy_statements(b.policy, refs):
        bucket.add_to_resource_policy(statement)
    return bucket


def render_capacity_provider(
    scope: Construct, c: CapacityProviderPlan, refs: RefResolver
) -> Construct:
    """A Lambda Managed Instances capacity provider in the plan's subnets and security groups
    (imported by id: the stack creates no network), and the plan's operator role."""
    group = Construct(scope, "CapacityProvider")
    principals = [iam.ServicePrincipal(p) for p in c.operator_trust_principals]
    role = iam.Role(
        group,
        "OperatorRole",
        role_name=c.operator_role_name,
        assumed_by=principals[0] if len(principals) == 1 else iam.CompositePrincipal(*principals),
        managed_policies=[
            iam.ManagedPolicy.from_managed_policy_arn(group, f"Policy{i}", refs.resolve(arn))
            for i, arn in enumerate(c.operator_managed_policies)
        ],
    )
    cpu = lambda_.TargetTrackingScalingPolicy.cpu_utilization(1).predefined_metric_type
    assert all(metric == cpu for metric, _ in c.scaling_policies), "CPU is the one metric"
    types = c.allowed_instance_types or c.excluded_instance_types
    type_filter = lambda_.InstanceTypeFilter.allow if c.allowed_instance_types else None
    if c.excluded_instance_types:
        type_filter = lambda_.InstanceTypeFilter.exclude
    provider = lambda_.CapacityProvider(
        group,
        "Provider",
        capacity_provider_name=c.name,
        subnets=[
            ec2.Subnet.from_subnet_id(group, f"Subnet{i}", subnet)
            for i, subnet in enumerate(c.subnet_ids)
        ],
        security_groups=[
            ec2.SecurityGroup.from_security_group_id(group, f"SecurityGroup{i}", sg)
            for i, sg in enumerate(c.security_group_ids)
        ],
        architectures=[ARCHITECTURES[c.architecture]],
        instance_type_filter=None
        if type_filter is None
        else type_filter([ec2.InstanceType(t) for t in types]),
        max_v_cpu_count=c.max_vcpu_count,
        operator_role=role,
        scaling_options=lambda_.ScalingOptions.manual(
            [lambda_.TargetTrackingScalingPolicy.cpu_utilization(v) for _, v in c.scaling_policies]
        )
        if c.scaling_mode == "Manual"
        else lambda_.ScalingOptions.auto(),
    )
    refs.register(c.node_id, cfn_of(provider), arn=lambda: provider.capacity_provider_arn)
    return group


RESOURCE_RENDERERS: dict[type, Callable[[Construct, Any, RefResolver], Construct]] = {
    TablePlan: render_table,
    QueuePlan: render_queue,
    KinesisStreamPlan: render_stream,
    TopicPlan: render_topic,
    BucketPlan: render_bucket,
    CapacityProviderPlan: render_capacity_provider,
}
