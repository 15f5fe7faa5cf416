"""The comparison table (text), the JSON report, and the per-function plan files."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

from serverless_ml.planner.planner import PlanReport, StrategySummary
from serverless_ml.planner.traces import trace_end


def _money(x: float) -> str:
    return f"${x:,.2f}"


def _rate(x: float) -> str:
    return f"{x:.3%}"


def comparison_table(report: PlanReport) -> str:
    """The table ``serverless-ml plan`` prints."""
    trace, opt = report.trace, report.options
    n = len(report.functions)
    lines = [
        f"{n} function(s), {trace.invocations:,} invocations over {trace.minutes} min "
        f"from {trace.start:%Y-%m-%d %H:%M} UTC ({trace.source}); {opt.architecture}, "
        f"INIT {opt.init_ms:g} ms, SnapStart restore {opt.restore_ms:g} ms",
        f"fitted on minutes 0-{report.history - 1}, evaluated on minutes {report.history}-"
        f"{trace.minutes - 1}; keep-alive {opt.lifecycle.keep_alive_min:g} min (assumed); "
        f"objective: {opt.objective.text}",
        "",
    ]
    header = (
        f"{'strategy':<16}{'cold starts':>12}{'rate':>9}{'p99 added':>11}"
        f"{'monthly cost':>14}{'fns missing':>13}  meets"
    )
    lines += [header, "-" * len(header)]
    for s in report.summaries:
        lines.append(_row(s, n, s.strategy == report.chosen))
    lines.append("")
    if report.chosen:
        best = report.summary(report.chosen)
        lines.append(
            f"=> {report.chosen}: the cheapest strategy meeting {opt.objective.text} "
            f"({_money(best.cost.total)}/month, {best.cold_starts:,} cold starts, "
            f"{_rate(best.cold_rate)})"
        )
    else:
        lines.append(
            f"=> no strategy meets {opt.objective.text}; the plans written are the planner's "
            "best effort (fewest cold starts where the objective is out of reach)"
        )
    picks = Counter(f.evaluations["planner"].choice.detail.split(":")[0] for f in report.functions)
    lines.append(
        "   planner per function: " + ", ".join(f"{k} {v}" for k, v in picks.most_common())
    )
    lines += ["", _sensitivity_table(report)]
    return "\n".join(lines)


def _row(s: StrategySummary, n: int, chosen: bool) -> str:
    return (
        f"{s.strategy + (' *' if chosen else ''):<16}{s.cold_starts:>12,}{_rate(s.cold_rate):>9}"
        f"{s.p99_added_ms:>8.0f} ms{_money(s.cost.total):>14}{f'{s.misses}/{n}':>13}  "
        f"{'yes' if s.meets else 'no'}"
    )


def _sensitivity_table(report: PlanReport) -> str:
    strategies = list(dict.fromkeys(r.strategy for r in report.sensitivity))
    lines = [
        "keep-alive sensitivity (AWS publishes none; plans not refitted): cold-start rate, cost",
        f"{'keep-alive':<12}" + "".join(f"{s:>26}" for s in strategies),
    ]
    for ka in dict.fromkeys(r.keep_alive_min for r in report.sensitivity):
        cells = []
        for s in strategies:
            row = next(r for r in report.sensitivity if r.keep_alive_min == ka and r.strategy == s)
            cells.append(f"{_rate(row.cold_rate):>12} {_money(row.monthly_cost):>13}")
        lines.append(f"{ka:>6g} min   " + "".join(f"{c:>26}" for c in cells))
    return "\n".join(lines)


def report_dict(report: PlanReport, files: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything in the report as JSON-ready data."""
    trace, opt = report.trace, report.options
    return {
        "trace": {
            "source": trace.source,
            "functions": len(trace.functions),
            "invocations": trace.invocations,
            "minutes": trace.minutes,
            "start": trace.start.isoformat(),
            "end": trace_end(trace).isoformat(),
        },
        "assumptions": {
            "architecture": opt.architecture,
            "init_ms": opt.init_ms,
            "restore_ms": opt.restore_ms,
            "keep_alive_min": opt.lifecycle.keep_alive_min,
            "pc_ready_delay_min": opt.lifecycle.pc_ready_delay_min,
            "warmer_ms": opt.lifecycle.warmer_ms,
            "arrivals": opt.lifecycle.spread,
            "seed": opt.seed,
        },
        "history_minutes": [0, report.history],
        "evaluation_minutes": [report.history, trace.minutes],
        "objective": opt.objective.text,
        "strategies": [
            {
                "strategy": s.strategy,
                "invocations": s.invocations,
                "cold_starts": s.cold_starts,
                "cold_rate": s.cold_rate,
                "p50_added_ms": s.p50_added_ms,
                "p99_added_ms": s.p99_added_ms,
                "monthly_cost": s.cost.as_dict(),
                "functions_missing": s.misses,
                "meets_objective": s.meets,
            }
            for s in report.summaries
        ],
        "chosen": report.chosen,
        "recommended": report.recommended,
        "keep_alive_sensitivity": [
            {
                "keep_alive_min": r.keep_alive_min,
                "strategy": r.strategy,
                "cold_starts": r.cold_starts,
                "cold_rate": r.cold_rate,
                "monthly_cost": round(r.monthly_cost, 4),
                "meets_objective": r.meets,
            }
            for r in report.sensitivity
        ],
        "functions": [
            {
                "name": f.name,
                "invocations": f.invocations,
                "duration_ms": f.profile.duration_ms,
                "memory_mb": f.profile.memory_mb,
                "planner": f.evaluations["planner"].choice.detail,
                "planner_met_objective_on_history": f.planner_met_on_history,
                "plan": f.evaluations[report.recommended].choice.plan.to_dict(),
                "strategies": {
                    name: {
                        "invocations": e.stats.invocations,
                        "cold_starts": e.stats.cold_starts,
                        "monthly_cost": round(e.cost.total, 4),
                        "detail": e.choice.detail,
                    }
                    for name, e in f.evaluations.items()
                },
            }
            for f in report.functions
        ],
        "speed": {
            "simulated_arrivals": report.simulated_arrivals,
            "simulated_one_by_one": report.per_invocation,
            "aggregate_function_minutes": report.aggregate_minutes,
            "seconds": round(report.seconds, 3),
            "arrivals_per_second": round(report.arrivals_per_second),
            "simulation": report.options.simulation,
        },
        "files": files or {},
    }


def plan_file_name(name: str, taken: set[str]) -> str:
    """A file-system-safe, unique ``<name>.json`` (long Azure hashes are shortened)."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:16] or "function"
    candidate, i = stem, 2
    while candidate in taken:
        candidate, i = f"{stem}-{i}", i + 1
    taken.add(candidate)
    return f"{candidate}.json"


def write_plans(report: PlanReport, out_dir: Path) -> dict[str, str]:
    """One ConcurrencyPlan JSON per function under ``out_dir/plans``; with a single function
    also ``out_dir/concurrency_plan.json``. Returns function name -> file."""
    plans_dir = out_dir / "plans"
    plans_dir.mkdir(parents=True, exist_ok=True)
    strategy = report.recommended
    taken: set[str] = set()
    written: dict[str, str] = {}
    for f in report.functions:
        evaluation = f.evaluations[strategy]
        data = evaluation.choice.plan.to_dict()
        data["comment"] = (
            f"{strategy} for function {f.name}: {evaluation.choice.detail}; objective "
            f"{report.options.objective.text} "
            + ("met by this strategy overall" if report.chosen else "not met by any strategy")
        )
        data["source"] = (
            f"serverless-ml plan on {report.trace.source}, evaluation minutes "
            f"{report.history}-{report.trace.minutes - 1}"
        )
        path = plans_dir / plan_file_name(f.name, taken)
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        written[f.name] = str(path)
        if len(report.functions) == 1:
            single = out_dir / "concurrency_plan.json"
            single.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
            written[f.name] = str(single)
    return written
