"""The lifecycle simulator: hand-computed cold starts on tiny traces, the fast path equal to the
plain event loop, and provisioned concurrency's effect on cold starts."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from serverless_ml.planner.arrivals import Arrivals, user_arrivals, warmer_times
from serverless_ml.planner.lifecycle import Tuning, simulate, simulate_reference
from serverless_ml.planner.simulator import (
    FunctionProfile,
    Lifecycle,
    Setup,
    Workload,
    peak_concurrency,
    ready_capacity,
    run,
)
from serverless_ml.spec.concurrency import Warmer


def workload(
    counts: list[int], *, duration_ms: float, init_ms: float = 500.0, restore_ms: float = 200.0
) -> Workload:
    profile = FunctionProfile(
        duration_ms=duration_ms, memory_mb=1024, init_ms=init_ms, restore_ms=restore_ms
    )
    return Workload.build("f", np.array(counts, dtype=np.int64), profile, seed=0, spread="even")


def life(keep_alive_min: float, delay: int = 0) -> Lifecycle:
    return Lifecycle(keep_alive_min=keep_alive_min, pc_ready_delay_min=delay, spread="even")


def whole(work: Workload) -> tuple[int, int]:
    return (0, len(work.counts))


# -- hand-computed traces ----------------------------------------------------------------------
def test_even_spread_places_arrivals_mid_slot() -> None:
    times = user_arrivals(np.array([1, 0, 3]), rng=None, spread="even")
    assert times.tolist() == [30.0, 130.0, 150.0, 170.0]


def test_keep_alive_reaps_an_idle_environment() -> None:
    # arrivals at 30 s and 210 s; the environment is idle from 30.6 s (500 ms INIT + 100 ms)
    work = workload([1, 0, 0, 1], duration_ms=100)
    assert run(work, Setup(), life(2.0), whole(work)).cold_starts == 2  # idle 179.4 s > 120 s
    assert run(work, Setup(), life(3.0), whole(work)).cold_starts == 1  # idle 179.4 s <= 180 s


def test_scale_out_needs_a_new_environment() -> None:
    # arrivals at 10, 30, 50 s lasting 30 s: the second finds the first busy (until 40.5 s),
    # the third reuses the first environment
    work = workload([3], duration_ms=30_000)
    stats = run(work, Setup(), life(10.0), whole(work))
    assert (stats.invocations, stats.cold_starts) == (3, 2)
    assert stats.added_latency_ms(0.5) == 500.0 and stats.added_latency_ms(0.3) == 0.0


def test_most_recently_freed_environment_is_reused() -> None:
    # 40-s requests, 500 ms INIT, 4.5-minute (270 s) keep-alive. Arrivals 15 s (cold, A, free
    # at 55.5 s) and 45 s (cold, B, free at 85.5 s); 330 s takes B, the most recently freed
    # (idle 244.5 s; A would be idle 274.5 s: reaped), B is free again at 370 s; 555 s takes B
    # (idle 185 s); 585 s finds only A, idle 529.5 s: reaped, so cold.
    work = workload([2, 0, 0, 0, 0, 1, 0, 0, 0, 2], duration_ms=40_000)
    stats = run(work, Setup(), life(4.5), whole(work))
    # arrivals: 15 (cold), 45 (cold), 330 (warm), 555 (warm, idle 185 s), 585 (cold)
    assert stats.cold_starts == 3


def test_provisioned_concurrency_with_spillover() -> None:
    # one provisioned environment; arrivals at 10, 30, 50 s of 30 s: the second spills over
    work = workload([3], duration_ms=30_000)
    one = run(work, Setup(pc_target=np.array([1])), life(10.0), whole(work))
    assert (one.provisioned_served, one.cold_starts) == (2, 1)
    assert one.pc_billed_ms == 2 * 30_000 and one.od_billed_ms == 30_000
    two = run(work, Setup(pc_target=np.array([2])), life(10.0), whole(work))
    assert (two.provisioned_served, two.cold_starts) == (3, 0)
    assert two.pc_env_minutes == 2


def test_provisioned_increase_arrives_late() -> None:
    assert ready_capacity(np.array([0, 2, 2, 2, 1, 3]), 2).tolist() == [0, 0, 0, 2, 1, 1]
    work = workload([0, 1, 1, 1], duration_ms=100)
    late = run(work, Setup(pc_target=np.array([0, 1, 1, 1])), life(0.5, delay=2), whole(work))
    # minute 1 and 2 arrivals find nothing ready (and 60 s apart > 30 s keep-alive): cold
    assert (late.cold_starts, late.provisioned_served) == (2, 1)
    assert late.pc_ready is not None and late.pc_ready.tolist() == [0, 0, 0, 1]


def test_warmer_keeps_an_environment_alive() -> None:
    # one user request at 1830 s; pings every 5 min from 0 s, 5 ms each, 10-minute keep-alive
    counts = [0] * 30 + [1]
    work = workload(counts, duration_ms=100)
    cold = run(work, Setup(), life(10.0), whole(work))
    assert cold.cold_starts == 1
    warm = run(work, Setup(warmer=Warmer(rate_minutes=5, concurrency=1)), life(10.0), whole(work))
    assert (warm.cold_starts, warm.warmer_pings, warm.warmer_cold_starts) == (0, 7, 1)
    assert warm.od_billed_ms == 100 + 7 * 5
    # a keep-alive shorter than the warmer's period: every ping starts cold, the user does not
    # (the 1800 s ping left an environment idle since 1800.505 s)
    short = run(work, Setup(warmer=Warmer(rate_minutes=5, concurrency=1)), life(4.0), whole(work))
    assert (short.cold_starts, short.warmer_cold_starts) == (0, 7)


def test_concurrent_pings_warm_several_environments() -> None:
    # three 50-s requests at 610, 630, 650 s; pings at 0, 300, 600 s
    work = workload([0] * 10 + [3], duration_ms=50_000)
    one = run(work, Setup(warmer=Warmer(rate_minutes=5, concurrency=1)), life(10.0), whole(work))
    three = run(work, Setup(warmer=Warmer(rate_minutes=5, concurrency=3)), life(10.0), whole(work))
    assert one.cold_starts == 2  # 610 s takes the warm one; 630 s and 650 s need new ones
    assert three.cold_starts == 0
    assert three.warmer_cold_starts == 3  # the first three pings at 0 s


def test_snapstart_cold_start_costs_a_restore() -> None:
    work = workload([3], duration_ms=30_000, init_ms=500, restore_ms=200)
    snap = run(work, Setup(snapstart=True), life(10.0), whole(work))
    assert snap.cold_starts == 2 and snap.cold_latency_ms == 200.0 and snap.snapstart
    assert snap.added_latency_ms(0.99) == 200.0


def test_window_counts_only_its_minutes_after_warming_up() -> None:
    work = workload([1, 1, 1, 1], duration_ms=100)
    later = run(work, Setup(), life(10.0), (2, 4))
    assert (later.minutes, later.invocations, later.cold_starts) == (2, 2, 0)
    assert later.cold_per_minute.tolist() == [0, 0]
    assert run(work, Setup(), life(10.0), (0, 2)).cold_per_minute.tolist() == [1, 0]


def test_peak_concurrency_per_minute() -> None:
    work = workload([3, 1], duration_ms=30_000)  # 10, 30, 50 s (30 s each) then 90 s
    assert peak_concurrency(work.times, work.profile, 2).tolist() == [2, 1]


def test_detail_estimates_the_warm_pool() -> None:
    work = workload([3, 0, 0], duration_ms=30_000)
    stats = run(work, Setup(pc_target=np.array([1, 1, 1])), life(2.0), whole(work), detail=True)
    assert stats.warm_envs is not None and stats.warm_envs.tolist() == [2, 2, 1]


def test_a_time_varying_plan_with_more_capacity_can_add_cold_starts() -> None:
    # Not a bug: requests absorbed by provisioned concurrency no longer refresh the on-demand
    # environment, which is then reaped. Arrivals at 30, 90, 150 s (100 ms); keep-alive 90 s.
    work = workload([1, 1, 1], duration_ms=100)
    none = run(work, Setup(), life(1.5), whole(work))
    middle = run(work, Setup(pc_target=np.array([0, 1, 0])), life(1.5), whole(work))
    assert (none.cold_starts, middle.cold_starts) == (1, 2)


# -- properties --------------------------------------------------------------------------------
@st.composite
def traffic(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    minutes = draw(st.integers(1, 12))
    counts = draw(st.lists(st.integers(0, 40), min_size=minutes, max_size=minutes))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    users = user_arrivals(np.array(counts, dtype=np.int64), rng=rng)
    if draw(st.booleans()):
        users = np.sort(np.round(users, 0))  # ties
    pings = warmer_times(minutes, draw(st.integers(1, 5)), draw(st.integers(0, 3)))
    arrivals = Arrivals.merge(users, pings)
    dur = np.where(arrivals.warmer, 0.005, draw(st.floats(0.01, 45.0)))
    cold_dur = dur + draw(st.floats(0.0, 5.0))
    keep_alive = draw(st.floats(1.0, 400.0))
    return arrivals.times, dur, cold_dur, keep_alive


tunings = st.builds(
    Tuning,
    min_window=st.integers(1, 80),
    scan_start=st.integers(1, 300),
    scan_max=st.integers(300, 5000),
    scan_gain=st.integers(0, 100),
    loop_stretch=st.integers(1, 200),
)


@settings(max_examples=300, deadline=None)
@given(traffic(), st.lists(st.integers(0, 6), min_size=12, max_size=12) | st.none(), tunings)
def test_fast_path_equals_the_event_loop(
    data: tuple[np.ndarray, np.ndarray, np.ndarray, float], pc: list[int] | None, tuning: Tuning
) -> None:
    t, dur, cold_dur, keep_alive = data
    # an arrival may fall exactly on the window's end (t == 720 s): it belongs to the last minute
    minute = np.minimum(t // 60, len(pc or [0]) - 1).astype(np.int64)
    cap = None if pc is None else np.array(pc, dtype=np.int64)[minute]
    fast = simulate(t, dur, cold_dur, cap, keep_alive, tuning=tuning)
    slow = simulate_reference(t, dur, cold_dur, cap, keep_alive)
    assert np.array_equal(fast.cold, slow.cold)
    assert np.array_equal(fast.provisioned, slow.provisioned)


def test_fast_path_equals_the_event_loop_on_a_busy_function() -> None:
    rng = np.random.default_rng(5)
    counts = rng.poisson(400 * (1 + 0.8 * np.sin(np.arange(90) / 9.0)))
    t = user_arrivals(counts, rng=rng)
    dur = np.full(len(t), 0.2)
    cap = np.array(rng.integers(0, 4, 90))[(t // 60).astype(np.int64)]
    for pc in (None, cap):
        fast = simulate(t, dur, dur + 0.6, pc, 120.0)
        slow = simulate_reference(t, dur, dur + 0.6, pc, 120.0)
        assert np.array_equal(fast.cold, slow.cold) and fast.cold.sum() > 10
        assert np.array_equal(fast.provisioned, slow.provisioned)


@settings(max_examples=200, deadline=None)
@given(traffic(), st.integers(0, 4), st.integers(1, 3))
def test_more_static_provisioned_concurrency_never_adds_cold_starts(
    data: tuple[np.ndarray, np.ndarray, np.ndarray, float], base: int, extra: int
) -> None:
    t, dur, cold_dur, keep_alive = data
    less = simulate(t, dur, cold_dur, np.full(len(t), base), keep_alive)
    more = simulate(t, dur, cold_dur, np.full(len(t), base + extra), keep_alive)
    assert more.cold.sum() <= less.cold.sum()
    assert more.provisioned.sum() >= less.provisioned.sum()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 20), min_size=1, max_size=10), st.integers(0, 2**16))
def test_a_longer_keep_alive_never_adds_cold_starts(counts: list[int], seed: int) -> None:
    profile = FunctionProfile(duration_ms=300, memory_mb=512, init_ms=400)
    work = Workload.build("f", np.array(counts, dtype=np.int64), profile, seed=seed)
    window = (0, len(counts))
    colds = [
        run(work, Setup(), Lifecycle(keep_alive_min=k), window).cold_starts for k in (1, 5, 45)
    ]
    assert colds == sorted(colds, reverse=True)


def test_profile_and_lifecycle_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="SML612"):
        FunctionProfile(duration_ms=0)
    with pytest.raises(ValueError, match="SML612"):
        FunctionProfile(memory_mb=64)
    with pytest.raises(ValueError, match="SML612"):
        Lifecycle(keep_alive_min=0)
