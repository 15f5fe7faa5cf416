"""Run one function's traffic under one setup (PC over time, warmer, SnapStart) and measure it.

Glue between traces and the simulators: arrival times are drawn once per function (seeded),
warmer pings are merged in, the provisioned pool follows the setup's per-minute target (an
increase is ready ``pc_ready_delay_min`` minutes later), and the statistics cover a window of
minutes, after simulating everything before it so the window starts with a realistic warm pool.

Two simulators (``Workload.simulation``): ``exact`` (``lifecycle``, request by request, the
reference) and ``aggregate`` (``aggregate``: minutes with more than ``dense_above`` invocations
as blocks, the others request by request where it matters), whose cost grows with minutes, not
invocations. ``auto`` (the default) takes the exact one for a window with few invocations
(``Workload.exact_up_to``), where it is the faster of the two.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from serverless_ml.core import limits
from serverless_ml.planner.aggregate import (
    DENSE_ABOVE,
    Blocks,
    build_blocks,
    run_blocks,
    sparse_arrivals,
)
from serverless_ml.planner.aggregate import slots_per_minute as _slots_per_minute
from serverless_ml.planner.arrivals import Arrivals, Spread, user_arrivals, warmer_times
from serverless_ml.planner.errors import PlannerError
from serverless_ml.planner.lifecycle import DEFAULT_TUNING, Flags, Tuning, simulate
from serverless_ml.planner.traces import checked_counts, total
from serverless_ml.spec.concurrency import Warmer

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

# Assumptions, each overridable: measure yours (``serverless-ml bench cold-start``) and pass it.
DEFAULT_INIT_MS = 600.0  # sandbox + runtime start + imports + ONNX session + warm-up, 1 GB arm64
DEFAULT_RESTORE_MS = 350.0  # SnapStart restore of a numpy + onnxruntime snapshot
DEFAULT_DURATION_MS = 50.0
DEFAULT_MEMORY_MB = 1024
DEFAULT_KEEP_ALIVE_MIN = 10.0  # AWS publishes none; the report sweeps KEEP_ALIVE_SWEEP_MIN
KEEP_ALIVE_SWEEP_MIN = (5.0, 10.0, 20.0, 30.0, 45.0)
DEFAULT_PC_READY_DELAY_MIN = 2  # "allocating provisioned concurrency can take a few minutes"
DEFAULT_WARMER_MS = 5.0  # a warmer ping is answered without inference
MAX_DURATION_MS = limits.LAMBDA_TIMEOUT_MAX_S * 1000.0
MAX_INIT_MS = limits.LAMBDA_TIMEOUT_MAX_S * 1000.0  # bound for INIT and restore assumptions
MAX_KEEP_ALIVE_MIN = 24 * 60.0
MAX_PC_READY_DELAY_MIN = 24 * 60
# The exact simulator holds every arrival in memory (~40 bytes each): refuse more than this.
EXACT_MAX_ARRIVALS = 50_000_000

AUTO_EXACT_PER_MINUTE = 2.0  # auto: below this average the exact simulator is the faster
AUTO_EXACT_ARRIVALS = 1_000
Simulation = Literal["auto", "exact", "aggregate"]
SIMULATIONS: tuple[Simulation, ...] = ("auto", "exact", "aggregate")


@dataclass(frozen=True, kw_only=True)
class FunctionProfile:
    """What one invocation of the function costs in time and memory."""

    duration_ms: float = DEFAULT_DURATION_MS
    memory_mb: float = DEFAULT_MEMORY_MB
    init_ms: float = DEFAULT_INIT_MS
    restore_ms: float = DEFAULT_RESTORE_MS

    def __post_init__(self) -> None:
        if not (self.duration_ms > 0 and self.duration_ms <= MAX_DURATION_MS):
            raise PlannerError(
                "SML612",
                f"duration_ms={self.duration_ms}: must be > 0 and at most Lambda's "
                f"{limits.LAMBDA_TIMEOUT_MAX_S} s timeout",
            )
        if not limits.LAMBDA_MEMORY_MIN_MB <= self.memory_mb <= limits.LAMBDA_MEMORY_MAX_MB:
            raise PlannerError(
                "SML612",
                f"memory_mb={self.memory_mb}: Lambda allows {limits.LAMBDA_MEMORY_MIN_MB}.."
                f"{limits.LAMBDA_MEMORY_MAX_MB}",
            )
        if not (0 <= self.init_ms <= MAX_INIT_MS and 0 <= self.restore_ms <= MAX_INIT_MS):
            raise PlannerError(
                "SML612",
                f"init_ms={self.init_ms}, restore_ms={self.restore_ms}: each must be in "
                f"0..{MAX_INIT_MS:g}",
            )

    @property
    def memory_gb(self) -> float:
        return self.memory_mb / 1024.0


@dataclass(frozen=True, kw_only=True)
class Lifecycle:
    """Platform behaviour the planner assumes (AWS documents none of these numbers)."""

    keep_alive_min: float = DEFAULT_KEEP_ALIVE_MIN
    pc_ready_delay_min: int = DEFAULT_PC_READY_DELAY_MIN
    warmer_ms: float = DEFAULT_WARMER_MS
    spread: Spread = "uniform"

    def __post_init__(self) -> None:
        if not (self.keep_alive_min > 0 and self.keep_alive_min <= MAX_KEEP_ALIVE_MIN):
            raise PlannerError(
                "SML612",
                f"keep_alive_min={self.keep_alive_min}: must be > 0 and at most "
                f"{MAX_KEEP_ALIVE_MIN:g}",
            )
        if not 0 <= self.pc_ready_delay_min <= MAX_PC_READY_DELAY_MIN:
            raise PlannerError(
                "SML612",
                f"pc_ready_delay_min={self.pc_ready_delay_min}: use 0..{MAX_PC_READY_DELAY_MIN}",
            )
        if not (self.warmer_ms > 0 and self.warmer_ms <= MAX_DURATION_MS):
            raise PlannerError("SML612", f"warmer_ms={self.warmer_ms}: must be in (0, 900000]")


@dataclass(frozen=True, kw_only=True)
class Setup:
    """How warm capacity is kept for one function, as the simulator needs it.

    ``pc_target``: provisioned environments configured in each trace minute (billed), or None.
    """

    pc_target: Ints | None = None
    warmer: Warmer | None = None
    snapstart: bool = False


@dataclass(frozen=True, eq=False)
class Workload:
    """One function's traffic, drawn once and shared by every setup it is simulated under.

    ``times``: the arrivals that can be simulated one by one: all of them when ``simulation``
    is ``exact``, else those of the minutes with at most ``dense_above`` invocations (the
    others are blocks, see ``aggregate``).
    """

    name: str
    counts: Ints
    profile: FunctionProfile
    times: Floats  # user arrival times, sorted seconds from the trace start
    demand_peak: Ints = field(repr=False)  # most requests in flight at an arrival, per minute
    simulation: Simulation = "exact"
    seed: tuple[int, ...] = ()
    spread: Spread = "uniform"
    dense_above: int = DENSE_ABOVE
    _blocks: dict[int, Blocks] = field(default_factory=dict, repr=False)
    _prefix: tuple[Ints, Floats] | None = field(default=None, repr=False)

    @classmethod
    def build(
        cls,
        name: str,
        counts: Ints,
        profile: FunctionProfile,
        *,
        seed: int | tuple[int, ...],
        spread: Spread = "uniform",
        simulation: Simulation = "auto",
        dense_above: int = DENSE_ABOVE,
    ) -> Workload:
        if simulation not in SIMULATIONS:
            raise PlannerError("SML612", f"simulation {simulation!r}: use one of {SIMULATIONS}")
        counts = checked_counts(name, counts)
        seeds = (seed,) if isinstance(seed, int) else tuple(seed)
        times, dense = sparse_arrivals(counts, seed, spread=spread, dense_above=dense_above)
        if simulation == "exact":
            arrivals = total(counts)
            if arrivals > EXACT_MAX_ARRIVALS:
                raise PlannerError(
                    "SML616",
                    f"{name}: {arrivals:,} invocations is more than the exact simulator holds "
                    f"({EXACT_MAX_ARRIVALS:,}); use the aggregate (or auto) simulation",
                )
            if dense.any():  # the busy minutes' arrivals from a stream of their own
                rng = np.random.default_rng((*seeds, 1))
                busy = user_arrivals(np.where(dense, counts, 0), rng=rng, spread=spread)
                times = np.sort(np.concatenate([times, busy]), kind="stable")
            peak = peak_concurrency(times, profile, len(counts))
            return cls(name, counts, profile, times, peak, "exact", seeds, spread, dense_above)
        blocks = _blocks(counts, profile, times, seeds, spread, dense_above, 1)
        peak = np.maximum(peak_concurrency(times, profile, len(counts)), blocks.peak)
        prefix = (
            np.concatenate([[0], np.cumsum(dense)]).astype(np.int64),
            np.concatenate([[0.0], np.cumsum(counts, dtype=np.float64)]),
        )
        work = cls(
            name, counts, profile, times, peak, simulation, seeds, spread, dense_above, {}, prefix
        )
        work._blocks[1] = blocks
        return work

    def exact_up_to(self, minutes: int) -> bool:
        """Whether minutes [0, minutes) are simulated request by request: always for ``exact``,
        never for ``aggregate``; for ``auto`` when no minute there holds more than
        ``dense_above`` invocations and they hold at most ``AUTO_EXACT_PER_MINUTE`` per minute
        on average (or ``AUTO_EXACT_ARRIVALS`` in all), where the exact simulator is the faster
        one. Decided on those minutes alone, so a fit on the history never depends on later
        traffic."""
        if self.simulation != "auto" or self._prefix is None:
            return self.simulation == "exact"
        dense_before, arrived = self._prefix
        if dense_before[minutes]:  # bursts: blocks are cheaper than their requests one by one
            return False
        return bool(arrived[minutes] <= max(AUTO_EXACT_ARRIVALS, AUTO_EXACT_PER_MINUTE * minutes))

    def arrivals_up_to(self, minutes: int) -> Floats:
        """Every user arrival before minute ``minutes``, sorted (for the exact simulator)."""
        cut = self.times[: int(np.searchsorted(self.times, minutes * 60.0, side="left"))]
        if self.simulation == "exact" or self._prefix is None or not self._prefix[0][minutes]:
            return cut
        # minutes busier than ``dense_above`` draw from a stream of their own, in minute order,
        # so a shorter window sees the same arrivals as a longer one
        counts = self.counts[:minutes]
        rng = np.random.default_rng((*self.seed, 1))
        busy = user_arrivals(
            np.where(counts > self.dense_above, counts, 0), rng=rng, spread=self.spread
        )
        return np.sort(np.concatenate([cut, busy]), kind="stable")

    def blocks(self, per_minute: int) -> Blocks:
        """The traffic in ``per_minute`` slots a minute (drawn once, then kept)."""
        if per_minute not in self._blocks:
            self._blocks[per_minute] = _blocks(
                self.counts,
                self.profile,
                self.times,
                self.seed,
                self.spread,
                self.dense_above,
                per_minute,
            )
        return self._blocks[per_minute]


def _blocks(
    counts: Ints,
    profile: FunctionProfile,
    times: Floats,
    seed: tuple[int, ...],
    spread: Spread,
    dense_above: int,
    per_minute: int,
) -> Blocks:
    return build_blocks(
        counts,
        profile.duration_ms / 1000.0,
        times,
        np.random.default_rng((*seed, 2, per_minute)),
        spread=spread,
        per_minute=per_minute,
        dense_above=dense_above,
    )


def peak_concurrency(times: Floats, profile: FunctionProfile, minutes: int) -> Ints:
    """Per minute, the most requests in flight at an arrival if every start were warm."""
    peak = np.zeros(minutes, dtype=np.int64)
    if len(times):
        ends = times + profile.duration_ms / 1000.0
        in_flight = np.arange(1, len(times) + 1) - np.searchsorted(ends, times, side="right")
        np.maximum.at(peak, (times // 60.0).astype(np.int64), in_flight)
    return peak


def ready_capacity(target: Ints, delay_min: int) -> Ints:
    """Provisioned environments ready each minute: increases arrive ``delay_min`` late."""
    ready = np.array(target, dtype=np.int64)
    for lag in range(1, min(delay_min, len(target)) + 1):
        shifted = np.concatenate([np.full(lag, target[0]), target[:-lag]])[: len(target)]
        ready = np.minimum(ready, shifted)
    return ready


@dataclass(frozen=True)
class SimStats:
    """What happened in a window of ``minutes`` minutes (user requests unless named ``warmer``)."""

    minutes: int
    invocations: int
    cold_starts: int
    provisioned_served: int
    warmer_pings: int
    warmer_cold_starts: int
    cold_latency_ms: float  # added latency of one cold start (INIT, or restore with SnapStart)
    od_billed_ms: float  # on-demand duration billed, pings included, INIT/restore excluded
    pc_billed_ms: float  # duration billed on provisioned environments
    pc_env_minutes: int  # provisioned environments configured, summed over the minutes
    snapstart: bool
    simulated_arrivals: int  # arrivals covered to get here (window and warm-up, pings too)
    cold_per_minute: Ints = field(repr=False)
    pc_ready: Ints | None = field(default=None, repr=False)
    warm_envs: Ints | None = field(default=None, repr=False)  # with ``detail``: see ``run``
    explicit_arrivals: int | None = None  # of those, simulated one by one (None: all of them)
    aggregate_minutes: int = 0  # minutes simulated as blocks

    @property
    def per_invocation(self) -> int:
        """Arrivals simulated one by one."""
        return self.simulated_arrivals if self.explicit_arrivals is None else self.explicit_arrivals

    @property
    def cold_rate(self) -> float:
        return self.cold_starts / self.invocations if self.invocations else 0.0

    @property
    def billed_cold_starts(self) -> int:
        """INITs (or restores) paid for: users' and warmers'."""
        return self.cold_starts + self.warmer_cold_starts

    def added_latency_ms(self, q: float) -> float:
        """Nearest-rank ``q``-quantile (0..1) of the start-up latency added to each request."""
        return added_latency_quantile(
            [(self.invocations, self.cold_starts, self.cold_latency_ms)], q
        )


def added_latency_quantile(groups: list[tuple[int, int, float]], q: float) -> float:
    """Nearest-rank quantile over pooled requests: (invocations, cold starts, cold latency)."""
    total = sum(n for n, _, _ in groups)
    if total == 0:
        return 0.0
    rank = max(1, math.ceil(q * total))  # 1-based rank in ascending order
    warm = total - sum(c for _, c, _ in groups)
    if rank <= warm:
        return 0.0
    seen = warm
    for _, cold, latency in sorted(groups, key=lambda g: g[2]):
        seen += cold
        if rank <= seen:
            return latency
    return max(g[2] for g in groups)  # pragma: no cover


def run(
    work: Workload,
    setup: Setup,
    lifecycle: Lifecycle,
    window: tuple[int, int],
    *,
    tuning: Tuning | None = DEFAULT_TUNING,
    detail: bool = False,
) -> SimStats:
    """Simulate minutes [0, window[1]) and measure minutes [window[0], window[1]).

    With ``detail``, also estimate the warm pool each minute: provisioned environments ready
    plus on-demand ones kept alive, the latter taken as the most on-demand requests in flight
    at once within the last keep-alive (what LIFO reuse keeps alive).
    """
    w0, w1 = window
    if not 0 <= w0 < w1 <= len(work.counts):
        raise PlannerError("SML612", f"window {window} outside the trace (0..{len(work.counts)})")
    if not work.exact_up_to(w1):
        return _run_aggregate(work, setup, lifecycle, window, detail=detail)
    profile = work.profile
    users = work.arrivals_up_to(w1)
    pings = (
        warmer_times(w1, setup.warmer.rate_minutes, setup.warmer.concurrency)
        if setup.warmer
        else np.empty(0)
    )
    arrivals = Arrivals.merge(users, pings)
    t, is_ping = arrivals.times, arrivals.warmer
    dur = np.full(len(t), profile.duration_ms / 1000.0)
    if len(pings):
        dur[is_ping] = lifecycle.warmer_ms / 1000.0
    latency_ms = profile.restore_ms if setup.snapstart else profile.init_ms
    cold_dur = dur + latency_ms / 1000.0
    minute = (t // 60.0).astype(np.int64)
    cap = ready = None
    if setup.pc_target is not None:
        ready = ready_capacity(setup.pc_target[:w1], lifecycle.pc_ready_delay_min)
        cap = ready[minute]
    flags = simulate(t, dur, cold_dur, cap, lifecycle.keep_alive_min * 60.0, tuning=tuning)
    inside = minute >= w0
    user = inside & ~is_ping
    ping = inside & is_ping
    cold_user = flags.cold & user
    od = inside & ~flags.provisioned
    pc = inside & flags.provisioned
    user_ms = math.ceil(profile.duration_ms)
    ping_ms = math.ceil(lifecycle.warmer_ms)
    n_od_ping = int(np.count_nonzero(od & is_ping))
    n_pc_ping = int(np.count_nonzero(pc & is_ping))
    return SimStats(
        minutes=w1 - w0,
        invocations=int(np.count_nonzero(user)),
        cold_starts=int(np.count_nonzero(cold_user)),
        provisioned_served=int(np.count_nonzero(pc & ~is_ping)),
        warmer_pings=int(np.count_nonzero(ping)),
        warmer_cold_starts=int(np.count_nonzero(flags.cold & ping)),
        cold_latency_ms=latency_ms,
        od_billed_ms=float((np.count_nonzero(od) - n_od_ping) * user_ms + n_od_ping * ping_ms),
        pc_billed_ms=float((np.count_nonzero(pc) - n_pc_ping) * user_ms + n_pc_ping * ping_ms),
        pc_env_minutes=int(setup.pc_target[w0:w1].sum()) if setup.pc_target is not None else 0,
        snapstart=setup.snapstart,
        simulated_arrivals=len(t),
        cold_per_minute=np.bincount(minute[cold_user] - w0, minlength=w1 - w0).astype(np.int64),
        pc_ready=None if ready is None else ready[w0:w1],
        warm_envs=_warm_pool(t, dur, cold_dur, flags, ready, lifecycle, w1)[w0:w1]
        if detail
        else None,
    )


def _run_aggregate(
    work: Workload, setup: Setup, lifecycle: Lifecycle, window: tuple[int, int], *, detail: bool
) -> SimStats:
    w0, w1 = window
    profile = work.profile
    keep_s = lifecycle.keep_alive_min * 60.0
    blocks = work.blocks(_slots_per_minute(keep_s))
    r = blocks.per_minute
    latency_ms = profile.restore_ms if setup.snapstart else profile.init_ms
    ready = None
    if setup.pc_target is not None:
        ready = ready_capacity(setup.pc_target[:w1], lifecycle.pc_ready_delay_min)
    out = run_blocks(
        blocks,
        minutes=w1,
        start_slot=w0 * r,
        duration_s=profile.duration_ms / 1000.0,
        cold_s=latency_ms / 1000.0,
        keep_alive_s=keep_s,
        ready=ready,
        warmer=setup.warmer,
        ping_s=lifecycle.warmer_ms / 1000.0,
    )
    per_minute = out.user_cold[w0 * r : w1 * r].reshape(w1 - w0, r).sum(axis=1)
    warmer = setup.warmer
    pings = len(range(0, w1, warmer.rate_minutes)) * warmer.concurrency if warmer else 0
    window_pings = (
        (len(range(0, w1, warmer.rate_minutes)) - len(range(0, w0, warmer.rate_minutes)))
        * warmer.concurrency
        if warmer
        else 0
    )
    user_ms, ping_ms = math.ceil(profile.duration_ms), math.ceil(lifecycle.warmer_ms)
    warm_envs = None
    if detail:
        top = out.top[: w1 * r].reshape(w1, r).max(axis=1)
        span = max(1, math.ceil(lifecycle.keep_alive_min))
        alive = top.copy()
        for lag in range(1, min(span, w1)):
            alive[lag:] = np.maximum(alive[lag:], top[:-lag])
        warm_envs = (alive + (ready if ready is not None else 0))[w0:w1]
    return SimStats(
        minutes=w1 - w0,
        invocations=total(work.counts[w0:w1]),
        cold_starts=total(per_minute),
        provisioned_served=round(out.users_pc),
        warmer_pings=window_pings,
        warmer_cold_starts=total(out.ping_cold[w0 * r : w1 * r]),
        cold_latency_ms=latency_ms,
        od_billed_ms=out.users_od * user_ms + out.pings_od * ping_ms,
        pc_billed_ms=out.users_pc * user_ms + out.pings_pc * ping_ms,
        pc_env_minutes=total(setup.pc_target[w0:w1]) if setup.pc_target is not None else 0,
        snapstart=setup.snapstart,
        simulated_arrivals=total(work.counts[:w1]) + pings,
        cold_per_minute=per_minute.astype(np.int64),
        pc_ready=None if ready is None else ready[w0:w1],
        warm_envs=warm_envs,
        explicit_arrivals=out.explicit,
        aggregate_minutes=int(np.count_nonzero(blocks.dense[: w1 * r])) // r,
    )


def _warm_pool(
    t: Floats,
    dur: Floats,
    cold_dur: Floats,
    flags: Flags,
    ready: Ints | None,
    lifecycle: Lifecycle,
    minutes: int,
) -> Ints:
    od = ~flags.provisioned
    starts = t[od]
    ends = np.sort(starts + np.where(flags.cold[od], cold_dur[od], dur[od]))
    in_flight = np.arange(1, len(starts) + 1) - np.searchsorted(ends, starts, side="right")
    peak = np.zeros(minutes, dtype=np.int64)
    np.maximum.at(peak, (starts // 60.0).astype(np.int64), in_flight)
    span = max(1, math.ceil(lifecycle.keep_alive_min))
    alive = peak.copy()
    for lag in range(1, span):
        alive[lag:] = np.maximum(alive[lag:], peak[:-lag])
    return alive + (ready if ready is not None else 0)
