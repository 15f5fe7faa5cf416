"""The function core every function shape shares: function, role (trust principals from the
plan), log group, core IAM statements and the bundle recipe."""

from __future__ import annotations

from collections.abc import Mapping

from serverless_ml.core import defaults, limits, naming
from serverless_ml.core.plan_types import BundlePlan, FunctionPlan, Value
from serverless_ml.spec.model import ModelArtifact
from sml_handlers.runtime import env

LAMBDA_PRINCIPAL = "lambda.amazonaws.com"


def function_core(
    *,
    service: str,
    description: str,
    function_package: str,
    model: ModelArtifact,
    runtime: str,
    architecture: str,
    memory_mb: int,
    timeout_s: int,
    ephemeral_storage_mb: int = 512,
    reserved_concurrency: int | None = None,
    environment: Mapping[str, Value] | None,
    tracing: bool,
    snapstart: bool = False,
    log_retention_days: int,
    extra_requirements: tuple[str, ...] = (),
    base_requirements: tuple[str, ...] | None = None,
    trust_principals: tuple[str, ...] = (LAMBDA_PRINCIPAL,),
    max_zipped_bytes: int = limits.LAMBDA_ZIP_DIRECT_UPLOAD_BYTES,
    baked_config: Mapping[str, str] | None = None,
) -> FunctionPlan:
    """``environment=None`` means the shape allows none (Lambda@Edge): not even the library's
    own variables; what such a function must know travels in ``baked_config``.
    ``base_requirements`` default: onnxruntime + numpy, or nothing for a compiled model."""
    if base_requirements is None:
        base_requirements = () if model.compiled else defaults.FUNCTION_REQUIREMENTS
    variables: dict[str, Value] = {}
    if environment is not None:
        variables = {**standard_environment(service), **environment}
    return FunctionPlan(
        name=naming.function_name(service),
        description=description or f"serverless-ml inference: {service}",
        handler=f"{function_package}.handler.handler",
        runtime=runtime,
        latest_runtime=limits.LAMBDA_LATEST_PYTHON_RUNTIME,
        architecture=architecture,
        memory_mb=memory_mb,
        timeout_s=timeout_s,
        ephemeral_storage_mb=ephemeral_storage_mb,
        reserved_concurrency=reserved_concurrency,
        environment=tuple(sorted(variables.items(), key=lambda kv: kv[0])),
        tracing=tracing,
        snapstart=snapstart,
        log_group_name=naming.log_group_name(service),
        log_retention_days=log_retention_days,
        log_format=defaults.LOG_FORMAT,
        role_name=naming.role_name(service),
        trust_principals=trust_principals,
        bundle=BundlePlan(
            function_package=function_package,
            model_dir=model.directory,
            requirements=base_requirements + extra_requirements,
            python_version=runtime.removeprefix("python"),
            architecture=architecture,
            max_zipped_bytes=max_zipped_bytes,
            max_unzipped_bytes=limits.LAMBDA_UNZIPPED_BYTES,
            baked_config=tuple(sorted((baked_config or {}).items())),
            model_runtime=model.runtime,
        ),
    )


def standard_environment(service: str) -> dict[str, Value]:
    """What every regional function gets: Powertools-style names and native thread caps."""
    return {
        env.SERVICE_NAME: service,
        env.METRICS_NAMESPACE: defaults.METRICS_NAMESPACE,
        env.LOG_LEVEL: defaults.LOG_LEVEL,
        **defaults.NATIVE_THREADS_ENV,
    }
