"""Hourly schedules from history, their cron actions, and the target-tracking policy."""

from __future__ import annotations

import numpy as np
import pytest

from serverless_ml.planner.errors import PlannerError
from serverless_ml.planner.schedule import (
    TargetTracking,
    actions_for,
    capacity_from_actions,
    hourly_capacity,
)
from serverless_ml.spec.concurrency import ConcurrencyPlan, ScheduledAction

DAY = np.arange(1440, dtype=np.int64)


def test_hourly_capacity_reads_only_history() -> None:
    peak = np.zeros(2880, dtype=np.int64)
    peak[9 * 60 : 10 * 60] = 4  # day 1, 09:00-10:00
    peak[1440 + 15 * 60] = 50  # day 2 only: must not leak into the fit
    hourly = hourly_capacity(peak, np.concatenate([DAY, DAY]), 1440, 1.0)
    assert hourly[9] == 4 and hourly[15] == 0 and sum(hourly) == 4


def test_hours_missing_from_history_use_all_of_it() -> None:
    peak = np.array([1] * 60 + [3] * 60 + [0] * 1320, dtype=np.int64)
    hourly = hourly_capacity(peak, DAY, 120, 1.0)  # history covers hours 0 and 1 only
    assert hourly[:2] == [1, 3] and set(hourly[2:]) == {3}
    assert hourly_capacity(peak, DAY, 120, 0.25)[5] == 1  # p25 of history {1 x60, 3 x60}


def test_actions_merge_equal_hours_and_lead_increases() -> None:
    hourly = [0] * 8 + [3] * 10 + [1] * 6
    actions = actions_for(hourly, lead_min=2)
    assert [(a.name, a.schedule, a.min_capacity) for a in actions] == [
        ("pc-0000", "cron(0 0 * * ? *)", 0),
        ("pc-0758", "cron(58 7 * * ? *)", 3),
        ("pc-1800", "cron(0 18 * * ? *)", 1),
    ]
    assert all(a.min_capacity == a.max_capacity for a in actions)
    plan = ConcurrencyPlan.scheduled(actions, min_capacity=0, max_capacity=3)
    assert ConcurrencyPlan.from_dict(plan.to_dict()) == plan


def test_capacity_replays_daily_crons_across_midnight() -> None:
    actions = actions_for([2] * 6 + [5] * 12 + [2] * 6, lead_min=0)
    minute_of_day = (np.arange(2 * 1440) + 22 * 60) % 1440  # trace starts at 22:00 UTC
    pc = capacity_from_actions(actions, minute_of_day)
    assert pc[0] == 2  # before any action fires today: yesterday's 18:00 action holds
    assert pc[8 * 60] == 5 and pc[8 * 60 - 1] == 2  # 06:00 is minute 480 from 22:00
    assert pc[20 * 60] == 2  # 18:00
    single = capacity_from_actions(actions_for([4] * 24, lead_min=3), DAY)
    assert set(single.tolist()) == {4}


def test_only_daily_crons_are_simulated() -> None:
    weekly = (
        ScheduledAction(name="mon", schedule="cron(0 8 ? * MON *)", min_capacity=1, max_capacity=1),
    )
    with pytest.raises(PlannerError, match="SML612"):
        capacity_from_actions(weekly, DAY)


def test_target_tracking_scales_out_after_three_points_and_in_after_fifteen() -> None:
    policy = TargetTracking(
        min_capacity=1, max_capacity=10, target=0.5, out_cooldown_min=1, in_cooldown_min=1
    )
    peak = np.array([0] * 5 + [4] * 20 + [0] * 40, dtype=np.int64)
    pc = policy.capacity(peak, ready_delay_min=0)
    assert pc[:8].tolist() == [1] * 8  # minutes 5, 6, 7 breach; action at the end of 7
    assert pc[8] == 2  # utilization capped at 1: ceil(1 * 1 / 0.5)
    assert pc[8:].max() == 8 and pc[24] == 8  # ceil(4 / 0.5): tracks the burst step by step
    assert pc[-1] == 1  # back to the floor once idle long enough
    assert pc.max() <= 10 and pc.min() >= 1


def test_target_tracking_respects_max_and_ready_delay() -> None:
    policy = TargetTracking(min_capacity=1, max_capacity=3, target=0.7)
    pc = policy.capacity(np.full(60, 100, dtype=np.int64), ready_delay_min=2)
    assert pc.max() == 3 and pc[0] == 1
