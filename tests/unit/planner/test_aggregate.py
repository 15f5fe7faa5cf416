"""The aggregate simulator: the same numbers as the exact one where minutes are sparse, the
onset and record regimes of busy minutes, provisioned concurrency in blocks, windows that
read only their own minutes, and bounded memory for absurd minutes (10^9, 10^18)."""

from __future__ import annotations

import math
import tracemalloc
from datetime import UTC, datetime

import numpy as np
import pytest

from serverless_ml.planner import simulator
from serverless_ml.planner.aggregate import DENSE_ABOVE, slots_per_minute
from serverless_ml.planner.errors import PlannerError
from serverless_ml.planner.planner import PlannerOptions, plan_trace
from serverless_ml.planner.simulator import FunctionProfile, Lifecycle, Setup, Workload, run
from serverless_ml.planner.traces import FunctionTrace, Trace
from serverless_ml.spec.concurrency import Warmer

START = datetime(2026, 1, 5, tzinfo=UTC)


def both(counts: np.ndarray, profile: FunctionProfile, seed: int = 0) -> tuple[Workload, Workload]:
    return (
        Workload.build("f", counts, profile, seed=seed, simulation="exact"),
        Workload.build("f", counts, profile, seed=seed, simulation="aggregate"),
    )


def test_sparse_minutes_are_simulated_request_by_request() -> None:
    # no minute above the threshold: the aggregate simulator sees the exact one's arrivals and
    # settles every slot that may start an environment one request at a time
    rng = np.random.default_rng(0)
    exact_total = aggregate_total = equal = 0
    for trial in range(60):
        n = int(rng.integers(30, 300))
        counts = np.minimum(rng.poisson(10 ** rng.uniform(-2, 1), n), DENSE_ABOVE)
        profile = FunctionProfile(duration_ms=float(10 ** rng.uniform(1, 4)), init_ms=500)
        setup = (
            Setup(),
            Setup(warmer=Warmer(rate_minutes=int(rng.integers(1, 6)), concurrency=2)),
            Setup(pc_target=rng.integers(0, 3, n)),
        )[trial % 3]
        life = Lifecycle(keep_alive_min=float(rng.choice([1.0, 3.0, 10.0])))
        e, a = (run(w, setup, life, (0, n)) for w in both(counts, profile, seed=trial))
        assert a.provisioned_served == e.provisioned_served
        assert a.warmer_pings == e.warmer_pings and a.invocations == e.invocations
        exact_total += e.cold_starts
        aggregate_total += a.cold_starts
        equal += a.cold_starts == e.cold_starts
    assert equal >= 50  # most traces to the cold start; the others within a few
    assert abs(aggregate_total - exact_total) <= 0.05 * exact_total


def test_a_burst_onset_needs_environments_for_what_arrives_during_init() -> None:
    # 100 requests/s of 100 ms after a quiet spell: while the first environments run INIT
    # (600 ms), every arrival needs another one: ~100 * (0.1 + 0.6) = 70 cold starts
    counts = np.array([0] * 20 + [6000] * 10, dtype=np.int64)
    profile = FunctionProfile(duration_ms=100, init_ms=600)
    exact, aggregate = both(counts, profile)
    e = run(exact, Setup(), Lifecycle(), (0, 30)).cold_starts
    a = run(aggregate, Setup(), Lifecycle(), (0, 30)).cold_starts
    assert 60 <= e <= 100 and 60 <= a <= 100
    snap = run(aggregate, Setup(snapstart=True), Lifecycle(), (0, 30)).cold_starts
    assert snap < a  # a shorter restore leaves fewer arrivals to wait for it


def test_steady_traffic_cold_starts_come_from_new_peaks() -> None:
    counts = np.random.default_rng(2).poisson(1000, 1440)
    profile = FunctionProfile(duration_ms=200)
    es, ag = [], []
    for seed in range(3):
        exact, aggregate = both(counts, profile, seed=seed)
        es.append(run(exact, Setup(), Lifecycle(), (0, 1440)).cold_starts)
        ag.append(run(aggregate, Setup(), Lifecycle(), (0, 1440)).cold_starts)
    assert abs(sum(ag) - sum(es)) <= 0.15 * sum(es)
    assert sum(ag) < 1e-3 * 3 * counts.sum()


def test_provisioned_concurrency_above_the_peak_serves_everything_warm() -> None:
    counts = np.random.default_rng(3).poisson(3000, 120)
    profile = FunctionProfile(duration_ms=100)
    work = Workload.build("f", counts, profile, seed=0, simulation="aggregate")
    level = int(work.demand_peak.max()) + 5
    stats = run(work, Setup(pc_target=np.full(120, level)), Lifecycle(), (10, 120))
    assert stats.cold_starts == 0
    assert stats.provisioned_served == pytest.approx(stats.invocations, rel=1e-4)
    half = run(work, Setup(pc_target=np.full(120, level // 4)), Lifecycle(), (10, 120))
    assert 0 < half.provisioned_served < stats.provisioned_served  # Erlang B turns some away
    assert half.od_billed_ms > 0


def test_a_window_reads_only_its_own_minutes() -> None:
    rng = np.random.default_rng(4)
    hours = np.arange(2880) / 60.0
    counts = rng.poisson(40 * (1 + 0.9 * np.cos(2 * np.pi * (hours - 14) / 24)))
    profile = FunctionProfile(duration_ms=150)
    whole = Workload.build("f", counts, profile, seed=1, simulation="aggregate")
    part = Workload.build("f", counts[:1000], profile, seed=1, simulation="aggregate")
    assert np.array_equal(whole.demand_peak[:1000], part.demand_peak)
    for setup in (Setup(), Setup(warmer=Warmer(rate_minutes=5, concurrency=2))):
        a = run(whole, setup, Lifecycle(), (0, 1000))
        b = run(part, setup, Lifecycle(), (0, 1000))
        assert (a.cold_starts, a.warmer_cold_starts) == (b.cold_starts, b.warmer_cold_starts)
        assert a.od_billed_ms == b.od_billed_ms


def test_auto_takes_the_exact_simulator_where_it_is_the_cheaper() -> None:
    profile = FunctionProfile(duration_ms=100)
    sparse = Workload.build("f", np.ones(600, dtype=np.int64), profile, seed=0)
    assert sparse.exact_up_to(600)
    busy = np.ones(600, dtype=np.int64)
    busy[400] = DENSE_ABOVE + 1
    work = Workload.build("f", busy, profile, seed=0)
    assert work.exact_up_to(400) and not work.exact_up_to(401)  # decided on the window alone
    assert run(work, Setup(), Lifecycle(), (0, 600)).explicit_arrivals is not None


def test_short_keep_alives_cut_minutes_into_slots() -> None:
    assert slots_per_minute(600.0) == 1 and slots_per_minute(30.0) == 2
    assert slots_per_minute(0.001) == 60
    counts = np.random.default_rng(5).poisson(300, 60)
    work = Workload.build("f", counts, FunctionProfile(duration_ms=50), seed=0)
    long = run(work, Setup(), Lifecycle(keep_alive_min=10), (0, 60)).cold_starts
    short = run(work, Setup(), Lifecycle(keep_alive_min=0.25), (0, 60)).cold_starts
    assert short > long


def test_exact_simulation_of_too_many_invocations_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(simulator, "EXACT_MAX_ARRIVALS", 1000)
    counts = np.full(10, 200, dtype=np.int64)
    with pytest.raises(PlannerError, match="SML616"):
        Workload.build("f", counts, FunctionProfile(), seed=0, simulation="exact")
    Workload.build("f", counts, FunctionProfile(), seed=0)  # auto: blocks, no refusal


@pytest.mark.parametrize("burst", [10**9, 10**18, 2**63 - 1])
@pytest.mark.parametrize("duration_ms", [50.0, 900_000.0])
def test_an_absurd_minute_plans_in_bounded_memory(burst: int, duration_ms: float) -> None:
    counts = np.zeros(2880, dtype=np.int64)
    counts[100], counts[1500:1510], counts[2000] = 5, 3, burst
    trace = Trace(
        functions=(FunctionTrace(name="f", counts=counts, duration_ms=duration_ms),),
        start=START,
        source="test",
    )
    tracemalloc.start()
    try:
        report = plan_trace(trace, PlannerOptions())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20  # every invocation drawn would need exabytes
    assert report.trace.invocations == burst + 35  # exact past int64
    for s in report.summaries:
        assert 0 <= s.cold_starts <= s.invocations
        assert math.isfinite(s.cost.total) and s.cost.total > 0
    assert report.summary("on-demand").cold_starts > 0.001 * burst  # the burst is cold
