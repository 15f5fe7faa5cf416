"""A planned function made runnable here: its bundle built for this machine, a read-only copy
as the task root, the environment Lambda would give it (the plan's variables resolved against
the local resources, Lambda's own variables, the local endpoint), and its environment pool."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from serverless_ml.core.plan_types import FunctionPlan
from serverless_ml.local.bundles import LocalBundle, local_bundle, read_only_task_root
from serverless_ml.local.environment import WorkerSpec
from serverless_ml.local.lambda_sdk import link_sdk
from serverless_ml.local.pool import FunctionPool, PoolSettings
from serverless_ml.local.records import Recorder

DEFAULT_LOCAL_CONCURRENCY: Final = 4  # environments per function unless told: 2-core machines


@dataclass(frozen=True, slots=True, kw_only=True)
class Capacity:
    """How many environments a function may have locally, and how many start warm."""

    max_environments: int
    provisioned: int
    keep_alive_s: float


def capacity(
    function: FunctionPlan, *, provisioned: int, concurrency: int | None, keep_alive_s: float
) -> Capacity:
    """The local bound is the reserved concurrency when the plan sets one, capped by
    ``concurrency`` (this machine runs every environment as a process); provisioned
    environments fit within it."""
    bound = concurrency or DEFAULT_LOCAL_CONCURRENCY
    if function.reserved_concurrency is not None:
        bound = min(bound, function.reserved_concurrency)
    bound = max(1, bound)
    return Capacity(
        max_environments=bound, provisioned=min(provisioned, bound), keep_alive_s=keep_alive_s
    )


def lambda_variables(function: FunctionPlan, *, region: str) -> dict[str, str]:
    """The variables Lambda sets in every environment of ``function``."""
    return {
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": function.log_group_name,
        "AWS_LAMBDA_LOG_STREAM_NAME": "local",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{function.runtime}",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "_HANDLER": function.handler,
        "TZ": ":UTC",
    }


def runtime_version(function: FunctionPlan) -> str:
    """``python3.13`` -> ``python:3.13`` (how INIT_START names the runtime)."""
    return function.runtime.replace("python", "python:", 1)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunnableFunction:
    local: LocalBundle
    pool: FunctionPool
    log_path: Path


def runnable_function(
    function: FunctionPlan,
    *,
    variables: Mapping[str, str],
    aws: Mapping[str, str],
    capacity: Capacity,
    scratch: Path,
    logs: Path,
    recorder: Recorder,
    region: str,
) -> RunnableFunction:
    """Build (or reuse) the bundle and make the pool; ``variables`` are the function's own
    (resolved), ``aws`` the endpoint and credentials its SDK clients use."""
    local = local_bundle(function)
    root = scratch / function.name
    root.mkdir(parents=True, exist_ok=True)
    task_root = read_only_task_root(local.bundle, root)
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{function.name}.log"
    log_path.write_text("", encoding="utf-8")
    spec = WorkerSpec(
        python=local.python,
        task_root=task_root,
        environment={**variables, **lambda_variables(function, region=region), **aws},
        sdk_path=link_sdk(root / "sdk"),
        log_path=log_path,
        timeout_s=float(function.timeout_s),
    )
    pool = FunctionPool(
        function.name,
        spec,
        PoolSettings(
            max_environments=capacity.max_environments,
            provisioned=capacity.provisioned,
            keep_alive_s=capacity.keep_alive_s,
        ),
        recorder,
        memory_mb=function.memory_mb,
        log_format=function.log_format,
        runtime=runtime_version(function),
    )
    return RunnableFunction(local=local, pool=pool, log_path=log_path)
