"""``serverless-ml bench planner``: the planner's speed, every strategy and the keep-alive sweep
included. Prints, never asserts.

In one run: the synthetic trace (100 functions x 1440 minutes by default) planned as the CLI
does (``auto``) next to the exact simulator alone (the baseline); the same trace with every
count x100 (the ratio to the first shows what invocations cost); and a fleet of synthetic
Azure-shaped functions over a day (10,000 by default: functions per second). Times are the
best of ``--repeats`` runs (the machine is shared), wall clock and CPU; ``--accuracy`` prints
the aggregate simulator's error against the exact one (``planner.accuracy``) too.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass, replace
from typing import cast

from serverless_ml.planner.errors import PlannerError
from serverless_ml.planner.planner import PlannerOptions, PlanReport, plan_trace
from serverless_ml.planner.simulator import Simulation
from serverless_ml.planner.synthetic import synthetic_trace
from serverless_ml.planner.traces import Trace
from serverless_ml.spec.errors import SpecError


@dataclass(frozen=True)
class PlannerBench:
    functions: int
    minutes: int
    invocations: int
    simulated_arrivals: int
    seconds: float
    cpu_seconds: float = 0.0
    per_invocation: int = 0  # arrivals simulated one by one, of ``simulated_arrivals``
    simulation: str = "auto"

    @property
    def arrivals_per_second(self) -> float:
        return self.simulated_arrivals / self.seconds if self.seconds > 0 else 0.0

    @property
    def functions_per_second(self) -> float:
        return self.functions / self.seconds if self.seconds > 0 else 0.0

    def text(self) -> str:
        return (
            f"planner bench ({self.simulation}): {self.functions} functions x {self.minutes} min, "
            f"{self.invocations:,} invocations; every strategy + planner search + keep-alive "
            f"sweep: {self.simulated_arrivals:,} arrivals covered ({self.per_invocation:,} one "
            f"by one) in {self.seconds:.2f} s = {self.functions_per_second:,.0f} functions/s "
            f"({platform.python_implementation()} {platform.python_version()}, "
            f"{os.cpu_count()} CPU)"
        )


def _timed(trace: Trace, options: PlannerOptions, repeats: int) -> tuple[PlanReport, float, float]:
    """The report, and the best wall and CPU seconds of ``repeats`` plans."""
    best_wall = best_cpu = float("inf")
    report = None
    for _ in range(max(1, repeats)):
        wall, cpu = time.perf_counter(), time.process_time()
        report = plan_trace(trace, options)
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    assert report is not None
    return report, best_wall, best_cpu


def _bench(trace: Trace, options: PlannerOptions, repeats: int) -> PlannerBench:
    report, wall, cpu = _timed(trace, options, repeats)
    return PlannerBench(
        functions=len(trace.functions),
        minutes=trace.minutes,
        invocations=trace.invocations,
        simulated_arrivals=report.simulated_arrivals,
        seconds=wall,
        cpu_seconds=cpu,
        per_invocation=report.per_invocation,
        simulation=options.simulation,
    )


def scaled(trace: Trace, factor: int) -> Trace:
    """``trace`` with every count multiplied by ``factor``."""
    functions = tuple(replace(f, counts=f.counts * factor) for f in trace.functions)
    return replace(trace, functions=functions, source=f"{trace.source} x{factor}")


def bench_planner(
    functions: int = 100, days: float = 1.0, seed: int = 0, *, simulation: str = "auto"
) -> PlannerBench:
    """Plan the synthetic trace once (trace generation included in the time, as before)."""
    began, cpu = time.perf_counter(), time.process_time()
    trace = synthetic_trace(functions, days=days, seed=seed)
    options = PlannerOptions(seed=seed, simulation=cast(Simulation, simulation))
    report = plan_trace(trace, options)
    return PlannerBench(
        functions=functions,
        minutes=trace.minutes,
        invocations=trace.invocations,
        simulated_arrivals=report.simulated_arrivals,
        seconds=time.perf_counter() - began,
        cpu_seconds=time.process_time() - cpu,
        per_invocation=report.per_invocation,
        simulation=simulation,
    )


@dataclass(frozen=True)
class ScaleBench:
    """The three measurements of one ``bench planner`` run."""

    trace: PlannerBench  # auto
    exact: PlannerBench | None  # the same trace, exact simulator only (the baseline)
    scaled: PlannerBench  # counts x factor, auto
    factor: int
    fleet: PlannerBench | None

    @property
    def ratio(self) -> float:
        """Planning time (CPU) of the scaled trace over the trace's."""
        return self.scaled.cpu_seconds / self.trace.cpu_seconds

    @property
    def wall_ratio(self) -> float:
        return self.scaled.seconds / self.trace.seconds

    def text(self) -> str:
        t, s = self.trace, self.scaled
        lines = [
            f"planner bench, {platform.python_implementation()} {platform.python_version()}, "
            f"{os.cpu_count()} CPU; best of the repeats, wall (CPU) seconds",
            f"{'':34}{'functions':>10}{'invocations':>16}{'seconds':>16}{'one by one*':>14}",
            _row("trace, auto (what `plan` runs)", t),
        ]
        if self.exact is not None:
            lines.append(_row("trace, exact simulator (baseline)", self.exact))
        lines.append(_row(f"trace x{self.factor}, auto", s))
        if self.fleet is not None:
            lines.append(_row(f"fleet of {self.fleet.functions:,}, auto", self.fleet))
        lines.append("* requests simulated one by one, summed over every simulation run")
        lines.append("")
        if self.exact is not None:
            lines.append(
                f"auto vs exact on the trace: {self.exact.seconds / t.seconds:.1f}x faster"
            )
        lines.append(
            f"counts x{self.factor}: {s.invocations / t.invocations:.0f}x the invocations, "
            f"{self.wall_ratio:.2f}x the time ({self.ratio:.2f}x CPU)"
        )
        if self.fleet is not None:
            lines.append(
                f"fleet: {self.fleet.functions:,} functions x {self.fleet.minutes} min in "
                f"{self.fleet.seconds:.1f} s = {self.fleet.functions_per_second:,.0f} functions/s"
            )
        return "\n".join(lines)


def _row(label: str, b: PlannerBench) -> str:
    seconds = f"{b.seconds:.2f} ({b.cpu_seconds:.2f})"
    return f"{label:<34}{b.functions:>10,}{b.invocations:>16,}{seconds:>16}{b.per_invocation:>14,}"


def bench_scale(
    functions: int = 100,
    days: float = 1.0,
    seed: int = 0,
    *,
    factor: int = 100,
    fleet: int = 10_000,
    repeats: int = 3,
    exact: bool = True,
) -> ScaleBench:
    """The trace (auto, and exact as the baseline), the trace with counts x ``factor``, and a
    fleet of ``fleet`` functions over a day (0: skipped)."""
    trace = synthetic_trace(functions, days=days, seed=seed)
    options = PlannerOptions(seed=seed)
    big = scaled(trace, factor)
    best: dict[str, PlannerBench] = {}
    for _ in range(max(1, repeats)):  # interleaved, so both see the same machine load
        for name, t in (("trace", trace), ("scaled", big)):
            run = _bench(t, options, 1)
            if name not in best or run.cpu_seconds < best[name].cpu_seconds:
                best[name] = run
    baseline = _bench(trace, replace(options, simulation="exact"), 1) if exact else None
    crowd = None
    if fleet:
        crowd = _bench(synthetic_trace(fleet, days=1.0, seed=seed), options, 1)
    return ScaleBench(best["trace"], baseline, best["scaled"], factor, crowd)


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``serverless-ml bench planner``."""
    parser.add_argument("--functions", type=int, default=100, help="default %(default)s")
    parser.add_argument("--days", type=float, default=1.0, help="default %(default)s")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--factor", type=int, default=100, help="count multiplier of the scaled trace (%(default)s)"
    )
    parser.add_argument(
        "--fleet",
        type=int,
        default=10_000,
        help="synthetic functions over a day for functions/s (default %(default)s; 0: skip)",
    )
    parser.add_argument("--repeats", type=int, default=3, help="best of N (default %(default)s)")
    parser.add_argument(
        "--no-exact", dest="exact", action="store_false", help="skip the exact baseline"
    )
    parser.add_argument(
        "--accuracy",
        action="store_true",
        help="also print the aggregate simulator's error against the exact one",
    )
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")


def main_bench(args: argparse.Namespace) -> int:
    """Run ``serverless-ml bench planner`` from parsed arguments and print the result."""
    try:
        if args.factor < 1 or args.fleet < 0:
            raise PlannerError("SML612", "--factor must be >= 1 and --fleet >= 0")
        result = bench_scale(
            args.functions,
            args.days,
            args.seed,
            factor=args.factor,
            fleet=args.fleet,
            repeats=args.repeats,
            exact=args.exact,
        )
        comparison = None
        if args.accuracy:
            from serverless_ml.planner.accuracy import accuracy_traces, compare

            comparison = compare(accuracy_traces(seed=args.seed))
    except SpecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        data: dict[str, object] = {
            name: asdict(b) | {"functions_per_second": round(b.functions_per_second, 1)}
            for name, b in (
                ("trace", result.trace),
                ("exact", result.exact),
                ("scaled", result.scaled),
                ("fleet", result.fleet),
            )
            if b is not None
        }
        data["factor"] = result.factor
        data["ratio_cpu"] = round(result.ratio, 3)
        data["ratio_wall"] = round(result.wall_ratio, 3)
        data["arrivals_per_second"] = round(result.trace.arrivals_per_second)
        if comparison is not None:
            data["accuracy"] = [asdict(r) for r in comparison.rows]
        print(json.dumps(data, indent=2))
    else:
        print(result.text())
        if comparison is not None:
            print("\naggregate vs exact simulator:\n" + comparison.text())
    return 0


if __name__ == "__main__":
    _parser = argparse.ArgumentParser(prog="serverless-ml bench planner")
    add_bench_arguments(_parser)
    raise SystemExit(main_bench(_parser.parse_args()))
