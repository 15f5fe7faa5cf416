"""The service's failure queue: where failed stream records and async events land, with its
own depth alarm. Part of the alias-fronted shape (an edge function has none)."""

from __future__ import annotations

from serverless_ml.core import defaults, naming
from serverless_ml.core.acknowledgments import acknowledge, aws_managed_key
from serverless_ml.core.alarms import alarm
from serverless_ml.core.fragments import Fragment
from serverless_ml.core.plan_types import AlarmPlan, IamStatement, MetricPlan, QueuePlan
from serverless_ml.core.policies import deny_insecure_sqs
from serverless_ml.spec.alarms import AlarmSettings

FAILURE_QUEUE = "failures"


def failure_queue_plan(service: str) -> QueuePlan:
    arn = QueuePlan.reference(FAILURE_QUEUE, "arn")
    return QueuePlan(
        key=FAILURE_QUEUE,
        name=naming.failure_queue_name(service),
        retention_s=defaults.QUEUE_RETENTION_S,
        visibility_timeout_s=defaults.QUEUE_VISIBILITY_TIMEOUT_S,
        sqs_managed_sse=True,
        policy=(deny_insecure_sqs(arn),),
        # What failed is kept 14 days for someone to look at: a destroy must not drop it.
        retain_on_delete=True,
    )


def failure_queue_fragment(service: str, queue: QueuePlan, settings: AlarmSettings) -> Fragment:
    statement = IamStatement(
        sid="SendFailures",
        actions=("sqs:SendMessage", "sqs:GetQueueAttributes"),
        resources=(queue.ref("arn"),),
        reason="failed batches and async events go to the failure queue",
    )
    t = settings.dlq_depth
    alarms: tuple[AlarmPlan, ...] = ()
    if t.enabled:
        metric = MetricPlan(
            namespace="AWS/SQS",
            metric_name="ApproximateNumberOfMessagesVisible",
            dimensions=(("QueueName", queue.name),),
            statistic="Maximum",
            period_s=t.period_s,
        )
        alarms = (
            alarm(service, "failure_queue_depth", "Records or events landed on the failure queue",
                  t, metric),
        )  # fmt: skip
    terminal = acknowledge(
        "on-failure-destination",
        queue.node_id,
        "this is the terminal failure queue: what lands here stays 14 days for someone to "
        "look at, and its depth has its own alarm",
    )
    return Fragment(
        resources=(queue,),
        statements=(statement,),
        alarms=alarms,
        acknowledgments=(terminal, *aws_managed_key(queue)),
    )
