"""Provisioned concurrency over time: hourly schedules fitted on history, the cron actions that
deploy them, and the target-tracking policy Application Auto Scaling would run.

The simulator never trusts a fitted profile directly: it replays the ``ScheduledAction`` crons
the plan will deploy, so what is simulated is what gets deployed.
"""

from __future__ import annotations

import math
import re
from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from serverless_ml.core import defaults
from serverless_ml.planner.errors import PlannerError
from serverless_ml.spec.concurrency import ScheduledAction

Ints = npt.NDArray[np.int64]

_DAILY_CRON = re.compile(r"^cron\((\d{1,2}) (\d{1,2}) \* \* \? \*\)$")


def hourly_capacity(peak: Ints, minute_of_day: Ints, history: int, quantile: float) -> list[int]:
    """For each UTC hour, the ``quantile`` of per-minute peak concurrency in that hour of the
    history minutes ``[0, history)``; hours the history lacks use the quantile over all of it.

    The quantile is numpy's ``method="higher"``: the sorted value at ceil(q * (n - 1)).
    """
    hist_peak, hist_hour = peak[:history], minute_of_day[:history] // 60
    overall = _quantile(hist_peak, quantile)
    order = np.lexsort((hist_peak, hist_hour))
    hours, peaks = hist_hour[order], hist_peak[order]
    start = np.searchsorted(hours, np.arange(24), side="left")
    size = np.searchsorted(hours, np.arange(24), side="right") - start
    at = start + np.ceil(quantile * np.maximum(size - 1, 0)).astype(np.int64)
    picked = peaks[np.minimum(at, max(len(peaks) - 1, 0))] if len(peaks) else np.zeros(24)
    return [int(picked[h]) if size[h] else overall for h in range(24)]


def _quantile(values: Ints, q: float) -> int:
    if len(values) == 0:
        return 0
    return int(np.quantile(values, q, method="higher"))


def actions_for(hourly: list[int], *, lead_min: int) -> tuple[ScheduledAction, ...]:
    """Daily cron actions (UTC) that hold ``hourly[h]`` from h:00, raised ``lead_min`` early so
    new environments are ready on the hour; equal neighbouring hours share one action."""
    if len(hourly) != 24:
        raise ValueError("need 24 hourly capacities")
    changes = [h for h in range(24) if hourly[h] != hourly[h - 1]] or [0]
    actions = []
    for h in changes:
        at = h * 60 - (lead_min if hourly[h] > hourly[h - 1] else 0)
        hh, mm = divmod(at % 1440, 60)
        actions.append(
            ScheduledAction(
                name=f"pc-{hh:02d}{mm:02d}",
                schedule=f"cron({mm} {hh} * * ? *)",
                min_capacity=hourly[h],
                max_capacity=hourly[h],
            )
        )
    return tuple(sorted(actions, key=lambda a: a.name))


def capacity_from_actions(actions: tuple[ScheduledAction, ...], minute_of_day: Ints) -> Ints:
    """Configured PC each trace minute when the daily ``actions`` repeat (the last one to fire,
    wrapping around midnight). Only the daily ``cron(M H * * ? *)`` form is understood."""
    fires = []
    for action in actions:
        match = _DAILY_CRON.match(action.schedule)
        if not match:
            raise PlannerError(
                "SML612",
                f"cannot simulate schedule {action.schedule!r}: only daily 'cron(M H * * ? *)'",
            )
        fires.append((int(match.group(2)) * 60 + int(match.group(1)), action.min_capacity))
    fires.sort()
    at = np.array([f[0] for f in fires])
    level = np.array([f[1] for f in fires], dtype=np.int64)
    idx = np.searchsorted(at, minute_of_day, side="right") - 1  # -1 wraps to the last action
    return level[idx]


@dataclass(frozen=True, kw_only=True)
class TargetTracking:
    """Application Auto Scaling target tracking on ProvisionedConcurrencyUtilization (Maximum).

    Scale out when the metric exceeds the target for ``out_points`` one-minute datapoints; scale
    in when it stays below 90% of the target for ``in_points``; desired capacity is
    ``ceil(capacity * metric / target)``. The metric is the minute's peak concurrency over the
    ready capacity, capped at 1: a saturated pool cannot show how far demand exceeds it, which
    is why bursts outrun target tracking.
    """

    min_capacity: int
    max_capacity: int
    target: float = 0.7
    out_points: int = 3
    in_points: int = 15
    out_cooldown_min: int = defaults.SCALE_OUT_COOLDOWN_S // 60
    in_cooldown_min: int = defaults.SCALE_IN_COOLDOWN_S // 60

    def capacity(self, peak: Ints, ready_delay_min: int) -> Ints:
        """Configured PC each minute when the policy reacts to ``peak`` concurrency.

        Idle stretches at the floor (no traffic, the floor ready) are skipped in one step: only
        the scale-in counter and cooldown move there.
        """
        n = len(peak)
        configured = np.zeros(n, dtype=np.int64)
        recent: deque[int] = deque(maxlen=ready_delay_min + 1)  # configured, for readiness
        current = self.min_capacity
        high = low = 0
        last_out = last_in = -(10**9)
        peaks = peak.tolist()
        busy = np.flatnonzero(peak != 0)
        next_busy = np.append(busy, n)[np.searchsorted(busy, np.arange(n), side="left")].tolist()
        m = 0
        while m < n:
            if not peaks[m] and current == self.min_capacity and all(v == current for v in recent):
                end = next_busy[m]
                configured[m:end] = current
                recent.extend([current] * min(end - m, ready_delay_min + 1))
                high = 0
                while m < end:  # scale-in fires (to the floor, no change) as counters allow
                    fire = max(m + self.in_points - low - 1, last_in + self.in_cooldown_min, m)
                    if fire >= end:
                        low += end - m
                        m = end
                    else:
                        low, last_in, m = 0, fire, fire + 1
                continue
            configured[m] = current
            recent.append(current)
            ready = min(recent)
            metric = min(1.0, peaks[m] / ready) if ready else (1.0 if peaks[m] else 0.0)
            high = high + 1 if metric > self.target else 0
            low = low + 1 if metric < 0.9 * self.target else 0
            desired = current
            if high >= self.out_points and m - last_out >= self.out_cooldown_min:
                desired = max(current + 1, math.ceil(max(ready, 1) * metric / self.target))
                last_out, high = m, 0
            elif low >= self.in_points and m - last_in >= self.in_cooldown_min:
                desired = math.ceil(ready * metric / self.target)
                last_in, low = m, 0
            current = min(self.max_capacity, max(self.min_capacity, desired))
            m += 1
        return configured
