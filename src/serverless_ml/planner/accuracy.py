"""How far the aggregate simulator strays from the exact one: the planner run both ways.

A fixed set of seeded synthetic traces, one per traffic shape (sparse, bursty, steady,
diurnal), planned with ``simulation="exact"`` (every request, the reference) and with
``simulation="aggregate"`` (blocks wherever a minute holds more than ``dense_above``
invocations, even where ``auto`` would stay exact). Per trace and strategy: cold starts and
monthly cost both ways and their relative difference. Differences include the fits: the
aggregate simulator draws each busy minute's peak instead of each request's arrival time.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np

from serverless_ml.planner.costs import Prices, monthly_cost
from serverless_ml.planner.planner import PlannerOptions, PlanReport, plan_trace
from serverless_ml.planner.simulator import Workload, run
from serverless_ml.planner.strategies import STRATEGIES
from serverless_ml.planner.synthetic import Mix, daily_shape, synthetic_trace
from serverless_ml.planner.traces import FunctionTrace, Trace

SHAPES = ("sparse", "bursty", "steady", "diurnal")
START = datetime(2026, 1, 5, tzinfo=UTC)


def shaped_trace(shape: str, *, functions: int = 6, days: float = 2.0, seed: int = 0,
                 top_rate: float = 300.0) -> Trace:  # fmt: skip
    """One of ``SHAPES``, with mean rates (per minute) up to ``top_rate``."""
    minutes = round(days * 1440)
    rng = np.random.default_rng((seed, SHAPES.index(shape)))
    if shape == "sparse":  # Azure's sparse and medium functions: at most once a minute
        trace = synthetic_trace(functions, days=days, seed=seed, mix=Mix(sparse=0.5, medium=0.5,
                                busy=0.0, heavy=0.0))  # fmt: skip
        return replace(trace, source="sparse")
    fns = []
    for i in range(functions):
        rate = 10 ** rng.uniform(0.5, math.log10(top_rate))  # ~3 .. top_rate per minute
        if shape == "steady":
            mean = np.full(minutes, rate)
        else:
            mean = rate * daily_shape(
                minutes, peak_hour=rng.normal(14.0, 2.0), amplitude=rng.uniform(0.5, 0.9)
            )
        if shape == "bursty":
            for _ in range(rng.poisson(4.0 * days)):
                begin, length = int(rng.integers(0, minutes)), int(rng.integers(2, 16))
                mean[begin : begin + length] *= rng.uniform(3.0, 10.0)
        fns.append(
            FunctionTrace(
                name=f"{shape}-{i}",
                counts=rng.poisson(mean).astype(np.int64),
                duration_ms=float(np.round(10 ** rng.uniform(1.3, 2.7), 1)),
                memory_mb=1024.0,
            )
        )
    return Trace(functions=tuple(fns), start=START, source=shape)


@dataclass(frozen=True)
class Row:
    """One strategy on one trace: cold starts summed over the seeds, mean monthly cost."""

    trace: str
    strategy: str
    exact_cold: int
    aggregate_cold: int
    exact_cost: float
    aggregate_cost: float

    @property
    def cold_error(self) -> float:
        return (self.aggregate_cold - self.exact_cold) / max(self.exact_cold, 1)

    @property
    def cost_error(self) -> float:
        return (self.aggregate_cost - self.exact_cost) / self.exact_cost if self.exact_cost else 0.0


@dataclass(frozen=True)
class Comparison:
    """``rows``: the exact run's plans simulated both ways (the simulator's error alone);
    ``planned``: the planner run end to end both ways (fits on the history included)."""

    rows: tuple[Row, ...]
    planned: tuple[Row, ...]
    exact_seconds: dict[str, float]
    aggregate_seconds: dict[str, float]

    def text(self) -> str:
        head = (
            f"{'trace':<9}{'strategy':<17}{'cold exact':>11}{'aggregate':>11}{'error':>8}"
            f"{'$/month exact':>15}{'aggregate':>11}{'error':>8}"
        )
        lines = ["the same plans simulated both ways:", head, "-" * len(head)]
        lines += [_line(r) for r in self.rows]
        lines += ["", "the planner run end to end both ways (its own fits and picks):", head]
        lines += ["-" * len(head)] + [_line(r) for r in self.planned] + [""]
        for name in self.exact_seconds:
            lines.append(
                f"{name}: planned in {self.exact_seconds[name]:.2f} s exact, "
                f"{self.aggregate_seconds[name]:.2f} s aggregate (per seed)"
            )
        return "\n".join(lines)


def _line(r: Row) -> str:
    return (
        f"{r.trace:<9}{r.strategy:<17}{r.exact_cold:>11,}{r.aggregate_cold:>11,}"
        f"{r.cold_error:>+8.1%}{r.exact_cost:>15,.2f}{r.aggregate_cost:>11,.2f}"
        f"{r.cost_error:>+8.2%}"
    )


def compare(
    traces: dict[str, Trace], options: PlannerOptions | None = None, seeds: int = 3
) -> Comparison:
    """Plan every trace both ways, ``seeds`` times each (arrival draws differ by seed; sums
    over seeds average that noise out), and line up the strategies' numbers."""
    base = options or PlannerOptions(keep_alive_sweep=())
    rows: list[Row] = []
    planned: list[Row] = []
    exact_s, aggregate_s = {}, {}
    for name, trace in traces.items():
        exact, aggregate, resimulated = [], [], []
        began = time.perf_counter()
        for seed in range(seeds):
            exact.append(plan_trace(trace, replace(base, simulation="exact", seed=seed)))
        exact_s[name] = (time.perf_counter() - began) / seeds
        began = time.perf_counter()
        for seed in range(seeds):
            aggregate.append(plan_trace(trace, replace(base, simulation="aggregate", seed=seed)))
        aggregate_s[name] = (time.perf_counter() - began) / seeds
        resimulated = [_resimulate(report, seed) for seed, report in enumerate(exact)]
        for strategy in STRATEGIES:
            e = [r.summary(strategy) for r in exact]
            a = [r.summary(strategy) for r in aggregate]
            rows.append(
                Row(
                    name,
                    strategy,
                    sum(s.cold_starts for s in e),
                    sum(again[strategy][0] for again in resimulated),
                    sum(s.cost.total for s in e) / seeds,
                    sum(again[strategy][1] for again in resimulated) / seeds,
                )
            )
            planned.append(
                Row(
                    name,
                    strategy,
                    sum(s.cold_starts for s in e),
                    sum(s.cold_starts for s in a),
                    sum(s.cost.total for s in e) / seeds,
                    sum(s.cost.total for s in a) / seeds,
                )
            )
    return Comparison(tuple(rows), tuple(planned), exact_s, aggregate_s)


def _resimulate(report: PlanReport, seed: int) -> dict[str, tuple[int, float]]:
    """Every strategy's plans from an exact run, simulated by the aggregate simulator on the
    same evaluation minutes: (cold starts, monthly cost) per strategy."""
    options = report.options
    prices = Prices.for_architecture(options.architecture)
    window = (report.history, report.trace.minutes)
    out = dict.fromkeys(STRATEGIES, (0, 0.0))
    for index, (fn, plan) in enumerate(zip(report.trace.functions, report.functions, strict=True)):
        work = Workload.build(
            fn.name,
            fn.counts,
            plan.profile,
            seed=(seed, index),
            spread=options.lifecycle.spread,
            simulation="aggregate",
            dense_above=options.dense_above,
        )
        for strategy in STRATEGIES:
            stats = run(work, plan.evaluations[strategy].choice.setup, options.lifecycle, window)
            cold, cost = out[strategy]
            out[strategy] = (
                cold + stats.cold_starts,
                cost + monthly_cost(stats, plan.profile, prices).total,
            )
    return out


def accuracy_traces(*, functions: int = 6, days: float = 2.0, seed: int = 0,
                    top_rate: float = 300.0) -> dict[str, Trace]:  # fmt: skip
    """The test set: one trace per shape."""
    return {
        shape: shaped_trace(shape, functions=functions, days=days, seed=seed, top_rate=top_rate)
        for shape in SHAPES
    }
