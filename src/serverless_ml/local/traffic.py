"""When traffic arrives: a steady rate with optional bursts, and a sender that keeps to it.

``Pattern(rate_per_s=20, duration_s=30, burst=Burst(factor=5, length_s=2, every_s=10))`` sends
20 items a second for 30 s, except during the first 2 s of every 10 s, when it sends 100 a
second: the shape that makes a function scale out (cold starts) and then idle again.
Arrival times are deterministic (evenly spaced at the current rate), so runs compare.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Final

_BURST: Final = re.compile(
    r"^\s*(?P<factor>\d+(\.\d+)?)x(?P<length>\d+(\.\d+)?)s/(?P<every>\d+(\.\d+)?)s\s*$"
)
TICK_S: Final = 0.05  # arrivals are computed in steps this long


class PatternError(ValueError):
    """A traffic pattern that cannot be run (message says what to change)."""


@dataclass(frozen=True, slots=True)
class Burst:
    """``factor`` times the rate for ``length_s`` at the start of every ``every_s``."""

    factor: float
    length_s: float
    every_s: float

    @classmethod
    def parse(cls, text: str) -> Burst:
        """``"5x2s/10s"``: 5 times the rate for 2 s every 10 s."""
        match = _BURST.match(text)
        if match is None:
            raise PatternError(f"--burst {text!r}: write FACTORxLENGTHs/EVERYs, e.g. 5x2s/10s")
        burst = cls(float(match["factor"]), float(match["length"]), float(match["every"]))
        if burst.factor < 1 or not 0 < burst.length_s < burst.every_s:
            raise PatternError(f"--burst {text!r}: the factor must be >= 1 and 0 < length < every")
        return burst


@dataclass(frozen=True, slots=True)
class Pattern:
    rate_per_s: float
    duration_s: float
    burst: Burst | None = None

    def __post_init__(self) -> None:
        if self.rate_per_s <= 0 or self.duration_s <= 0:
            raise PatternError("--rate and --duration must be > 0")

    def rate_at(self, t: float) -> float:
        if self.burst is not None and t % self.burst.every_s < self.burst.length_s:
            return self.rate_per_s * self.burst.factor
        return self.rate_per_s

    def arrivals(self) -> list[float]:
        """Send times in seconds from the start, in order."""
        times: list[float] = []
        owed = 0.0
        step = 0
        while (t := step * TICK_S) < self.duration_s:
            owed += self.rate_at(t) * TICK_S
            count = int(owed)
            owed -= count
            times.extend(t + TICK_S * i / count for i in range(count))
            step += 1
        return times


@dataclass
class SendStats:
    sent: int = 0
    failed: int = 0
    behind_s: float = 0.0  # how late the latest send started (the sender could not keep up)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


def send_on_schedule(
    arrivals: Sequence[float],
    send: Callable[[int], None],
    *,
    workers: int,
    stop: threading.Event,
    stats: SendStats,
) -> None:
    """Call ``send(i)`` at ``arrivals[i]`` seconds from now on ``workers`` threads (a caller that
    waits for each answer, like a synchronous client); returns when every send finished or
    ``stop`` was set. A failing send is counted, never raised."""
    began = time.monotonic()

    def one(index: int) -> None:
        if stop.is_set():
            return
        try:
            send(index)
        except Exception:  # counted: a send that fails is traffic the summary reports
            with stats.lock:
                stats.failed += 1
        else:
            with stats.lock:
                stats.sent += 1

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="traffic") as pool:
        for index, at in enumerate(arrivals):
            delay = began + at - time.monotonic()
            if delay > 0 and stop.wait(delay):
                break
            stats.behind_s = max(0.0, -delay)
            pool.submit(one, index)
