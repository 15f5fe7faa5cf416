"""Lambda's execution-environment lifecycle, simulated exactly, request by request.

Model (see docs/planner.md):

- An environment serves one request at a time.
- An arrival first takes an idle provisioned environment if one is ready; the provisioned pool
  holds ``cap`` environments at that moment (its plan over time). When all are busy the request
  spills over to on-demand.
- On demand, it takes the most recently freed idle environment (LIFO) that has been idle at
  most ``keep_alive_s``; otherwise it starts a new environment: a cold start that holds the
  environment for ``cold_dur`` (INIT or SnapStart restore, then the request) instead of ``dur``.
- An idle environment unused for longer than the keep-alive is reaped.

The result is two boolean vectors over the arrivals: served by provisioned concurrency, and
cold start. ``simulate_reference`` is the plain event loop; ``simulate`` gives identical answers
faster (equality is a property test):

- Provisioned pool: if every arrival were accepted, ``busy_all[i]`` environments would be busy
  at arrival i; the truth is that minus the spilled arrivals still running. Only arrivals with
  ``busy_all >= cap`` can spill, so a loop over those alone decides every arrival.
- On-demand pool: long stretches are scanned with numpy, and the loop takes over where events
  are dense (bursts of cold starts) or traffic is sparse.

Why the numpy scan is exact (on-demand pool): with LIFO reuse, the idle environment that would
serve an arrival at level L = busy + 1 is the one last busy at level L, and it is alive iff the
busy count reached L within the last ``keep_alive_s``. So an arrival is cold iff the number of
busy environments just before it equals the most that were busy during the keep-alive window.
Assuming no cold start, busy counts follow from sorted end times; the first arrival that breaks
the assumption is a cold start, after which every idle environment is known to be dead.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


# Cost model measured on the development machine: the loop handles an arrival in ~0.4 us; a
# numpy scan costs ~30 us plus ~0.1 us per arrival, so it pays only over long event-free runs.
@dataclass(frozen=True)
class Tuning:
    """When the fast path uses numpy instead of the loop (tests shrink these)."""

    min_window: int = 64  # fewer arrivals (in all, or within one keep-alive): loop
    scan_start: int = 512  # first scan width; doubles after a clean scan
    scan_max: int = 1 << 16
    scan_gain: int = 128  # a scan that advanced less than this means events are dense ...
    loop_stretch: int = 1024  # ... so the loop takes the next this many arrivals

    def next_width(self, width: int, gained: int, clean: bool) -> int:
        if clean:
            return min(width * 2, self.scan_max)
        return max(self.scan_start, min(width, 2 * gained))


DEFAULT_TUNING = Tuning()


@dataclass(frozen=True)
class Flags:
    """Per arrival: served by provisioned concurrency; cold start (on-demand INIT or restore)."""

    provisioned: Bools
    cold: Bools


def simulate_reference(
    t: Floats, dur: Floats, cold_dur: Floats, cap: Ints | None, keep_alive_s: float
) -> Flags:
    """The plain event loop, one arrival at a time (the definition the fast path must match)."""
    return simulate(t, dur, cold_dur, cap, keep_alive_s, tuning=None)


def simulate(
    t: Floats,
    dur: Floats,
    cold_dur: Floats,
    cap: Ints | None,
    keep_alive_s: float,
    *,
    tuning: Tuning | None = DEFAULT_TUNING,
) -> Flags:
    """Simulate arrivals ``t`` (sorted seconds) with per-arrival warm and cold durations.

    ``cap`` is the ready provisioned concurrency at each arrival (``None``: none);
    ``tuning=None`` runs the plain loop only.
    """
    n = len(t)
    provisioned = route_provisioned(t, dur, cap, tuning=tuning)
    if not provisioned.any():
        return Flags(
            provisioned=provisioned, cold=_on_demand(t, dur, cold_dur, keep_alive_s, tuning)
        )
    spill = np.flatnonzero(~provisioned)
    cold = np.zeros(n, dtype=np.bool_)
    if len(spill):
        od_cold = _on_demand(t[spill], dur[spill], cold_dur[spill], keep_alive_s, tuning)
        cold[spill[od_cold]] = True
    return Flags(provisioned=provisioned, cold=cold)


def route_provisioned(
    t: Floats, dur: Floats, cap: Ints | None, *, tuning: Tuning | None = DEFAULT_TUNING
) -> Bools:
    """Which arrivals a provisioned environment serves (the rest spill over to on-demand)."""
    n = len(t)
    provisioned = np.zeros(n, dtype=np.bool_)
    if cap is not None and n and cap.max() > 0:
        eligible = np.flatnonzero(cap > 0)
        if len(eligible) == n:
            provisioned = _route_provisioned(t, dur, cap, tuning)
        else:
            accepted = _route_provisioned(t[eligible], dur[eligible], cap[eligible], tuning)
            provisioned[eligible[accepted]] = True
    return provisioned


def _constant(values: Floats) -> bool:
    return len(values) == 0 or bool(values.min() == values.max())


# -- provisioned pool: a loss system whose size follows the plan ---------------------------------
def _route_provisioned(t: Floats, dur: Floats, cap: Ints, tuning: Tuning | None) -> Bools:
    """Which arrivals find a provisioned environment free (the rest spill over).

    Exact shortcut: if every arrival were accepted, ``busy_all[i]`` environments would be busy
    when arrival i comes; the truth is that minus the spilled arrivals still "running" then. So
    only arrivals with ``busy_all >= cap`` can spill, and a loop over those alone decides them.
    """
    n = len(t)
    accepted = np.zeros(n, dtype=np.bool_)
    if tuning is None or n < tuning.min_window:
        _pc_loop(t, dur, cap, accepted)
        return accepted
    ends = t + dur
    busy_all = np.arange(n) - np.searchsorted(
        ends if _constant(dur) else np.sort(ends), t, side="right"
    )
    candidates = np.flatnonzero(busy_all >= cap)
    accepted[:] = True
    spilled: list[float] = []  # heap of end times the spilled arrivals would have had
    heappop, heappush = heapq.heappop, heapq.heappush
    for i, ti, bi, ci, ei in zip(
        candidates.tolist(),
        t[candidates].tolist(),
        busy_all[candidates].tolist(),
        cap[candidates].tolist(),
        ends[candidates].tolist(),
        strict=True,
    ):
        while spilled and spilled[0] <= ti:
            heappop(spilled)
        if bi - len(spilled) >= ci:
            accepted[i] = False
            heappush(spilled, ei)
    return accepted


def _pc_loop(t: Floats, dur: Floats, cap: Ints, accepted: Bools) -> None:
    heappop, heappush = heapq.heappop, heapq.heappush
    run: list[float] = []  # heap of end times of busy provisioned environments
    for i, (ti, di, ci) in enumerate(zip(t.tolist(), dur.tolist(), cap.tolist(), strict=True)):
        while run and run[0] <= ti:
            heappop(run)
        if len(run) < ci:
            heappush(run, ti + di)
            accepted[i] = True


# -- on-demand pool: LIFO reuse, keep-alive reaping, cold starts ---------------------------------
def _on_demand(
    t: Floats, dur: Floats, cold_dur: Floats, keep_alive_s: float, tuning: Tuning | None
) -> Bools:
    n = len(t)
    cold = np.zeros(n, dtype=np.bool_)
    run: list[float] = []  # heap of end times of busy environments
    idle: list[float] = []  # free times of idle environments, most recent last (LIFO)
    if tuning is None or n < tuning.min_window:
        _od_loop(t, dur, cold_dur, 0, n, run, idle, cold, keep_alive_s)
        return cold
    sorted_ends = _constant(dur)
    width = tuning.scan_start
    i = 0
    while i < n:
        # a scan must stop before the first arrival more than one keep-alive after t[i]
        head = t[i : i + width]
        b = i + int(np.searchsorted(head - keep_alive_s, t[i], side="right"))
        if b - i < tuning.min_window:
            stop = min(n, i + tuning.loop_stretch)  # sparse here: loop
            _od_loop(t, dur, cold_dur, i, stop, run, idle, cold, keep_alive_s)
            i = stop
            continue
        nxt, cold_at = _od_scan(t, dur, cold_dur, i, b, run, idle, cold, keep_alive_s, sorted_ends)
        width = tuning.next_width(width, nxt - i, cold_at is None)
        if nxt - i < tuning.scan_gain and nxt < n:  # a burst of cold starts: loop for a while
            stop = min(n, nxt + tuning.loop_stretch)
            _od_loop(t, dur, cold_dur, nxt, stop, run, idle, cold, keep_alive_s)
            nxt = stop
        i = nxt
    return cold


def _od_loop(
    t: Floats,
    dur: Floats,
    cold_dur: Floats,
    lo: int,
    hi: int,
    run: list[float],
    idle: list[float],
    cold: Bools,
    keep_alive_s: float,
) -> None:
    heappop, heappush = heapq.heappop, heapq.heappush
    tl, dl, cdl = t[lo:hi].tolist(), dur[lo:hi].tolist(), cold_dur[lo:hi].tolist()
    for k in range(hi - lo):
        ti = tl[k]
        while run and run[0] <= ti:
            idle.append(heappop(run))
        if idle and idle[-1] >= ti - keep_alive_s:
            idle.pop()
            heappush(run, ti + dl[k])
        else:
            idle.clear()  # the most recent idle environment is reaped, so are all older ones
            cold[lo + k] = True
            heappush(run, ti + cdl[k])


def _od_scan(
    t: Floats,
    dur: Floats,
    cold_dur: Floats,
    a: int,
    b: int,
    run: list[float],
    idle: list[float],
    cold: Bools,
    keep_alive_s: float,
    sorted_ends: bool,
) -> tuple[int, int | None]:
    """Scan arrivals a..b-1 (all within one keep-alive of t[a]) assuming warm starts.

    Returns (next arrival to process, index of the cold start that ended the scan or None).
    """
    t0 = t[a]
    while run and run[0] <= t0:
        idle.append(heapq.heappop(run))
    running = np.sort(np.asarray(run, dtype=np.float64))
    free = np.asarray(idle, dtype=np.float64)  # ascending: idle[-1] is level busy+1
    b0 = len(running)
    n = b - a
    tt = t[a:b]
    ends = tt + dur[a:b]
    busy = (
        b0
        - np.searchsorted(running, tt, side="right")
        + np.arange(n)
        - np.searchsorted(ends if sorted_ends else np.sort(ends), tt, side="right")
    )
    before = b0 + len(free) - np.searchsorted(free, tt - keep_alive_s, side="left")
    reached = np.empty(n, dtype=np.int64)
    reached[0] = 0
    if n > 1:
        np.maximum.accumulate(busy[:-1] + 1, out=reached[1:])
    is_cold = busy >= np.maximum(before, reached)
    if is_cold.any():
        k = int(np.argmax(is_cold))
        now = tt[k]
        both = np.concatenate([running, ends[:k]])
        run[:] = both[both > now].tolist()
        run.append(now + cold_dur[a + k])
        heapq.heapify(run)
        idle.clear()  # a cold start means no idle environment was alive
        cold[a + k] = True
        return a + k + 1, a + k
    if b >= len(t):
        return b, None
    _rebuild_state(t[b], running, free, tt, ends, run, idle, keep_alive_s)
    return b, None


def _rebuild_state(
    now: float,
    running: Floats,
    free: Floats,
    tt: Floats,
    ends: Floats,
    run: list[float],
    idle: list[float],
    keep_alive_s: float,
) -> None:
    """Busy and idle environments just before the arrival at ``now`` after a warm scan."""
    b0 = len(running)
    every = np.concatenate([running, ends])
    done = np.sort(every[every <= now])
    still = every[every > now]
    run[:] = still.tolist()
    heapq.heapify(run)
    # the level each end frees: busy just before it (arrivals at the same instant come after)
    level = b0 + np.searchsorted(tt, done, side="left") - np.arange(len(done))
    top = max(int(level.max()) if len(level) else 0, b0 + len(free))
    last = np.full(top + 1, -np.inf)
    np.maximum.at(last, level, done)
    old_levels = b0 + len(free) - np.arange(len(free))  # free[j] sits at this level
    last[old_levels] = np.maximum(last[old_levels], free)
    stack = last[len(still) + 1 :][::-1]  # highest level at the bottom, level busy+1 on top
    alive_from = int(np.searchsorted(stack, now - keep_alive_s, side="left"))
    idle[:] = stack[alive_from:].tolist()
