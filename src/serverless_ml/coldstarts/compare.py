"""Measured against expected: the local INIT benchmark (``--compare-bench``) and the planner's
simulator replaying the observed per-minute traffic (``--compare-plan``).

The simulated traffic is the REPORT lines per minute (a REPORT is written when a request ends;
warmer pings are requests too). The simulator draws arrivals uniformly inside each minute,
keeps idle environments ``Lifecycle.keep_alive_min`` (AWS publishes none) and starts with an
empty pool, as a fresh deployment does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from serverless_ml.coldstarts.errors import ColdStartsError
from serverless_ml.coldstarts.report import ColdStartReport
from serverless_ml.coldstarts.schedule import scheduled_floor
from serverless_ml.spec.concurrency import ConcurrencyPlan


def compare_bench(path: Path, report: ColdStartReport) -> dict[str, Any]:
    """``bench cold-start --json``'s INIT median next to the deployed INIT p50 (from
    ``bench cold-start --all --json``: the row of the same function)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ColdStartsError("SML805", f"--compare-bench {path}: {exc}") from None
    data = _bench_row(data, report.function, path)
    local = data.get("init_ms_median")
    if isinstance(local, bool) or not isinstance(local, int | float):
        raise ColdStartsError(
            "SML805",
            f"--compare-bench {path}: no numeric init_ms_median; pass the file written from "
            "`serverless-ml bench cold-start --json`",
        )
    deployed = report.total.init_ms
    ratio = round(deployed.p50 / local, 2) if deployed.p50 is not None and local > 0 else None
    lines = [
        f"local INIT median {local:.1f} ms ({data.get('function', '?')}, "
        f"{data.get('architecture', '?')}, Python {data.get('python_version', '?')}, "
        f"{data.get('memory_mb', '?')} MB, {data.get('repeats', '?')} fresh processes)",
        f"deployed INIT p50 {deployed.p50} ms (p90 {deployed.p90}, max {deployed.max}) over "
        f"{deployed.count} on-demand cold starts"
        if deployed.count
        else "deployed: no on-demand cold start in the window, nothing to compare",
    ]
    if ratio is not None:
        lines.append(
            f"deployed / local = {ratio}x: Lambda's Init Duration also covers the sandbox, the "
            "runtime's start and extensions; the local figure is the handler import alone"
        )
    memory = data.get("memory_mb")
    if memory and report.total.memory_mb and memory not in report.total.memory_mb:
        lines.append(
            f"memory differs: bench {memory} MB, deployed {list(report.total.memory_mb)} MB "
            "(CPU share follows memory)"
        )
    return {
        "local_init_ms_median": float(local),
        "deployed_init_ms_p50": deployed.p50,
        "deployed_samples": deployed.count,
        "ratio": ratio,
        "bench": {
            k: data.get(k) for k in ("function", "architecture", "python_version", "memory_mb")
        },
        "lines": lines,
    }


def _bench_row(data: Any, function: str, path: Path) -> dict[str, Any]:
    """The single-function result, or the row of ``function`` in an ``--all`` result."""
    rows = data.get("rows") if isinstance(data, dict) else None
    if isinstance(rows, list):
        named = [r for r in rows if isinstance(r, dict) and r.get("function") == function]
        if len(named) == 1 or len(rows) == 1:
            row: dict[str, Any] = named[0] if named else rows[0]
            return row
        names = [r.get("function") for r in rows if isinstance(r, dict)]
        raise ColdStartsError(
            "SML805", f"--compare-bench {path}: no row for {function} (rows: {names})"
        )
    if not isinstance(data, dict):
        raise ColdStartsError("SML805", f"--compare-bench {path}: not a JSON object")
    return data


def resolve_plan(value: str, function: str, report: ColdStartReport) -> tuple[ConcurrencyPlan, str]:
    """A ``ConcurrencyPlan`` file, a reference scenario name, or ``auto``: the scenario whose
    function has this name, else what the logs show (SnapStart restores -> snapstart)."""
    from serverless_ml.reference.scenarios import SCENARIOS

    if value != "auto":
        if Path(value).is_file():
            return ConcurrencyPlan.from_json_file(value), f"plan file {value}"
        if value in SCENARIOS:
            return SCENARIOS[value]().concurrency, f"reference scenario {value}"
        raise ColdStartsError(
            "SML806",
            f"--compare-plan {value!r}: no such file and no reference scenario "
            f"({', '.join(SCENARIOS)}); pass a `serverless-ml plan` ConcurrencyPlan JSON",
        )
    for name, build in SCENARIOS.items():
        spec = build()
        if spec.name == function:
            return spec.concurrency, f"reference scenario {name} (function {function})"
    if report.total.restores:
        return ConcurrencyPlan.snapstart(), "the logs (SnapStart restores seen)"
    return ConcurrencyPlan.on_demand(), "none found: on-demand assumed"


def compare_plan(report: ColdStartReport, plan: ConcurrencyPlan, source: str) -> dict[str, Any]:
    """Predicted cold-start rate on-demand and under ``plan`` for the observed traffic."""
    from serverless_ml.planner.errors import PlannerError
    from serverless_ml.planner.simulator import (
        DEFAULT_INIT_MS,
        DEFAULT_MEMORY_MB,
        DEFAULT_RESTORE_MS,
        FunctionProfile,
        Lifecycle,
        Setup,
        Workload,
        run,
    )

    t = report.total
    observed = {"cold_starts": t.cold_starts, "rate": round(t.cold_start_rate, 6)}
    if not report.minute_counts or report.first_minute is None:
        return {"observed": observed, "lines": ["no REPORT line: no traffic to replay"]}
    counts = np.array(report.minute_counts, dtype=np.int64)
    init_ms = t.init_ms.p50 or t.provisioned_init_ms.p50 or DEFAULT_INIT_MS
    profile = FunctionProfile(
        duration_ms=max(0.01, t.duration_mean_ms or 0.01),
        memory_mb=max(t.memory_mb) if t.memory_mb else DEFAULT_MEMORY_MB,
        init_ms=init_ms,
        restore_ms=t.restore_ms.p50 or DEFAULT_RESTORE_MS,
    )
    work = Workload.build(report.function, counts, profile, seed=0)
    lifecycle = Lifecycle()
    window = (0, len(counts))
    on_demand = run(work, Setup(), lifecycle, window)
    predicted: dict[str, Any] = {
        "on_demand": {"cold_starts": on_demand.cold_starts, "rate": round(on_demand.cold_rate, 6)}
    }
    lines = [
        f"traffic: {int(counts.sum()):,} requests over {len(counts):,} minutes from "
        f"{report.first_minute.isoformat().replace('+00:00', 'Z')} (REPORT lines per minute)",
        f"profile: duration {profile.duration_ms:g} ms mean, INIT {profile.init_ms:g} ms, restore "
        f"{profile.restore_ms:g} ms, {profile.memory_mb:g} MB; keep-alive "
        f"{lifecycle.keep_alive_min:g} min assumed",
        f"observed            {t.cold_starts:>8,} cold starts  {t.cold_start_rate:.2%}",
        f"predicted on-demand {on_demand.cold_starts:>8,} cold starts  {on_demand.cold_rate:.2%}",
    ]
    if plan == ConcurrencyPlan.on_demand():
        predicted["plan"] = {"mode": plan.mode, "source": source, **predicted["on_demand"]}
        lines.append(f"plan ({source}): on-demand, as predicted above")
        return _result(observed, predicted, profile, lifecycle, lines)
    try:
        setup, detail = _setup(plan, work, report, lifecycle)
    except (PlannerError, ValueError) as exc:
        lines.append(f"plan ({source}, mode {plan.mode}) not simulated: {exc}")
    else:
        stats = run(work, setup, lifecycle, window)
        predicted["plan"] = {
            "mode": plan.mode,
            "source": source,
            "cold_starts": stats.cold_starts,
            "rate": round(stats.cold_rate, 6),
            "detail": detail,
        }
        lines.append(
            f"predicted {plan.mode:<10}{stats.cold_starts:>8,} cold starts  {stats.cold_rate:.2%}"
            f"   ({source}; {detail})"
        )
    return _result(observed, predicted, profile, lifecycle, lines)


def _result(
    observed: dict[str, Any],
    predicted: dict[str, Any],
    profile: Any,
    lifecycle: Any,
    lines: list[str],
) -> dict[str, Any]:
    return {
        "observed": observed,
        "predicted": predicted,
        "profile": {
            "duration_ms": profile.duration_ms,
            "init_ms": profile.init_ms,
            "restore_ms": profile.restore_ms,
            "memory_mb": profile.memory_mb,
            "keep_alive_min": lifecycle.keep_alive_min,
        },
        "lines": lines,
    }


def _setup(
    plan: ConcurrencyPlan, work: Any, report: ColdStartReport, lifecycle: Any
) -> tuple[Any, str]:
    from serverless_ml.planner.schedule import TargetTracking
    from serverless_ml.planner.simulator import Setup

    n = len(work.counts)
    warmer = plan.warmer
    if plan.mode == "on_demand":
        return Setup(warmer=warmer), "no provisioned concurrency"
    if plan.mode == "snapstart":
        return Setup(snapstart=True, warmer=warmer), "every cold start restores a snapshot"
    if plan.mode == "static":
        pc = np.full(n, plan.provisioned, dtype=np.int64)
        return Setup(pc_target=pc, warmer=warmer), f"{plan.provisioned} provisioned"
    tracking = TargetTracking(
        min_capacity=plan.min_capacity,
        max_capacity=plan.max_capacity,
        target=plan.target_utilization or 0.7,
    )
    if plan.mode == "target_tracking":
        pc = tracking.capacity(work.demand_peak, lifecycle.pc_ready_delay_min)
        return Setup(
            pc_target=pc, warmer=warmer
        ), f"target tracking {plan.min_capacity}..{plan.max_capacity}"
    assert report.first_minute is not None
    low, high = scheduled_floor(plan.schedule, report.first_minute, n, default=plan.min_capacity)
    detail = (
        f"scheduled actions replayed on the window's dates, {int(low.min())}..{int(high.max())}"
    )
    if plan.target_utilization is not None:  # tracking between the scheduled bounds
        low = np.clip(tracking.capacity(work.demand_peak, lifecycle.pc_ready_delay_min), low, high)
        detail += " with target tracking between them (approximate)"
    return Setup(pc_target=low.astype(np.int64), warmer=warmer), detail
