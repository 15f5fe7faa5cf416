"""The ablation benchmark's variants: the full build of a function with one lever changed.

Each variant is a copy of the function's full build (the bundle its reference stack deploys,
built for this host) with one change, cached under ``<cache>/ablation/<key>`` where the key
hashes the full build's content hash, the lever and everything the change adds (shim source,
model bytes, installed packages). Copies hard-link the cache's files (nothing is modified in
place: a replaced file is unlinked first). What changes, per lever:

- ``pyc``: every ``__pycache__`` removed;
- ``trim``: the requirements installed again by pip with the same flags, untrimmed (``.pyc``
  compiled as the bundler compiles them), our files on top;
- ``lazy_boto3``: a shim handler module imports boto3 and creates the function's clients
  (through ``sml_handlers.runtime.aws``, so the handler reuses them) before importing the
  handler;
- ``no_powertools``: Powertools bundled (``aws-lambda-powertools``, .pyc compiled), and a shim
  that creates its ``Logger`` and ``Metrics`` (and ``BatchProcessor`` for stream functions) at
  INIT, as a Powertools handler does;
- ``offline_opt``: ``model/model.onnx`` swapped for the converted, unoptimized graph and a shim
  that lets onnxruntime optimize at session creation (its default level, ``ORT_ENABLE_ALL``);
- ``warm_up``: a shim that makes the model's ``warm_up`` a no-op;
- ``threads``: a shim whose session options are onnxruntime's defaults (intra-/inter-op
  threads, spinning on), graph optimization level kept as ours;
- ``compiled``: the same plan with the other model runtime, built by the bundler (the edge
  function ships compiled: its variant serves ``model.onnx`` through onnxruntime; fraud and IoT
  ship onnxruntime: theirs is compiled, a lever measured switched *on*);
- ``int8``: ``model/model.onnx`` swapped for its int8 dynamic quantization (switched *on*).

A shim is the bench's own handler module (``sml_ablation_shim.handler``): the shipped handlers
are never changed. Levers that cannot apply to a function say why (``NotApplicable``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from serverless_ml.bench.ablation_models import converted_model, int8_model
from serverless_ml.bench.aws_transport import installed_packages
from serverless_ml.bench.functions import BenchFunction
from serverless_ml.bundling import Bundle, BundleSpec, build_bundle, cache, spec_from_plan
from serverless_ml.bundling.archive import write_zip
from serverless_ml.bundling.bytecode import compile_tree
from serverless_ml.bundling.sources import extra_files, handler_files, model_files
from serverless_ml.bundling.trim import tree_bytes
from serverless_ml.core.plan_types import FunctionPlan
from serverless_ml.models.build import MODEL_FILE

LAYOUT: Final = 1
CACHE_SUBDIR: Final = "ablation"
SHIM_MODULE: Final = "sml_ablation_shim"
MANIFEST: Final = "manifest.json"
ZIP_NAME: Final = "bundle.zip"
# The AWS clients each handler creates (on first use in the full build).
AWS_SERVICES: Final = {
    "fraud": ("dynamodb",),
    "iot": ("dynamodb", "sns"),
    "image": ("s3", "dynamodb"),
    "personalize": (),
}
# The Powertools batch processor a stream function would use in place of runtime.batch.
BATCH_EVENT_TYPES: Final = {"fraud": "DynamoDBStreams", "iot": "KinesisDataStreams"}


@dataclass(frozen=True, kw_only=True)
class Lever:
    """One cold-start lever: what the full build does, where, and what its variant does."""

    key: str
    name: str
    variant: str
    where: str


LEVERS: Final = (
    Lever(key="pyc", name="shipped .pyc (python3.13, unchecked-hash)",
          variant="no .pyc in the bundle", where="bundling/bytecode.py"),
    Lever(key="trim", name="trimmed third-party packages",
          variant="untrimmed pip install (.pyc still compiled)", where="bundling/trim.py"),
    Lever(key="lazy_boto3", name="boto3 loaded on first use",
          variant="boto3 imported and clients created at INIT", where="runtime/aws.py"),
    Lever(key="no_powertools", name="stdlib logging, EMF metrics, batch responses",
          variant="Powertools bundled; Logger, Metrics (BatchProcessor) created at INIT",
          where="sml_handlers/runtime/"),
    Lever(key="offline_opt", name="model optimized offline, not at load",
          variant="converted model, onnxruntime optimizes at session creation (ENABLE_ALL)",
          where="models/onnx_export.py, runtime/onnx_model.py"),
    Lever(key="warm_up", name="one warm-up inference at INIT", variant="no warm-up",
          where="runtime/onnx_model.py, runtime/compiled_model.py"),
    Lever(key="threads", name="intra-op threads by memory, 1 inter-op, no spinning",
          variant="onnxruntime's default threads and spinning", where="runtime/onnx_model.py"),
    Lever(key="compiled", name="compiled runtime (pure-Python model)",
          variant="the other model runtime", where="models/compiler/, runtime/compiled_model.py"),
    Lever(key="int8", name="int8 dynamic quantization (not shipped)",
          variant="model quantized to int8 weights", where="onnxruntime.quantization"),
)  # fmt: skip
LEVER_KEYS: Final = tuple(lever.key for lever in LEVERS)


@dataclass(frozen=True)
class Target:
    """One function's full build and what every variant of it is built with."""

    function: BenchFunction
    plan: FunctionPlan
    spec: BundleSpec  # the host build's spec
    full: Bundle
    python: str
    version: str
    magic: str
    architecture: str
    cache_dir: Path

    @property
    def key(self) -> str:
        return self.function.key

    @property
    def module(self) -> str:
        return self.plan.handler.rsplit(".", 1)[0]

    @property
    def runtime(self) -> str:
        return self.plan.bundle.model_runtime

    @property
    def artifact(self) -> str:
        return self.plan.bundle.model_dir.name


@dataclass(frozen=True)
class Variant:
    """A bundle to measure: ``module`` is the handler module the child imports at INIT.

    ``shipped``: the full build uses the lever (the variant turns it off); False for a lever
    the full build does not use (the variant turns it on). ``facts``: what differs, by
    construction (checked by the tests against the full build's facts).
    """

    lever: str
    description: str
    shipped: bool
    root: Path
    module: str
    zipped_bytes: int
    unzipped_bytes: int
    facts: dict[str, Any]


@dataclass(frozen=True)
class NotApplicable:
    lever: str
    reason: str


def _sha(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def bundle_facts(root: Path) -> dict[str, Any]:
    """What every variant reports about its files."""
    model = root / "model" / MODEL_FILE
    return {
        "pyc_files": sum(1 for _ in root.rglob("*.pyc")),
        "model_sha256": _sha(model),
        "model_bytes": model.stat().st_size if model.is_file() else None,
        "compiled_model": (root / "model" / "compiled_model.py").is_file(),
        "shim": (root / f"{SHIM_MODULE}.py").is_file(),
        "onnxruntime_tools": (root / "onnxruntime" / "tools").is_dir(),
        "powertools": (root / "aws_lambda_powertools").is_dir(),
    }


def full_variant(target: Target) -> Variant:
    return Variant(
        lever="full", description="full build (as deployed, for this host)", shipped=True,
        root=target.full.path, module=target.module, zipped_bytes=target.full.zipped_bytes,
        unzipped_bytes=target.full.unzipped_bytes, facts=bundle_facts(target.full.path),
    )  # fmt: skip


# --- copying without touching the cache's files -------------------------------------------------


def _link(source: Path, destination: Path) -> None:
    """Hard-link (or copy) one file; an existing destination is unlinked first, never
    written through (it may be a link into the cache)."""
    destination.unlink(missing_ok=True)
    cache.link_or_copy(str(source), str(destination))


def _overlay(source: Path, destination: Path) -> None:
    """Every file under ``source`` linked into ``destination`` (which may exist)."""
    if source.is_file():
        destination.parent.mkdir(parents=True, exist_ok=True)
        _link(source, destination)
        return
    for directory, _dirs, files in os.walk(source):
        target = destination / Path(directory).relative_to(source)
        target.mkdir(parents=True, exist_ok=True)
        for name in files:
            _link(Path(directory) / name, target / name)


def _replace(path: Path, data: bytes) -> None:
    path.unlink(missing_ok=True)
    path.write_bytes(data)


def _our_top_level(spec: BundleSpec) -> list[str]:
    """Top-level entries the bundler adds on top of the third-party packages."""
    files = [*handler_files(spec), *model_files(spec), *extra_files(spec)]
    return sorted({item.destination.split("/", 1)[0] for item in files})


def _derived(
    target: Target,
    lever: str,
    description: str,
    *,
    shipped: bool,
    inputs: dict[str, Any],
    make: Callable[[Path], None],
    base: Path | None = None,
) -> Variant:
    """The cached variant: ``base`` (default the full build) linked into a new asset, then
    ``make(asset)``; sizes and facts computed once."""
    key = hashlib.sha256(
        json.dumps(
            [LAYOUT, lever, target.full.content_hash, inputs], sort_keys=True, default=str
        ).encode()
    ).hexdigest()
    entry = target.cache_dir / CACHE_SUBDIR / key
    if not (entry / MANIFEST).is_file():
        cache.prepare(target.cache_dir)
        entry.parent.mkdir(parents=True, exist_ok=True)
        with cache.key_lock(target.cache_dir, f"{CACHE_SUBDIR}-{key}"):
            if not (entry / MANIFEST).is_file():
                work = cache.temp_entry(target.cache_dir, key)
                try:
                    asset = work / "asset"
                    shutil.copytree(
                        base or target.full.path, asset, symlinks=True,
                        copy_function=cache.link_or_copy,
                    )  # fmt: skip
                    make(asset)
                    manifest = {
                        "group": f"{target.full.content_hash[:16]}/{lever}",
                        "lever": lever,
                        "function": target.plan.name,
                        "unzipped_bytes": tree_bytes(asset),
                        "zipped_bytes": write_zip(asset, work / ZIP_NAME),
                        "facts": bundle_facts(asset),
                        "inputs": inputs,
                    }
                    (work / MANIFEST).write_text(
                        json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8"
                    )
                    cache.publish(work, entry)
                finally:
                    shutil.rmtree(work, ignore_errors=True)
    cache.touch(entry)
    data = json.loads((entry / MANIFEST).read_text(encoding="utf-8"))
    module = SHIM_MODULE if data["facts"]["shim"] else target.module
    return Variant(
        lever=lever, description=description, shipped=shipped, root=entry / "asset",
        module=module, zipped_bytes=data["zipped_bytes"], unzipped_bytes=data["unzipped_bytes"],
        facts=data["facts"],
    )  # fmt: skip


def prune(cache_dir: Path) -> None:
    """Keep the ablation cache bounded (the bundler's rules: a few per group, idle ones go)."""

    def group_of(entry: Path) -> str | None:
        try:
            return str(json.loads((entry / MANIFEST).read_text(encoding="utf-8"))["group"])
        except (OSError, ValueError, KeyError):
            return None

    if (cache_dir / CACHE_SUBDIR).is_dir():
        cache.prune(cache_dir / CACHE_SUBDIR, group_of)


# --- shims ----------------------------------------------------------------------------------------


def shim_source(target: Target, lever: str, body: str) -> str:
    """The shim handler module: ``body`` runs first (inside INIT), then the handler loads."""
    return (
        f'"""Ablation variant {lever!r} of {target.module} (benchmarks only: '
        'serverless_ml.bench.ablation_variants)."""\n'
        f"{body.strip()}\n\n"
        f"from {target.module} import handler  # noqa: E402,F401\n"
    )


def _write_shim(target: Target, asset: Path, source: str) -> None:
    path = asset / f"{SHIM_MODULE}.py"
    path.write_text(source, encoding="utf-8")
    if target.full.pyc_compiled:  # the shim gets .pyc like the rest of the bundle
        failed = compile_tree(target.python, asset, only=path)
        if failed:
            raise RuntimeError(f"shim did not compile: {failed}")


def _shim_variant(
    target: Target,
    lever: str,
    description: str,
    body: str,
    *,
    extra: Callable[[Path], None] | None = None,
    inputs: dict[str, Any] | None = None,
) -> Variant:
    source = shim_source(target, lever, body)

    def make(asset: Path) -> None:
        if extra is not None:
            extra(asset)
        _write_shim(target, asset, source)

    return _derived(
        target, lever, description, shipped=True, inputs={"shim": source, **(inputs or {})},
        make=make,
    )  # fmt: skip


_EAGER_BOTO3: Final = """
from sml_handlers.runtime import aws

# What a handler that imports boto3 at module top pays at INIT: boto3, botocore and one client
# per service it calls (cached, so the handler's first invoke reuses them).
CLIENTS = [aws.client(name) for name in {services!r}]
"""

_POWERTOOLS: Final = """
from aws_lambda_powertools import Logger, Metrics

LOGGER = Logger(service={service!r})
METRICS = Metrics(namespace="ServerlessML", service={service!r})
"""

_POWERTOOLS_BATCH: Final = """
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

PROCESSOR = BatchProcessor(event_type=EventType.{event_type})
"""

_OPTIMIZE_AT_LOAD: Final = """
import onnxruntime as ort

from sml_handlers.runtime import onnx_model

_ours = onnx_model.session_options


def _optimizing(threads):
    options = _ours(threads)
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return options


onnx_model.session_options = _optimizing
"""

_NO_WARM_UP: Final = """
from {module} import {model_class}

SKIPPED_WARM_UPS = []
{model_class}.warm_up = lambda self: SKIPPED_WARM_UPS.append(1)
"""

_DEFAULT_THREADS: Final = """
import onnxruntime as ort

from sml_handlers.runtime import onnx_model


def _defaults(threads):
    options = ort.SessionOptions()  # onnxruntime's threads, spinning and execution mode
    options.graph_optimization_level = onnx_model.LOAD_OPTIMIZATION_LEVEL
    options.log_severity_level = 3
    return options


onnx_model.session_options = _defaults
"""


# --- the levers -----------------------------------------------------------------------------------


def _no_pyc(target: Target) -> Variant | NotApplicable:
    if not target.full.pyc_compiled:
        return NotApplicable("pyc", "the full build has no .pyc (no python3.13 found)")

    def make(asset: Path) -> None:
        for cached in sorted(asset.rglob("__pycache__"), reverse=True):
            shutil.rmtree(cached)

    return _derived(target, "pyc", "no .pyc", shipped=True, inputs={}, make=make)


def _untrimmed(target: Target) -> Variant | NotApplicable:
    if not target.spec.requirements:
        return NotApplicable("trim", "no third-party packages: nothing to trim")
    site = installed_packages(
        target.spec.requirements, python=target.python, python_version=target.version,
        magic=target.magic, architecture=target.architecture, cache_dir=target.cache_dir,
    )  # fmt: skip
    ours = _our_top_level(target.spec)

    def make(asset: Path) -> None:
        for name in ours:
            _overlay(target.full.path / name, asset / name)

    return _derived(
        target, "trim", "untrimmed install", shipped=True,
        inputs={"site": site.parent.name, "ours": ours}, make=make, base=site,
    )  # fmt: skip


def _eager_boto3(target: Target) -> Variant | NotApplicable:
    services = AWS_SERVICES[target.key]
    if not services:
        return NotApplicable("lazy_boto3", "the handler makes no AWS call")
    return _shim_variant(
        target, "lazy_boto3", f"boto3 + {', '.join(services)} client(s) at INIT",
        _EAGER_BOTO3.format(services=services),
    )  # fmt: skip


def powertools_requirement() -> str:
    return f"aws-lambda-powertools=={importlib.metadata.version('aws-lambda-powertools')}"


def _powertools(target: Target) -> Variant | NotApplicable:
    requirement = powertools_requirement()
    site = installed_packages(
        (requirement,), python=target.python, python_version=target.version,
        magic=target.magic, architecture=target.architecture, cache_dir=target.cache_dir,
    )  # fmt: skip
    body = _POWERTOOLS.format(service=target.plan.name)
    what = "Logger + Metrics"
    event_type = BATCH_EVENT_TYPES.get(target.key)
    if event_type is not None:
        body += _POWERTOOLS_BATCH.format(event_type=event_type)
        what += " + BatchProcessor"
    return _shim_variant(
        target, "no_powertools", f"{requirement.replace('==', ' ')}: {what} at INIT", body,
        extra=lambda asset: _overlay(site, asset), inputs={"site": site.parent.name},
    )  # fmt: skip


def _onnx_only(target: Target, lever: str) -> NotApplicable | None:
    if target.runtime != "onnxruntime":
        return NotApplicable(lever, "the model is served compiled: no onnxruntime session")
    return None


def _optimize_at_load(target: Target) -> Variant | NotApplicable:
    refused = _onnx_only(target, "offline_opt")
    if refused is not None:
        return refused
    converted, manifest = converted_model(target.artifact, target.cache_dir)
    data = converted.read_bytes()
    return _shim_variant(
        target, "offline_opt", "converted model, optimized at session creation",
        _OPTIMIZE_AT_LOAD,
        extra=lambda asset: _replace(asset / "model" / MODEL_FILE, data),
        inputs={"model": manifest["converted_sha256"]},
    )  # fmt: skip


def _no_warm_up(target: Target) -> Variant | NotApplicable:
    module, model_class = (
        ("sml_handlers.runtime.onnx_model", "OnnxModel")
        if target.runtime == "onnxruntime"
        else ("sml_handlers.runtime.compiled_model", "CompiledModel")
    )
    return _shim_variant(
        target, "warm_up", "no warm-up inference",
        _NO_WARM_UP.format(module=module, model_class=model_class),
    )  # fmt: skip


def _default_threads(target: Target) -> Variant | NotApplicable:
    refused = _onnx_only(target, "threads")
    if refused is not None:
        return refused
    return _shim_variant(target, "threads", "onnxruntime's default threads", _DEFAULT_THREADS)


def _other_runtime_plan(target: Target) -> FunctionPlan | str:
    """The function's plan with the other model runtime, or why there is none."""
    if target.key == "personalize":
        from serverless_ml.bench.edge_bench import edge_functions

        return edge_functions()["onnxruntime"]
    from serverless_ml.core.plan import build_plan
    from serverless_ml.models.errors import ModelError
    from serverless_ml.reference.scenarios import SCENARIOS
    from serverless_ml.spec.errors import SpecError
    from serverless_ml.spec.model import ModelArtifact

    spec = SCENARIOS[target.plan.name]()
    try:
        model = ModelArtifact.packaged(target.artifact, runtime="compiled")
        return build_plan(dataclasses.replace(spec, model=model)).function
    except (ModelError, SpecError) as error:
        detail = str(error).split(";")[0].split("runtime='compiled': ")[-1]
        return (
            f"the model does not compile ({error.code}: {detail.removeprefix(error.code + ': ')})"
        )


def _other_runtime(target: Target) -> Variant | NotApplicable:
    plan = _other_runtime_plan(target)
    if isinstance(plan, str):
        return NotApplicable("compiled", plan)
    spec = spec_from_plan(plan, cache_dir=target.cache_dir)
    host = dataclasses.replace(
        spec, architecture=target.spec.architecture, python_version=target.spec.python_version,
        local_only=target.spec.local_only,
    )  # fmt: skip
    bundle = build_bundle(host, cache_dir=target.cache_dir, target_python=target.python)
    compiled = plan.bundle.model_runtime == "compiled"
    what = (
        "compiled model, no numpy / onnxruntime"
        if compiled
        else f"onnxruntime + numpy, model.onnx ({plan.memory_mb} MB)"
    )
    return Variant(
        lever="compiled", description=what, shipped=not compiled, root=bundle.path,
        module=plan.handler.rsplit(".", 1)[0], zipped_bytes=bundle.zipped_bytes,
        unzipped_bytes=bundle.unzipped_bytes, facts=bundle_facts(bundle.path),
    )  # fmt: skip


def _int8(target: Target) -> tuple[Variant | NotApplicable, dict[str, Any] | None]:
    refused = _onnx_only(target, "int8")
    if refused is not None:
        return refused, None
    path, manifest = int8_model(target.artifact, target.cache_dir)
    if path is None:
        ops = ", ".join(manifest["converted_ops"])
        return NotApplicable(
            "int8", f"nothing to quantize: no MatMul / Gemm / Conv weights ({ops})"
        ), manifest
    data = path.read_bytes()
    variant = _derived(
        target, "int8", "int8 model (quantize_dynamic, QInt8 weights)", shipped=False,
        inputs={"model": manifest["sha256"]},
        make=lambda asset: _replace(asset / "model" / MODEL_FILE, data),
    )  # fmt: skip
    return variant, manifest


def build_variants(target: Target) -> tuple[list[Variant | NotApplicable], dict[str, Any]]:
    """Every lever's variant of ``target`` (in ``LEVERS`` order), and model manifests."""
    int8, int8_manifest = _int8(target)
    built: dict[str, Variant | NotApplicable] = {
        "pyc": _no_pyc(target),
        "trim": _untrimmed(target),
        "lazy_boto3": _eager_boto3(target),
        "no_powertools": _powertools(target),
        "offline_opt": _optimize_at_load(target),
        "warm_up": _no_warm_up(target),
        "threads": _default_threads(target),
        "compiled": _other_runtime(target),
        "int8": int8,
    }
    extras: dict[str, Any] = {}
    if int8_manifest is not None:
        extras["int8"] = int8_manifest
    if target.runtime == "onnxruntime":
        extras["converted"] = converted_model(target.artifact, target.cache_dir)[1]
    return [built[key] for key in LEVER_KEYS], extras
