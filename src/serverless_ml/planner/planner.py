"""From a trace and an objective to the cheapest strategy that meets it (or "none does").

Every function is simulated under every strategy. Fitted strategies (static at the history
peak, hourly schedules, target tracking's ceiling, and the planner's own per-function pick)
read only the history minutes; all reported numbers come from the later evaluation minutes.
The planner's own strategy picks, per function, the cheapest candidate that meets the objective
on the history (or the one with the fewest cold starts), then is evaluated like the others.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from serverless_ml.core import limits
from serverless_ml.planner.aggregate import DENSE_ABOVE
from serverless_ml.planner.costs import MONTH_S, MonthlyCost, Prices, monthly_cost
from serverless_ml.planner.errors import PlannerError
from serverless_ml.planner.simulator import (
    DEFAULT_DURATION_MS,
    DEFAULT_INIT_MS,
    DEFAULT_MEMORY_MB,
    DEFAULT_RESTORE_MS,
    KEEP_ALIVE_SWEEP_MIN,
    MAX_DURATION_MS,
    SIMULATIONS,
    FunctionProfile,
    Lifecycle,
    SimStats,
    Simulation,
    Workload,
    added_latency_quantile,
    run,
)
from serverless_ml.planner.slo import Group, Objective, parse_objective
from serverless_ml.planner.strategies import (
    BASELINES,
    ON_DEMAND,
    PLANNER,
    STRATEGIES,
    WARMERS,
    Choice,
    Context,
    planner_candidates,
    warmers,
)
from serverless_ml.planner.traces import MAX_TRACE_MINUTES, FunctionTrace, Trace, minute_of_day
from serverless_ml.spec.concurrency import ConcurrencyPlan


@dataclass(frozen=True, kw_only=True)
class PlannerOptions:
    """Everything the planner assumes. ``duration_ms``/``memory_mb`` of None: from the trace
    when it has them, else the defaults. ``history_minutes`` of None: all but the last day for
    traces of two days or more, else the first half. ``simulation``: ``auto`` simulates
    minutes with more than ``dense_above`` invocations in aggregate (``exact``: every request,
    the reference; ``aggregate``: blocks wherever a minute is that busy)."""

    objective: Objective = field(default_factory=lambda: parse_objective(None))
    lifecycle: Lifecycle = field(default_factory=Lifecycle)
    init_ms: float = DEFAULT_INIT_MS
    restore_ms: float = DEFAULT_RESTORE_MS
    duration_ms: float | None = None
    memory_mb: float | None = None
    architecture: str = "arm64"
    seed: int = 0
    history_minutes: int | None = None
    keep_alive_sweep: tuple[float, ...] = KEEP_ALIVE_SWEEP_MIN
    simulation: Simulation = "auto"
    dense_above: int = DENSE_ABOVE

    def __post_init__(self) -> None:
        if self.simulation not in SIMULATIONS:
            raise PlannerError(
                "SML612", f"simulation {self.simulation!r}: use one of {SIMULATIONS}"
            )
        if self.seed < 0:
            raise PlannerError("SML612", f"seed={self.seed}: use a non-negative integer")
        if not 0 <= self.dense_above <= 1_000_000:
            raise PlannerError("SML612", f"dense_above={self.dense_above}: use 0..1000000")
        for name in ("init_ms", "restore_ms"):
            value = getattr(self, name)
            if not (math.isfinite(value) and 0 <= value <= MAX_DURATION_MS):
                raise PlannerError("SML612", f"{name}={value}: use 0..{MAX_DURATION_MS:g}")
        if self.memory_mb is not None and not (
            limits.LAMBDA_MEMORY_MIN_MB <= self.memory_mb <= limits.LAMBDA_MEMORY_MAX_MB
        ):
            raise PlannerError(
                "SML612",
                f"memory_mb={self.memory_mb}: Lambda allows {limits.LAMBDA_MEMORY_MIN_MB}.."
                f"{limits.LAMBDA_MEMORY_MAX_MB}",
            )
        for keep_alive in self.keep_alive_sweep:
            Lifecycle(keep_alive_min=keep_alive)  # refuses what the sweep could not simulate
        if self.duration_ms is not None and not 0 < self.duration_ms <= MAX_DURATION_MS:
            raise PlannerError(
                "SML612",
                f"duration_ms={self.duration_ms:g}: a Lambda invocation runs more than 0 ms and "
                f"at most {limits.LAMBDA_TIMEOUT_MAX_S} s",
            )

    def history_for(self, minutes: int) -> int:
        history = self.history_minutes
        if history is None:
            history = minutes - 1440 if minutes >= 2 * 1440 else minutes // 2
        if not 1 <= history < minutes:
            raise PlannerError(
                "SML613",
                f"history of {history} minutes in a {minutes}-minute trace: need at least one "
                "minute to fit on and one later minute to evaluate on",
            )
        return history

    def profile_for(self, fn: FunctionTrace) -> FunctionProfile:
        duration = self.duration_ms
        if duration is None:
            duration = fn.duration_ms if fn.duration_ms is not None else DEFAULT_DURATION_MS
        memory = self.memory_mb
        if memory is None:
            memory = lambda_memory(fn.memory_mb) if fn.memory_mb else DEFAULT_MEMORY_MB
        if math.isnan(duration):  # no usable mean: the default
            duration = DEFAULT_DURATION_MS
        return FunctionProfile(
            # A mean above Lambda's 900 s timeout would time out on Lambda: planned at the limit.
            duration_ms=min(max(1.0, duration), MAX_DURATION_MS),
            memory_mb=memory,
            init_ms=self.init_ms,
            restore_ms=self.restore_ms,
        )


def lambda_memory(used_mb: float) -> int:
    """A Lambda memory size for a function that uses ``used_mb``: rounded up to 64 MB."""
    if not math.isfinite(used_mb):
        return limits.LAMBDA_MEMORY_MAX_MB
    size = int(math.ceil(used_mb / 64.0) * 64)
    return min(limits.LAMBDA_MEMORY_MAX_MB, max(limits.LAMBDA_MEMORY_MIN_MB, size))


@dataclass(frozen=True)
class Evaluation:
    """A choice simulated over a window, and its monthly cost."""

    choice: Choice
    stats: SimStats
    cost: MonthlyCost

    @property
    def group(self) -> Group:
        return (self.stats.invocations, self.stats.cold_starts, self.stats.cold_latency_ms)


@dataclass(frozen=True)
class FunctionPlan:
    """One function: every strategy on the evaluation minutes, and the planner's history pick."""

    name: str
    profile: FunctionProfile
    invocations: int
    evaluations: dict[str, Evaluation]
    planner_history: Evaluation
    planner_met_on_history: bool


@dataclass(frozen=True)
class StrategySummary:
    """A strategy over all functions, on the evaluation minutes."""

    strategy: str
    invocations: int
    cold_starts: int
    p50_added_ms: float
    p99_added_ms: float
    cost: MonthlyCost
    misses: int
    meets: bool

    @property
    def cold_rate(self) -> float:
        return self.cold_starts / self.invocations if self.invocations else 0.0


@dataclass(frozen=True)
class Sensitivity:
    """A strategy's aggregate result under another keep-alive (plans not refitted)."""

    keep_alive_min: float
    strategy: str
    cold_starts: int
    cold_rate: float
    monthly_cost: float
    meets: bool


@dataclass(frozen=True)
class PlanReport:
    trace: Trace
    options: PlannerOptions
    history: int
    summaries: tuple[StrategySummary, ...]
    chosen: str | None  # cheapest strategy meeting the objective, None if none does
    functions: tuple[FunctionPlan, ...]
    sensitivity: tuple[Sensitivity, ...]
    simulated_arrivals: int  # arrivals covered by every simulation run, warm-ups included
    seconds: float
    detail: dict[str, SimStats] = field(default_factory=dict, repr=False)  # for plots
    per_invocation: int = 0  # of those, simulated one by one
    aggregate_minutes: int = 0  # function-minutes simulated as blocks, summed over the runs

    @property
    def recommended(self) -> str:
        """The chosen strategy, or the planner's own (best effort) when none meets the goal."""
        return self.chosen or PLANNER

    def summary(self, strategy: str) -> StrategySummary:
        return next(s for s in self.summaries if s.strategy == strategy)

    def plans(self, strategy: str | None = None) -> dict[str, ConcurrencyPlan]:
        """The plan each function would deploy under ``strategy`` (default: recommended)."""
        key = strategy or self.recommended
        return {f.name: f.evaluations[key].choice.plan for f in self.functions}

    @property
    def arrivals_per_second(self) -> float:
        return self.simulated_arrivals / self.seconds if self.seconds > 0 else 0.0


class _Runner:
    """Simulates and prices, counting the arrivals it simulated."""

    def __init__(self, prices: Prices) -> None:
        self.prices = prices
        self.arrivals = 0
        self.per_invocation = 0
        self.aggregate_minutes = 0

    def evaluate(
        self,
        ctx: Context,
        choice: Choice,
        window: tuple[int, int],
        lifecycle: Lifecycle | None = None,
        *,
        detail: bool = False,
    ) -> Evaluation:
        stats = run(ctx.work, choice.setup, lifecycle or ctx.lifecycle, window, detail=detail)
        self.arrivals += stats.simulated_arrivals
        self.per_invocation += stats.per_invocation
        self.aggregate_minutes += stats.aggregate_minutes
        return Evaluation(choice, stats, monthly_cost(stats, ctx.work.profile, self.prices))


def plan_trace(trace: Trace, options: PlannerOptions | None = None) -> PlanReport:
    """Compare every strategy on ``trace`` and choose the cheapest meeting the objective."""
    options = options or PlannerOptions()
    if not trace.functions or trace.invocations == 0:
        raise PlannerError("SML613", "the trace has no invocations")
    if trace.minutes > MAX_TRACE_MINUTES:
        raise PlannerError(
            "SML615",
            f"the trace spans {trace.minutes:,} minutes, over {MAX_TRACE_MINUTES // 1440} days",
        )
    began = time.perf_counter()
    history = options.history_for(trace.minutes)
    evaluation = (history, trace.minutes)
    runner = _Runner(Prices.for_architecture(options.architecture))
    mod = minute_of_day(trace)
    contexts, plans = [], []
    for index, fn in enumerate(trace.functions):
        work = Workload.build(
            fn.name,
            fn.counts,
            options.profile_for(fn),
            seed=(options.seed, index),
            spread=options.lifecycle.spread,
            simulation=options.simulation,
            dense_above=options.dense_above,
        )
        ctx = Context(work, mod, history, options.lifecycle)
        contexts.append(ctx)
        evaluations = {
            name: runner.evaluate(ctx, make(ctx), evaluation, detail=name == ON_DEMAND)
            for name, make in BASELINES.items()
        }
        pick, on_history, met = _pick(ctx, options.objective, runner)
        evaluations[PLANNER] = (
            next(e for e in evaluations.values() if e.choice.same_as(pick))
            if any(e.choice.same_as(pick) for e in evaluations.values())
            else runner.evaluate(ctx, pick, evaluation)
        )
        evaluations[PLANNER] = Evaluation(
            Choice(PLANNER, pick.plan, pick.setup, f"{pick.strategy}: {pick.detail}"),
            evaluations[PLANNER].stats,
            evaluations[PLANNER].cost,
        )
        plans.append(
            FunctionPlan(fn.name, work.profile, fn.invocations, evaluations, on_history, met)
        )
    summaries = tuple(_summarise(name, plans, options.objective) for name in STRATEGIES)
    meeting = [s for s in summaries if s.meets]
    chosen = min(meeting, key=lambda s: (s.cost.total, s.cold_starts)).strategy if meeting else None
    recommended = chosen or PLANNER
    detail = _detail(contexts, plans, recommended, evaluation, runner)
    sensitivity = _sensitivity(contexts, plans, recommended, options, evaluation, runner)
    return PlanReport(
        trace=trace,
        options=options,
        history=history,
        summaries=summaries,
        chosen=chosen,
        functions=tuple(plans),
        sensitivity=sensitivity,
        simulated_arrivals=runner.arrivals,
        seconds=time.perf_counter() - began,
        detail=detail,
        per_invocation=runner.per_invocation,
        aggregate_minutes=runner.aggregate_minutes,
    )


def _pick(ctx: Context, objective: Objective, runner: _Runner) -> tuple[Choice, Evaluation, bool]:
    """The cheapest candidate meeting the objective on the history, else the fewest cold starts.

    Candidates are tried in order of a cost lower bound; once a feasible one costs no more than
    the next bound, the rest cannot win and are not simulated. A function without history
    traffic gives no evidence: it gets one warmer, the cheapest way to have an environment
    ready for a first request.
    """
    window = (0, ctx.history)
    if not ctx.work.counts[: ctx.history].any():
        choice = warmers(ctx, 1)
        insurance = Choice(
            choice.strategy, choice.plan, choice.setup, "no history traffic; " + choice.detail
        )
        return insurance, runner.evaluate(ctx, insurance, window), False
    ranked = sorted(planner_candidates(ctx), key=lambda c: _lower_bound(ctx, c, runner.prices))
    best: Evaluation | None = None
    tried: list[Evaluation] = []
    for choice in ranked:
        if best is not None and _lower_bound(ctx, choice, runner.prices) >= best.cost.total:
            break
        result = runner.evaluate(ctx, choice, window)
        tried.append(result)
        if objective.function_ok(result.group) and (
            best is None or result.cost.total < best.cost.total
        ):
            best = result
    if best is not None:
        return best.choice, best, True
    fallback = min(tried, key=lambda e: (e.stats.cold_rate, e.cost.total))
    return fallback.choice, fallback, False


def _lower_bound(ctx: Context, choice: Choice, prices: Prices) -> float:
    """A monthly cost no simulation of ``choice`` over the history can undercut."""
    h = ctx.history
    profile = ctx.work.profile
    gb = profile.memory_gb
    users = float(ctx.work.counts[:h].sum(dtype=np.float64))
    warmer = choice.setup.warmer
    pings = len(range(0, h, warmer.rate_minutes)) * warmer.concurrency if warmer else 0
    cheapest_gb_s = min(prices.gb_s, prices.pc_running_gb_s)
    window = (users + pings) / 1e6 * prices.request_per_million
    window += users * math.ceil(profile.duration_ms) / 1000.0 * gb * cheapest_gb_s
    if choice.setup.pc_target is not None:
        held = float(choice.setup.pc_target[:h].sum(dtype=np.float64))
        window += held * 60.0 * gb * prices.pc_held_gb_s
    monthly = window * MONTH_S / (h * 60.0)
    if choice.setup.snapstart:
        monthly += gb * MONTH_S * prices.snapstart_cache_gb_s
    return monthly


def _summarise(strategy: str, plans: list[FunctionPlan], objective: Objective) -> StrategySummary:
    evals = [p.evaluations[strategy] for p in plans]
    groups = [e.group for e in evals]
    cost = MonthlyCost()
    for e in evals:
        cost = cost + e.cost
    return StrategySummary(
        strategy=strategy,
        invocations=sum(g[0] for g in groups),
        cold_starts=sum(g[1] for g in groups),
        p50_added_ms=added_latency_quantile(groups, 0.50),
        p99_added_ms=added_latency_quantile(groups, 0.99),
        cost=cost,
        misses=sum(not objective.function_ok(g) for g in groups),
        meets=objective.met(groups),
    )


def _detail(
    contexts: list[Context],
    plans: list[FunctionPlan],
    strategy: str,
    window: tuple[int, int],
    runner: _Runner,
) -> dict[str, SimStats]:
    """Per-minute totals over all functions (traffic, warm pool, cold starts) for the plot."""
    out: dict[str, SimStats] = {}
    for name in dict.fromkeys((ON_DEMAND, strategy)):
        per_fn = []
        for ctx, plan in zip(contexts, plans, strict=True):
            stats = plan.evaluations[name].stats
            if stats.warm_envs is None:
                stats = runner.evaluate(
                    ctx, plan.evaluations[name].choice, window, detail=True
                ).stats
            per_fn.append(stats)
        out[name] = _sum_stats(per_fn)
    return out


def _sum_stats(stats: list[SimStats]) -> SimStats:
    first = stats[0]
    ready = [s.pc_ready for s in stats if s.pc_ready is not None]
    return SimStats(
        minutes=first.minutes,
        invocations=sum(s.invocations for s in stats),
        cold_starts=sum(s.cold_starts for s in stats),
        provisioned_served=sum(s.provisioned_served for s in stats),
        warmer_pings=sum(s.warmer_pings for s in stats),
        warmer_cold_starts=sum(s.warmer_cold_starts for s in stats),
        cold_latency_ms=first.cold_latency_ms,
        od_billed_ms=sum(s.od_billed_ms for s in stats),
        pc_billed_ms=sum(s.pc_billed_ms for s in stats),
        pc_env_minutes=sum(s.pc_env_minutes for s in stats),
        snapstart=first.snapstart,
        simulated_arrivals=sum(s.simulated_arrivals for s in stats),
        cold_per_minute=np.sum([s.cold_per_minute for s in stats], axis=0),
        pc_ready=np.sum(ready, axis=0) if ready else None,
        warm_envs=np.sum([s.warm_envs for s in stats if s.warm_envs is not None], axis=0),
    )


def _sensitivity(
    contexts: list[Context],
    plans: list[FunctionPlan],
    recommended: str,
    options: PlannerOptions,
    window: tuple[int, int],
    runner: _Runner,
) -> tuple[Sensitivity, ...]:
    rows = []
    for keep_alive in options.keep_alive_sweep:
        lifecycle = Lifecycle(
            keep_alive_min=keep_alive,
            pc_ready_delay_min=options.lifecycle.pc_ready_delay_min,
            warmer_ms=options.lifecycle.warmer_ms,
            spread=options.lifecycle.spread,
        )
        done: list[list[Evaluation]] = [[] for _ in plans]  # a choice is simulated once
        for strategy in dict.fromkeys((ON_DEMAND, WARMERS, recommended)):
            if keep_alive == options.lifecycle.keep_alive_min:
                evals = [p.evaluations[strategy] for p in plans]
            else:
                evals = []
                for ctx, p, seen in zip(contexts, plans, done, strict=True):
                    choice = p.evaluations[strategy].choice
                    same = next((e for e in seen if e.choice.same_as(choice)), None)
                    if same is None:
                        same = runner.evaluate(ctx, choice, window, lifecycle)
                        seen.append(same)
                    evals.append(same)
            groups = [e.group for e in evals]
            calls, colds = sum(g[0] for g in groups), sum(g[1] for g in groups)
            rows.append(
                Sensitivity(
                    keep_alive_min=keep_alive,
                    strategy=strategy,
                    cold_starts=colds,
                    cold_rate=colds / calls if calls else 0.0,
                    monthly_cost=sum(e.cost.total for e in evals),
                    meets=options.objective.met(groups),
                )
            )
    return tuple(rows)
