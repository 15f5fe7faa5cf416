"""The cost model: hand-computed bills and monotonicity in every price."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from serverless_ml.core import limits
from serverless_ml.planner.costs import MONTH_S, MonthlyCost, Prices, monthly_cost
from serverless_ml.planner.simulator import FunctionProfile, SimStats

GB_1 = FunctionProfile(duration_ms=100, memory_mb=1024, init_ms=600, restore_ms=250)


def stats(**overrides: object) -> SimStats:
    base: dict[str, object] = {
        "minutes": 1440,
        "invocations": 1000,
        "cold_starts": 1,
        "provisioned_served": 0,
        "warmer_pings": 0,
        "warmer_cold_starts": 0,
        "cold_latency_ms": 600.0,
        "od_billed_ms": 1000 * 100.0,
        "pc_billed_ms": 0.0,
        "pc_env_minutes": 0,
        "snapstart": False,
        "simulated_arrivals": 1000,
        "cold_per_minute": np.zeros(1440, dtype=np.int64),
    }
    base.update(overrides)
    return SimStats(**base)  # type: ignore[arg-type]


def test_prices_come_from_limits_per_architecture() -> None:
    arm, x86 = Prices.for_architecture("arm64"), Prices.for_architecture("x86_64")
    assert arm.gb_s == limits.PRICE_GB_S["arm64"] < x86.gb_s == limits.PRICE_GB_S["x86_64"]
    assert arm.pc_held_gb_s == limits.PRICE_PC_HELD_GB_S["arm64"]
    assert arm.snapstart_restore_gb == limits.PRICE_SNAPSTART_RESTORE_GB
    with pytest.raises(ValueError, match="SML612"):
        Prices.for_architecture("sparc")


def test_on_demand_bill_by_hand() -> None:
    days_per_month = MONTH_S / 86400  # the 1440-minute window is one day
    cost = monthly_cost(stats(), GB_1, Prices.for_architecture("arm64"))
    assert cost.requests == pytest.approx(1000 / 1e6 * 0.20 * days_per_month)
    assert cost.duration == pytest.approx(100.0 * 0.0000133334 * days_per_month)
    assert cost.init == pytest.approx(0.6 * 0.0000133334 * days_per_month)  # billed since 2025-08
    assert cost.pc_held == cost.snapstart_cache == 0.0
    assert cost.total == pytest.approx(cost.requests + cost.duration + cost.init)


def test_provisioned_bill_by_hand() -> None:
    # two environments held all day, 1000 requests of 100 ms served on them, no spill-over
    s = stats(cold_starts=0, od_billed_ms=0.0, pc_billed_ms=100_000.0, pc_env_minutes=2 * 1440)
    cost = monthly_cost(s, GB_1, Prices.for_architecture("x86_64"))
    assert cost.pc_held == pytest.approx(2 * MONTH_S * 0.0000041667)
    assert cost.pc_running == pytest.approx(100.0 * 0.0000097222 * MONTH_S / 86400)
    assert cost.duration == cost.init == 0.0


def test_snapstart_bill_by_hand() -> None:
    s = stats(snapstart=True, cold_latency_ms=250.0, cold_starts=3, warmer_cold_starts=1)
    cost = monthly_cost(s, GB_1, Prices.for_architecture("arm64"))
    scale = MONTH_S / 86400
    assert cost.snapstart_restore == pytest.approx(4 * 1.0 * 0.0001397998 * scale)
    assert cost.snapstart_cache == pytest.approx(MONTH_S * 0.0000015046)  # cached all month
    assert cost.init == pytest.approx(4 * 0.25 * 0.0000133334 * scale)  # billed restore time


def test_memory_scales_gb_seconds_not_requests() -> None:
    half = FunctionProfile(duration_ms=100, memory_mb=512, init_ms=600)
    a = monthly_cost(stats(), GB_1, Prices.for_architecture())
    b = monthly_cost(stats(), half, Prices.for_architecture())
    assert b.requests == a.requests and b.duration == pytest.approx(a.duration / 2)


def test_monthly_cost_adds_up() -> None:
    a, b = MonthlyCost(requests=1.0, pc_held=2.0), MonthlyCost(duration=0.5, pc_held=1.0)
    assert (a + b).total == pytest.approx(4.5) and (a + b).as_dict()["pc_held"] == 3.0


PRICE_NAMES = (
    "request_per_million",
    "gb_s",
    "pc_held_gb_s",
    "pc_running_gb_s",
    "snapstart_cache_gb_s",
    "snapstart_restore_gb",
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(st.sampled_from(PRICE_NAMES), st.floats(1.0, 10.0), min_size=1),
    st.integers(0, 10_000),
    st.integers(0, 500),
    st.integers(0, 50),
    st.integers(0, 5000),
    st.booleans(),
    st.sampled_from(["arm64", "x86_64"]),
)
def test_costs_never_go_down_when_prices_go_up(
    factors: dict[str, float],
    calls: int,
    colds: int,
    pings: int,
    env_minutes: int,
    snap: bool,
    arch: str,
) -> None:
    s = stats(
        invocations=calls,
        cold_starts=min(colds, calls),
        warmer_pings=pings,
        od_billed_ms=calls * 60.0,
        pc_billed_ms=calls * 40.0,
        pc_env_minutes=env_minutes,
        snapstart=snap,
    )
    base = Prices.for_architecture(arch)
    before = monthly_cost(s, GB_1, base)
    after = monthly_cost(s, GB_1, base.scaled(**factors))
    for name, value in before.as_dict().items():
        assert after.as_dict()[name] >= value
    with pytest.raises(ValueError, match="unknown prices"):
        base.scaled(free_lunch=0.0)
