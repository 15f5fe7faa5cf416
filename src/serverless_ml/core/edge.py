"""build_edge_plan(spec) -> EdgeFunctionPlan: the Lambda@Edge shape on the shared function core.

No alias, failure queue, async config, environment or provisioned concurrency; a numbered
version in us-east-1; a role Lambda@Edge may assume; config baked into the bundle; logs
written by replicas to ``/aws/lambda/us-east-1.<name>`` in every edge region.
"""

from __future__ import annotations

import hashlib
import json

from serverless_ml.core import defaults, limits, naming
from serverless_ml.core.function_core import function_core
from serverless_ml.core.iam import core_statements
from serverless_ml.core.plan_types import EdgeFunctionPlan, FunctionPlan, IamStatement
from serverless_ml.spec.edge import EdgeFunctionSpec
from serverless_ml.spec.errors import SpecError


def build_edge_plan(spec: EdgeFunctionSpec) -> EdgeFunctionPlan:
    function = function_core(
        service=spec.name,
        description=spec.description or f"serverless-ml edge inference: {spec.name}",
        function_package=spec.function_package,
        model=spec.model,
        runtime=spec.runtime,
        architecture=spec.architecture,
        memory_mb=spec.memory_mb,
        timeout_s=spec.timeout_s,
        environment=None,
        tracing=False,
        log_retention_days=spec.log_retention_days,
        # The model is compiled (EdgeFunctionSpec insists), so function_core plans no
        # onnxruntime or numpy: ~27 MB zipped, against a viewer event's 1 MB.
        trust_principals=limits.EDGE_TRUST_PRINCIPALS,
        max_zipped_bytes=spec.max_code_bytes,
        baked_config=spec.config,
    )
    replicas = IamStatement(
        sid="WriteReplicaLogs",
        actions=("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"),
        resources=(
            f"arn:aws:logs:*:*:log-group:/aws/lambda/{limits.EDGE_REGION}."
            f"{naming.function_name(spec.name)}:*",
        ),
        reason="replicas log in the region that served the request, to a group CloudFront names",
    )
    return EdgeFunctionPlan(
        service=spec.name,
        function=function,
        region=limits.EDGE_REGION,
        event_type=spec.event_type,
        include_body=spec.include_body,
        publish_version=True,
        retain_on_delete=True,
        iam=(*core_statements(tracing=False), replicas),
        tags=tuple(sorted({defaults.TAG_KEY: spec.name, **spec.tags}.items())),
    )


def check_edge_region(region: str | None) -> None:
    """Refuse a stack or provider outside us-east-1 (SML408); ``None``: not known (a CDK
    stack without ``env``), refused too, since Lambda@Edge accepts us-east-1 functions only."""
    if region != limits.EDGE_REGION:
        where = "an environment-agnostic stack" if region is None else f"region {region!r}"
        raise SpecError(
            "SML408",
            f"Lambda@Edge functions live in {limits.EDGE_REGION}; this is {where}: deploy the "
            f"edge stack with env=Environment(region='{limits.EDGE_REGION}') (CDK) or "
            f"aws:region {limits.EDGE_REGION} (Pulumi creates its own provider)",
        )


def version_key(function: FunctionPlan, code_digest: str) -> str:
    """What a numbered version is a snapshot of: the code and every setting published with it.
    A change of either publishes a new version (the old one stays: replicas may still run it)."""
    settings = json.dumps(
        [function.handler, function.runtime, function.memory_mb, function.timeout_s,
         function.architecture, function.role_name, code_digest],
    )  # fmt: skip
    return hashlib.sha256(settings.encode()).hexdigest()[:16]


def policy_items(items: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """A CloudFront policy's (behavior, items) for a header or cookie list."""
    return ("whitelist", items) if items else ("none", ())
