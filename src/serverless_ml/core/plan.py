"""build_plan(spec) -> ServicePlan: the one place where a spec becomes concrete decisions.

The alias-fronted inference service is the function core, an alias (with async config and a
failure queue), capacity, and one fragment per part, composed without per-kind branches.
"""

from __future__ import annotations

from serverless_ml.core import defaults, limits
from serverless_ml.core.acknowledgments import from_spec, function_core_acknowledgments
from serverless_ml.core.alarms import (
    function_alarms,
    function_widgets,
    monitoring_acknowledgments,
    monitoring_plan,
)
from serverless_ml.core.concurrency import (
    alias_provisioned,
    capacity_fragment,
    scaling_plan,
    warmer_plan,
)
from serverless_ml.core.failure_queue import failure_queue_fragment, failure_queue_plan
from serverless_ml.core.fragments import AsyncInvoke, Fragment, PartContext, compose
from serverless_ml.core.function_core import function_core
from serverless_ml.core.iam import core_statements
from serverless_ml.core.managed_instances import managed_instances_fragment
from serverless_ml.core.parts import part_fragment
from serverless_ml.core.plan_types import AliasPlan, ManagedInstancesPlan, ServicePlan
from serverless_ml.spec.service import InferenceServiceSpec


def build_plan(spec: InferenceServiceSpec) -> ServicePlan:
    """Decide every default, name, permission, trigger setting and alarm for ``spec``."""
    service, alias = spec.name, spec.alias_name
    queue = failure_queue_plan(service)
    ctx = PartContext(
        service=service,
        alias=alias,
        timeout_s=spec.timeout_s,
        log_retention_days=spec.log_retention_days,
        alarms=spec.alarms,
        failure_queue_arn=queue.ref("arn"),
    )
    managed = spec.concurrency.managed
    on_managed = managed is not None
    core = Fragment(
        statements=core_statements(tracing=spec.tracing),
        alarms=function_alarms(
            service=service,
            alias=alias,
            timeout_s=spec.timeout_s,
            settings=spec.alarms,
            managed_instances=on_managed,
        ),
        widgets=function_widgets(service, alias, managed_instances=on_managed),
        acknowledgments=function_core_acknowledgments(
            runtime=spec.runtime,
            latest_runtime=limits.LAMBDA_LATEST_PYTHON_RUNTIME,
            reserved_concurrency=spec.reserved_concurrency,
            managed_instances=on_managed,
        ),
    )
    # Capacity: provisioned concurrency / warmer, or Lambda Managed Instances.
    capacity = [capacity_fragment(service, alias, spec.concurrency, spec.alarms)]
    managed_plan: ManagedInstancesPlan | None = None
    if managed is not None:
        managed_part, managed_plan = managed_instances_fragment(
            service=service,
            alias=alias,
            managed=managed,
            memory_mb=spec.memory_mb,
            architecture=spec.architecture,
            settings=spec.alarms,
        )
        capacity.append(managed_part)
    # Order is API: it orders the role policy's statements and the dashboard's widgets.
    composed = compose(
        [
            core,
            *capacity,
            *(part_fragment(t, ctx) for t in spec.triggers),
            failure_queue_fragment(service, queue, spec.alarms),
            *(part_fragment(o, ctx) for o in spec.outputs),
        ]
    )
    # Parts that are invoked asynchronously (S3) set the alias' one config; else the default.
    (async_invoke,) = composed.async_invoke or (
        AsyncInvoke(
            max_retries=defaults.ASYNC_MAX_RETRIES,
            max_event_age_s=defaults.ASYNC_MAX_EVENT_AGE_S,
            on_failure=queue.ref("arn"),
        ),
    )
    monitoring = monitoring_plan(
        service=service, settings=spec.alarms, alarms=composed.alarms, widgets=composed.widgets
    )
    return ServicePlan(
        service=service,
        function=function_core(
            service=service,
            description=spec.description,
            function_package=spec.function_package,
            model=spec.model,
            runtime=spec.runtime,
            architecture=spec.architecture,
            memory_mb=spec.memory_mb,
            timeout_s=spec.timeout_s,
            ephemeral_storage_mb=spec.ephemeral_storage_mb,
            reserved_concurrency=spec.reserved_concurrency,
            environment={**dict(composed.environment), **spec.environment},
            tracing=spec.tracing,
            snapstart=spec.concurrency.mode == "snapstart",
            log_retention_days=spec.log_retention_days,
            extra_requirements=spec.extra_requirements,
        ),
        alias=AliasPlan(
            name=alias,
            provisioned=alias_provisioned(spec.concurrency),
            async_max_retries=async_invoke.max_retries,
            async_max_event_age_s=async_invoke.max_event_age_s,
            async_on_failure=async_invoke.on_failure,
        ),
        scaling=scaling_plan(service, alias, spec.concurrency),
        warmer=warmer_plan(service, spec.concurrency),
        resources=composed.resources,
        bindings=composed.bindings,
        iam=composed.statements,
        monitoring=monitoring,
        tags=tuple(sorted({defaults.TAG_KEY: service, **spec.tags}.items())),
        acknowledgments=(
            *composed.acknowledgments,
            *monitoring_acknowledgments(monitoring),
            *from_spec(spec.acknowledgments),
        ),
        managed_instances=managed_plan,
    )
