"""Provisioned concurrency a ``ScheduledAction`` list held over real minutes: the planner's own
replay (``planner.schedule.capacity_from_actions``) reads daily crons only, while a deployed
plan may use weekday crons (``cron(0 7 ? * MON-FRI *)``) and ``at(...)``.

Application Auto Scaling's cron has six fields, minutes hours day-of-month month day-of-week
year, UTC, day-of-week 1-7 = SUN-SAT (scheduled-scaling-using-cron-expressions.html). Read here:
``*``, ``?``, numbers, names, ``a-b``, lists and ``/step``; ``L``, ``W``, ``#`` and ``rate(...)``
are refused with a ValueError naming the expression.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Final

import numpy as np
import numpy.typing as npt

from serverless_ml.spec.concurrency import ScheduledAction

Ints = npt.NDArray[np.int64]
_MONTHS: Final = (
    "JAN",
    "FEB",
    "MAR",
    "APR",
    "MAY",
    "JUN",
    "JUL",
    "AUG",
    "SEP",
    "OCT",
    "NOV",
    "DEC",
)
_DAYS: Final = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_AT: Final = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?)\)$")
_CRON: Final = re.compile(r"^cron\((.+)\)$")
LOOKBACK_DAYS: Final = 8  # a weekly cron fired before the window still holds at its start


def _field(text: str, lo: int, hi: int, names: Sequence[str] = ()) -> set[int] | None:
    """The values a cron field allows; None for any (``*`` / ``?``)."""
    if text in ("*", "?"):
        return None
    out: set[int] = set()
    for part in text.split(","):
        body, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if body == "*":
            first, last = lo, hi
        else:
            first_text, _, last_text = body.partition("-")
            first = _value(first_text, names, lo)
            last = _value(last_text, names, lo) if last_text else (hi if step_text else first)
        if not lo <= first <= last <= hi or step < 1:
            raise ValueError(f"cron field {text!r} out of range {lo}-{hi}")
        out.update(range(first, last + 1, step))
    return out


def _value(text: str, names: Sequence[str], lo: int) -> int:
    if text.upper() in names:
        return names.index(text.upper()) + lo
    if not text.isdigit():
        raise ValueError(f"cron value {text!r} is not understood (L, W and # are not replayed)")
    return int(text)


def _fires(schedule: str, first: datetime, last: datetime) -> list[datetime]:
    """When ``schedule`` fires between ``first`` (minus the lookback) and ``last``."""
    at = _AT.match(schedule)
    if at:
        return [datetime.fromisoformat(at.group(1)).replace(tzinfo=UTC)]
    cron = _CRON.match(schedule)
    if not cron or len(cron.group(1).split()) != 6:
        raise ValueError(f"cannot replay schedule {schedule!r}: only cron(...) and at(...)")
    m, h, dom, mon, dow, year = cron.group(1).split()
    minutes, hours = _field(m, 0, 59) or set(range(60)), _field(h, 0, 23) or set(range(24))
    days, months = _field(dom, 1, 31), _field(mon, 1, 12, _MONTHS)
    weekdays, years = _field(dow, 1, 7, _DAYS), _field(year, 1970, 2199)
    out = []
    day = (first - timedelta(days=LOOKBACK_DAYS)).replace(hour=0, minute=0, second=0, microsecond=0)
    while day <= last:
        aws_dow = (day.weekday() + 1) % 7 + 1  # Monday 0 -> 2, Sunday 6 -> 1
        if (
            (days is None or day.day in days)
            and (months is None or day.month in months)
            and (weekdays is None or aws_dow in weekdays)
            and (years is None or day.year in years)
        ):
            out += [
                day.replace(hour=hh, minute=mm) for hh in sorted(hours) for mm in sorted(minutes)
            ]
        day += timedelta(days=1)
    return out


def scheduled_floor(
    actions: Sequence[ScheduledAction], start: datetime, minutes: int, *, default: int
) -> tuple[Ints, Ints]:
    """(min, max) capacity each minute from ``start``: the last action fired before it holds;
    before any, ``default`` (the scalable target's own minimum) and no upper bound change."""
    last = start + timedelta(minutes=minutes)
    fires = sorted(
        (when, a.min_capacity, a.max_capacity)
        for a in actions
        for when in _fires(a.schedule, start, last)
    )
    at = np.array([int(f[0].timestamp() // 60) for f in fires], dtype=np.int64)
    lows = np.array([default] + [f[1] for f in fires], dtype=np.int64)
    highs = np.array(
        [max([default, *(f[2] for f in fires)])] + [f[2] for f in fires], dtype=np.int64
    )
    grid = int(start.timestamp() // 60) + np.arange(minutes, dtype=np.int64)
    idx = np.searchsorted(at, grid, side="right")  # 0: before every fire
    return lows[idx], highs[idx]
