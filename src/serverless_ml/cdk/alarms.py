"""InferenceAlarms: the plan's alarms, an SNS topic or user actions, and a dashboard."""

from __future__ import annotations

import jsii
from aws_cdk import Aws, Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from serverless_ml.cdk.l1 import cfn_of
from serverless_ml.cdk.refs import RefResolver
from serverless_ml.cdk.resources import policy_statements
from serverless_ml.core.alarms import ALARM_TOPIC_ID, dashboard_body
from serverless_ml.core.plan_types import AlarmPlan, KmsKeyPlan, MetricPlan, MonitoringPlan
from serverless_ml.core.policies import resource_policy_json

_COMPARISON = {
    "GreaterThanOrEqualToThreshold": cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    "GreaterThanThreshold": cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
}
_MISSING = {"notBreaching": cw.TreatMissingData.NOT_BREACHING}


def _metric(m: MetricPlan, refs: RefResolver) -> cw.Metric:
    return cw.Metric(
        namespace=m.namespace,
        metric_name=m.metric_name,
        dimensions_map={key: refs.resolve(value) for key, value in m.dimensions},
        statistic=m.statistic,
        period=Duration.seconds(m.period_s),
    )


def _alarm_metric(a: AlarmPlan, refs: RefResolver) -> cw.IMetric:
    if a.metric is not None:
        return _metric(a.metric, refs)
    assert a.expression is not None
    return cw.MathExpression(
        expression=a.expression,
        using_metrics={k: _metric(m, refs) for k, m in a.expression_metrics},
        period=Duration.seconds(a.expression_period_s),
        label=a.key,
    )


class InferenceAlarms(Construct):
    """Children: ``Key``, ``KeyAlias``, ``Topic`` and ``Subscription-<key>`` (when the plan
    creates a topic), one alarm per plan key, ``Dashboard``."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        plan: MonitoringPlan,
        refs: RefResolver | None = None,
    ) -> None:
        super().__init__(scope, id)
        refs = refs or RefResolver()
        self.topic: sns.Topic | None = None
        self.key: kms.CfnKey | None = None
        actions: list[cw.IAlarmAction] = []
        if plan.topic_name is not None:
            assert plan.topic_key is not None
            self.key = key = self._key(plan.topic_key, refs)
            topic = sns.Topic(self, "Topic", topic_name=plan.topic_name)
            self.topic = topic
            cfn_topic = cfn_of(topic)
            assert isinstance(cfn_topic, sns.CfnTopic)
            cfn_topic.kms_master_key_id = key.attr_arn
            refs.register(ALARM_TOPIC_ID, cfn_topic, arn=lambda: topic.topic_arn)
            for statement in policy_statements(plan.topic_policy, refs):
                topic.add_to_resource_policy(statement)
            for s in plan.subscriptions:
                sns.CfnSubscription(
                    self,
                    f"Subscription-{s.key}",
                    topic_arn=topic.topic_arn,
                    protocol=s.protocol,
                    endpoint=s.endpoint,
                )
            actions.append(cw_actions.SnsAction(self.topic))
        for arn in plan.action_arns:
            actions.append(_ArnAction(arn))
        self.alarms: dict[str, cw.Alarm] = {}
        for a in plan.alarms:
            alarm = cw.Alarm(
                self,
                a.key,
                alarm_name=a.name,
                alarm_description=a.description,
                metric=_alarm_metric(a, refs),
                threshold=a.threshold,
                comparison_operator=_COMPARISON[a.comparison],
                evaluation_periods=a.evaluation_periods,
                datapoints_to_alarm=a.datapoints_to_alarm,
                treat_missing_data=_MISSING[a.treat_missing_data],
            )
            for action in actions:
                alarm.add_alarm_action(action)
            self.alarms[a.key] = alarm
        if plan.dashboard_name is not None:
            cw.CfnDashboard(
                self,
                "Dashboard",
                dashboard_name=plan.dashboard_name,
                dashboard_body=dashboard_body(plan, Aws.REGION),
            )

    def _key(self, k: KmsKeyPlan, refs: RefResolver) -> kms.CfnKey:
        key = kms.CfnKey(
            self,
            "Key",
            description=k.description,
            enable_key_rotation=k.rotation,
            pending_window_in_days=k.pending_window_days,
            key_policy=resource_policy_json(k.policy, refs.resolve),
        )
        kms.CfnAlias(self, "KeyAlias", alias_name=k.alias_name, target_key_id=key.attr_arn)
        return key


@jsii.implements(cw.IAlarmAction)
class _ArnAction:
    """An alarm action given as an ARN (an existing topic, an SSM incident plan, ...)."""

    def __init__(self, arn: str) -> None:
        self.arn = arn

    def bind(self, _scope: Construct, _alarm: cw.IAlarm) -> cw.AlarmActionConfig:
        return cw.AlarmActionConfig(alarm_action_arn=self.arn)
