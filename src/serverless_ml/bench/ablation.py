"""``bench ablation``: what each cold-start lever buys, per reference function, in one run.

For every reference function (``bench.functions``: fraud, IoT, image, edge) the *full build* is
the bundle its reference stack deploys, rebuilt for this host; each lever is then turned off
ALONE (or, for a lever the full build does not use, turned on alone) in a copy of that bundle
(``bench.ablation_variants``). Every variant of every function runs in fresh
``python3.13 -I -B`` processes that see only a read-only copy of its bundle (``bench.isolated``),
after the modules Lambda's bootstrap imports first, with the real boto3 on the path after the
bundle and its HTTP answered in process (``bench.aws_transport``). One discarded priming run per
variant, then ``repeats`` rounds; in each round every (function, variant) pair runs once, in a
seeded shuffled order, so drift and noise hit all alike. Each process measures:

- INIT: the import of the handler module (the shim's, for shim variants);
- first invoke: one real event of the function's trigger (boto3 loads here when it is lazy);
- warm: ``warm_invokes`` more invokes of the same event in the same process: p50, and CPU time
  per invoke (all threads);

and the answer of the first invoke, checked against the full build's. Reported per variant:
medians with min-max over the processes, as deltas against the full build, plus bundle sizes
(zipped and unzipped, this host's architecture). The image function's INIT is also broken down
stage by stage (``bench.image_init``) in the same rounds.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import random
import shutil
import stat
import statistics
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from serverless_ml.bench import image_init
from serverless_ml.bench.ablation_models import ACCURACY_BOUND
from serverless_ml.bench.ablation_variants import (
    LEVERS,
    NotApplicable,
    Target,
    Variant,
    build_variants,
    full_variant,
    powertools_requirement,
    prune,
)
from serverless_ml.bench.aws_transport import (
    CREDENTIALS_ENV,
    OBJECTS_ENV,
    TRANSPORT_MODULE,
    boto3_requirement,
    installed_packages,
    write_transport,
)
from serverless_ml.bench.cold_start import host_architecture, lambda_environment, resolve_python
from serverless_ml.bench.compiled_runtime import BOOTSTRAP_IMPORTS
from serverless_ml.bench.figures import percentile
from serverless_ml.bench.functions import FUNCTIONS, BenchFunction
from serverless_ml.bench.isolated import run_isolated
from serverless_ml.bundling import BundleWarning, build_bundle, find_target_python, spec_from_plan
from serverless_ml.bundling.cache import default_cache_dir
from serverless_ml.bundling.spec import Architecture

WARM_INVOKES: Final = 200
ORDER_SEED: Final = 12
MB: Final = 1024 * 1024
FULL: Final = "full"

# Runs in the child after the sys.path prelude of ``run_isolated``: the real boto3 after the
# bundle (Lambda's runtime packages), the in-process transport, Lambda's bootstrap imports; then
# INIT, the first invoke and the warm loop. Handler output goes to /dev/null.
_CHILD: Final = """
import sys
sys.path.append({runtime!r})
sys.path.append({hooks!r})
import {bootstrap}
import {transport}
{transport}.install()
_result_stream = sys.stdout
sys.stdout = open(os.devnull, "w")
start = time.perf_counter()
module = importlib.import_module({module!r})
init_ms = (time.perf_counter() - start) * 1000.0
at_init = sorted(
    name for name in ("boto3", "botocore", "aws_lambda_powertools", "numpy", "onnxruntime")
    if name in sys.modules
)
modules_at_init = len(sys.modules)
with open({event_path!r}, encoding="utf-8") as source:
    event = json.load(source)
# The model's own first call inside the first invoke, timed by wrapping the model class's
# call for that invoke only (the warm loop runs the unwrapped method).
model_calls = []
wrapped = []
for module_name, class_name, method in (
    ("sml_handlers.runtime.onnx_model", "OnnxModel", "run"),
    ("sml_handlers.runtime.compiled_model", "CompiledModel", "predict"),
):
    cls = getattr(sys.modules.get(module_name), class_name, None)
    if cls is None:
        continue
    original = cls.__dict__[method]

    def timed(self, *args, _original=original, **kwargs):
        began = time.perf_counter()
        try:
            return _original(self, *args, **kwargs)
        finally:
            model_calls.append((time.perf_counter() - began) * 1000.0)

    setattr(cls, method, timed)
    wrapped.append((cls, method, original))
start = time.perf_counter()
response = module.handler(event, None)
first_ms = (time.perf_counter() - start) * 1000.0
for cls, method, original in wrapped:
    setattr(cls, method, original)
calls = list({transport}.CALLS)
warm_us = []
cpu_start = time.process_time()
for _ in range({warm}):
    began = time.perf_counter_ns()
    module.handler(event, None)
    warm_us.append((time.perf_counter_ns() - began) / 1000.0)
cpu_ms = (time.process_time() - cpu_start) * 1000.0
import gc
models = [o for o in gc.get_objects() if type(o).__name__ in ("OnnxModel", "CompiledModel")]
model = models[0] if models else None
session = None
if model is not None and hasattr(model, "session"):
    options = model.session.get_session_options()

    def entry(key):
        try:
            return options.get_session_config_entry(key)
        except Exception:
            return None

    session = {{
        "intra_op_threads": options.intra_op_num_threads,
        "inter_op_threads": options.inter_op_num_threads,
        "optimization": str(options.graph_optimization_level).rsplit(".", 1)[-1],
        "intra_op_spinning": entry("session.intra_op.allow_spinning"),
    }}
numpy = sys.modules.get("numpy")
sys.stdout = _result_stream
print(json.dumps({{
    "init_ms": init_ms,
    "first_invoke_ms": first_ms,
    "first_model_ms": sum(model_calls) if model_calls else None,
    "warm_us": warm_us,
    "cpu_ms": cpu_ms,
    "response": response,
    "calls": calls,
    "at_init": at_init,
    "session": session,
    "runtime": getattr(model, "runtime", None),
    "models_found": len(models),
    "warm_up_ms": getattr(model, "warm_up_ms", None),
    "load_ms": getattr(model, "load_ms", None),
    "skipped_warm_ups": len(getattr(module, "SKIPPED_WARM_UPS", ())),
    "numpy_file": getattr(numpy, "__file__", None),
    "modules_at_init": modules_at_init,
}}, default=str))
"""

NOTES: Final = (
    "INIT = import of the handler module (a variant's shim module imports the shipped handler "
    "after its one change) in a fresh `python3.13 -I -B` process that sees only the read-only "
    f"bundle, after {BOOTSTRAP_IMPORTS} (what Lambda's bootstrap imports first)",
    "AWS calls use the real boto3 (the version installed here, installed like Lambda's runtime "
    "packages with .pyc, on sys.path after the bundle) with its HTTP answered in process: "
    "boto3's import and client creation are in the figures (INIT when eager, the first invoke "
    "when lazy), network latency is not",
    "memory sizes reach the handlers through the environment only: no CPU cap applies here, "
    "while Lambda gives a function CPU in proportion to memory (1024 MB: 0.58 vCPU), so every "
    "figure there is longer and spinning threads cost more",
    "sizes are this host's bundles (x86_64); the deployed arm64 bundles differ by a few percent",
)


def _median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def spread(values: Sequence[float], digits: int = 2) -> dict[str, Any]:
    """Median, min, max and quartiles of ``values`` (and the values)."""
    ordered = sorted(values)
    return {
        "median": round(_median(ordered), digits),
        "min": round(ordered[0], digits),
        "max": round(ordered[-1], digits),
        "q1": round(percentile(ordered, 0.25), digits),
        "q3": round(percentile(ordered, 0.75), digits),
        "runs": [round(v, digits) for v in values],
    }


@contextlib.contextmanager
def read_only_roots(sources: Mapping[str, Path]) -> Iterator[dict[str, Path]]:
    """Read-only copies of each source tree (like /var/task). Files shared by several sources
    (hard links into the build cache) are copied once and hard-linked between the copies, so
    dozens of variants of a 90 MB bundle cost one copy of each distinct file."""
    scratch = Path(tempfile.mkdtemp(prefix="sml-ablation-"))
    copies: dict[tuple[int, int], Path] = {}
    roots: dict[str, Path] = {}
    try:
        for label, source in sources.items():
            root = scratch / label
            for directory, _dirs, files in os.walk(source):
                target = root / Path(directory).relative_to(source)
                target.mkdir(parents=True, exist_ok=True)
                for name in files:
                    path, destination = Path(directory) / name, target / name
                    if path.is_symlink():
                        destination.symlink_to(os.readlink(path))
                        continue
                    info = path.stat()
                    seen = copies.get((info.st_dev, info.st_ino))
                    if seen is None:
                        shutil.copy2(path, destination)
                        copies[(info.st_dev, info.st_ino)] = destination
                    else:
                        os.link(seen, destination)
            roots[label] = root
        no_write = ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
        for copy in copies.values():
            copy.chmod(copy.stat().st_mode & no_write)
        for root in roots.values():
            for directory, _dirs, _files in os.walk(root, topdown=False):
                Path(directory).chmod(Path(directory).stat().st_mode & no_write)
        yield roots
    finally:
        for directory, _dirs, _files in os.walk(scratch):
            with contextlib.suppress(OSError):
                Path(directory).chmod(Path(directory).stat().st_mode | stat.S_IWUSR)
        shutil.rmtree(scratch, ignore_errors=True)


@dataclass(frozen=True)
class _Run:
    """Everything one child needs."""

    function: BenchFunction
    target: Target
    variant: Variant


def build_targets(
    functions: Sequence[BenchFunction],
    python: str,
    version: str,
    architecture: Architecture,
    root: Path,
) -> tuple[list[Target], list[str]]:
    import dataclasses
    import warnings

    found, _notes = find_target_python(version, python)
    magic = found.magic if found is not None else "none"
    targets: list[Target] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", BundleWarning)
        for f in functions:
            plan = f.plan()
            spec = spec_from_plan(plan, cache_dir=root)
            host = dataclasses.replace(
                spec, architecture=architecture, python_version=version,
                local_only=version != spec.python_version,
            )  # fmt: skip
            full = build_bundle(host, cache_dir=root, target_python=python)
            targets.append(Target(f, plan, host, full, python, version, magic, architecture, root))
    return targets, [str(w.message) for w in caught if issubclass(w.category, BundleWarning)]


def _stats(runs: list[dict[str, Any]], warm_invokes: int) -> dict[str, Any]:
    stats = {
        "init_ms": spread([r["init_ms"] for r in runs]),
        "first_invoke_ms": spread([r["first_invoke_ms"] for r in runs], 3),
        # what a request that met the cold start waited for (unless the INIT was proactive)
        "cold_ms": spread([r["init_ms"] + r["first_invoke_ms"] for r in runs]),
    }
    if all(r["first_model_ms"] is not None for r in runs):
        stats["first_model_ms"] = spread([r["first_model_ms"] for r in runs], 3)
    # the model's own figures at INIT: session creation (or module import), warm-up
    for field, name in (("load_ms", "model_load_ms"), ("warm_up_ms", "warm_up_ms")):
        if all(r[field] is not None for r in runs):
            stats[name] = spread([r[field] for r in runs], 3)
    if warm_invokes:
        stats["warm_p50_us"] = spread([percentile(r["warm_us"], 0.5) for r in runs], 1)
        stats["warm_p99_us"] = spread([percentile(r["warm_us"], 0.99) for r in runs], 1)
        stats["warm_cpu_us"] = spread([r["cpu_ms"] * 1000.0 / warm_invokes for r in runs], 1)
    return stats


def _observed(run: dict[str, Any]) -> dict[str, Any]:
    """What a child saw about its variant (the same in every run of it)."""
    return {
        key: run[key]
        for key in (
            "at_init",
            "session",
            "runtime",
            "models_found",
            "skipped_warm_ups",
            "modules_at_init",
        )
    } | {"warm_up_ms": None if run["warm_up_ms"] is None else round(run["warm_up_ms"], 3)}


def _delta(variant: dict[str, Any], full: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field in ("init_ms", "first_invoke_ms", "cold_ms", "first_model_ms", "model_load_ms",
                  "warm_up_ms", "warm_p50_us", "warm_cpu_us"):  # fmt: skip
        if field not in variant["stats"] or field not in full["stats"]:
            continue
        mine, theirs = variant["stats"][field], full["stats"][field]
        out[field] = round(mine["median"] - theirs["median"], 3)
        ratio = mine["median"] / theirs["median"] if theirs["median"] else None
        out[f"{field}_pct"] = None if ratio is None else round(100.0 * (ratio - 1.0), 1)
        # the variant's runs all above, or all below, the full build's: a difference the noise
        # of this run does not explain
        out[f"{field}_separated"] = mine["min"] > theirs["max"] or mine["max"] < theirs["min"]
    for field in ("zipped_bytes", "unzipped_bytes"):
        out[field] = variant[field] - full[field]
    out["zip_mb"] = round(out["zipped_bytes"] / MB, 2)
    out["unzipped_mb"] = round(out["unzipped_bytes"] / MB, 2)
    return out


def run_ablation_bench(
    *,
    repeats: int = 5,
    warm_invokes: int = WARM_INVOKES,
    target_python: str | None = None,
    cache_dir: Path | None = None,
    functions: Sequence[BenchFunction] = FUNCTIONS,
) -> dict[str, Any]:
    """Build every variant and measure them all, interleaved (see module doc); JSON-ready."""
    if repeats < 1:
        raise ValueError("repeats must be >= 1")
    if warm_invokes < 0:
        raise ValueError("warm_invokes must be >= 0")
    load_before = os.getloadavg()[0]
    root = default_cache_dir(cache_dir)
    lambda_python = spec_from_plan(functions[0].plan(), cache_dir=root).python_version
    python, version, interpreter, notes = resolve_python(lambda_python, target_python)
    architecture = host_architecture()
    targets, warned = build_targets(functions, python, version, architecture, root)
    notes.extend(dict.fromkeys(warned))
    magic = targets[0].magic
    runtime_site = installed_packages(
        (boto3_requirement(),), python=python, python_version=version, magic=magic,
        architecture=architecture, cache_dir=root,
    )  # fmt: skip
    variants: dict[str, list[Variant | NotApplicable]] = {}
    extras: dict[str, dict[str, Any]] = {}
    for target in targets:
        variants[target.key], extras[target.key] = build_variants(target)
    breakdown = image_init.plan_breakdown(targets, runtime_site, root)
    prune(root)
    results: dict[tuple[str, Any], list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="sml-ablation-run-") as scratch_name:
        scratch = Path(scratch_name)
        hooks = write_transport(scratch / "hooks")
        objects = scratch / "objects"
        events: dict[str, Any] = {}
        for target in targets:
            events[target.key] = target.function.event(objects)
            (scratch / f"{target.key}.json").write_text(
                json.dumps(events[target.key]), encoding="utf-8"
            )
        measured: dict[tuple[str, str], _Run] = {}
        for target in targets:
            measured[(target.key, FULL)] = _Run(target.function, target, full_variant(target))
            for variant in variants[target.key]:
                if isinstance(variant, Variant):
                    measured[(target.key, variant.lever)] = _Run(target.function, target, variant)
        sources = {f"{k}-{lever}": r.variant.root for (k, lever), r in measured.items()}
        sources.update(breakdown.sources())
        with read_only_roots(sources) as roots:

            def run(key: tuple[str, str], warm: int) -> dict[str, Any]:
                item = measured[key]
                task = roots[f"{key[0]}-{key[1]}"]
                code = _CHILD.format(
                    runtime=str(runtime_site), hooks=str(hooks), bootstrap=BOOTSTRAP_IMPORTS,
                    transport=TRANSPORT_MODULE, module=item.variant.module,
                    event_path=str(scratch / f"{item.target.key}.json"), warm=warm,
                )  # fmt: skip
                env = {
                    **lambda_environment(item.target.plan, task),
                    **item.function.env,
                    **CREDENTIALS_ENV,
                    OBJECTS_ENV: str(objects),
                }
                result = run_isolated(python, task, code, env=env)
                numpy_file = result["numpy_file"]
                if numpy_file is not None and not numpy_file.startswith(str(task)):
                    raise RuntimeError(f"{key}: numpy came from {numpy_file}")
                result["answer"] = item.function.answer(
                    events[item.target.key], result["response"], result["calls"]
                )
                return result

            jobs: list[tuple[str, Any]] = [("variant", key) for key in measured]
            jobs += [("breakdown", key) for key in breakdown.jobs()]

            def execute(job: tuple[str, Any], warm: int) -> dict[str, Any]:
                kind, key = job
                if kind == "variant":
                    return run(key, warm)
                return breakdown.run(key, python, roots, hooks)

            for job in jobs:  # priming: page cache warm for every variant alike
                execute(job, 0)
            for round_number in range(repeats):
                order = list(jobs)
                random.Random(ORDER_SEED + round_number).shuffle(order)
                for job in order:
                    results.setdefault(job, []).append(execute(job, warm_invokes))
    rows = []
    for target in targets:
        full_runs = results[("variant", (target.key, FULL))]
        full_answer = full_runs[0]["answer"]
        full_row = _variant_row(full_variant(target), full_runs, warm_invokes, full_answer)
        levers = []
        for lever, variant in zip(LEVERS, variants[target.key], strict=True):
            entry: dict[str, Any] = {"lever": lever.key, "name": lever.name, "where": lever.where}
            if isinstance(variant, NotApplicable):
                entry.update(applies=False, reason=variant.reason)
            else:
                row = _variant_row(
                    variant,
                    results[("variant", (target.key, lever.key))],
                    warm_invokes,
                    full_answer,
                )
                entry.update(applies=True, **row, delta=_delta(row, full_row))
            levers.append(entry)
        rows.append(
            {
                "function": target.plan.name,
                "key": target.key,
                "memory_mb": target.plan.memory_mb,
                "runtime": target.runtime,
                "requirements": list(target.spec.requirements),
                "full": full_row,
                "levers": levers,
                "models": extras[target.key],
            }
        )
    notes.append(
        f"medians of {repeats} fresh processes per variant (min-max), one discarded priming run "
        f"each; every round runs every variant of every function once, in a shuffled order; "
        f"warm figures: {warm_invokes} in-process invokes per process after the first"
    )
    return {
        "benchmark": "ablation",
        "architecture": architecture,
        "interpreter": interpreter,
        "python_version": version,
        "repeats": repeats,
        "warm_invokes": warm_invokes,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        },
        "packages": {"boto3": boto3_requirement(), "powertools": powertools_requirement()},
        "int8_bound": ACCURACY_BOUND,
        "levers": [
            {"lever": x.key, "name": x.name, "variant": x.variant, "where": x.where} for x in LEVERS
        ],
        "functions": rows,
        "image_init": breakdown.summary(
            {key: runs for (kind, key), runs in results.items() if kind == "breakdown"}
        ),
        "notes": [*notes, *NOTES],
    }


def _variant_row(
    variant: Variant, runs: list[dict[str, Any]], warm_invokes: int, full_answer: Any
) -> dict[str, Any]:
    answers = [r["answer"] for r in runs]
    return {
        "variant": variant.description,
        "shipped": variant.shipped,
        "module": variant.module,
        "bundle": str(variant.root),
        "zipped_bytes": variant.zipped_bytes,
        "unzipped_bytes": variant.unzipped_bytes,
        "zip_mb": round(variant.zipped_bytes / MB, 2),
        "unzipped_mb": round(variant.unzipped_bytes / MB, 2),
        "facts": variant.facts,
        "observed": _observed(runs[0]),
        "stats": _stats(runs, warm_invokes),
        "answer": answers[0][0],
        "same_answer": all(a[0] == full_answer[0] for a in answers),
    }


# --- text and markdown ----------------------------------------------------------------------------

COLUMNS: Final = (
    ("init_ms", "INIT ms", 1),
    ("first_invoke_ms", "1st invoke ms", 2),
    ("cold_ms", "INIT + 1st ms", 1),
    ("first_model_ms", "1st model call ms", 3),
    ("warm_p50_us", "warm p50 us", 0),
    ("warm_cpu_us", "warm CPU us", 0),
)


def _range(stat: Mapping[str, Any], digits: int) -> str:
    return f"{stat['min']:.{digits}f}-{stat['max']:.{digits}f}"


def _size(delta: int) -> str:
    if abs(delta) < MB:
        return f"{delta / 1024:+.1f} KB"
    return f"{delta / MB:+.1f} MB"


def _cells(entry: Mapping[str, Any]) -> list[str]:
    """The table cells of one lever row (deltas, the variant's own range in brackets) or of
    the full build (absolute values)."""
    stats = entry["stats"]
    delta = entry.get("delta")
    cells: list[str] = []
    for field, _head, digits in COLUMNS:
        if field not in stats or (delta is not None and field not in delta):
            cells.append("-")
            continue
        stat = stats[field]
        if delta is None:
            cells.append(f"{stat['median']:.{digits}f} ({_range(stat, digits)})")
        else:
            mark = "*" if delta[f"{field}_separated"] else ""
            cells.append(f"{delta[field]:+.{digits}f}{mark} ({_range(stat, digits)})")
    if delta is None:
        cells += [f"{entry['zip_mb']:.2f} MB", f"{entry['unzipped_mb']:.2f} MB"]
    else:
        cells += [_size(delta["zipped_bytes"]), _size(delta["unzipped_bytes"])]
    return cells


def _label(entry: Mapping[str, Any]) -> str:
    on = " (+)" if not entry["shipped"] else ""
    return f"{entry['lever']}{on}: {entry['variant']}"


HEADS: Final = ("variant", *(head for _f, head, _d in COLUMNS), "zip", "unzipped")
LEGEND: Final = (
    "lever rows: variant minus full build (the variant's own min-max in brackets); * = every "
    "run of the variant on the same side of every run of the full build; (+) = a lever the "
    "full build does not use, switched on; INIT + 1st = what the request that met the cold "
    "start waited for; warm CPU = CPU time per warm invoke, all threads"
)


def _rows(row: Mapping[str, Any]) -> list[list[str]]:
    rows = [["full build", *_cells(row["full"])]]
    for entry in row["levers"]:
        if not entry["applies"]:
            rows.append([f"{entry['lever']}: n/a, {entry['reason']}"])
            continue
        answer = "" if entry["same_answer"] else " [ANSWER DIFFERS]"
        rows.append([_label(entry) + answer, *_cells(entry)])
    return rows


def format_ablation_table(result: Mapping[str, Any]) -> str:
    """Plain text: one block per function, the full build then a row per lever."""
    machine = result["machine"]
    lines = [
        f"What each lever buys, per function: {result['architecture']}, "
        f"{result['interpreter']}, {machine['cpus']} CPUs, 1-min load "
        f"{' -> '.join(map(str, machine['load_average_1min']))}",
        f"medians of {result['repeats']} fresh processes per variant, interleaved; "
        f"warm: {result['warm_invokes']} invokes per process",
        LEGEND,
    ]
    for row in result["functions"]:
        rows = _rows(row)
        full = [r for r in rows if len(r) > 1]
        widths = [max(len(r[i]) for r in [list(HEADS), *full]) for i in range(len(HEADS))]

        def line(cells: Sequence[str], widths: list[int] = widths) -> str:
            if len(cells) == 1:
                return f"  {cells[0]}"
            first, *rest = cells
            return f"  {first:<{widths[0]}}" + "".join(
                f"  {c:>{w}}" for c, w in zip(rest, widths[1:], strict=True)
            )

        lines += ["", f"{row['function']} ({row['memory_mb']} MB, {row['runtime']})", line(HEADS)]
        lines += [line(r) for r in rows]
    lines += ["", *image_init.format_breakdown(result["image_init"])]
    for row in result["functions"]:
        manifest = row["models"].get("int8", {})
        if manifest.get("quantized"):
            check = manifest["accuracy"]
            lines.append(
                f"int8 {row['function']}: {manifest['shipped_bytes']} -> "
                f"{manifest['int8_bytes']} bytes; held-out {check['metric']} "
                f"{check['metric_shipped']} -> {check['metric_int8']}, decisions identical on "
                f"{check['decision_agreement']:.2%} of {check['rows']} rows: "
                f"{'within' if check['within_bound'] else 'OUTSIDE'} the bound"
            )
    lines += [f"int8 bound: {result['int8_bound']}", "", "notes:"]
    lines += [f"- {note}" for note in result["notes"]]
    return "\n".join(lines)


def format_ablation_markdown(result: Mapping[str, Any]) -> str:
    """The tables of docs/benchmarks.md ("What each lever buys, per function")."""
    lines: list[str] = []
    for row in result["functions"]:
        lines += [
            f"**{row['function']}** ({row['memory_mb']} MB, model served by {row['runtime']})",
            "",
            "| " + " | ".join(HEADS) + " |",
            "|" + "---|" * len(HEADS),
        ]
        for cells in _rows(row):
            if len(cells) == 1:
                lever, _, reason = cells[0].partition(": n/a, ")
                cells = [f"`{lever}`: n/a, {reason}", *([""] * (len(HEADS) - 1))]
            else:
                lever, _, rest = cells[0].partition(": ")
                on = lever.endswith(" (+)")
                lever = lever.removesuffix(" (+)")
                name = (
                    "**full build**"
                    if cells[0] == "full build"
                    else f"`{lever}`{' (+)' if on else ''}: {rest}"
                )
                cells = [name, *cells[1:]]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)
