"""The planner: fitted only on history, evaluated on later minutes; the cheapest strategy that
meets the objective, or "none does"; per-function and aggregate views."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pytest

from serverless_ml.planner.costs import Prices
from serverless_ml.planner.errors import PlannerError
from serverless_ml.planner.planner import PlannerOptions, PlanReport, lambda_memory, plan_trace
from serverless_ml.planner.simulator import Lifecycle
from serverless_ml.planner.slo import parse_objective
from serverless_ml.planner.strategies import PLANNER, STRATEGIES
from serverless_ml.planner.traces import FunctionTrace, Trace
from serverless_ml.spec.concurrency import ConcurrencyPlan

START = datetime(2026, 1, 5, tzinfo=UTC)
FITTED = ("static-peak", "scheduled", "target-tracking", "planner")


def trace(*series: list[int] | np.ndarray, duration_ms: float = 100.0) -> Trace:
    fns = tuple(
        FunctionTrace(name=f"fn{i}", counts=np.asarray(c, dtype=np.int64), duration_ms=duration_ms)
        for i, c in enumerate(series)
    )
    return Trace(functions=fns, start=START, source="test")


def options(slo: str = "cold-rate<=1%", **kw: object) -> PlannerOptions:
    base = PlannerOptions(objective=parse_objective(slo), keep_alive_sweep=(5.0, 10.0))
    return replace(base, **kw)  # type: ignore[arg-type]


def busy_day(seed: int, minutes: int = 2880, rate: float = 30.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    hours = np.arange(minutes) / 60.0
    return rng.poisson(rate * (1 + 0.8 * np.cos(2 * np.pi * (hours - 14) / 24)))


def sparse(minutes: int = 2880, every: int = 25) -> np.ndarray:
    counts = np.zeros(minutes, dtype=np.int64)
    counts[3::every] = 1
    return counts


def cheapest_meeting(report: PlanReport) -> str | None:
    meeting = [s for s in report.summaries if s.meets]
    return min(meeting, key=lambda s: (s.cost.total, s.cold_starts)).strategy if meeting else None


# -- history vs evaluation ---------------------------------------------------------------------
def test_fitted_plans_depend_only_on_history() -> None:
    a, b = busy_day(1), sparse()
    first = plan_trace(trace(a, b), options())
    assert first.history == 1440  # two days: fit on day 1, evaluate on day 2
    changed_a, changed_b = a.copy(), b.copy()
    changed_a[1440:] = changed_a[1440:] * 5 + 7
    changed_b[1440:] = 3
    second = plan_trace(trace(changed_a, changed_b), options())
    for strategy in FITTED:
        assert first.plans(strategy) == second.plans(strategy), strategy
    assert first.summary("on-demand").invocations < second.summary("on-demand").invocations


def test_evaluation_sees_what_history_did_not() -> None:
    quiet_then_busy = np.concatenate([np.zeros(720, dtype=np.int64), np.full(720, 20)])
    report = plan_trace(trace(quiet_then_busy), options())
    assert report.history == 720
    plans = report.plans("static-peak")
    assert plans["fn0"] == ConcurrencyPlan.static(1)  # history peak 0: the floor, not the future
    assert report.plans("scheduled")["fn0"] == ConcurrencyPlan.on_demand()
    assert report.summary("scheduled").cold_starts > 0
    fn = report.functions[0]
    assert not fn.planner_met_on_history  # no history traffic: no evidence
    assert fn.evaluations[PLANNER].choice.plan.warmer is not None  # one warmer as insurance


def test_history_length_is_checked() -> None:
    with pytest.raises(PlannerError, match="SML613"):
        plan_trace(trace([1, 2, 3]), options(history_minutes=3))
    with pytest.raises(PlannerError, match="SML613"):
        plan_trace(trace([0, 0, 0, 0]), options())
    assert options().history_for(100) == 50 and options().history_for(3000) == 1560


# -- choosing -------------------------------------------------------------------------------------
def test_sparse_function_gets_the_cheapest_fix_warmers() -> None:
    # one request every 25 minutes: with a 10-minute keep-alive every one is cold on demand
    report = plan_trace(trace(sparse()), options())
    od = report.summary("on-demand")
    assert od.cold_rate == 1.0 and not od.meets
    assert report.summary("warmers").cold_starts == 0
    assert report.chosen == cheapest_meeting(report) == "warmers"
    assert report.plans()["fn0"].warmer is not None
    assert report.summary("static-peak").cost.total > report.summary("warmers").cost.total


def test_chosen_is_the_cheapest_strategy_meeting_the_objective() -> None:
    report = plan_trace(
        trace(busy_day(2), sparse(), busy_day(3, rate=2.0)), options("cold-rate<=0.5%")
    )
    assert report.chosen == cheapest_meeting(report)
    assert report.chosen is not None
    assert [s.strategy for s in report.summaries] == list(STRATEGIES)
    chosen = report.summary(report.chosen)
    for s in report.summaries:
        if s.meets:
            assert chosen.cost.total <= s.cost.total


def test_none_meets_a_burst_nobody_saw_coming() -> None:
    counts = np.ones(1440, dtype=np.int64)
    counts[1300:1305] = 400  # a burst on the evaluation half only, far above any fitted level
    report = plan_trace(trace(counts, duration_ms=2000), options("cold-rate<=0%"))
    assert report.chosen is None and report.recommended == PLANNER
    assert all(not s.meets and s.cold_starts > 0 for s in report.summaries)
    assert set(report.plans()) == {"fn0"}  # best-effort plans are still produced


def test_latency_objective_prefers_snapstart_when_restores_are_short() -> None:
    bursts = np.zeros(1440, dtype=np.int64)
    bursts[::30] = 40  # 40 requests every 30 minutes, 3 s each: scale-out cold starts
    report = plan_trace(
        trace(bursts, duration_ms=3000),
        options("p99-added-ms<=300", init_ms=900, restore_ms=200),
    )
    od, snap = report.summary("on-demand"), report.summary("snapstart")
    assert od.p99_added_ms == 900 and not od.meets
    assert snap.p99_added_ms == 200 and snap.meets
    assert report.chosen == cheapest_meeting(report)


def test_misses_tell_a_different_story_than_the_aggregate() -> None:
    t = trace(busy_day(4, rate=200.0), sparse())
    pooled = plan_trace(t, options("cold-rate<=1%"))
    od = pooled.summary("on-demand")
    assert od.meets and od.misses == 1  # the busy function hides the sparse one
    strict = plan_trace(t, options("cold-rate<=1%,misses<=0"))
    assert not strict.summary("on-demand").meets
    assert strict.chosen in ("warmers", "planner")


def test_costs_never_go_down_when_prices_go_up() -> None:
    t = trace(busy_day(5), sparse())
    base = plan_trace(t, options())
    dearer = replace(options(), architecture="x86_64")  # every duration price is higher
    assert Prices.for_architecture("x86_64").gb_s > Prices.for_architecture("arm64").gb_s
    higher = plan_trace(t, dearer)
    for strategy in (
        "on-demand",
        "static-peak",
        "scheduled",
        "target-tracking",
        "snapstart",
        "warmers",
    ):
        assert higher.summary(strategy).cost.total >= base.summary(strategy).cost.total


def test_keep_alive_sensitivity_rows() -> None:
    report = plan_trace(trace(sparse(every=7)), options())
    rows = {(r.keep_alive_min, r.strategy): r for r in report.sensitivity}
    assert rows[(5.0, "on-demand")].cold_rate == 1.0  # 7 minutes apart: reaped at 5
    assert rows[(10.0, "on-demand")].cold_rate < 0.01  # kept at 10
    assert rows[(5.0, "warmers")].cold_starts == 0  # pings every 5 min hold at 5


def test_profile_defaults_and_overrides() -> None:
    fn = FunctionTrace(name="f", counts=np.ones(10, dtype=np.int64), duration_ms=0.0, memory_mb=300)
    profile = options().profile_for(fn)
    assert profile.duration_ms == 1.0 and profile.memory_mb == 320  # rounded up to 64 MB
    assert options(duration_ms=80.0, memory_mb=2048).profile_for(fn).memory_mb == 2048
    assert lambda_memory(50) == 128 and lambda_memory(20_000) == 10_240


def test_plans_follow_the_lifecycle_assumptions() -> None:
    report = plan_trace(trace(sparse()), options(lifecycle=Lifecycle(keep_alive_min=3.0)))
    warmer = report.plans("warmers")["fn0"].warmer
    assert warmer is not None and warmer.rate_minutes == 3  # pings as often as the keep-alive
