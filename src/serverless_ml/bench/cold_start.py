"""Cold-start benchmark: our lean fraud bundle against the naive sklearn + joblib baseline.

"Ours" is exactly what the fraud reference stack deploys (its planned bundle, memory size and
environment), rebuilt for the host's architecture so that it runs here; the deployed arm64 bundle
is built too, for its sizes. Each run is a fresh interpreter that sees only the bundle, copied
read-only like Lambda's /var/task (``-I -B``, ``PYTHONDONTWRITEBYTECODE=1``,
``AWS_LAMBDA_FUNCTION_MEMORY_SIZE`` from the plan: 1024). INIT is the time to import the handler
module (ours creates the ONNX Runtime session and runs one warm-up inference there; the baseline
``joblib.load``-s the pickled estimator). Then the first invoke handles a real HTTP API 2.0 event
carrying one generated transaction. Variants alternate run by run (ours, baseline, ours without
.pyc, baseline with .pyc) so machine noise hits all alike; medians are reported. A separate run per variant measures
warm invokes in-process.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import stat
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

from serverless_ml.bench.baseline import HANDLER_MODULE, build_baseline
from serverless_ml.bench.figures import percentile
from serverless_ml.bench.isolated import run_isolated
from serverless_ml.bundling import BundleWarning, build_bundle, find_target_python, spec_from_plan
from serverless_ml.bundling.cache import default_cache_dir
from serverless_ml.bundling.spec import Architecture
from serverless_ml.core.limits import LAMBDA_UNZIPPED_BYTES, LAMBDA_ZIP_DIRECT_UPLOAD_BYTES
from serverless_ml.core.plan_types import FunctionPlan
from sml_handlers.runtime import env as handler_env

SCENARIO: Final = "fraud-detection"
WARM_INVOKES: Final = 2000
EVENT_SEED: Final = 2024
MB: Final = 1024 * 1024

# Runs in the child after the sys.path prelude of ``run_isolated``. Handler output (EMF metric
# lines, logs) goes to /dev/null as it would go to Lambda's log pipe; the result is the last line.
_CHILD: Final = """
import json, os, sys, time
_result_stream = sys.stdout
sys.stdout = open(os.devnull, "w")
start = time.perf_counter()
import importlib
module = importlib.import_module({module!r})
init_ms = (time.perf_counter() - start) * 1000.0
event = json.loads({event!r})
start = time.perf_counter()
response = module.handler(event, None)
first_ms = (time.perf_counter() - start) * 1000.0
warm_us = []
for _ in range({warm}):
    began = time.perf_counter_ns()
    module.handler(event, None)
    warm_us.append((time.perf_counter_ns() - began) / 1000.0)
numpy = sys.modules["numpy"]
sys.stdout = _result_stream
print(json.dumps({{
    "init_ms": init_ms,
    "first_invoke_ms": first_ms,
    "status": response["statusCode"],
    "body": response["body"],
    "warm_us": warm_us,
    "numpy_file": numpy.__file__,
    "modules": len(sys.modules),
}}))
"""


@dataclass(frozen=True)
class _Variant:
    label: str
    root: Path
    module: str


def fraud_function_plan() -> FunctionPlan:
    """The function the fraud reference stack deploys: its bundle, memory and environment."""
    from serverless_ml.core.plan import build_plan
    from serverless_ml.reference.scenarios import SCENARIOS

    return build_plan(SCENARIOS[SCENARIO]()).function


def host_architecture() -> Architecture:
    """The Lambda architecture name of this machine (fresh-process runs need native code)."""
    machine = platform.machine().lower()
    if machine in ("aarch64", "arm64"):
        return "arm64"
    if machine in ("x86_64", "amd64"):
        return "x86_64"
    raise RuntimeError(f"no Lambda architecture matches this machine ({machine})")


def http_api_event(body: str) -> dict[str, Any]:
    """An HTTP API (payload format 2.0) ``POST /score`` request, as API Gateway delivers it.

    Shape from https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
    """
    domain = "abc123.execute-api.us-east-1.amazonaws.com"
    return {
        "version": "2.0",
        "routeKey": "POST /score",
        "rawPath": "/score",
        "rawQueryString": "",
        "headers": {
            "accept": "*/*",
            "content-length": str(len(body.encode())),
            "content-type": "application/json",
            "host": domain,
            "user-agent": "serverless-ml-bench",
            "x-forwarded-proto": "https",
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": domain,
            "domainPrefix": "abc123",
            "http": {
                "method": "POST",
                "path": "/score",
                "protocol": "HTTP/1.1",
                "sourceIp": "198.51.100.7",
                "userAgent": "serverless-ml-bench",
            },
            "requestId": "bench-request-0001",
            "routeKey": "POST /score",
            "stage": "$default",
            "time": "01/May/2024:12:00:00 +0000",
            "timeEpoch": 1714564800000,
        },
        "body": body,
        "isBase64Encoded": False,
    }


def sample_event() -> dict[str, Any]:
    """One generated transaction (the project's synthetic generator) in an HTTP API event."""
    from serverless_ml.models.fraud_data import generate_transactions

    transactions, _labels = generate_transactions(1, seed=EVENT_SEED)
    return http_api_event(json.dumps(transactions[0]))


def _mb(size: int) -> float:
    return round(size / MB, 1)


def _make_read_only(root: Path) -> None:
    for directory, dirs, files in os.walk(root, topdown=False):
        for name in [*files, *dirs]:
            path = Path(directory) / name
            mode = path.lstat().st_mode
            if not stat.S_ISLNK(mode):
                path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    root.chmod(root.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _make_writable(root: Path) -> None:
    root.chmod(root.stat().st_mode | stat.S_IWUSR)
    for directory, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            path = Path(directory) / name
            if not path.is_symlink():
                path.chmod(path.stat().st_mode | stat.S_IWUSR)


@contextlib.contextmanager
def task_roots(sources: dict[str, tuple[Path, bool]]) -> Iterator[dict[str, Path]]:
    """Read-only copies of each ``label: (directory, keep .pyc)``."""
    scratch = Path(tempfile.mkdtemp(prefix="sml-cold-start-"))
    try:
        roots: dict[str, Path] = {}
        for label, (source, keep_pyc) in sources.items():
            ignore = None if keep_pyc else shutil.ignore_patterns("__pycache__")
            roots[label] = scratch / label
            shutil.copytree(source, roots[label], ignore=ignore)  # copy2 keeps mtimes
            _make_read_only(roots[label])
        yield roots
    finally:
        for root in scratch.iterdir():
            _make_writable(root)
        shutil.rmtree(scratch, ignore_errors=True)


def lambda_environment(function: FunctionPlan, task_root: Path) -> dict[str, str]:
    """The planned environment plus what Lambda itself sets (memory size, function name)."""
    return {
        **function.literal_environment(),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        handler_env.MODEL_DIR: str(task_root / "model"),
    }


def _run(
    python: str, variant: _Variant, event_json: str, warm: int, function: FunctionPlan
) -> dict[str, Any]:
    code = _CHILD.format(module=variant.module, event=event_json, warm=warm)
    env = lambda_environment(function, variant.root)
    began = time.perf_counter()
    result = run_isolated(python, variant.root, code, env=env)
    result["process_ms"] = (time.perf_counter() - began) * 1000.0
    if result["status"] != 200:
        raise RuntimeError(f"{variant.label}: first invoke answered {result['status']}")
    if not result["numpy_file"].startswith(str(variant.root)):
        raise RuntimeError(f"{variant.label}: numpy came from {result['numpy_file']}")
    return result


def _median(runs: list[dict[str, Any]], field: str) -> float:
    return round(float(statistics.median(run[field] for run in runs)), 2)


def resolve_python(
    lambda_python: str, target_python: str | None
) -> tuple[str, str, str, list[str]]:
    """(interpreter path, its X.Y, description, notes); degrades to the running interpreter."""
    found, discovery_notes = find_target_python(lambda_python, target_python)
    if found is not None:
        return found.path, found.version, f"{found.path} ({found.full_version})", []
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    notes = [
        f"no Python {lambda_python} interpreter found ({'; '.join(discovery_notes) or 'searched'} "
        f"$SERVERLESS_ML_TARGET_PYTHON, python{lambda_python} on PATH, pyenv): measured with the "
        f"running Python {version} on a local-only bundle for it; Lambda runs {lambda_python}"
    ]
    return sys.executable, version, f"{sys.executable} ({platform.python_version()})", notes


def run_cold_start_bench(
    *,
    repeats: int = 10,
    target_python: str | None = None,
    cache_dir: Path | None = None,
    warm_invokes: int = WARM_INVOKES,
) -> dict[str, Any]:
    """Measure INIT, first invoke and warm latency of ours vs the naive baseline (see module doc).

    Returns a JSON-ready dict (``format_cold_start_table`` prints it).
    """
    if repeats < 1:
        raise ValueError("repeats must be >= 1")
    root = default_cache_dir(cache_dir)
    function = fraud_function_plan()
    deployed_spec = spec_from_plan(function)
    python, version, interpreter, notes = resolve_python(
        deployed_spec.python_version, target_python
    )
    architecture = host_architecture()
    module = function.handler.rsplit(".", 1)[0]
    captured: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", BundleWarning)
        # The deployed artifact, rebuilt for the host's architecture (and, without the runtime's
        # interpreter, for the running Python) so that it can run here.
        local_spec = replace(
            deployed_spec,
            architecture=architecture,
            python_version=version,
            local_only=version != deployed_spec.python_version,
        )
        ours = build_bundle(local_spec, cache_dir=root, target_python=python)
        deployed = build_bundle(deployed_spec, cache_dir=root)
    captured.extend(str(w.message) for w in caught if issubclass(w.category, BundleWarning))
    baseline = build_baseline(
        root, python_version=version, architecture=architecture, interpreter=python
    )
    if baseline.pyc_path is None:  # an interpreter was passed, so it was built
        raise RuntimeError("baseline .pyc variant missing")
    event_json = json.dumps(sample_event())
    sources = {
        "ours": (ours.path, True),
        "baseline": (baseline.path, False),
        "ours_no_pyc": (ours.path, False),
        "baseline_pyc": (baseline.pyc_path, True),
    }
    runs: dict[str, list[dict[str, Any]]] = {label: [] for label in sources}
    with task_roots(sources) as roots:
        variants = [
            _Variant(label, roots[label], module if label.startswith("ours") else HANDLER_MODULE)
            for label in sources
        ]
        for variant in variants:  # priming: page cache warm for every variant alike
            _run(python, variant, event_json, 0, function)
        for _ in range(repeats):
            for variant in variants:
                runs[variant.label].append(_run(python, variant, event_json, 0, function))
        ours_warm = _run(python, variants[0], event_json, warm_invokes, function)
        baseline_warm = _run(python, variants[1], event_json, warm_invokes, function)
    ours_score = json.loads(runs["ours"][0]["body"])["score"]
    baseline_score = json.loads(runs["baseline"][0]["body"])["score"]
    init = _median(runs["ours"], "init_ms")
    baseline_init = _median(runs["baseline"], "init_ms")
    nopyc_init = _median(runs["ours_no_pyc"], "init_ms")
    baseline_pyc_init = _median(runs["baseline_pyc"], "init_ms")
    notes.append(
        f"INIT = import of the handler module in a fresh `{Path(python).name} -I -B` process "
        f"that sees only the read-only bundle; one discarded priming run per variant; medians "
        f"of {repeats} alternating runs"
    )
    if architecture != deployed.architecture:
        notes.append(
            f"timed on the host ({architecture}); the deployed ({deployed.architecture}) "
            "bundle is built for its sizes only"
        )
    notes.append(
        "baseline: `pip install -t` of the same platform without .pyc (what a build machine "
        "with another Python ships: its .pyc are ignored); 'naive + .pyc' adds timestamp .pyc "
        f"compiled by Python {version}, as pip run by the runtime's Python would"
    )
    notes.extend(captured)
    return {
        "function": function.name,
        "handler": function.handler,
        "architecture": architecture,
        "interpreter": interpreter,
        "python_version": version,
        "repeats": repeats,
        "memory_mb": function.memory_mb,
        "requirements": list(deployed_spec.requirements),
        "pyc_compiled": ours.pyc_compiled,
        "init_ms_median": init,
        "init_ms_min": round(min(r["init_ms"] for r in runs["ours"]), 2),
        "first_invoke_ms_median": _median(runs["ours"], "first_invoke_ms"),
        "process_ms_median": _median(runs["ours"], "process_ms"),
        "no_pyc_init_ms_median": nopyc_init,
        "pyc_speedup": round(nopyc_init / init, 2),
        "baseline_init_ms_median": baseline_init,
        "baseline_first_invoke_ms_median": _median(runs["baseline"], "first_invoke_ms"),
        "baseline_process_ms_median": _median(runs["baseline"], "process_ms"),
        "init_speedup": round(baseline_init / init, 2),
        "baseline_pyc_init_ms_median": baseline_pyc_init,
        "init_speedup_vs_baseline_pyc": round(baseline_pyc_init / init, 2),
        "warm_invokes": warm_invokes,
        "warm_p50_us": round(percentile(ours_warm["warm_us"], 0.50), 1),
        "warm_p99_us": round(percentile(ours_warm["warm_us"], 0.99), 1),
        "baseline_warm_p50_us": round(percentile(baseline_warm["warm_us"], 0.50), 1),
        "baseline_warm_p99_us": round(percentile(baseline_warm["warm_us"], 0.99), 1),
        "score": ours_score,
        "baseline_score": baseline_score,
        "bundle_zip_mb": _mb(ours.zipped_bytes),
        "bundle_unzipped_mb": _mb(ours.unzipped_bytes),
        "bundle_installed_mb": _mb(ours.installed_bytes),
        "deploy_bundle": {
            "architecture": deployed.architecture,
            "python_version": deployed.python_version,
            "zip_mb": _mb(deployed.zipped_bytes),
            "unzipped_mb": _mb(deployed.unzipped_bytes),
            "pyc_compiled": deployed.pyc_compiled,
        },
        "baseline_bundle_unzipped_mb": _mb(baseline.unzipped_bytes),
        "baseline_bundle_zip_mb": _mb(baseline.zipped_bytes),
        "baseline_requirements": list(baseline.requirements),
        "limits_mb": {
            "unzipped": _mb(LAMBDA_UNZIPPED_BYTES),
            "zip": _mb(LAMBDA_ZIP_DIRECT_UPLOAD_BYTES),
        },
        "init_ms_runs": [round(r["init_ms"], 2) for r in runs["ours"]],
        "no_pyc_init_ms_runs": [round(r["init_ms"], 2) for r in runs["ours_no_pyc"]],
        "baseline_init_ms_runs": [round(r["init_ms"], 2) for r in runs["baseline"]],
        "baseline_pyc_init_ms_runs": [round(r["init_ms"], 2) for r in runs["baseline_pyc"]],
        "notes": notes,
    }


def format_cold_start_table(result: dict[str, Any]) -> str:
    """A plain-text report of ``run_cold_start_bench``'s result."""
    limits = result["limits_mb"]
    rows = [
        ("serverless-ml (.pyc)", result["init_ms_median"], result["first_invoke_ms_median"],
         result["bundle_unzipped_mb"], result["bundle_zip_mb"]),
        ("serverless-ml, no .pyc", result["no_pyc_init_ms_median"], None, None, None),
        ("naive sklearn + joblib", result["baseline_init_ms_median"],
         result["baseline_first_invoke_ms_median"], result["baseline_bundle_unzipped_mb"],
         result["baseline_bundle_zip_mb"]),
        ("naive + .pyc", result["baseline_pyc_init_ms_median"], None, None, None),
    ]  # fmt: skip

    def cell(value: float | None, width: int) -> str:
        return f"{'-':>{width}}" if value is None else f"{value:>{width}.1f}"

    deploy = result["deploy_bundle"]
    lines = [
        f"Cold start: {result['function']} function, {result['architecture']}, "
        f"{result['interpreter']}, {result['memory_mb']} MB",
        f"medians of {result['repeats']} fresh read-only processes per variant",
        "",
        f"{'variant':<24}{'INIT ms':>10}{'1st invoke ms':>15}{'unzipped MB':>13}{'zip MB':>9}",
    ]
    for label, init, first, unzipped, zipped in rows:
        lines.append(
            f"{label:<24}{cell(init, 10)}{cell(first, 15)}{cell(unzipped, 13)}{cell(zipped, 9)}"
        )
    lines += [
        "",
        f"INIT speedup vs baseline: {result['init_speedup']:.1f}x "
        f"(vs naive + .pyc: {result['init_speedup_vs_baseline_pyc']:.1f}x)   "
        f".pyc lever: {result['pyc_speedup']:.1f}x",
        f"warm invoke ({result['warm_invokes']} in-process): p50 {result['warm_p50_us']:.0f} us, "
        f"p99 {result['warm_p99_us']:.0f} us (baseline p50 {result['baseline_warm_p50_us']:.0f} "
        f"us, p99 {result['baseline_warm_p99_us']:.0f} us)",
        f"deployed bundle ({deploy['architecture']}, Python {deploy['python_version']}): "
        f"{deploy['unzipped_mb']:.1f} MB unzipped, {deploy['zip_mb']:.1f} MB zipped "
        f"(limits {limits['unzipped']:.0f} / {limits['zip']:.0f} MB)",
        f"fraud score of the sample transaction: ONNX {result['score']:.6f}, "
        f"sklearn {result['baseline_score']:.6f}",
    ]
    if result["notes"]:
        lines += ["", "notes:", *(f"- {note}" for note in result["notes"])]
    return "\n".join(lines)
