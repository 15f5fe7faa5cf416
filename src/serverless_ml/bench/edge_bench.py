"""The edge personalization function: compiled model vs the same model through onnxruntime.

Both variants are the reference stack's edge function (``edge_personalization()``: its handler,
baked config, memory and x86_64); one serves the personalization GBDT as the bundler compiles
it (no third-party package), the other as ``model.onnx`` with onnxruntime and numpy in the
bundle (the handler loads whichever its bundle carries). Each bundle is copied read-only and run
by fresh ``-I -B`` interpreters that see only it, alternating run by run. Measured per variant:
INIT (import of the handler: model loaded and warmed) after Lambda's bootstrap imports, median
of the runs; warm ``handler()`` per origin-request event over held-out visits, p50/p99; bundle
sizes against the Lambda@Edge budgets (viewer events 1 MB zipped, origin events 50 MB).
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Final

from serverless_ml.bench.cold_start import (
    host_architecture,
    lambda_environment,
    resolve_python,
    task_roots,
)
from serverless_ml.bench.compiled_runtime import BOOTSTRAP_IMPORTS
from serverless_ml.bench.figures import kb, latency_summary, local_and_deployed, ms, row
from serverless_ml.bench.isolated import run_isolated
from serverless_ml.bundling import spec_from_plan
from serverless_ml.bundling.cache import default_cache_dir
from serverless_ml.core import defaults, limits
from serverless_ml.core.personalization import build_personalization_plan
from serverless_ml.core.plan_types import FunctionPlan

VARIANTS: Final = ("onnxruntime", "compiled")
REQUESTS: Final = 200  # distinct held-out visits, cycled by the warm loop
REQUEST_SEED: Final = 4242
WARM_CALLS: Final = 2000
TARGET_INIT_RATIO: Final = 5.0
TARGET_ZIPPED_BYTES: Final = limits.EDGE_VIEWER_CODE_BYTES  # aim: under 100 KB
AIM_ZIPPED_BYTES: Final = 100 * 1024

_CHILD: Final = """
import os, sys, time
{preload}
import json
_out = sys.stdout
sys.stdout = open(os.devnull, "w")
start = time.perf_counter()
import importlib
module = importlib.import_module({module!r})
init_ms = (time.perf_counter() - start) * 1000.0
with open({events_path!r}, encoding="utf-8") as source:
    events = json.load(source)
warm = {warm}
first = module.handler(events[0], None)
per_request = []
variants = []
if warm:
    for event in events:
        module.handler(event, None)
    for i in range(warm):
        event = events[i % len(events)]
        began = time.perf_counter_ns()
        result = module.handler(event, None)
        per_request.append((time.perf_counter_ns() - began) / 1000.0)
    variants = [module.handler(e, None)["uri"] for e in events]
ready = module.READY is not None
sys.stdout = _out
print(json.dumps({{
    "init_ms": init_ms,
    "ready": ready,
    "first_uri": first["uri"],
    "runtime": "compiled" if "onnxruntime" not in sys.modules else "onnxruntime",
    "numpy_loaded": "numpy" in sys.modules,
    "per_request_us": per_request,
    "uris": variants,
}}))
"""


def edge_functions() -> dict[str, FunctionPlan]:
    """The reference edge function, compiled (as deployed) and with onnxruntime (the baseline:
    ``EdgeFunctionSpec`` refuses it, so it is made from the plan, for measuring only)."""
    from serverless_ml.reference.scenarios import edge_personalization

    compiled = build_personalization_plan(edge_personalization()).edge.function
    bundle = dataclasses.replace(
        compiled.bundle,
        model_runtime="onnxruntime",
        requirements=defaults.FUNCTION_REQUIREMENTS,
        max_zipped_bytes=limits.EDGE_ORIGIN_CODE_BYTES,
    )
    return {"onnxruntime": dataclasses.replace(compiled, bundle=bundle), "compiled": compiled}


def origin_request_events(n: int = REQUESTS, *, seed: int = REQUEST_SEED) -> list[dict[str, Any]]:
    """``n`` origin-request events for held-out visits from the clickstream generator."""
    from serverless_ml.models.personalization_data import generate_sessions

    return [
        {
            "Records": [
                {
                    "cf": {
                        "config": {
                            "distributionDomainName": "d111111abcdef8.cloudfront.net",
                            "distributionId": "EDFDVBD6EXAMPLE",
                            "eventType": "origin-request",
                            "requestId": f"bench-{i}",
                        },
                        "request": {**session.request, "method": "GET", "uri": "/index.html"},
                    }
                }
            ]
        }
        for i, session in enumerate(generate_sessions(n, seed=seed))
    ]


def run_edge_bench(
    *,
    repeats: int = 10,
    warm_calls: int = WARM_CALLS,
    target_python: str | None = None,
    cache_dir: Path | None = None,
) -> dict[str, Any]:
    """Measure both variants (see module doc); a JSON-ready dict."""
    if repeats < 1:
        raise ValueError("repeats must be >= 1")
    root = default_cache_dir(cache_dir)
    functions = edge_functions()
    specs = {label: spec_from_plan(f, cache_dir=root) for label, f in functions.items()}
    python, version, interpreter, notes = resolve_python(
        specs["compiled"].python_version, target_python
    )
    bundles, deployed, warned = local_and_deployed(
        specs, python=python, version=version, architecture=host_architecture(),
        cache_dir=root,
    )  # fmt: skip
    notes.extend(warned)
    scratch = Path(tempfile.mkdtemp(prefix="sml-edge-bench-"))
    events_path = scratch / "events.json"  # too long for a command line
    events_path.write_text(json.dumps(origin_request_events()), encoding="utf-8")
    module = functions["compiled"].handler.rsplit(".", 1)[0]
    runs: dict[str, list[dict[str, Any]]] = {label: [] for label in VARIANTS}
    with task_roots({label: (b.path, True) for label, b in bundles.items()}) as roots:

        def run(label: str, warm: int) -> dict[str, Any]:
            code = _CHILD.format(
                preload=f"import {BOOTSTRAP_IMPORTS}", module=module, events_path=str(events_path),
                warm=warm,
            )  # fmt: skip
            env = lambda_environment(functions[label], roots[label])
            began = time.perf_counter()
            result = run_isolated(python, roots[label], code, env=env)
            result["process_ms"] = (time.perf_counter() - began) * 1000.0
            if not result["ready"] or result["runtime"] != label:
                raise RuntimeError(f"{label}: model not ready ({result['runtime']})")
            return result

        for label in VARIANTS:  # priming: page cache warm for both alike
            run(label, 0)
        for _ in range(repeats):
            for label in VARIANTS:
                runs[label].append(run(label, 0))
        warm = {label: run(label, warm_calls) for label in VARIANTS}
    shutil.rmtree(scratch, ignore_errors=True)
    variants: dict[str, Any] = {}
    for label in VARIANTS:
        zipped = deployed[label].zipped_bytes
        variants[label] = {
            "init_ms_median": round(statistics.median(r["init_ms"] for r in runs[label]), 2),
            "init_ms_min": round(min(r["init_ms"] for r in runs[label]), 2),
            "process_ms_median": round(statistics.median(r["process_ms"] for r in runs[label]), 1),
            "warm_request": latency_summary(warm[label]["per_request_us"]),
            "numpy_loaded": warm[label]["numpy_loaded"],
            "bundle": {
                "zipped_bytes": zipped,
                "unzipped_bytes": deployed[label].unzipped_bytes,
                "fits_viewer_budget": zipped <= limits.EDGE_VIEWER_CODE_BYTES,
                "fits_origin_budget": zipped <= limits.EDGE_ORIGIN_CODE_BYTES,
            },
        }
    ort, compiled = variants["onnxruntime"], variants["compiled"]
    ratio = ort["init_ms_median"] / compiled["init_ms_median"]
    same = warm["onnxruntime"]["uris"] == warm["compiled"]["uris"]
    notes.append(
        f"INIT = import of the handler in a fresh `{Path(python).name} -I -B` process that sees "
        f"only the read-only bundle, after {BOOTSTRAP_IMPORTS}; medians of {repeats} "
        f"alternating runs after one priming run each; per-request figures from {warm_calls} "
        f"calls over {REQUESTS} held-out visits (origin-request, uri mode)"
    )
    return {
        "function": functions["compiled"].name,
        "memory_mb": functions["compiled"].memory_mb,
        "interpreter": interpreter,
        "repeats": repeats,
        "variants": variants,
        "init_speedup": round(ratio, 2),
        "same_variant_for_every_visit": same,
        "targets": {
            "compiled_under_1mb_zipped": compiled["bundle"]["zipped_bytes"] < TARGET_ZIPPED_BYTES,
            "compiled_under_100kb_zipped": compiled["bundle"]["zipped_bytes"] < AIM_ZIPPED_BYTES,
            "init_at_least_5x_faster": ratio >= TARGET_INIT_RATIO,
        },
        "notes": notes,
    }


def format_edge_table(result: dict[str, Any]) -> str:
    """The result side by side, for a person."""
    ort, compiled = result["variants"]["onnxruntime"], result["variants"]["compiled"]

    lines = [
        f"{result['function']} ({result['memory_mb']} MB, origin-request), {result['interpreter']}",
        row("", "onnxruntime", "compiled"),
        row("INIT after bootstrap (median)", ms(ort["init_ms_median"]), ms(compiled["init_ms_median"])),
        row("fresh process, whole (median)", ms(ort["process_ms_median"]),
            ms(compiled["process_ms_median"])),
        row("warm request p50", ms(ort["warm_request"]["p50_ms"]),
            ms(compiled["warm_request"]["p50_ms"])),
        row("warm request p99", ms(ort["warm_request"]["p99_ms"]),
            ms(compiled["warm_request"]["p99_ms"])),
        row("bundle zipped", kb(ort["bundle"]["zipped_bytes"]), kb(compiled["bundle"]["zipped_bytes"])),
        row("bundle unzipped", kb(ort["bundle"]["unzipped_bytes"]),
            kb(compiled["bundle"]["unzipped_bytes"])),
        row("fits a viewer event (1 MB)", str(ort["bundle"]["fits_viewer_budget"]),
            str(compiled["bundle"]["fits_viewer_budget"])),
    ]  # fmt: skip
    t = result["targets"]
    lines.append(
        f"  INIT {result['init_speedup']}x faster compiled (target >= {TARGET_INIT_RATIO:g}x: "
        f"{'met' if t['init_at_least_5x_faster'] else 'MISSED'}); compiled bundle under 1 MB: "
        f"{'met' if t['compiled_under_1mb_zipped'] else 'MISSED'}, under 100 KB: "
        f"{'met' if t['compiled_under_100kb_zipped'] else 'MISSED'}; same variant for every "
        f"visit: {result['same_variant_for_every_visit']}"
    )
    lines.extend(f"  note: {note}" for note in result["notes"])
    return "\n".join(lines)
