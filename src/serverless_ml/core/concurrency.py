"""Provisioned concurrency, SnapStart and warmers: from a ConcurrencyPlan to resources."""

from __future__ import annotations

from serverless_ml.core import defaults, naming
from serverless_ml.core.acknowledgments import acknowledge
from serverless_ml.core.alarms import GT, alarm, lambda_metric
from serverless_ml.core.fragments import Fragment
from serverless_ml.core.plan_types import (
    WARMER_ID,
    AlarmPlan,
    DashboardWidgetPlan,
    ScalingPlan,
    ScheduledActionPlan,
    WarmerPlan,
)
from serverless_ml.spec.alarms import AlarmSettings
from serverless_ml.spec.concurrency import ConcurrencyPlan

PC_UTILIZATION = "ProvisionedConcurrencyUtilization"


def alias_provisioned(plan: ConcurrencyPlan) -> int:
    """PC set on the alias itself.

    Static: the number. Auto-scaled modes: a floor of at least 1 so that a deploy, which
    publishes a new version, waits for warm capacity instead of shifting traffic to a cold
    version; Application Auto Scaling then takes over (aws-cdk #7903, #29992).
    """
    if plan.mode == "static":
        return plan.provisioned
    if plan.mode in ("scheduled", "target_tracking"):
        return max(1, plan.min_capacity)
    return 0


def scaling_plan(service: str, alias: str, plan: ConcurrencyPlan) -> ScalingPlan | None:
    """Auto-scaling on the alias, tracking utilization's **Maximum** (the Average that the
    predefined metric uses under-provisions bursts: aws-cdk #23088)."""
    if plan.mode not in ("scheduled", "target_tracking"):
        return None
    return ScalingPlan(
        resource_id=naming.scalable_resource_id(service, alias),
        scalable_dimension="lambda:function:ProvisionedConcurrency",
        service_namespace="lambda",
        min_capacity=max(1, plan.min_capacity),
        max_capacity=plan.max_capacity,
        target_utilization=plan.target_utilization,
        metric_namespace="AWS/Lambda",
        metric_name=PC_UTILIZATION,
        metric_statistic="Maximum",
        metric_dimensions=(
            ("FunctionName", naming.function_name(service)),
            ("Resource", naming.alias_resource(service, alias)),
        ),
        scale_in_cooldown_s=defaults.SCALE_IN_COOLDOWN_S,
        scale_out_cooldown_s=defaults.SCALE_OUT_COOLDOWN_S,
        policy_name=naming.scaling_policy_name(service),
        scheduled_actions=tuple(
            ScheduledActionPlan(
                name=f"{service}-{a.name}",
                schedule=a.schedule,
                min_capacity=a.min_capacity,
                max_capacity=a.max_capacity,
            )
            for a in plan.schedule
        ),
    )


def warmer_plan(service: str, plan: ConcurrencyPlan) -> WarmerPlan | None:
    if plan.warmer is None:
        return None
    minutes = plan.warmer.rate_minutes
    return WarmerPlan(
        rule_name=naming.warmer_rule_name(service),
        schedule=f"rate({minutes} minute{'s' if minutes > 1 else ''})",
        input_json=defaults.WARMER_EVENT_JSON,
        target_ids=tuple(f"warm{i}" for i in range(plan.warmer.concurrency)),
    )


def capacity_fragment(
    service: str, alias: str, plan: ConcurrencyPlan, settings: AlarmSettings
) -> Fragment:
    """Provisioned concurrency's alarms (spillover, utilization Maximum) and widget; the
    warmer's accepted finding."""
    acks = (
        (
            acknowledge(
                "on-failure-destination",
                WARMER_ID,
                "a missed warm-up ping is harmless (the next follows within minutes); a "
                "dead-letter queue would only collect noise",
            ),
        )
        if plan.warmer is not None
        else ()
    )
    if not plan.uses_provisioned:
        return Fragment(acknowledgments=acks)
    alarms: list[AlarmPlan] = []
    if settings.pc_spillover.enabled:
        t = settings.pc_spillover
        metric = lambda_metric(
            service, alias, "ProvisionedConcurrencySpilloverInvocations", "Sum", t.period_s
        )
        alarms.append(
            alarm(service, "pc_spillover", "Invocations spilled over provisioned concurrency",
                  t, metric)
        )  # fmt: skip
    if settings.pc_utilization_max.enabled:
        t = settings.pc_utilization_max
        metric = lambda_metric(service, alias, PC_UTILIZATION, "Maximum", t.period_s)
        alarms.append(
            alarm(service, "pc_utilization", "Provisioned concurrency nearly exhausted (Maximum)",
                  t, metric, GT)
        )  # fmt: skip
    widget = DashboardWidgetPlan(
        title="Provisioned concurrency",
        metrics=(
            lambda_metric(service, alias, PC_UTILIZATION, "Maximum", 60),
            lambda_metric(service, alias, "ProvisionedConcurrencySpilloverInvocations", "Sum", 60),
        ),
    )
    return Fragment(alarms=tuple(alarms), widgets=(widget,), acknowledgments=acks)
