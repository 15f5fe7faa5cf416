"""Bundle a planned function: the bridge the CDK and Pulumi renderers call."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from serverless_ml.bundling.builder import build_bundle
from serverless_ml.bundling.cache import default_cache_dir
from serverless_ml.bundling.compiled import compiled_model_dir
from serverless_ml.bundling.errors import INVALID_SPEC, BundleError
from serverless_ml.bundling.sizes import check_bundle_size
from serverless_ml.bundling.spec import Architecture, Bundle, BundleSpec
from serverless_ml.core.plan_types import FunctionPlan
from sml_handlers.runtime import env


def spec_from_plan(function: FunctionPlan, *, cache_dir: Path | None = None) -> BundleSpec:
    """The ``BundleSpec`` for a planned function (architecture and runtime as planned); the
    plan's baked config becomes ``sml_config.json`` in the bundle root; a compiled model's
    ``model/`` holds its compiled module and card instead of ``model.onnx``."""
    plan = function.bundle
    model_dir = plan.model_dir
    if plan.model_runtime == "compiled":
        model_dir = compiled_model_dir(model_dir, default_cache_dir(cache_dir))
    architecture: Architecture
    if plan.architecture == "arm64":
        architecture = "arm64"
    elif plan.architecture == "x86_64":
        architecture = "x86_64"
    else:
        raise BundleError(INVALID_SPEC, f"architecture {plan.architecture!r} is not arm64/x86_64")
    return BundleSpec(
        name=function.name,
        function_package=plan.function_package,
        model_dir=model_dir,
        requirements=plan.requirements,
        python_version=plan.python_version,
        architecture=architecture,
        extra_files=_baked_config_files(plan.baked_config, cache_dir),
    )


def _baked_config_files(
    config: tuple[tuple[str, str], ...], cache_dir: Path | None
) -> tuple[tuple[str, Path], ...]:
    """The config as a content-addressed file in the cache (so the bundle hash follows it)."""
    if not config:
        return ()
    text = json.dumps(dict(config), sort_keys=True, indent=1) + "\n"
    digest = hashlib.sha256(text.encode()).hexdigest()[:32]
    path = default_cache_dir(cache_dir) / "config" / f"{digest}.json"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".tmp-{os.getpid()}")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(path)
    return ((env.BAKED_CONFIG_FILE, path),)


def bundle_function(
    function: FunctionPlan, *, cache_dir: Path | None = None, target_python: str | None = None
) -> Bundle:
    """Build the function's artifact and check it against the plan's size limits."""
    bundle = build_bundle(
        spec_from_plan(function, cache_dir=cache_dir),
        cache_dir=cache_dir,
        target_python=target_python,
        enforce_limits=False,
    )
    check_bundle_size(
        bundle,
        unzipped_limit=function.bundle.max_unzipped_bytes,
        zipped_limit=function.bundle.max_zipped_bytes,
    )
    return bundle
