"""The alarm preset and dashboard, alias-aware: Lambda metrics carry the alias' ``Resource``
dimension so they measure what triggers invoke, not ``$LATEST``."""

from __future__ import annotations

import json

from serverless_ml.core import defaults, naming
from serverless_ml.core.plan_types import (
    AlarmPlan,
    DashboardWidgetPlan,
    MetricPlan,
    MonitoringPlan,
    QueuePlan,
    StreamMappingPlan,
)
from serverless_ml.spec.alarms import AlarmSettings, AlarmThreshold

GTE = "GreaterThanOrEqualToThreshold"
GT = "GreaterThanThreshold"


def _lambda_metric(service: str, alias: str, name: str, stat: str, period_s: int) -> MetricPlan:
    return MetricPlan(
        namespace="AWS/Lambda",
        metric_name=name,
        dimensions=(
            ("FunctionName", naming.function_name(service)),
            ("Resource", naming.alias_resource(service, alias)),
        ),
        statistic=stat,
        period_s=period_s,
    )


def _alarm(
    service: str, key: str, description: str, t: AlarmThreshold, metric: MetricPlan, cmp: str = GTE
) -> AlarmPlan:
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


def monitoring_plan(
    *,
    service: str,
    alias: str,
    timeout_s: int,
    settings: AlarmSettings,
    uses_provisioned: bool,
    stream_mappings: tuple[StreamMappingPlan, ...],
    failure_queue: QueuePlan | None,
    kinesis_streams: tuple[str, ...] = (),
) -> MonitoringPlan:
    """The preset: errors, error rate, throttles, p99 duration vs timeout, cold starts, iterator
    age (streams), failure-queue depth, PC spillover and PC utilization (PC modes)."""
    s = settings
    alarms: list[AlarmPlan] = []

    def lam(name: str, stat: str, t: AlarmThreshold) -> MetricPlan:
        return _lambda_metric(service, alias, name, stat, t.period_s)

    if s.errors.enabled:
        alarms.append(
            _alarm(service, "errors", "Invocation errors on the alias", s.errors,
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
        alarms.append(
            _alarm(service, "throttles", "Throttled invocations on the alias", s.throttles,
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
    if s.cold_starts.enabled:
        t = s.cold_starts
        alarms.append(
            _alarm(
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
    if stream_mappings and s.iterator_age_ms.enabled:
        t = s.iterator_age_ms
        alarms.append(
            _alarm(service, "iterator_age", "Stream records waiting too long (Lambda IteratorAge)",
                   t, lam("IteratorAge", "Maximum", t))
        )  # fmt: skip
    if s.iterator_age_ms.enabled:
        t = s.iterator_age_ms
        for stream in kinesis_streams:
            alarms.append(
                _alarm(
                    service, f"kinesis_iterator_age_{stream.removeprefix(service + '-')}",
                    f"Records waiting in Kinesis stream {stream} (GetRecords.IteratorAgeMilliseconds)",
                    t,
                    MetricPlan(
                        namespace="AWS/Kinesis",
                        metric_name="GetRecords.IteratorAgeMilliseconds",
                        dimensions=(("StreamName", stream),),
                        statistic="Maximum",
                        period_s=t.period_s,
                    ),
                )
            )  # fmt: skip
    if failure_queue is not None and s.dlq_depth.enabled:
        t = s.dlq_depth
        alarms.append(
            _alarm(
                service, "failure_queue_depth", "Records or events landed on the failure queue", t,
                MetricPlan(
                    namespace="AWS/SQS",
                    metric_name="ApproximateNumberOfMessagesVisible",
                    dimensions=(("QueueName", failure_queue.name),),
                    statistic="Maximum",
                    period_s=t.period_s,
                ),
            )
        )  # fmt: skip
    if uses_provisioned and s.pc_spillover.enabled:
        t = s.pc_spillover
        alarms.append(
            _alarm(service, "pc_spillover", "Invocations spilled over provisioned concurrency",
                   t, lam("ProvisionedConcurrencySpilloverInvocations", "Sum", t))
        )  # fmt: skip
    if uses_provisioned and s.pc_utilization_max.enabled:
        t = s.pc_utilization_max
        alarms.append(
            _alarm(service, "pc_utilization", "Provisioned concurrency nearly exhausted (Maximum)",
                   t, lam("ProvisionedConcurrencyUtilization", "Maximum", t), GT)
        )  # fmt: skip

    topic = naming.alarm_topic_name(service) if s.topic == "new" else None
    actions = tuple(([s.topic] if s.topic not in ("new", None) else []) + list(s.extra_action_arns))
    return MonitoringPlan(
        alarms=tuple(alarms),
        topic_name=topic,
        topic_enforce_tls=True,
        topic_allow_cloudwatch=True,
        action_arns=actions,
        dashboard_name=naming.dashboard_name(service) if s.dashboard else None,
        widgets=_widgets(service, alias, uses_provisioned, bool(stream_mappings)),
    )


def _widgets(
    service: str, alias: str, uses_provisioned: bool, has_streams: bool
) -> tuple[DashboardWidgetPlan, ...]:
    def m(name: str, stat: str) -> MetricPlan:
        return _lambda_metric(service, alias, name, stat, 60)

    widgets = [
        DashboardWidgetPlan(title="Invocations / errors / throttles",
                            metrics=(m("Invocations", "Sum"), m("Errors", "Sum"),
                                     m("Throttles", "Sum"))),
        DashboardWidgetPlan(title="Duration (ms)",
                            metrics=(m("Duration", "p50"), m("Duration", "p99"))),
        DashboardWidgetPlan(
            title="Cold starts and inference latency",
            metrics=(
                MetricPlan(namespace=defaults.METRICS_NAMESPACE, metric_name="ColdStart",
                           dimensions=(("function_name", naming.function_name(service)),
                                       ("service", service)),
                           statistic="Sum", period_s=60),
                MetricPlan(namespace=defaults.METRICS_NAMESPACE, metric_name="InferenceLatency",
                           dimensions=(("service", service),), statistic="p99", period_s=60),
            ),
        ),
    ]  # fmt: skip
    if uses_provisioned:
        widgets.append(
            DashboardWidgetPlan(title="Provisioned concurrency",
                                metrics=(m("ProvisionedConcurrencyUtilization", "Maximum"),
                                         m("ProvisionedConcurrencySpilloverInvocations", "Sum")))
        )  # fmt: skip
    if has_streams:
        widgets.append(
            DashboardWidgetPlan(title="Stream iterator age (ms)",
                                metrics=(m("IteratorAge", "Maximum"),))
        )  # fmt: skip
    return tuple(widgets)


def dashboard_body(plan: MonitoringPlan, region: str) -> str:
    """CloudWatch dashboard JSON; ``region`` may be a CDK token or a resolved Pulumi value."""
    widgets = []
    for i, w in enumerate(plan.widgets):
        metrics = [
            [m.namespace, m.metric_name, *[x for kv in m.dimensions for x in kv],
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
