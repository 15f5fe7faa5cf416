"""Ways to keep a function warm, each as the ``ConcurrencyPlan`` it deploys plus the setup the
simulator replays. Anything fitted reads only the history minutes ``[0, ctx.history)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from serverless_ml.planner.schedule import (
    TargetTracking,
    actions_for,
    capacity_from_actions,
    hourly_capacity,
)
from serverless_ml.planner.simulator import Lifecycle, Setup, Workload
from serverless_ml.spec.concurrency import ConcurrencyPlan, Warmer

Ints = npt.NDArray[np.int64]

ON_DEMAND = "on-demand"
STATIC_PEAK = "static-peak"
SCHEDULED = "scheduled"
TARGET_TRACKING = "target-tracking"
SNAPSTART = "snapstart"
WARMERS = "warmers"
PLANNER = "planner"
STRATEGIES = (ON_DEMAND, STATIC_PEAK, SCHEDULED, TARGET_TRACKING, SNAPSTART, WARMERS, PLANNER)
TARGET_UTILIZATION = 0.7
SCHEDULE_QUANTILES = (0.5, 0.9, 0.99, 1.0)


@dataclass(frozen=True)
class Context:
    """One function as the fitters see it."""

    work: Workload
    minute_of_day: Ints  # UTC minute of the day of each trace minute
    history: int  # fit on minutes [0, history)
    lifecycle: Lifecycle
    fitted: dict[tuple[str, float], Choice] = field(
        default_factory=dict, compare=False, repr=False
    )  # fits made once per function (baselines and the planner's candidates share them)

    @property
    def history_peak(self) -> int:
        return int(self.work.demand_peak[: self.history].max(initial=0))

    @property
    def warmer_rate(self) -> int:
        """Every 5 minutes, or more often if the assumed keep-alive is shorter."""
        return max(1, min(5, math.floor(self.lifecycle.keep_alive_min)))


@dataclass(frozen=True)
class Choice:
    """A strategy applied to one function: what is deployed and what is simulated."""

    strategy: str
    plan: ConcurrencyPlan
    setup: Setup
    detail: str

    def same_as(self, other: Choice) -> bool:
        same_pc = (self.setup.pc_target is None) == (other.setup.pc_target is None) and (
            self.setup.pc_target is None
            or np.array_equal(self.setup.pc_target, other.setup.pc_target)  # type: ignore[arg-type]
        )
        return self.plan == other.plan and same_pc


def on_demand(ctx: Context) -> Choice:
    return Choice(ON_DEMAND, ConcurrencyPlan.on_demand(), Setup(), "no provisioned concurrency")


def snapstart(ctx: Context) -> Choice:
    return Choice(
        SNAPSTART,
        ConcurrencyPlan.snapstart(),
        Setup(snapstart=True),
        f"restore {ctx.work.profile.restore_ms:g} ms instead of "
        f"INIT {ctx.work.profile.init_ms:g} ms",
    )


def warmers(ctx: Context, concurrency: int = 1) -> Choice:
    warmer = Warmer(rate_minutes=ctx.warmer_rate, concurrency=concurrency)
    return Choice(
        WARMERS,
        ConcurrencyPlan.on_demand(warmer=warmer),
        Setup(warmer=warmer),
        f"{concurrency} ping(s) every {warmer.rate_minutes} min",
    )


def static_peak(ctx: Context) -> Choice:
    level = max(1, ctx.history_peak)
    n = len(ctx.work.counts)
    return Choice(
        STATIC_PEAK,
        ConcurrencyPlan.static(level),
        Setup(pc_target=np.full(n, level, dtype=np.int64)),
        f"{level} provisioned (history peak)",
    )


def scheduled(ctx: Context, quantile: float = 1.0) -> Choice:
    key = (SCHEDULED, quantile)
    if key not in ctx.fitted:
        ctx.fitted[key] = _scheduled(ctx, quantile)
    return ctx.fitted[key]


def _scheduled(ctx: Context, quantile: float) -> Choice:
    hourly = hourly_capacity(ctx.work.demand_peak, ctx.minute_of_day, ctx.history, quantile)
    if max(hourly) == 0:
        choice = on_demand(ctx)
        return Choice(SCHEDULED, choice.plan, choice.setup, "no history traffic: on demand")
    actions = actions_for(hourly, lead_min=min(59, ctx.lifecycle.pc_ready_delay_min))
    plan = ConcurrencyPlan.scheduled(actions, min_capacity=min(hourly), max_capacity=max(hourly))
    target = capacity_from_actions(actions, ctx.minute_of_day)
    label = "max" if quantile >= 1 else f"p{quantile * 100:g}"
    return Choice(
        SCHEDULED,
        plan,
        Setup(pc_target=target),
        f"hourly {label} of history peaks, {min(hourly)}..{max(hourly)} provisioned",
    )


def target_tracking(ctx: Context, target: float = TARGET_UTILIZATION) -> Choice:
    key = (TARGET_TRACKING, target)
    if key not in ctx.fitted:
        ctx.fitted[key] = _target_tracking(ctx, target)
    return ctx.fitted[key]


def _target_tracking(ctx: Context, target: float) -> Choice:
    top = max(1, math.ceil(ctx.history_peak / target))
    policy = TargetTracking(min_capacity=1, max_capacity=top, target=target)
    pc = policy.capacity(ctx.work.demand_peak, ctx.lifecycle.pc_ready_delay_min)
    plan = ConcurrencyPlan.target_tracking(
        min_capacity=1, max_capacity=top, target_utilization=target
    )
    return Choice(TARGET_TRACKING, plan, Setup(pc_target=pc), f"1..{top} at {target:.0%} (Maximum)")


BASELINES: dict[str, Callable[[Context], Choice]] = {
    ON_DEMAND: on_demand,
    STATIC_PEAK: static_peak,
    SCHEDULED: scheduled,
    TARGET_TRACKING: target_tracking,
    SNAPSTART: snapstart,
    WARMERS: warmers,
}


def planner_candidates(ctx: Context) -> list[Choice]:
    """What the planner weighs for one function (duplicates removed)."""
    out = [on_demand(ctx)]
    profile = ctx.work.profile
    if profile.restore_ms < profile.init_ms:
        out.append(snapstart(ctx))
    for k in range(1, min(5, max(1, ctx.history_peak)) + 1):
        out.append(warmers(ctx, k))
    for q in SCHEDULE_QUANTILES:
        out.append(scheduled(ctx, q))
    out.append(static_peak(ctx))
    out.append(target_tracking(ctx))
    unique: list[Choice] = []
    for choice in out:
        if not any(choice.same_as(u) for u in unique):
            unique.append(choice)
    return unique
