"""Fresh-process cold starts of reference functions against their naive twins, in one run.

For each function (``bench.functions``): ours is the bundle its reference stack deploys,
rebuilt for the host (``figures.local_and_deployed``); the twin is built by ``bench.baseline``.
Four variants each, in this order every round: ours, the weak twin (no .pyc), ours without .pyc,
the strong twin (.pyc by the runtime's Python). Every variant is a read-only copy of its bundle
run by a fresh ``<python> -I -B`` that sees only it (``bench.isolated``), with the stand-in
boto3 where Lambda's runtime keeps the real one (``bench.aws_standin``). One discarded priming
run per variant, then ``repeats`` rounds over every function and variant; medians. A separate
run of ours and of the strong twin times warm invokes in process.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from serverless_ml.bench.aws_standin import OBJECTS_ENV, write_standin
from serverless_ml.bench.baseline import HANDLER_MODULE, BaselineBundle, build_twin
from serverless_ml.bench.cold_start import (
    host_architecture,
    lambda_environment,
    resolve_python,
    task_roots,
)
from serverless_ml.bench.figures import local_and_deployed, percentile
from serverless_ml.bench.functions import BenchFunction
from serverless_ml.bench.isolated import run_isolated
from serverless_ml.bundling import Bundle, spec_from_plan
from serverless_ml.bundling.cache import default_cache_dir
from serverless_ml.core.limits import LAMBDA_UNZIPPED_BYTES, LAMBDA_ZIP_DIRECT_UPLOAD_BYTES
from serverless_ml.core.plan_types import FunctionPlan

VARIANTS: Final = ("ours", "baseline", "ours_no_pyc", "baseline_pyc")
KEEPS_PYC: Final = {"ours": True, "baseline": False, "ours_no_pyc": False, "baseline_pyc": True}
MB: Final = 1024 * 1024

# Runs in the child after the sys.path prelude of ``run_isolated``. Handler output (EMF metric
# lines, logs) goes to /dev/null as it would go to Lambda's log pipe; the result is the last line.
_CHILD: Final = """
import json, os, sys, time
sys.path.append({runtime!r})
_result_stream = sys.stdout
sys.stdout = open(os.devnull, "w")
start = time.perf_counter()
import importlib
module = importlib.import_module({module!r})
init_ms = (time.perf_counter() - start) * 1000.0
import sml_bench_aws
with open({event_path!r}, encoding="utf-8") as source:
    event = json.load(source)
start = time.perf_counter()
response = module.handler(event, None)
first_ms = (time.perf_counter() - start) * 1000.0
calls = list(sml_bench_aws.CALLS)
warm_us = []
for _ in range({warm}):
    began = time.perf_counter_ns()
    module.handler(event, None)
    warm_us.append((time.perf_counter_ns() - began) / 1000.0)
numpy = sys.modules.get("numpy")
sys.stdout = _result_stream
print(json.dumps({{
    "init_ms": init_ms,
    "first_invoke_ms": first_ms,
    "response": response,
    "calls": calls,
    "warm_us": warm_us,
    "numpy_file": getattr(numpy, "__file__", None),
    "modules": len(sys.modules),
}}, default=str))
"""


@dataclass(frozen=True)
class Measured:
    """What one function's rows are made of."""

    function: BenchFunction
    plan: FunctionPlan
    requirements: tuple[str, ...]
    ours: Bundle
    deployed: Bundle
    twin: BaselineBundle
    runs: dict[str, list[dict[str, Any]]]
    warm: dict[str, dict[str, Any]]
    pyc_files: dict[str, int]
    answers: dict[str, list[Any]]


@dataclass(frozen=True)
class Setup:
    """The interpreter every function was measured with, and notes that hold for all."""

    python: str
    version: str
    interpreter: str
    architecture: str
    repeats: int
    warm_invokes: int
    notes: tuple[str, ...]


def _pyc_count(root: Path) -> int:
    return sum(1 for _ in root.rglob("*.pyc"))


def measure(
    functions: Sequence[BenchFunction],
    *,
    repeats: int,
    warm_invokes: int,
    target_python: str | None = None,
    cache_dir: Path | None = None,
) -> tuple[Setup, list[Measured]]:
    """Build and run every variant of every function (see module doc)."""
    if repeats < 1:
        raise ValueError("repeats must be >= 1")
    root = default_cache_dir(cache_dir)
    plans = {f.key: f.plan() for f in functions}
    specs = {key: spec_from_plan(plan, cache_dir=root) for key, plan in plans.items()}
    lambda_python = next(iter(specs.values())).python_version
    python, version, interpreter, notes = resolve_python(lambda_python, target_python)
    architecture = host_architecture()
    ours, deployed, warned = local_and_deployed(
        specs, python=python, version=version, architecture=architecture, cache_dir=root
    )
    twins = {
        f.key: build_twin(
            f.twin, root, python_version=version, architecture=architecture, interpreter=python
        )
        for f in functions
    }
    with tempfile.TemporaryDirectory(prefix="sml-twins-") as scratch_name:
        scratch = Path(scratch_name)
        runtime = write_standin(scratch / "runtime")
        objects = scratch / "objects"
        events: dict[str, Any] = {}
        for f in functions:
            events[f.key] = f.event(objects)
            (scratch / f"{f.key}.json").write_text(json.dumps(events[f.key]), encoding="utf-8")
        sources: dict[str, tuple[Path, bool]] = {}
        for f in functions:
            strong = twins[f.key].pyc_path
            if strong is None:  # an interpreter was passed, so it was built
                raise RuntimeError(f"{f.key}: strong twin missing")
            paths = {"ours": ours[f.key].path, "ours_no_pyc": ours[f.key].path,
                     "baseline": twins[f.key].path, "baseline_pyc": strong}  # fmt: skip
            for label in VARIANTS:
                sources[f"{f.key}-{label}"] = (paths[label], KEEPS_PYC[label])
        with task_roots(sources) as roots:

            def run(f: BenchFunction, label: str, warm: int) -> dict[str, Any]:
                task = roots[f"{f.key}-{label}"]
                module = plans[f.key].handler.rsplit(".", 1)[0]
                code = _CHILD.format(
                    runtime=str(runtime), module=module if label.startswith("ours")
                    else HANDLER_MODULE, event_path=str(scratch / f"{f.key}.json"), warm=warm,
                )  # fmt: skip
                env = {
                    **lambda_environment(plans[f.key], task),
                    **f.env,
                    OBJECTS_ENV: str(objects),
                }
                began = time.perf_counter()
                result = run_isolated(python, task, code, env=env)
                result["process_ms"] = (time.perf_counter() - began) * 1000.0
                numpy_file = result["numpy_file"]
                if numpy_file is not None and not numpy_file.startswith(str(task)):
                    raise RuntimeError(f"{f.key} {label}: numpy came from {numpy_file}")
                result["answer"] = f.answer(events[f.key], result["response"], result["calls"])
                return result

            for f in functions:  # priming: page cache warm for every variant alike
                for label in VARIANTS:
                    run(f, label, 0)
            runs: dict[str, dict[str, list[dict[str, Any]]]] = {
                f.key: {label: [] for label in VARIANTS} for f in functions
            }
            for _ in range(repeats):
                for f in functions:
                    for label in VARIANTS:
                        runs[f.key][label].append(run(f, label, 0))
            warm = {
                f.key: {label: run(f, label, warm_invokes) for label in ("ours", "baseline_pyc")}
                for f in functions
            }
            pyc = {key: _pyc_count(path) for key, path in roots.items()}
    notes.append(
        f"INIT = import of the handler module in a fresh `{Path(python).name} -I -B` process "
        f"that sees only the read-only bundle; one discarded priming run per variant; medians "
        f"of {repeats} alternating runs"
    )
    elsewhere = sorted({bundle.architecture for bundle in deployed.values()} - {architecture})
    if elsewhere:
        what = "bundle is built for its" if len(deployed) == 1 else "bundles are built for their"
        notes.append(
            f"timed on the host ({architecture}); the deployed ({', '.join(elsewhere)}) {what} "
            "sizes only"
        )
    notes.append(
        "baseline: `pip install -t` of the same platform without .pyc (what a build machine "
        "with another Python ships: its .pyc are ignored); 'naive + .pyc' adds timestamp .pyc "
        f"compiled by Python {version}, as pip run by the runtime's Python would"
    )
    notes.extend(dict.fromkeys(warned))  # the bundler's warnings, once each
    setup = Setup(python, version, interpreter, architecture, repeats, warm_invokes, tuple(notes))
    measured = [
        Measured(
            function=f,
            plan=plans[f.key],
            requirements=tuple(specs[f.key].requirements),
            ours=ours[f.key],
            deployed=deployed[f.key],
            twin=twins[f.key],
            runs=runs[f.key],
            warm=warm[f.key],
            pyc_files={label: pyc[f"{f.key}-{label}"] for label in VARIANTS},
            answers={label: [r["answer"] for r in runs[f.key][label]] for label in VARIANTS},
        )
        for f in functions
    ]
    return setup, measured


def _median(runs: list[dict[str, Any]], field: str) -> float:
    return round(float(statistics.median(run[field] for run in runs)), 2)


def _mb(size: int) -> float:
    return round(size / MB, 1)


def _twin(m: Measured, label: str, ours_init: float, ours_first: float) -> dict[str, Any]:
    runs = m.runs[label]
    init, first = _median(runs, "init_ms"), _median(runs, "first_invoke_ms")
    return {
        "label": m.function.twin.label,
        "pyc": KEEPS_PYC[label],
        "pyc_files": m.pyc_files[label],
        "init_ms_median": init,
        "init_ms_min": round(min(r["init_ms"] for r in runs), 2),
        "first_invoke_ms_median": first,
        "process_ms_median": _median(runs, "process_ms"),
        "init_ratio": round(init / ours_init, 2),
        "first_invoke_ratio": round(first / ours_first, 2),
        "answer": runs[0]["answer"][0],
        "init_ms_runs": [round(r["init_ms"], 2) for r in runs],
        "first_invoke_ms_runs": [round(r["first_invoke_ms"], 2) for r in runs],
    }


def row(setup: Setup, m: Measured) -> dict[str, Any]:
    """One function's JSON-ready row: the fraud row's fields, the twins, ratios, answers."""
    runs, plan = m.runs, m.plan
    init, nopyc_init = _median(runs["ours"], "init_ms"), _median(runs["ours_no_pyc"], "init_ms")
    first_invoke = _median(runs["ours"], "first_invoke_ms")
    strong = _twin(m, "baseline_pyc", init, first_invoke)
    weak = _twin(m, "baseline", init, first_invoke)
    answer, score = runs["ours"][0]["answer"]
    twin_answer, twin_score = runs["baseline_pyc"][0]["answer"]
    same = all(a[0] == answer for label in VARIANTS for a in m.answers[label])
    ours_warm, twin_warm = m.warm["ours"]["warm_us"], m.warm["baseline_pyc"]["warm_us"]

    def warm(values: list[float], fraction: float) -> float | None:
        return round(percentile(values, fraction), 1) if values else None

    return {
        "function": plan.name,
        "handler": plan.handler,
        "architecture": setup.architecture,
        "interpreter": setup.interpreter,
        "python_version": setup.version,
        "repeats": setup.repeats,
        "memory_mb": plan.memory_mb,
        "requirements": list(m.requirements),
        "pyc_compiled": m.ours.pyc_compiled,
        "init_ms_median": init,
        "init_ms_min": round(min(r["init_ms"] for r in runs["ours"]), 2),
        "first_invoke_ms_median": first_invoke,
        "process_ms_median": _median(runs["ours"], "process_ms"),
        "no_pyc_init_ms_median": nopyc_init,
        "pyc_speedup": round(nopyc_init / init, 2),
        "baseline_init_ms_median": weak["init_ms_median"],
        "baseline_first_invoke_ms_median": weak["first_invoke_ms_median"],
        "baseline_process_ms_median": weak["process_ms_median"],
        "init_speedup": weak["init_ratio"],
        "baseline_pyc_init_ms_median": strong["init_ms_median"],
        "init_speedup_vs_baseline_pyc": strong["init_ratio"],
        "warm_invokes": setup.warm_invokes,
        "warm_p50_us": warm(ours_warm, 0.50),
        "warm_p99_us": warm(ours_warm, 0.99),
        "baseline_warm_p50_us": warm(twin_warm, 0.50),
        "baseline_warm_p99_us": warm(twin_warm, 0.99),
        "score": score,
        "baseline_score": twin_score,
        "bundle_zip_mb": _mb(m.ours.zipped_bytes),
        "bundle_unzipped_mb": _mb(m.ours.unzipped_bytes),
        "bundle_installed_mb": _mb(m.ours.installed_bytes),
        "deploy_bundle": {
            "architecture": m.deployed.architecture,
            "python_version": m.deployed.python_version,
            "zip_mb": _mb(m.deployed.zipped_bytes),
            "unzipped_mb": _mb(m.deployed.unzipped_bytes),
            "pyc_compiled": m.deployed.pyc_compiled,
        },
        "baseline_bundle_unzipped_mb": _mb(m.twin.unzipped_bytes),
        "baseline_bundle_zip_mb": _mb(m.twin.zipped_bytes),
        "baseline_requirements": list(m.twin.requirements),
        "limits_mb": {
            "unzipped": _mb(LAMBDA_UNZIPPED_BYTES),
            "zip": _mb(LAMBDA_ZIP_DIRECT_UPLOAD_BYTES),
        },
        "init_ms_runs": [round(r["init_ms"], 2) for r in runs["ours"]],
        "no_pyc_init_ms_runs": [round(r["init_ms"], 2) for r in runs["ours_no_pyc"]],
        "baseline_init_ms_runs": [round(r["init_ms"], 2) for r in runs["baseline"]],
        "baseline_pyc_init_ms_runs": [round(r["init_ms"], 2) for r in runs["baseline_pyc"]],
        "first_invoke_ms_runs": [round(r["first_invoke_ms"], 2) for r in runs["ours"]],
        "twin_strong": strong,
        "twin_weak": weak,
        "init_ratio": strong["init_ratio"],
        "first_invoke_ratio": strong["first_invoke_ratio"],
        "init_ratio_weak": weak["init_ratio"],
        "first_invoke_ratio_weak": weak["first_invoke_ratio"],
        "answer": answer,
        "twin_answer": twin_answer,
        "same_answer": same,
        "notes": list(setup.notes),
    }
