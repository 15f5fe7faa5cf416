"""The alarm preset and dashboard, alias-aware: Lambda metrics carry the alias' ``Resource``
dimension so they measure what triggers invoke, not ``$LATEST``."""

from __future__ import annotations

import hashlib
import json

from serverless_ml.core import defaults, limits, naming
from serverless_ml.core.acknowledgments import acknowledge
from serverless_ml.core.plan_types import (
    ACCOUNT_ID,
    ALARM_KEY_ID,
    ALARM_TOPIC_ID,
    PARTITION,
    REGION,
    Acknowledgment,
    AlarmPlan,
    DashboardWidgetPlan,
    Joined,
    KmsKeyPlan,
    MetricPlan,
    MonitoringPlan,
    Ref,
    SubscriptionPlan,
    Value,
)
from serverless_ml.core.policies import (
    allow_alarms_to_publish,
    allow_alarms_to_use_key,
    deny_insecure_publish,
    key_administered_by_account,
)
from serverless_ml.spec.alarms import AlarmSettings, AlarmSubscriber, AlarmThreshold

__all__ = ["ALARM_KEY_ID", "ALARM_TOPIC_ID"]  # the monitoring construct's own children

KEY_PENDING_WINDOW_DAYS = 30  # KMS' default (and maximum): time to undo a deleted key

GTE = "GreaterThanOrEqualToThreshold"
GT = "GreaterThanThreshold"


def lambda_metric(
    service: str, alias: str | None, name: str, stat: str, period_s: int
) -> MetricPlan:
    """A Lambda metric of the alias (``Resource`` dimension), not of ``$LATEST``; of the whole
    function when ``alias`` is None (Lambda@Edge: CloudFront invokes numbered versions)."""
    function = (("FunctionName", naming.function_name(service)),)
    alias_dimension = (
        () if alias is None else (("Resource", naming.alias_resource(service, alias)),)
    )
    return MetricPlan(
        namespace="AWS/Lambda",
        metric_name=name,
        dimensions=function + alias_dimension,
        statistic=stat,
        period_s=period_s,
    )


def alarm(
    service: str, key: str, description: str, t: AlarmThreshold, metric: MetricPlan, cmp: str = GTE
) -> AlarmPlan:
    """A single-metric alarm with the named threshold's settings."""
    return AlarmPlan(
        key=key,
        name=naming.alarm_name(service, key),
        description=description,
        threshold=t.threshold,
        comparison=cmp,
        evaluation_periods=t.evaluation_periods,
        datapoints_to_alarm=t.datapoints,
        treat_missing_data="notBreaching",
        metric=metric,
    )


def function_alarms(
    *,
    service: str,
    alias: str,
    timeout_s: int,
    settings: AlarmSettings,
    managed_instances: bool = False,
) -> tuple[AlarmPlan, ...]:
    """The function core's preset: errors, error rate, throttles, p99 duration vs timeout,
    cold starts. Parts add theirs (iterator age, failure queue, provisioned concurrency).

    On Lambda Managed Instances no request waits for an INIT, so there is no cold-start alarm;
    throttles then mean traffic outgrew capacity faster than it scales (the mode's own
    capacity alarms come with ``core.managed_instances``)."""
    s = settings
    alarms: list[AlarmPlan] = []

    def lam(name: str, stat: str, t: AlarmThreshold) -> MetricPlan:
        return lambda_metric(service, alias, name, stat, t.period_s)

    if s.errors.enabled:
        alarms.append(
            alarm(service, "errors", "Invocation errors on the alias", s.errors,
                  lam("Errors", "Sum", s.errors))
        )  # fmt: skip
    if s.error_rate_pct.enabled:
        t = s.error_rate_pct
        alarms.append(
            AlarmPlan(
                key="error_rate_pct",
                name=naming.alarm_name(service, "error_rate_pct"),
                description="Errors as a percentage of invocations on the alias",
                threshold=t.threshold,
                comparison=GTE,
                evaluation_periods=t.evaluation_periods,
                datapoints_to_alarm=t.datapoints,
                treat_missing_data="notBreaching",
                expression="IF(invocations > 0, 100 * errors / invocations, 0)",
                expression_metrics=(
                    ("errors", lam("Errors", "Sum", t)),
                    ("invocations", lam("Invocations", "Sum", t)),
                ),
                expression_period_s=t.period_s,
            )
        )
    if s.throttles.enabled:
        throttled = (
            "Throttled invocations on the alias: traffic grew faster than Managed Instances "
            f"scale (more than doubling within {limits.LMI_SCALE_DOUBLING_WINDOW_S // 60} minutes)"
            if managed_instances
            else "Throttled invocations on the alias"
        )
        alarms.append(
            alarm(service, "throttles", throttled, s.throttles,
                  lam("Throttles", "Sum", s.throttles))
        )  # fmt: skip
    if s.duration_p99_pct_of_timeout.enabled:
        t = s.duration_p99_pct_of_timeout
        threshold_ms = round(timeout_s * 1000 * t.threshold / 100)
        alarms.append(
            AlarmPlan(
                key="duration_p99",
                name=naming.alarm_name(service, "duration_p99"),
                description=f"p99 duration above {t.threshold:g}% of the {timeout_s}s timeout",
                threshold=threshold_ms,
                comparison=GTE,
                evaluation_periods=t.evaluation_periods,
                datapoints_to_alarm=t.datapoints,
                treat_missing_data="notBreaching",
                metric=lam("Duration", "p99", t),
            )
        )
    if s.cold_starts.enabled and not managed_instances:
        t = s.cold_starts
        alarms.append(
            alarm(
                service, "cold_starts", "Cold starts (Powertools ColdStart metric)", t,
                MetricPlan(
                    namespace=defaults.METRICS_NAMESPACE,
                    metric_name="ColdStart",
                    dimensions=(("function_name", naming.function_name(service)),
                                ("service", service)),
                    statistic="Sum",
                    period_s=t.period_s,
                ),
            )
        )  # fmt: skip
    return tuple(alarms)


def function_widgets(
    service: str, alias: str, *, managed_instances: bool = False
) -> tuple[DashboardWidgetPlan, ...]:
    """Invocations, duration, and cold starts with inference latency (latency alone on
    Managed Instances: they have no cold starts)."""

    def m(name: str, stat: str) -> MetricPlan:
        return lambda_metric(service, alias, name, stat, 60)

    cold_starts = MetricPlan(namespace=defaults.METRICS_NAMESPACE, metric_name="ColdStart",
                             dimensions=(("function_name", naming.function_name(service)),
                                         ("service", service)),
                             statistic="Sum", period_s=60)  # fmt: skip
    latency = MetricPlan(namespace=defaults.METRICS_NAMESPACE, metric_name="InferenceLatency",
                         dimensions=(("service", service),), statistic="p99", period_s=60)  # fmt: skip
    last = (
        DashboardWidgetPlan(title="Inference latency", metrics=(latency,))
        if managed_instances
        else DashboardWidgetPlan(
            title="Cold starts and inference latency", metrics=(cold_starts, latency)
        )
    )
    return (
        DashboardWidgetPlan(title="Invocations / errors / throttles",
                            metrics=(m("Invocations", "Sum"), m("Errors", "Sum"),
                                     m("Throttles", "Sum"))),
        DashboardWidgetPlan(title="Duration (ms)",
                            metrics=(m("Duration", "p50"), m("Duration", "p99"))),
        last,
    )  # fmt: skip


def monitoring_plan(
    *,
    service: str,
    settings: AlarmSettings,
    alarms: tuple[AlarmPlan, ...],
    widgets: tuple[DashboardWidgetPlan, ...],
) -> MonitoringPlan:
    """Every composed alarm, routed to a new topic (TLS-only, encrypted with its own key that
    CloudWatch may use, subscribers notified) or to the user's actions, and the dashboard of
    the composed widgets."""
    s = settings
    topic = naming.alarm_topic_name(service) if s.topic == "new" else None
    topic_arn = Ref(ALARM_TOPIC_ID, "arn")
    actions = tuple(([s.topic] if s.topic not in ("new", None) else []) + list(s.extra_action_arns))
    return MonitoringPlan(
        alarms=alarms,
        topic_name=topic,
        topic_policy=(deny_insecure_publish(topic_arn), allow_alarms_to_publish(topic_arn))
        if topic
        else (),
        topic_key=alarm_topic_key(service, topic) if topic else None,
        subscriptions=tuple(subscription(x) for x in s.subscribers),
        action_arns=actions,
        dashboard_name=naming.dashboard_name(service) if s.dashboard else None,
        widgets=widgets,
    )


def alarm_topic_key(service: str, topic_name: str) -> KmsKeyPlan:
    """The alarm topic's own key: the account administers it through IAM, and CloudWatch may
    encrypt and decrypt with it for this topic only (an AWS-managed ``aws/sns`` key would
    refuse CloudWatch, and the alarms would reach no one)."""
    # Built from the name, not a Ref: the topic refers to the key, so the key cannot refer back.
    topic_arn = Joined(("arn:", PARTITION, ":sns:", REGION, ":", ACCOUNT_ID, ":" + topic_name))
    return KmsKeyPlan(
        alias_name=f"alias/{topic_name}",
        description=f"serverless-ml: encrypts the {topic_name} alarm topic of {service}",
        policy=(key_administered_by_account(), allow_alarms_to_use_key(topic_arn)),
        rotation=True,
        pending_window_days=KEY_PENDING_WINDOW_DAYS,
    )


def subscription(subscriber: AlarmSubscriber) -> SubscriptionPlan:
    """Keyed by a digest of the endpoint, so reordering the list replaces nothing."""
    digest = hashlib.sha256(subscriber.endpoint.encode()).hexdigest()[:8]
    return SubscriptionPlan(
        key=f"{subscriber.protocol}-{digest}",
        protocol=subscriber.protocol,
        endpoint=subscriber.endpoint,
    )


def monitoring_acknowledgments(plan: MonitoringPlan) -> tuple[Acknowledgment, ...]:
    """The monitoring construct's accepted findings."""
    acks = []
    if plan.topic_key is not None:
        acks.append(
            acknowledge(
                "no-wildcard-actions",
                ALARM_KEY_ID,
                "the key policy's account statement (kms:* for the account root) is KMS' "
                "default: it lets IAM policies of this account administer the key; without it "
                "nobody could change or delete the key",
            )
        )
    if plan.subscriptions:
        acks.append(
            acknowledge(
                "on-failure-destination",
                ALARM_TOPIC_ID,
                "an alarm notification that cannot be delivered is not lost: the alarm stays in "
                "ALARM state in CloudWatch and on the dashboard; SNS retries HTTPS and SQS "
                "deliveries per its delivery policy",
            )
        )
    return tuple(acks)


def _literal(value: Value) -> str:
    """A dashboard's JSON is one string: its metrics name literal dimensions only."""
    if not isinstance(value, str):
        raise ValueError(f"dashboard widgets take literal dimension values, not {value!r}")
    return value


def dashboard_body(plan: MonitoringPlan, region: str) -> str:
    """CloudWatch dashboard JSON; ``region`` may be a CDK token or a resolved Pulumi value."""
    widgets = []
    for i, w in enumerate(plan.widgets):
        metrics = [
            [m.namespace, m.metric_name, *[x for k, v in m.dimensions for x in (k, _literal(v))],
             {"stat": m.statistic, "period": m.period_s}]
            for m in w.metrics
        ]  # fmt: skip
        widgets.append(
            {
                "type": "metric",
                "x": (i % 2) * 12,
                "y": (i // 2) * 6,
                "width": 12,
                "height": 6,
                "properties": {"title": w.title, "region": region, "metrics": metrics,
                               "view": "timeSeries"},
            }
        )  # fmt: skip
    return json.dumps({"widgets": widgets}, sort_keys=True)
