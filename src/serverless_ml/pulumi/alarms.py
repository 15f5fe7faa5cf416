"""InferenceAlarms: the plan's alarms, an SNS topic or user actions, and a dashboard."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pulumi
import pulumi_aws as aws

from serverless_ml.core.alarms import ALARM_TOPIC_ID, dashboard_body
from serverless_ml.core.plan_types import (
    REGION,
    AlarmPlan,
    KmsKeyPlan,
    MetricPlan,
    MonitoringPlan,
)
from serverless_ml.pulumi.policies import resource_policy
from serverless_ml.pulumi.refs import RefResolver

_PERCENTILE = re.compile(r"^p\d+(\.\d+)?$")


@dataclass(frozen=True, kw_only=True)
class InferenceAlarmsArgs:
    plan: MonitoringPlan
    tags: dict[str, str] = field(default_factory=dict)
    refs: RefResolver = field(default_factory=RefResolver)


def _single_metric(m: MetricPlan, refs: RefResolver) -> dict[str, Any]:
    """MetricAlarm's single-metric fields; percentiles go in ``extended_statistic``."""
    stat = (
        {"extended_statistic": m.statistic}
        if _PERCENTILE.match(m.statistic)
        else {"statistic": m.statistic}
    )
    return {
        "namespace": m.namespace,
        "metric_name": m.metric_name,
        "dimensions": _dimensions(m, refs),
        "period": m.period_s,
        **stat,
    }


def _dimensions(m: MetricPlan, refs: RefResolver) -> dict[str, pulumi.Input[str]]:
    return {key: refs.resolve(value) for key, value in m.dimensions}


def _metric_queries(
    a: AlarmPlan, refs: RefResolver
) -> list[aws.cloudwatch.MetricAlarmMetricQueryArgs]:
    """Metric math: the inputs (not returned) and the expression (returned, id = alarm key)."""
    queries = [
        aws.cloudwatch.MetricAlarmMetricQueryArgs(
            id=query_id,
            metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                namespace=m.namespace,
                metric_name=m.metric_name,
                dimensions=_dimensions(m, refs),
                period=m.period_s,
                stat=m.statistic,
            ),
            return_data=False,
        )
        for query_id, m in a.expression_metrics
    ]
    queries.append(
        aws.cloudwatch.MetricAlarmMetricQueryArgs(
            id=a.key,
            expression=a.expression,
            label=a.key,
            period=a.expression_period_s,
            return_data=True,
        )
    )
    return queries


class InferenceAlarms(pulumi.ComponentResource):
    """Children (``<n>`` is this component's name): ``<n>-key``, ``<n>-key-alias``,
    ``<n>-topic``, ``<n>-topic-policy`` and ``<n>-subscription-<key>`` (when the plan creates
    a topic), ``<n>-alarm-<key>`` per plan alarm (``_`` -> ``-``),
    ``<n>-dashboard``.

    ``topic_arn`` is ``None`` without a new topic; ``alarm_names`` maps plan keys to names.
    """

    TYPE: ClassVar[str] = "serverless-ml:monitoring:InferenceAlarms"

    topic_arn: pulumi.Output[str] | None
    dashboard_name: pulumi.Output[str] | None
    alarm_names: dict[str, pulumi.Output[str]]

    def __init__(
        self, name: str, args: InferenceAlarmsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(self.TYPE, name, None, opts)
        plan = args.plan
        child = pulumi.ResourceOptions(parent=self)
        actions: list[pulumi.Input[str]] = []
        self.topic: aws.sns.Topic | None = None
        self.topic_arn = None
        self.key: aws.kms.Key | None = None
        if plan.topic_name is not None:
            assert plan.topic_key is not None
            refs = args.refs
            self.key = self._key(name, plan.topic_key, args, child)
            self.topic = aws.sns.Topic(
                f"{name}-topic",
                name=plan.topic_name,
                kms_master_key_id=self.key.arn,
                tags=args.tags,
                opts=child,
            )
            refs.register(ALARM_TOPIC_ID, arn=self.topic.arn)
            aws.sns.TopicPolicy(
                f"{name}-topic-policy",
                arn=self.topic.arn,
                policy=resource_policy(plan.topic_policy, refs),
                opts=child,
            )
            for s in plan.subscriptions:
                aws.sns.TopicSubscription(
                    f"{name}-subscription-{s.key}",
                    topic=self.topic.arn,
                    protocol=s.protocol,
                    endpoint=s.endpoint,
                    opts=child,
                )
            self.topic_arn = self.topic.arn
            actions.append(self.topic.arn)
        actions.extend(plan.action_arns)

        self.alarms: dict[str, aws.cloudwatch.MetricAlarm] = {}
        for a in plan.alarms:
            metric: dict[str, Any] = (
                _single_metric(a.metric, args.refs)
                if a.metric is not None
                else {"metric_queries": _metric_queries(a, args.refs)}
            )
            self.alarms[a.key] = aws.cloudwatch.MetricAlarm(
                f"{name}-alarm-{a.key.replace('_', '-')}",
                name=a.name,
                alarm_description=a.description,
                comparison_operator=a.comparison,
                threshold=a.threshold,
                evaluation_periods=a.evaluation_periods,
                datapoints_to_alarm=a.datapoints_to_alarm,
                treat_missing_data=a.treat_missing_data,
                alarm_actions=actions,
                tags=args.tags,
                opts=child,
                **metric,
            )
        self.alarm_names = {key: alarm.name for key, alarm in self.alarms.items()}

        self.dashboard: aws.cloudwatch.Dashboard | None = None
        self.dashboard_name = None
        if plan.dashboard_name is not None:
            region = pulumi.Output.from_input(args.refs.resolve(REGION))
            self.dashboard = aws.cloudwatch.Dashboard(
                f"{name}-dashboard",
                dashboard_name=plan.dashboard_name,
                dashboard_body=region.apply(lambda r: dashboard_body(plan, r)),
                opts=child,
            )
            self.dashboard_name = self.dashboard.dashboard_name

        outputs: dict[str, Any] = {"alarm_names": self.alarm_names}
        if self.topic_arn is not None:
            outputs["topic_arn"] = self.topic_arn
        if self.dashboard_name is not None:
            outputs["dashboard_name"] = self.dashboard_name
        self.register_outputs(outputs)

    @staticmethod
    def _key(
        name: str, k: KmsKeyPlan, args: InferenceAlarmsArgs, opts: pulumi.ResourceOptions
    ) -> aws.kms.Key:
        key = aws.kms.Key(
            f"{name}-key",
            description=k.description,
            enable_key_rotation=k.rotation,
            deletion_window_in_days=k.pending_window_days,
            policy=resource_policy(k.policy, args.refs),
            tags=args.tags,
            opts=opts,
        )
        aws.kms.Alias(f"{name}-key-alias", name=k.alias_name, target_key_id=key.arn, opts=opts)
        return key
