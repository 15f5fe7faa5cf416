"""Lambda Managed Instances: from ``ManagedInstances`` to the capacity provider (when the
service creates one), the function's capacity-provider config, the variables its handler reads,
and the alarms and widgets that fit the mode.

The mode has no cold starts and no provisioned concurrency, so neither a cold-start nor a PC
alarm; what goes wrong instead is capacity: the provider's CPU saturates (it scales
asynchronously on CPU, and traffic that more than doubles within five minutes is throttled),
or the alias' concurrent requests reach ``max_environments`` x requests per environment.
"""

from __future__ import annotations

import dataclasses
import math

from serverless_ml.core import limits, naming
from serverless_ml.core.acknowledgments import OPERATOR_MANAGED_POLICY, acknowledge, aws_managed_key
from serverless_ml.core.alarms import alarm, lambda_metric
from serverless_ml.core.fragments import Fragment
from serverless_ml.core.plan_types import (
    PARTITION,
    Acknowledgment,
    AlarmPlan,
    CapacityProviderPlan,
    DashboardWidgetPlan,
    Joined,
    ManagedInstancesPlan,
    MetricPlan,
    Value,
)
from serverless_ml.spec.alarms import AlarmSettings
from serverless_ml.spec.managed_instances import CapacityProvider, ManagedInstances
from sml_handlers.runtime import env

CAPACITY_KEY = "capacity"  # the capacity provider node's key: "capacity_provider:capacity"


def capacity_provider_plan(
    service: str, provider: CapacityProvider, architecture: str
) -> CapacityProviderPlan:
    """A new provider: the user's network, instance requirements and limits; an operator role
    trusted by Lambda holding AWS's managed policy (AWS documents it as the minimum)."""
    target = provider.target_cpu_utilization
    policy = Joined(("arn:", PARTITION, f":iam::aws:policy/{limits.LMI_OPERATOR_POLICY}"))
    return CapacityProviderPlan(
        key=CAPACITY_KEY,
        name=naming.capacity_provider_name(service),
        subnet_ids=provider.subnet_ids,
        security_group_ids=provider.security_group_ids,
        architecture=provider.architecture or architecture,
        allowed_instance_types=provider.allowed_instance_types,
        excluded_instance_types=provider.excluded_instance_types,
        # Always explicit (the service's default when unset): Pulumi's scaling block needs it.
        max_vcpu_count=provider.max_vcpu or limits.LMI_DEFAULT_MAX_VCPU,
        scaling_mode="Auto" if target is None else "Manual",
        scaling_policies=() if target is None else ((limits.LMI_CPU_METRIC, float(target)),),
        operator_role_name=naming.operator_role_name(service),
        operator_trust_principals=(limits.LMI_OPERATOR_PRINCIPAL,),
        operator_managed_policies=(policy,),
    )


def managed_instances_plan(
    managed: ManagedInstances, node: CapacityProviderPlan | None
) -> ManagedInstancesPlan:
    provider = managed.capacity_provider
    assert provider is not None, "the spec requires a capacity provider (SML920)"
    arn: Value = node.ref("arn") if node is not None else str(provider.existing_arn)
    return ManagedInstancesPlan(
        capacity_provider_arn=arn,
        capacity_provider_name=node.name if node is not None else provider.existing_name,
        per_environment_max_concurrency=managed.max_concurrency,
        memory_gib_per_vcpu=managed.memory_gib_per_vcpu,
        min_environments=managed.min_environments,
        max_environments=managed.max_environments,
        # Triggers invoke the alias' numbered version: a $LATEST.PUBLISHED version, which
        # CloudFormation publishes by default, would keep its own environments idle.
        publish_latest_published=False,
    )


def managed_instances_fragment(
    *,
    service: str,
    alias: str,
    managed: ManagedInstances,
    memory_mb: int,
    architecture: str,
    settings: AlarmSettings,
) -> tuple[Fragment, ManagedInstancesPlan]:
    """The capacity part of a Managed Instances service, and the function's config."""
    provider = managed.capacity_provider
    assert provider is not None, "the spec requires a capacity provider (SML920)"
    node = capacity_provider_plan(service, provider, architecture) if provider.is_new else None
    plan = managed_instances_plan(managed, node)
    requests = managed.requests_per_environment(memory_mb)
    environment = (
        (env.REQUESTS_PER_ENVIRONMENT, str(requests)),
        (env.VCPUS_PER_ENVIRONMENT, str(managed.vcpus(memory_mb))),
    )
    acks: tuple[Acknowledgment, ...] = ()
    if node is not None:
        acks = (
            acknowledge("managed-policies", node.node_id, OPERATOR_MANAGED_POLICY),
            *aws_managed_key(node),
        )
    fragment = Fragment(
        resources=() if node is None else (node,),
        environment=environment,
        alarms=managed_instances_alarms(service, alias, plan, requests, settings),
        widgets=(managed_instances_widget(service, alias, plan),),
        acknowledgments=acks,
    )
    return fragment, plan


def capacity_metric(provider: str, name: str, stat: str, period_s: int) -> MetricPlan:
    """A capacity-provider metric (``CPUUtilization``, ``MemoryUtilization``: percent)."""
    return MetricPlan(
        namespace=limits.LMI_METRICS_NAMESPACE,
        metric_name=name,
        dimensions=(("CapacityProviderName", provider),),
        statistic=stat,
        period_s=period_s,
    )


def managed_instances_alarms(
    service: str,
    alias: str,
    plan: ManagedInstancesPlan,
    requests_per_environment: int,
    settings: AlarmSettings,
) -> tuple[AlarmPlan, ...]:
    """CPU saturation of the provider (when its name is known) and concurrency saturation of
    the alias (when ``max_environments`` bounds it). Throttles are the function core's."""
    alarms: list[AlarmPlan] = []
    t = settings.capacity_cpu_pct
    if t.enabled and plan.capacity_provider_name is not None:
        metric = capacity_metric(plan.capacity_provider_name, "CPUUtilization", "Average",
                                 t.period_s)  # fmt: skip
        alarms.append(
            alarm(service, "capacity_cpu",
                  f"Capacity provider CPU at {t.threshold:g}%: it scales on CPU, and traffic that "
                  f"more than doubles within {limits.LMI_SCALE_DOUBLING_WINDOW_S // 60} minutes is "
                  "throttled", t, metric)
        )  # fmt: skip
    t = settings.concurrency_saturation_pct
    if t.enabled and plan.max_environments is not None:
        capacity = plan.max_environments * requests_per_environment
        metric = lambda_metric(service, alias, "ConcurrentExecutions", "Maximum", t.period_s)
        saturated = alarm(
            service, "concurrency_saturation",
            f"Concurrent requests at {t.threshold:g}% of {capacity} (max_environments "
            f"{plan.max_environments} x {requests_per_environment} per environment)", t, metric,
        )  # fmt: skip
        threshold = math.ceil(capacity * t.threshold / 100)
        alarms.append(dataclasses.replace(saturated, threshold=threshold))
    return tuple(alarms)


def managed_instances_widget(
    service: str, alias: str, plan: ManagedInstancesPlan
) -> DashboardWidgetPlan:
    metrics = [lambda_metric(service, alias, "ConcurrentExecutions", "Maximum", 60)]
    if plan.capacity_provider_name is not None:
        metrics += [
            capacity_metric(plan.capacity_provider_name, "CPUUtilization", "Average", 60),
            capacity_metric(plan.capacity_provider_name, "MemoryUtilization", "Average", 60),
        ]
    return DashboardWidgetPlan(title="Managed Instances capacity", metrics=tuple(metrics))
