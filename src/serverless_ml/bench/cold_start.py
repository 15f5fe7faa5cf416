"""Cold-start benchmark: our lean fraud bundle against the naive sklearn + joblib baseline.

"Ours" is exactly what the fraud reference stack deploys (its planned bundle, memory size and
environment), rebuilt for the host's architecture so that it runs here; the deployed arm64 bundle
is built too, for its sizes. Each run is a fresh interpreter that sees only the bundle, copied
read-only like Lambda's /var/task (``-I -B``, ``PYTHONDONTWRITEBYTECODE=1``,
``AWS_LAMBDA_FUNCTION_MEMORY_SIZE`` from the plan: 1024). INIT is the time to import the handler
module (ours creates the ONNX Runtime session and runs one warm-up inference there; the baseline
``joblib.load``-s the pickled estimator). Then the first invoke handles a real HTTP API 2.0 event
carrying one generated transaction. Variants alternate run by run (ours, baseline, ours without
.pyc, baseline with .pyc) so machine noise hits all alike; medians are reported. A separate run per
variant measures warm invokes in-process. The runs themselves are ``bench.twin_runs``' (which
also measures every other reference function against its twin: ``bench.every_function``); this
module keeps the helpers every fresh-process benchmark shares.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from serverless_ml.bundling import find_target_python
from serverless_ml.bundling.spec import Architecture
from serverless_ml.core.plan_types import FunctionPlan
from sml_handlers.runtime import env as handler_env

SCENARIO: Final = "fraud-detection"
WARM_INVOKES: Final = 2000
EVENT_SEED: Final = 2024
MB: Final = 1024 * 1024


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
    from serverless_ml.bench.functions import FRAUD
    from serverless_ml.bench.twin_runs import measure, row

    setup, measured = measure(
        [FRAUD], repeats=repeats, warm_invokes=warm_invokes, target_python=target_python,
        cache_dir=cache_dir,
    )  # fmt: skip
    return row(setup, measured[0])


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
