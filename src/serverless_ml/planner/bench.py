"""``serverless-ml bench planner``: the planner's speed on the 100-function, 1440-minute
synthetic trace, every strategy and the keep-alive sweep included. Prints, never asserts."""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from dataclasses import asdict, dataclass

from serverless_ml.planner.planner import PlannerOptions, plan_trace
from serverless_ml.planner.synthetic import synthetic_trace


@dataclass(frozen=True)
class PlannerBench:
    functions: int
    minutes: int
    invocations: int
    simulated_arrivals: int
    seconds: float

    @property
    def arrivals_per_second(self) -> float:
        return self.simulated_arrivals / self.seconds

    def text(self) -> str:
        return (
            f"planner bench: {self.functions} functions x {self.minutes} min, "
            f"{self.invocations:,} invocations; every strategy + planner search + keep-alive "
            f"sweep: {self.simulated_arrivals:,} arrivals simulated in {self.seconds:.1f} s = "
            f"{self.arrivals_per_second / 1e6:.2f} M arrivals/s "
            f"({platform.python_implementation()} {platform.python_version()}, "
            f"{os.cpu_count()} CPU)"
        )


def bench_planner(functions: int = 100, days: float = 1.0, seed: int = 0) -> PlannerBench:
    began = time.perf_counter()
    trace = synthetic_trace(functions, days=days, seed=seed)
    report = plan_trace(trace, PlannerOptions(seed=seed))
    return PlannerBench(
        functions=functions,
        minutes=trace.minutes,
        invocations=trace.invocations,
        simulated_arrivals=report.simulated_arrivals,
        seconds=time.perf_counter() - began,
    )


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``serverless-ml bench planner``."""
    parser.add_argument("--functions", type=int, default=100, help="default %(default)s")
    parser.add_argument("--days", type=float, default=1.0, help="default %(default)s")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")


def main_bench(args: argparse.Namespace) -> int:
    """Run ``serverless-ml bench planner`` from parsed arguments and print the result."""
    result = bench_planner(args.functions, args.days, args.seed)
    if args.json:
        data = asdict(result) | {"arrivals_per_second": round(result.arrivals_per_second)}
        print(json.dumps(data, indent=2))
    else:
        print(result.text())
    return 0


if __name__ == "__main__":
    _parser = argparse.ArgumentParser(prog="serverless-ml bench planner")
    add_bench_arguments(_parser)
    raise SystemExit(main_bench(_parser.parse_args()))
