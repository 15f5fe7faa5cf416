"""S3 trigger: a new bucket (encrypted, private, TLS-only, versioned, retained) whose own
notification configuration invokes the alias for created objects under a prefix / suffix; or
an existing bucket (owned elsewhere, EventBridge notifications on) whose Object Created events
an EventBridge rule delivers to the alias.

Why the bucket's own notification configuration and not CDK's ``add_event_notification``:
that adds a custom resource backed by a second Lambda function (its own role, runtime and
findings) to edit the notification after creation. CloudFormation sets the configuration
natively if the invoke permission exists first; the permission names the bucket by its
deterministic ARN (``Joined``), so nothing refers back to the bucket and there is no cycle.
Delivery is asynchronous: the alias' async config (retries, event age, on-failure queue) is
this trigger's, and its alarms watch event age and dropped events.
"""

from __future__ import annotations

import json
from typing import Any

from serverless_ml.core import limits, naming
from serverless_ml.core.acknowledgments import acknowledge, aws_managed_key
from serverless_ml.core.alarms import alarm, lambda_metric
from serverless_ml.core.fragments import AsyncInvoke, Fragment, PartContext
from serverless_ml.core.iam import sid
from serverless_ml.core.plan_types import (
    ACCOUNT_ID,
    PARTITION,
    REGION,
    AlarmPlan,
    BucketNotificationPlan,
    BucketPlan,
    DashboardWidgetPlan,
    IamStatement,
    Joined,
    S3EventRulePlan,
)
from serverless_ml.core.policies import deny_insecure_s3
from serverless_ml.core.triggers.streams import own_failure_queue
from serverless_ml.spec.errors import SpecError
from serverless_ml.spec.triggers import NewBucket, S3Trigger
from sml_handlers.runtime import env

_LONGEST_REGION = 14  # ap-southeast-3 style names

NO_ACCESS_LOGS = (
    "uploads are processed once and each result is recorded (results table / result objects); "
    "server access logs would need a second bucket per service: enable CloudTrail S3 data "
    "events in the account for an audit trail"
)


def bucket_name(service: str, suffix: str) -> Joined:
    """``<service>-<suffix>-<account>-<region>``: unique across accounts and regions."""
    base = f"{service}-{suffix}-"
    if len(base) + 12 + 1 + _LONGEST_REGION > limits.S3_BUCKET_NAME_MAX:
        raise SpecError(
            "SML207",
            f"bucket name {base}<account>-<region> may exceed {limits.S3_BUCKET_NAME_MAX} "
            "characters: shorten the service name or the bucket's name_suffix",
        )
    return Joined((base, ACCOUNT_ID, "-", REGION))


def bucket_arn(name: Joined) -> Joined:
    """The ARN from the name alone: no reference to the bucket resource."""
    return Joined(("arn:", PARTITION, ":s3:::", *name.parts))


def bucket_plan(service: str, bucket: NewBucket) -> BucketPlan:
    name = bucket_name(service, bucket.name_suffix)
    arn = bucket_arn(name)
    return BucketPlan(
        key=bucket.name_suffix,
        name=name,
        arn=arn,
        versioned=bucket.versioned,
        encryption="AES256",
        block_public_access=True,
        # The bucket's own policy may name it by reference (cdk-nag S10 recognizes that form).
        policy=deny_insecure_s3(BucketPlan.reference(bucket.name_suffix, "arn")),
        retain_on_delete=True,
    )


def event_pattern(bucket: str, prefix: str, suffix: str) -> str:
    """EventBridge's pattern for the bucket's Object Created events under the key filter (a
    wildcard when both a prefix and a suffix are given: each alone is an exact match type)."""
    key: list[dict[str, str]] = []
    if prefix and suffix:
        escaped = (prefix + "*" + suffix).replace("\\", "\\\\")
        key = [{"wildcard": escaped}]
    elif prefix:
        key = [{"prefix": prefix}]
    elif suffix:
        key = [{"suffix": suffix}]
    detail: dict[str, object] = {"bucket": {"name": [bucket]}}
    if key:
        detail["object"] = {"key": key}
    pattern = {"source": ["aws.s3"], "detail-type": ["Object Created"], "detail": detail}
    return json.dumps(pattern, sort_keys=True)


def _delivery(trigger: S3Trigger, ctx: PartContext) -> tuple[tuple[BucketPlan, ...], Any, Joined]:
    """The bucket the stack creates and its notification, or the rule for an existing one;
    and the bucket's ARN."""
    if trigger.new_bucket is not None:
        bucket = bucket_plan(ctx.service, trigger.new_bucket)
        notification = BucketNotificationPlan(
            key=trigger.key,
            bucket=bucket.ref("name"),
            bucket_arn=bucket.arn,
            principal="s3.amazonaws.com",
            source_account=ACCOUNT_ID,
            events=trigger.events,
            prefix=trigger.prefix,
            suffix=trigger.suffix,
        )
        return (bucket,), notification, bucket.arn
    name = str(trigger.existing_bucket_name)
    rule = S3EventRulePlan(
        key=trigger.key,
        rule_name=naming.s3_rule_name(ctx.service, trigger.key),
        event_pattern=event_pattern(name, trigger.prefix, trigger.suffix),
        target_id="alias",
        principal="events.amazonaws.com",
    )
    return (), rule, Joined(("arn:", PARTITION, ":s3:::", name))


def s3_fragment(trigger: S3Trigger, ctx: PartContext) -> Fragment:
    resources, binding, arn = _delivery(trigger, ctx)
    read = IamStatement(
        sid=sid("ReadUploads", trigger.key),
        actions=("s3:GetObject", "s3:GetObjectVersion"),
        resources=(arn + f"/{trigger.prefix}*",),
        reason="read the uploaded objects (and the exact version an event names) under the "
        "watched prefix only",
    )
    return Fragment(
        resources=resources,
        bindings=(binding,),
        statements=(read, *own_failure_queue(trigger.on_failure_queue_arn, trigger.key)),
        environment=((env.MAX_OBJECT_BYTES, str(trigger.max_object_bytes)),),
        alarms=_async_alarms(ctx),
        widgets=_async_widgets(ctx),
        acknowledgments=(
            *aws_managed_key(*resources),
            *(acknowledge("access-logging", b.node_id, NO_ACCESS_LOGS) for b in resources),
        ),
        async_invoke=(
            AsyncInvoke(
                max_retries=trigger.retry_attempts,
                max_event_age_s=trigger.max_event_age_s,
                on_failure=trigger.on_failure_queue_arn or ctx.failure_queue_arn,
            ),
        ),
    )


def _async_alarms(ctx: PartContext) -> tuple[AlarmPlan, ...]:
    """Events waiting in Lambda's async queue too long, and events dropped without a
    destination (expired or out of retries)."""
    s, out = ctx.alarms, []
    if s.async_event_age_ms.enabled:
        t = s.async_event_age_ms
        out.append(
            alarm(ctx.service, "async_event_age", "S3 events waiting in Lambda's async queue",
                  t, lambda_metric(ctx.service, ctx.alias, "AsyncEventAge", "Maximum", t.period_s))
        )  # fmt: skip
    if s.async_events_dropped.enabled:
        t = s.async_events_dropped
        out.append(
            alarm(ctx.service, "async_events_dropped", "S3 events dropped by Lambda (expired or "
                  "failed without reaching a destination)", t,
                  lambda_metric(ctx.service, ctx.alias, "AsyncEventsDropped", "Sum", t.period_s))
        )  # fmt: skip
        out.append(
            alarm(ctx.service, "async_destination_failures", "Failed S3 events that could not "
                  "be delivered to the on-failure queue (they are lost)", t,
                  lambda_metric(ctx.service, ctx.alias, "DestinationDeliveryFailures", "Sum",
                                t.period_s))
        )  # fmt: skip
    return tuple(out)


def _async_widgets(ctx: PartContext) -> tuple[DashboardWidgetPlan, ...]:
    metrics = (
        lambda_metric(ctx.service, ctx.alias, "AsyncEventsReceived", "Sum", 60),
        lambda_metric(ctx.service, ctx.alias, "AsyncEventAge", "Maximum", 60),
        lambda_metric(ctx.service, ctx.alias, "AsyncEventsDropped", "Sum", 60),
    )
    return (DashboardWidgetPlan(title="Asynchronous S3 events", metrics=metrics),)
