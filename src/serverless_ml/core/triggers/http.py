"""HTTP trigger: an HTTP API (payload 2.0) route or a Function URL on the alias."""

from __future__ import annotations

from serverless_ml.core import defaults, naming
from serverless_ml.core.acknowledgments import aws_managed_key
from serverless_ml.core.fragments import Fragment, PartContext
from serverless_ml.core.plan_types import HttpPlan
from serverless_ml.spec.triggers import HttpTrigger


def http_fragment(trigger: HttpTrigger, ctx: PartContext) -> Fragment:
    """The endpoint is a binding: API Gateway / the URL get invoke permission on the alias
    from the renderer's integration; the function's role needs nothing."""
    method, _, path = trigger.route.partition(" ")
    api = trigger.kind == "http_api"
    plan = HttpPlan(
        key=trigger.key,
        endpoint=trigger.kind,
        name=naming.http_api_name(ctx.service),
        payload_format_version="2.0",
        stage_name="$default",
        method=method,
        path=path,
        auth=trigger.auth,
        cors_origins=trigger.cors_origins,
        throttle_rate_per_s=trigger.throttle_rate_per_s,
        throttle_burst=trigger.throttle_burst,
        access_log_group_name=naming.access_log_group_name(ctx.service) if api else None,
        access_log_format=defaults.ACCESS_LOG_FORMAT if api else None,
        access_log_retention_days=ctx.log_retention_days,
    )
    return Fragment(bindings=(plan,), acknowledgments=aws_managed_key(plan) if api else ())
