"""Pulumi render functions for the plan's resource nodes (created before the function): one
per node type, registered in ``RESOURCE_RENDERERS``. Names (API; ``<n>`` is the service
component's name): ``<n>-table-<key>``, ``<n>-queue-<key>`` (+ ``-policy``),
``<n>-kinesis-<key>``, ``<n>-topic-<key>`` (+ ``-policy``), ``<n>-bucket-<key>`` (+
``-versioning``, ``-encryption``, ``-public-access-block``, ``-policy``),
``<n>-capacity-provider`` (+ ``-operator``, ``-operator-policy-<i>``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from serverless_ml.core.plan_types import (
    BucketPlan,
    CapacityProviderPlan,
    KinesisStreamPlan,
    QueuePlan,
    TablePlan,
    TopicPlan,
)
from serverless_ml.pulumi.policies import resource_policy, trust_policy
from serverless_ml.pulumi.refs import RefResolver


@dataclass(frozen=True)
class RenderContext:
    """What every resource render function gets besides its node."""

    name: str  # the service component's name
    parent: pulumi.Resource
    tags: dict[str, str]
    refs: RefResolver
    provider: pulumi.ProviderResource | None = None  # else the parent's (the stack default)

    def opts(self, **kwargs: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self.parent, provider=self.provider, **kwargs)


def render_table(t: TablePlan, ctx: RenderContext) -> aws.dynamodb.Table:
    """Retained on ``pulumi destroy`` (like CDK's ``RemovalPolicy.RETAIN``): data outlives the
    stack, and deletion protection would make the delete fail anyway."""
    table = aws.dynamodb.Table(
        f"{ctx.name}-table-{t.key}",
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
        tags=ctx.tags,
        opts=ctx.opts(retain_on_delete=t.retain_on_delete),
    )
    ctx.refs.register(t.node_id, arn=table.arn, stream_arn=table.stream_arn)
    return table


def render_queue(q: QueuePlan, ctx: RenderContext) -> aws.sqs.Queue:
    queue = aws.sqs.Queue(
        f"{ctx.name}-queue-{q.key}",
        name=q.name,
        message_retention_seconds=q.retention_s,
        visibility_timeout_seconds=q.visibility_timeout_s,
        sqs_managed_sse_enabled=q.sqs_managed_sse,
        tags=ctx.tags,
        opts=ctx.opts(retain_on_delete=q.retain_on_delete),
    )
    ctx.refs.register(q.node_id, arn=queue.arn)
    if q.policy:
        aws.sqs.QueuePolicy(
            f"{ctx.name}-queue-{q.key}-policy",
            queue_url=queue.url,
            policy=resource_policy(q.policy, ctx.refs),
            opts=ctx.opts(retain_on_delete=q.retain_on_delete),
        )
    return queue


def render_stream(k: KinesisStreamPlan, ctx: RenderContext) -> aws.kinesis.Stream:
    stream = aws.kinesis.Stream(
        f"{ctx.name}-kinesis-{k.key}",
        name=k.name,
        stream_mode_details=aws.kinesis.StreamStreamModeDetailsArgs(stream_mode=k.mode),
        shard_count=k.shard_count,
        retention_period=k.retention_hours,
        encryption_type="KMS",
        kms_key_id=k.encryption_key,
        tags=ctx.tags,
        opts=ctx.opts(retain_on_delete=k.retain_on_delete),
    )
    ctx.refs.register(k.node_id, arn=stream.arn)
    return stream


def render_topic(t: TopicPlan, ctx: RenderContext) -> aws.sns.Topic:
    topic = aws.sns.Topic(
        f"{ctx.name}-topic-{t.key}",
        name=t.name,
        kms_master_key_id=t.kms_key,
        tags=ctx.tags,
        opts=ctx.opts(),
    )
    ctx.refs.register(t.node_id, arn=topic.arn)
    if t.policy:
        aws.sns.TopicPolicy(
            f"{ctx.name}-topic-{t.key}-policy",
            arn=topic.arn,
            policy=resource_policy(t.policy, ctx.refs),
            opts=ctx.opts(),
        )
    return topic


def render_bucket(b: BucketPlan, ctx: RenderContext) -> aws.s3.Bucket:
    """The bucket and its configuration resources (versioning, encryption, public access
    block, TLS-only policy), all retained on ``pulumi destroy`` like the bucket (CDK's
    ``RemovalPolicy.RETAIN``): the uploads outlive the stack."""
    n = f"{ctx.name}-bucket-{b.key}"
    keep = ctx.opts(retain_on_delete=b.retain_on_delete)
    bucket = aws.s3.Bucket(n, bucket=ctx.refs.resolve(b.name), tags=ctx.tags, opts=keep)
    ctx.refs.register(b.node_id, arn=bucket.arn, name=bucket.bucket)
    s3 = aws.s3
    s3.BucketVersioning(
        f"{n}-versioning",
        bucket=bucket.bucket,
        versioning_configuration=s3.BucketVersioningVersioningConfigurationArgs(
            status="Enabled" if b.versioned else "Suspended"
        ),
        opts=keep,
    )
    s3.BucketServerSideEncryptionConfiguration(
        f"{n}-encryption",
        bucket=bucket.bucket,
        rules=[
            s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm=b.encryption
                )
            )
        ],
        opts=keep,
    )
    block = s3.BucketPublicAccessBlock(
        f"{n}-public-access-block",
        bucket=bucket.bucket,
        block_public_acls=b.block_public_access,
        block_public_policy=b.block_public_access,
        ignore_public_acls=b.block_public_access,
        restrict_public_buckets=b.block_public_access,
        opts=keep,
    )
    if b.policy:
        s3.BucketPolicy(
            f"{n}-policy",
            bucket=bucket.bucket,
            policy=resource_policy(b.policy, ctx.refs),
            opts=ctx.opts(retain_on_delete=b.retain_on_delete, depends_on=[block]),
        )
    return bucket


def render_capacity_provider(
    c: CapacityProviderPlan, ctx: RenderContext
) -> aws.lambda_.CapacityProvider:
    """A Lambda Managed Instances capacity provider in the plan's subnets and security groups,
    and its operator role (the managed policies attached before the provider is created: Lambda
    checks the role when it creates it)."""
    n = f"{ctx.name}-capacity-provider"
    role = aws.iam.Role(
        f"{n}-operator",
        name=c.operator_role_name,
        assume_role_policy=trust_policy(c.operator_trust_principals),
        tags=ctx.tags,
        opts=ctx.opts(),
    )
    attachments = [
        aws.iam.RolePolicyAttachment(
            f"{n}-operator-policy-{i}",
            role=role.name,
            policy_arn=ctx.refs.resolve(arn),
            opts=ctx.opts(),
        )
        for i, arn in enumerate(c.operator_managed_policies)
    ]
    lam = aws.lambda_
    provider = lam.CapacityProvider(
        n,
        name=c.name,
        vpc_config=lam.CapacityProviderVpcConfigArgs(
            subnet_ids=list(c.subnet_ids), security_group_ids=list(c.security_group_ids)
        ),
        permissions_config=lam.CapacityProviderPermissionsConfigArgs(
            capacity_provider_operator_role_arn=role.arn
        ),
        instance_requirements=[
            lam.CapacityProviderInstanceRequirementArgs(
                architectures=[c.architecture],
                allowed_instance_types=list(c.allowed_instance_types),
                excluded_instance_types=list(c.excluded_instance_types),
            )
        ],
        capacity_provider_scaling_configs=[
            lam.CapacityProviderCapacityProviderScalingConfigArgs(
                max_vcpu_count=c.max_vcpu_count,
                scaling_mode=c.scaling_mode,
                scaling_policies=[
                    lam.CapacityProviderCapacityProviderScalingConfigScalingPolicyArgs(
                        predefined_metric_type=metric, target_value=target
                    )
                    for metric, target in c.scaling_policies
                ],
            )
        ],
        tags=ctx.tags,
        opts=ctx.opts(depends_on=attachments),
    )
    ctx.refs.register(c.node_id, arn=provider.arn)
    return provider


RESOURCE_RENDERERS: dict[type, Callable[[Any, RenderContext], pulumi.CustomResource]] = {
    TablePlan: render_table,
    QueuePlan: render_queue,
    KinesisStreamPlan: render_stream,
    TopicPlan: render_topic,
    BucketPlan: render_bucket,
    CapacityProviderPlan: render_capacity_provider,
}
