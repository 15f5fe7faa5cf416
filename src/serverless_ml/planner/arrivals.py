"""From per-minute counts to arrival times (seconds from the trace start), plus warmer pings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

Spread = Literal["uniform", "even"]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]


def user_arrivals(
    counts: npt.NDArray[np.int64], *, rng: np.random.Generator | None, spread: Spread = "uniform"
) -> Floats:
    """Arrival times, sorted: ``counts[m]`` arrivals inside minute ``m``.

    ``uniform``: independent uniform offsets in [0, 60) s (a Poisson process given the count),
    drawn from ``rng``. ``even``: evenly spaced at (j + 0.5) * 60 / c, for hand-checkable tests.
    """
    counts = np.asarray(counts, dtype=np.int64)
    minutes = np.repeat(np.arange(len(counts), dtype=np.float64) * 60.0, counts)
    if spread == "even":
        starts = np.repeat(np.cumsum(counts) - counts, counts)
        rank = np.arange(len(minutes)) - starts
        per = np.repeat(counts, counts).astype(np.float64)
        return minutes + (rank + 0.5) * 60.0 / per
    if rng is None:
        raise ValueError("uniform spread needs a random generator")
    return np.sort(minutes + rng.random(len(minutes)) * 60.0)


def warmer_times(minutes: int, rate_minutes: int, pings: int) -> Floats:
    """``pings`` simultaneous pings at second 0 of every ``rate_minutes``-th minute."""
    fires = np.arange(0, minutes, rate_minutes, dtype=np.float64) * 60.0
    return np.repeat(fires, pings)


@dataclass(frozen=True)
class Arrivals:
    """All arrivals a function sees under one strategy, sorted; ``warmer`` marks pings."""

    times: Floats
    warmer: Bools

    @classmethod
    def merge(cls, users: Floats, pings: Floats) -> Arrivals:
        """Users and warmer pings in time order; a ping goes first when times are equal."""
        if len(pings) == 0:
            return cls(users, np.zeros(len(users), dtype=np.bool_))
        where = np.searchsorted(users, pings, side="left") + np.arange(len(pings))
        is_ping = np.zeros(len(users) + len(pings), dtype=np.bool_)
        is_ping[where] = True
        times = np.empty(len(is_ping), dtype=np.float64)
        times[is_ping] = pings
        times[~is_ping] = users
        return cls(times, is_ping)
