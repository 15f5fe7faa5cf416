"""``serverless-ml plan``: the argparse options and the function behind them.

Wiring (two lines in serverless_ml/cli.py)::

    plan = subparsers.add_parser("plan", help="cold-start planner: trace -> ConcurrencyPlan")
    add_plan_arguments(plan); plan.set_defaults(func=main_plan)
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import cast

from serverless_ml.planner.errors import PlannerError
from serverless_ml.planner.planner import PlannerOptions, PlanReport, plan_trace
from serverless_ml.planner.report import comparison_table, report_dict, write_plans
from serverless_ml.planner.simulator import (
    DEFAULT_INIT_MS,
    DEFAULT_KEEP_ALIVE_MIN,
    DEFAULT_PC_READY_DELAY_MIN,
    DEFAULT_RESTORE_MS,
    SIMULATIONS,
    Lifecycle,
    Simulation,
)
from serverless_ml.planner.slo import DEFAULT_OBJECTIVE, parse_objective
from serverless_ml.planner.traces import FORMATS, load_trace
from serverless_ml.spec.errors import SpecError

EXIT_MET, EXIT_UNMET, EXIT_ERROR = 0, 1, 2


def run_plan_command(
    traces: Sequence[Path],
    *,
    fmt: str | None = None,
    slo: str | None = None,
    out_dir: Path = Path("plan-out"),
    json_output: bool = False,
    keep_alive_min: float = DEFAULT_KEEP_ALIVE_MIN,
    init_ms: float = DEFAULT_INIT_MS,
    restore_ms: float = DEFAULT_RESTORE_MS,
    duration_ms: float | None = None,
    memory_mb: float | None = None,
    architecture: str = "arm64",
    seed: int = 0,
    history_minutes: int | None = None,
    pc_ready_delay_min: int = DEFAULT_PC_READY_DELAY_MIN,
    durations: Sequence[Path] = (),
    memory: Sequence[Path] = (),
    functions: Sequence[str] = (),
    sample: int | None = None,
    plot: bool = True,
    simulation: str = "auto",
) -> tuple[int, str]:
    """Plan from trace files; write the PNG, the JSON report and the plans into ``out_dir``.

    Returns (exit code, text to print): 0 when a strategy meets the objective, 1 when none does
    (the planner's best-effort plans are still written), 2 on a coded error (the message).
    """
    try:
        report = _plan(
            traces,
            fmt=fmt,
            slo=slo,
            keep_alive_min=keep_alive_min,
            init_ms=init_ms,
            restore_ms=restore_ms,
            duration_ms=duration_ms,
            memory_mb=memory_mb,
            architecture=architecture,
            seed=seed,
            history_minutes=history_minutes,
            pc_ready_delay_min=pc_ready_delay_min,
            durations=durations,
            memory=memory,
            functions=functions,
            sample=sample,
            simulation=simulation,
        )
    except SpecError as exc:
        return EXIT_ERROR, f"error: {exc}"
    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, object] = {"plans": write_plans(report, out_dir)}
    if plot:
        from serverless_ml.planner.plot import plot_plan  # matplotlib only when drawing

        files["png"] = str(plot_plan(report, out_dir / "plan.png"))
    report_path = out_dir / "plan_report.json"
    files["report"] = str(report_path)
    data = report_dict(report, files)
    report_path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    code = EXIT_MET if report.chosen else EXIT_UNMET
    if json_output:
        return code, json.dumps(data, indent=2)
    plans = files["plans"]
    assert isinstance(plans, dict)
    where = (
        next(iter(plans.values()))
        if len(plans) == 1
        else f"{out_dir / 'plans'}/ ({len(plans)} files)"
    )
    text = comparison_table(report) + (
        f"\n\nwrote {where}, {report_path}"
        + (f", {files['png']}" if plot else "")
        + f"\nsimulated {report.simulated_arrivals:,} arrivals in {report.seconds:.1f} s "
        f"({report.per_invocation:,} one by one, {report.aggregate_minutes:,} function-minutes "
        f"as blocks; {report.options.simulation})"
    )
    return code, text


def _plan(
    traces: Sequence[Path],
    *,
    fmt: str | None,
    slo: str | None,
    keep_alive_min: float,
    init_ms: float,
    restore_ms: float,
    duration_ms: float | None,
    memory_mb: float | None,
    architecture: str,
    seed: int,
    history_minutes: int | None,
    pc_ready_delay_min: int,
    durations: Sequence[Path],
    memory: Sequence[Path],
    functions: Sequence[str],
    sample: int | None,
    simulation: str = "auto",
) -> PlanReport:
    if not traces:
        raise PlannerError("SML601", "no trace given")
    options = PlannerOptions(
        objective=parse_objective(slo),
        lifecycle=Lifecycle(keep_alive_min=keep_alive_min, pc_ready_delay_min=pc_ready_delay_min),
        init_ms=init_ms,
        restore_ms=restore_ms,
        duration_ms=duration_ms,
        memory_mb=memory_mb,
        architecture=architecture,
        seed=seed,
        history_minutes=history_minutes,
        simulation=cast(Simulation, simulation),
    )
    trace = load_trace(traces, fmt=fmt, durations=durations, memory=memory)
    if functions:
        trace = trace.select(functions)
    if sample is not None:
        trace = trace.sample(sample, seed)
    return plan_trace(trace, options)


def add_plan_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``serverless-ml plan``."""
    parser.add_argument(
        "trace",
        nargs="+",
        type=Path,
        help="Azure Functions 2019 day file(s) or dataset directory, or one CloudWatch CSV",
    )
    parser.add_argument("--format", dest="fmt", choices=FORMATS, help="default: from the header")
    parser.add_argument(
        "--slo",
        default=DEFAULT_OBJECTIVE,
        help="objective, e.g. 'cold-rate<=1%%', 'p99-added-ms<=300', 'cold-rate<=1%%,misses<=0' "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--out",
        dest="out_dir",
        type=Path,
        default=Path("plan-out"),
        help="output directory (default: %(default)s)",
    )
    parser.add_argument(
        "--json",
        dest="json_output",
        action="store_true",
        help="print the JSON report instead of the table",
    )
    parser.add_argument(
        "--keep-alive-min",
        type=float,
        default=DEFAULT_KEEP_ALIVE_MIN,
        help="assumed idle keep-alive (AWS publishes none; default %(default)s)",
    )
    parser.add_argument(
        "--init-ms",
        type=float,
        default=DEFAULT_INIT_MS,
        help="cold-start latency added by INIT (default %(default)s)",
    )
    parser.add_argument(
        "--restore-ms",
        type=float,
        default=DEFAULT_RESTORE_MS,
        help="SnapStart restore latency (default %(default)s)",
    )
    parser.add_argument(
        "--duration-ms",
        type=float,
        help="request duration for every function (default: from the trace)",
    )
    parser.add_argument(
        "--memory-mb",
        type=float,
        help="memory for every function (default: from the trace, else 1024)",
    )
    parser.add_argument("--architecture", choices=("arm64", "x86_64"), default="arm64")
    parser.add_argument("--seed", type=int, default=0, help="arrival-time seed (default 0)")
    parser.add_argument(
        "--history-minutes",
        type=int,
        help="fit on the first N minutes (default: all but the last day, "
        "or the first half of a shorter trace)",
    )
    parser.add_argument(
        "--pc-ready-delay-min",
        type=int,
        default=DEFAULT_PC_READY_DELAY_MIN,
        help="minutes before added provisioned concurrency is ready",
    )
    parser.add_argument(
        "--durations",
        nargs="*",
        type=Path,
        default=[],
        help="Azure function_durations_percentiles file(s)",
    )
    parser.add_argument(
        "--memory", nargs="*", type=Path, default=[], help="Azure app_memory_percentiles file(s)"
    )
    parser.add_argument(
        "--function",
        dest="functions",
        action="append",
        default=[],
        help="plan only functions whose name starts with this (repeatable)",
    )
    parser.add_argument("--sample", type=int, help="plan a seeded random sample of N functions")
    parser.add_argument(
        "--simulation",
        choices=SIMULATIONS,
        default="auto",
        help="auto: busy minutes (more than 16 invocations) as blocks, the rest request by "
        "request; exact: every request (the reference; refuses over 50M per function); "
        "aggregate: blocks wherever a minute is that busy (default %(default)s)",
    )
    parser.add_argument("--no-plot", dest="plot", action="store_false", help="skip the PNG")


def main_plan(args: argparse.Namespace) -> int:
    """Run ``serverless-ml plan`` from parsed arguments; print, return the exit code."""
    code, text = run_plan_command(
        args.trace,
        fmt=args.fmt,
        slo=args.slo,
        out_dir=args.out_dir,
        json_output=args.json_output,
        keep_alive_min=args.keep_alive_min,
        init_ms=args.init_ms,
        restore_ms=args.restore_ms,
        duration_ms=args.duration_ms,
        memory_mb=args.memory_mb,
        architecture=args.architecture,
        seed=args.seed,
        history_minutes=args.history_minutes,
        pc_ready_delay_min=args.pc_ready_delay_min,
        durations=args.durations,
        memory=args.memory,
        functions=args.functions,
        sample=args.sample,
        plot=args.plot,
        simulation=args.simulation,
    )
    print(text, file=sys.stderr if code == EXIT_ERROR else sys.stdout)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m serverless_ml.planner.cli TRACE ...`` until the main CLI wires it."""
    parser = argparse.ArgumentParser(prog="serverless-ml plan", description=__doc__)
    add_plan_arguments(parser)
    return main_plan(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
