"""Alert topic: an SNS topic (TLS-only, SSE) the function publishes aggregated alerts to."""

from __future__ import annotations

from serverless_ml.core import naming
from serverless_ml.core.acknowledgments import aws_managed_key
from serverless_ml.core.fragments import Fragment, PartContext
from serverless_ml.core.plan_types import IamStatement, TopicPlan
from serverless_ml.core.policies import deny_insecure_publish
from serverless_ml.spec.outputs import AlertTopic
from sml_handlers.runtime import env


def alert_topic_fragment(part: AlertTopic, ctx: PartContext) -> Fragment:
    arn = TopicPlan.reference(part.key, "arn")  # the topic's own ARN, in its policy
    topic = TopicPlan(
        key=part.key,
        name=naming.topic_name(ctx.service, part.key),
        policy=(deny_insecure_publish(arn),),
        kms_key="alias/aws/sns",
    )
    assert topic.ref("arn") == arn
    statement = IamStatement(
        sid="PublishAlerts",
        actions=("sns:Publish",),
        resources=(arn,),
        reason="one aggregated alert per batch",
    )
    return Fragment(
        resources=(topic,),
        environment=((env.ALERT_TOPIC_ARN, arn),),
        statements=(statement,),
        acknowledgments=aws_managed_key(topic),
    )
