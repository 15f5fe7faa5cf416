"""Busy minutes in aggregate: simulation cost grows with functions x minutes, not invocations.

A function's trace is cut into slots (a minute; ``60/r`` s when the keep-alive is shorter than
a minute, so that an environment used in a slot is still alive at its end). A slot of a minute
with at most ``dense_above`` invocations keeps its invocations (drawn as the exact simulator
draws them) and, where that matters, is simulated one invocation at a time; a busier slot is a
block summarized by the most requests it has in flight (one draw from the scan statistic,
``poisson.sample_peaks``) and when.

State, as in ``lifecycle``: with LIFO reuse the idle environment serving the L-th concurrent
request is alive iff L requests were in flight within the keep-alive. Each slot leaves
(level, time) pairs: "L requests were in flight at time t" (its peak, the level it holds to its
end, level 1 at its last request's end, its warmer pings). A block's cold starts are the levels
it needs beyond those alive when it needs them (base levels at its first arrival, the peak at
its peak). Once short of environments, the requests arriving during a new environment's INIT
need environments too: the block starts at least ``1 + over + 0.7 sqrt(over)`` of them, ``over``
being the requests in flight that overflow the warm pool (Erlang B) over duration + INIT.
Provisioned concurrency serves a block's requests but the share Erlang B turns away.

Cold starts only happen where a slot needs more than is alive even without earlier cold
starts (which only add environments): one vectorized pass finds those slots, and a loop over
them alone settles them in order, against the pairs as they stand.
"""

from __future__ import annotations

import bisect
import heapq
import math
from dataclasses import dataclass, field, fields, replace

import numpy as np
import numpy.typing as npt

from serverless_ml.planner.arrivals import Arrivals, Spread, user_arrivals, warmer_times
from serverless_ml.planner.lifecycle import route_provisioned
from serverless_ml.planner.poisson import erlang_b, erlang_b_one, poisson_quantile, sample_peaks
from serverless_ml.spec.concurrency import Warmer

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

DENSE_ABOVE = 16  # a minute with more invocations than this is simulated in aggregate
ONSET_SPREAD = 0.7  # the onset's spread above its mean, fitted to the exact simulator
MAX_SLOTS_PER_MINUTE = 60  # keep-alives under a second are treated as one second
_PAIRS = 4  # (level, time) pairs a slot leaves: ping, peak, end level, level 1
_CORRECTED = 3  # extra pairs written when a slot's cold starts are settled
MAX_LEVEL = 2**62  # requests in flight beyond this (traces past 10^18 a minute) are clamped


def slots_per_minute(keep_alive_s: float) -> int:
    """Slots per minute so that a slot is never longer than the keep-alive."""
    return min(MAX_SLOTS_PER_MINUTE, max(1, math.ceil(60.0 / keep_alive_s - 1e-9)))


@dataclass(frozen=True, eq=False)
class Blocks:
    """One function's traffic cut into slots of ``slot_s`` seconds, drawn once per function."""

    slot_s: float
    per_minute: int
    dense: Bools  # slots of minutes with more than ``dense_above`` invocations
    count: Floats  # invocations per slot
    mean: Floats  # dense: requests in flight on average
    peak: Ints  # dense: most requests in flight at an arrival (one draw)
    first: Floats  # dense: offsets in the slot of the first, the last and the peak arrival
    last: Floats
    at_peak: Floats
    coin: Floats  # dense: a uniform draw that rounds fractional cold starts
    dense_cum: Floats  # invocations of dense slots before each slot boundary
    carried: Floats  # requests of dense slots still in flight at each slot's start (mean)
    start_busy: Ints  # dense: those in flight when the slot starts (one draw)
    times: Floats  # invocations of the other slots, sorted seconds from the trace start
    dense_slots: Ints = field(init=False, repr=False)
    streams: dict[tuple[int, int, float], _Stream] = field(
        default_factory=dict, init=False, repr=False
    )  # the whole trace's on-demand stream of setups without provisioned concurrency
    rows: dict[tuple[int, int, float], _Rows] = field(
        default_factory=dict, init=False, repr=False
    )  # their rows
    warm: dict[tuple[int, int, float, float, int, int], _Warm] = field(
        default_factory=dict, init=False, repr=False
    )  # and their warm pass, per keep-alive

    def __post_init__(self) -> None:
        object.__setattr__(self, "dense_slots", np.flatnonzero(self.dense))


def build_blocks(
    counts: Ints,
    duration_s: float,
    times: Floats,
    rng: np.random.Generator,
    *,
    spread: Spread,
    per_minute: int = 1,
    dense_above: int = DENSE_ABOVE,
) -> Blocks:
    """Cut the trace into slots: ``times`` are the invocations of the minutes with at most
    ``dense_above`` (see ``sparse_arrivals``); ``rng`` draws every dense slot's peak and times,
    six numbers per slot in slot order (so a slot's draws depend on no later minute)."""
    r, minutes = per_minute, len(counts)
    slot_s, n = 60.0 / r, minutes * r
    dense_min = counts > dense_above
    dense = np.repeat(dense_min, r)
    count = np.bincount(
        np.minimum((times // slot_s).astype(np.int64), max(n - 1, 0)), minlength=n
    ).astype(np.float64)
    split = (counts // r)[:, None] + (np.arange(r)[None, :] < (counts % r)[:, None])
    count[dense] = split.ravel()[dense].astype(np.float64)
    busy_count: Floats = np.where(dense, count, 0.0)
    dense_cum: Floats = np.concatenate([[0.0], np.cumsum(busy_count)])
    starts: Floats = np.arange(n, dtype=np.float64) * slot_s
    carried = dense_cum[:n] - _arrived(dense_cum, busy_count, starts - duration_s, slot_s)
    carried = np.maximum(carried, 0.0)
    start_busy = np.zeros(n, dtype=np.int64)
    mean, peak = np.zeros(n), np.zeros(n, dtype=np.int64)
    first, last, at_peak, coin = np.zeros(n), np.zeros(n), np.zeros(n), np.full(n, 0.5)
    idx = np.flatnonzero(dense)
    if len(idx):
        c = count[idx]
        mean[idx] = _mean_in_flight(count, idx, duration_s, slot_s)
        if spread == "even":  # evenly spaced: a deterministic peak, for hand-checked tests
            gap = slot_s / c
            peak[idx] = np.minimum(c, np.floor(duration_s / gap) + 1).astype(np.int64)
            first[idx], last[idx], at_peak[idx] = gap / 2, slot_s - gap / 2, slot_s / 2
            start_busy[idx] = np.rint(np.minimum(carried[idx], MAX_LEVEL)).astype(np.int64)
        else:
            u = rng.random((n, 6))[idx]
            if duration_s < slot_s:
                share = duration_s / slot_s
                var = c * share * (1.0 - share)
            else:  # the two slots partly inside the window carry the randomness
                back = np.maximum(idx - math.ceil(duration_s / slot_s), 0)
                var = (c + count[back]) / 6.0
            shift = np.floor(np.maximum(0.0, mean[idx] - var))
            windows = np.full(len(idx), 1.0 + slot_s / duration_s)
            draws = sample_peaks(mean[idx] - shift, c, windows, u[:, 0])
            peak[idx] = np.minimum(np.minimum(shift, MAX_LEVEL), MAX_LEVEL - draws).astype(
                np.int64
            ) + np.minimum(draws, MAX_LEVEL)
            first[idx] = -slot_s * np.expm1(np.log(u[:, 1]) / c)
            last[idx] = slot_s * np.exp(np.log(u[:, 2]) / c)
            at_peak[idx] = first[idx] + u[:, 3] * np.maximum(last[idx] - first[idx], 0.0)
            coin[idx] = u[:, 4]
            start_busy[idx] = poisson_quantile(carried[idx], u[:, 5])
    return Blocks(
        slot_s=slot_s,
        per_minute=r,
        dense=dense,
        count=count,
        mean=mean,
        peak=peak,
        first=first,
        last=last,
        at_peak=at_peak,
        coin=coin,
        dense_cum=dense_cum,
        carried=carried,
        start_busy=start_busy,
        times=times,
    )


def sparse_arrivals(
    counts: Ints, seed: int | tuple[int, ...], *, spread: Spread, dense_above: int
) -> tuple[Floats, Bools]:
    """Arrival times of the minutes with at most ``dense_above`` invocations (the stream both
    simulators share, so they agree there), and which minutes are busier."""
    dense = counts > dense_above
    rng = np.random.default_rng(seed)
    return user_arrivals(np.where(dense, 0, counts), rng=rng, spread=spread), dense


def _arrived(cum: Floats, count: Floats, t: Floats, slot_s: float) -> Floats:
    """Invocations before time ``t`` when each slot's are spread evenly over it."""
    t = np.maximum(t, 0.0)
    k = np.minimum((t // slot_s).astype(np.int64), max(len(count) - 1, 0))
    if not len(count):
        return np.zeros(t.shape)
    return cum[k] + count[k] * np.clip(t / slot_s - k, 0.0, 1.0)


def _mean_in_flight(count: Floats, idx: Ints, duration_s: float, slot_s: float) -> Floats:
    """Requests in flight on average in slots ``idx``: within a slot when requests are shorter
    than it, else the more of the slot's start and end (arrivals spread evenly in a slot)."""
    if duration_s < slot_s:
        return count[idx] / slot_s * duration_s
    cum: Floats = np.concatenate([[0.0], np.cumsum(count)])

    def arrived(t: Floats) -> Floats:
        return _arrived(cum, count, t, slot_s)

    start: Floats = idx.astype(np.float64) * slot_s
    end: Floats = start + slot_s
    return np.maximum(
        arrived(end) - arrived(end - duration_s), arrived(start) - arrived(start - duration_s)
    )


@dataclass(frozen=True)
class BlockRun:
    """What ``run_blocks`` found: per slot where the caller needs it, else window totals."""

    user_cold: Ints  # per slot
    ping_cold: Ints  # per slot
    top: Ints  # per slot: most on-demand environments in use (the warm-pool plot)
    users_pc: float  # window totals (fractional where Erlang B splits a block)
    users_od: float
    pings_pc: float
    pings_od: float
    explicit: int  # arrivals simulated one by one (warm-up included)


class _Stream:
    """Invocations of sparse slots (and their pings) up to a minute, routed to provisioned
    concurrency or not; per sparse slot with on-demand ones, what it needs if all are warm."""

    def __init__(
        self,
        blocks: Blocks,
        minutes: int,
        cap: Ints | None,
        warmer: Warmer | None,
        ping_s: float,
        duration_s: float,
    ) -> None:
        slot_s, n = blocks.slot_s, minutes * blocks.per_minute
        pings = np.empty(0)
        if warmer:
            pings = warmer_times(minutes, warmer.rate_minutes, warmer.concurrency)
            pings = pings[~blocks.dense[(pings // slot_s).astype(np.int64)]]
        users = blocks.times[: int(np.searchsorted(blocks.times, minutes * 60.0, side="left"))]
        arrivals = Arrivals.merge(users, pings)
        t, is_ping = arrivals.times, arrivals.warmer
        dur = np.where(is_ping, ping_s, duration_s)
        slot = np.minimum((t // slot_s).astype(np.int64), max(n - 1, 0))
        on_pc = np.zeros(len(t), dtype=np.bool_)
        if cap is not None:
            on_pc = route_provisioned(t, dur, cap[slot])
        self.all_slot, self.all_ping, self.on_pc = slot, is_ping, on_pc
        od = np.flatnonzero(~on_pc)
        t, dur, ping, slot = t[od], dur[od], is_ping[od], slot[od]
        self.t, self.dur, self.ping, self.slot = t, dur, ping, slot
        self.warm_end = t + dur
        self.max_dur = float(dur.max(initial=0.0))
        if not len(t):
            empty = np.empty(0, dtype=np.int64)
            self.slots, self.start = empty, np.zeros(1, dtype=np.int64)
            self.top = self.last_level = empty
            self.q_top = self.t_top = self.t_last = self.t_end = np.empty(0)
            return
        level = np.arange(1, len(t) + 1) - np.searchsorted(np.sort(self.warm_end), t, "right")
        seg = np.flatnonzero(np.concatenate([[True], slot[1:] != slot[:-1]]))
        self.slots = slot[seg]  # sparse slots with on-demand invocations, ascending
        self.start = np.append(seg, len(t))  # their invocations: start[j]..start[j+1]
        self.top = np.maximum.reduceat(level, seg)
        at_top = level == np.repeat(self.top, np.diff(self.start))
        self.q_top = np.minimum.reduceat(np.where(at_top, t, np.inf), seg)  # first at the top
        self.t_top = np.maximum.reduceat(np.where(at_top, t, -np.inf), seg)  # last at the top
        tail = self.start[1:] - 1
        self.last_level, self.t_last = level[tail], t[tail]
        self.t_end = np.maximum.reduceat(self.warm_end, seg)


def _stream(
    blocks: Blocks,
    minutes: int,
    cap: Ints | None,
    warmer: Warmer | None,
    ping_s: float,
    duration_s: float,
) -> _Stream:
    """The stream up to ``minutes``; without provisioned concurrency, the whole trace's (kept:
    every window is a prefix of it)."""
    if cap is not None:
        return _Stream(blocks, minutes, cap, warmer, ping_s, duration_s)
    key = (warmer.rate_minutes if warmer else 0, warmer.concurrency if warmer else 0, ping_s)
    if key not in blocks.streams:
        whole = len(blocks.dense) // blocks.per_minute
        blocks.streams[key] = _Stream(blocks, whole, None, warmer, ping_s, duration_s)
    return blocks.streams[key]


@dataclass
class _Rows:
    """The slots that leave pairs or need environments (ascending), and what each holds."""

    slot: Ints
    dense: Bools
    level: Ints  # (rows, pairs): "level requests were in flight at time"
    time: Floats
    query: Floats  # (rows, 3): when the ping levels, the base levels and the peak are needed
    need: Ints  # dense rows: on-demand peak, base level, busy at the start, ping level
    base: Ints
    busy0: Ints
    ping_level: Ints
    stream_row: Ints  # sparse rows: index into the stream's per-slot arrays


def run_blocks(
    blocks: Blocks,
    *,
    minutes: int,
    start_slot: int,
    duration_s: float,
    cold_s: float,
    keep_alive_s: float,
    ready: Ints | None,
    warmer: Warmer | None,
    ping_s: float,
) -> BlockRun:
    """Simulate slots [0, minutes * per_minute) and total the ones from ``start_slot`` on."""
    slot_s, r = blocks.slot_s, blocks.per_minute
    n = minutes * r
    cap = np.repeat(ready, r) if ready is not None else None
    stream = _stream(blocks, minutes, cap, warmer, ping_s, duration_s)
    lags = math.floor((slot_s + duration_s + cold_s + keep_alive_s) / slot_s)
    full = max(0, math.floor(keep_alive_s / slot_s + 1e-9) - 1)
    if cap is None:  # the same for every setup without provisioned concurrency: kept, whole
        rate, conc = (warmer.rate_minutes, warmer.concurrency) if warmer else (0, 0)
        key = (rate, conc, ping_s, keep_alive_s, lags, full)
        if key not in blocks.warm:
            everything = len(blocks.dense)
            if key[:3] not in blocks.rows:
                blocks.rows[key[:3]] = _rows(
                    blocks, stream, blocks.dense_slots, None, warmer, ping_s, duration_s
                )
            rows = blocks.rows[key[:3]]
            blocks.warm[key] = _warm_pass(
                rows, stream, everything, keep_alive_s, full, lags, bool(warmer)
            )
        warm = _prefix(blocks.warm[key], n)
    else:
        dense = blocks.dense_slots[: int(np.searchsorted(blocks.dense_slots, n))]
        rows = _rows(blocks, stream, dense, cap, warmer, ping_s, duration_s)
        warm = _warm_pass(rows, stream, n, keep_alive_s, full, lags, bool(warmer))
    rows = replace(warm.rows, level=warm.rows.level.copy(), time=warm.rows.time.copy())
    alive, lo_lag, candidates, cold_ping = warm.alive, warm.lo_lag, warm.candidates, warm.cold_ping
    dense = blocks.dense_slots[: int(np.searchsorted(blocks.dense_slots, n))]
    settle = _Settler(
        blocks, rows, stream, cap, alive, lo_lag, keep_alive_s, lags, duration_s, cold_s
    )
    user_cold = np.zeros(n, dtype=np.int64)
    ping_cold = np.zeros(n, dtype=np.int64)
    ready_made = _settle_blocks(blocks, rows, candidates, alive, cap, duration_s + cold_s)
    fixes = settle.fixes
    for p, i, is_dense, whole, raised, need, query in zip(
        candidates.tolist(),
        rows.slot[candidates].tolist(),
        rows.dense[candidates].tolist(),
        ready_made[0].tolist(),
        ready_made[1].tolist(),
        rows.need[candidates].tolist(),
        rows.query[candidates].tolist(),
        strict=True,
    ):
        if not is_dense:
            user_cold[i], ping_cold[i] = settle.sparse(p)
        elif fixes and fixes[-1][0] >= i - lags:  # an earlier settlement may change this one
            base, busy0, ping_level = (
                int(rows.base[p]),
                int(rows.busy0[p]),
                int(rows.ping_level[p]),
            )
            user_cold[i], ping_cold[i] = settle.block(p, i, need, base, busy0, ping_level, query)
        else:
            user_cold[i], ping_cold[i] = whole, int(cold_ping[p])
            if raised > need:
                rows.level[p, _PAIRS], rows.time[p, _PAIRS] = raised, query[2]
                fixes.append((i, raised, query[2]))
    top = np.zeros(n, dtype=np.int64)
    top[rows.slot] = rows.level.max(axis=1)
    return _totals(blocks, stream, n, dense, cap, warmer, start_slot, user_cold, ping_cold, top)


@dataclass(frozen=True)
class _Warm:
    """The rows and what they need if no cold start changed anything: candidates to settle."""

    rows: _Rows
    alive: Ints
    lo_lag: Ints
    candidates: Ints
    cold_ping: Ints


def _prefix(warm: _Warm, n: int) -> _Warm:
    """The warm pass of the slots before ``n``: rows only look back, so it is a prefix."""
    m = int(np.searchsorted(warm.rows.slot, n))
    if m == len(warm.rows.slot):
        return warm
    rows = _Rows(*(getattr(warm.rows, f.name)[:m] for f in fields(_Rows)))
    keep = warm.candidates[warm.candidates < m]
    return _Warm(rows, warm.alive[:m], warm.lo_lag[:m], keep, warm.cold_ping[:m])


def _warm_pass(
    rows: _Rows, stream: _Stream, n: int, keep_alive_s: float, full: int, lags: int, pings: bool
) -> _Warm:
    alive, lo_lag = _alive_before(rows, n, keep_alive_s, full, lags, pings, stream)
    a_ping, a_base, a_top = alive[:, 0], alive[:, 1], alive[:, 2]
    cold_ping = np.maximum(0, rows.ping_level - np.maximum(a_ping, rows.busy0))
    cold_ping[rows.ping_level == 0] = 0
    cold_base = np.maximum(0, rows.base - np.maximum(a_base, rows.ping_level))
    cold_top = np.maximum(0, rows.need - np.maximum(np.maximum(a_top, rows.ping_level), rows.base))
    sparse_top = np.where(rows.dense, 0, stream.top[rows.stream_row] if len(stream.top) else 0)
    candidates = np.flatnonzero(
        (rows.dense & (cold_ping + cold_base + cold_top > 0)) | (~rows.dense & (a_top < sparse_top))
    )
    return _Warm(rows, alive, lo_lag, candidates, cold_ping)


def _settle_blocks(
    blocks: Blocks, rows: _Rows, candidates: Ints, alive: Ints, cap: Ints | None, hold_s: float
) -> tuple[Ints, Ints]:
    """Cold starts and the level reached of every candidate, as if no candidate before it had
    changed what is alive (the loop redoes those that an earlier one may change)."""
    c = candidates
    if not len(c):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    slot, ping_level = rows.slot[c], rows.ping_level[c]
    base, need = rows.base[c], rows.need[c]
    a_base = np.maximum(alive[c, 1], ping_level)
    a_top = np.maximum(alive[c, 2], ping_level)
    cold = np.maximum(0, base - a_base) + np.maximum(0, need - np.maximum(a_top, base))
    warm = np.maximum(a_top, np.minimum(a_base, base))
    pool = warm + (cap[slot] if cap is not None else 0)
    rate = blocks.count[slot] / blocks.slot_s
    means = blocks.mean[slot]
    if len(c) <= 64:  # a few: numpy's per-call overhead dominates
        pairs = zip(means.tolist(), pool.tolist(), strict=True)
        turned = np.array([erlang_b_one(x, k) for x, k in pairs])
    else:
        turned = erlang_b(means, pool)
    over = rate * turned.reshape(rate.shape) * hold_s
    starts = np.maximum(cold, 1.0 + over + ONSET_SPREAD * np.sqrt(over))
    starts = np.minimum(starts, blocks.count[slot])  # each cold start is one of its requests
    whole = np.where(cold > 0, np.floor(np.minimum(starts + blocks.coin[slot], MAX_LEVEL)), 0)
    whole = whole.astype(np.int64)
    return whole, np.minimum(np.maximum(need, warm + whole), MAX_LEVEL)


def _rows(
    blocks: Blocks,
    stream: _Stream,
    dense: Ints,
    cap: Ints | None,
    warmer: Warmer | None,
    ping_s: float,
    duration_s: float,
) -> _Rows:
    slot_s, r = blocks.slot_s, blocks.per_minute
    held = cap[dense] if cap is not None else np.zeros(len(dense), dtype=np.int64)
    pinged = np.zeros(len(dense), dtype=np.bool_)
    if warmer:
        pinged = (dense % r == 0) & ((dense // r) % warmer.rate_minutes == 0)
    mean_od = np.clip(blocks.mean[dense] - held, 0.0, float(MAX_LEVEL))
    need = np.maximum(0, blocks.peak[dense] - held)
    busy0 = np.maximum(blocks.start_busy[dense] - held, 0)
    base = np.minimum(need, np.rint(mean_od).astype(np.int64))
    base = np.where((held == 0) & (need > 0), np.maximum(base, 1), base)
    ping_level = np.where(pinged, busy0 + (warmer.concurrency if warmer else 0), 0)
    keep = (need > 0) | pinged
    dense, need, base, busy0, ping_level = (
        dense[keep],
        need[keep],
        base[keep],
        busy0[keep],
        ping_level[keep],
    )
    t0 = dense * slot_s
    first, last, at_peak = blocks.first[dense], blocks.last[dense], blocks.at_peak[dense]
    m_d, m_s = len(dense), len(stream.slots)
    slots = np.concatenate([dense, stream.slots])
    width = _PAIRS + _CORRECTED
    level = np.zeros((m_d + m_s, width), dtype=np.int64)
    time = np.full((m_d + m_s, width), -np.inf)
    level[:m_d, 0], time[:m_d, 0] = ping_level, t0 + ping_s
    level[:m_d, 1], time[:m_d, 1] = need, t0 + at_peak
    level[:m_d, 2], time[:m_d, 2] = base, t0 + last
    level[:m_d, 3], time[:m_d, 3] = np.minimum(base, 1), t0 + last + duration_s
    level[m_d:, 1], time[m_d:, 1] = stream.top, stream.t_top
    level[m_d:, 2], time[m_d:, 2] = stream.last_level, stream.t_last
    level[m_d:, 3], time[m_d:, 3] = 1, stream.t_end
    query = np.empty((m_d + m_s, 3))
    query[:m_d, 0], query[:m_d, 1], query[:m_d, 2] = t0, t0 + first, t0 + at_peak
    query[m_d:, 0] = query[m_d:, 1] = query[m_d:, 2] = stream.q_top
    zeros = np.zeros(m_s, dtype=np.int64)
    rows = _Rows(
        slot=slots,
        dense=np.arange(m_d + m_s) < m_d,
        level=level,
        time=time,
        query=query,
        need=np.concatenate([need, zeros]),
        base=np.concatenate([base, zeros]),
        busy0=np.concatenate([busy0, zeros]),
        ping_level=np.concatenate([ping_level, zeros]),
        stream_row=np.concatenate([np.zeros(m_d, dtype=np.int64), np.arange(m_s)]),
    )
    if m_d and m_s:  # interleave dense and sparse rows by slot
        order = np.argsort(slots, kind="stable")
        rows = _Rows(*(getattr(rows, f.name)[order] for f in fields(_Rows)))
    return rows


def _alive_before(
    rows: _Rows, n: int, keep_alive_s: float, full: int, lags: int, pings: bool, stream: _Stream
) -> tuple[Ints, Ints]:
    """Per row and query, the most levels earlier rows' pairs keep alive (time >= query - keep).

    Pairs of the ``full`` slots before are alive whatever the query (a pair is never older
    than its slot's start): a trailing maximum. Rows that need more than that are compared
    pair by pair with the rows between ``lags`` and ``full`` slots back. Also returns, per
    row, the first row within ``lags``.
    """
    slot = rows.slot
    m = len(slot)
    peak = np.zeros(n, dtype=np.int64)
    peak[slot] = rows.level[:, :_PAIRS].max(axis=1) if m else 0
    floor = _trailing_max(peak, full)[slot]
    out = np.repeat(floor[:, None], 3, axis=1)
    lo_lag = np.searchsorted(slot, slot - lags, side="left")
    wants = np.maximum(np.maximum(rows.need, rows.base), rows.ping_level)
    if len(stream.top):
        wants = np.where(rows.dense, wants, stream.top[rows.stream_row])
    open_rows = np.flatnonzero(wants > floor)  # the others need no more than is surely alive
    if not len(open_rows):
        return out, lo_lag
    lo = lo_lag[open_rows]
    spread = np.searchsorted(slot, slot[open_rows] - full, side="left") - lo
    columns = slice(0 if pings else 1, _PAIRS)
    level, time = rows.level[:, columns], rows.time[:, columns]
    queries = slice(0 if pings else 1, 3)
    since = rows.query[open_rows, queries] - keep_alive_s
    for k in range(int(spread.max(initial=0))):
        sel = np.flatnonzero(spread > k)
        prev = lo[sel] + k
        ok = time[prev][:, None, :] >= since[sel][:, :, None]
        got = np.where(ok, level[prev][:, None, :], 0).max(axis=2)
        rows_k = open_rows[sel]
        out[rows_k, queries] = np.maximum(out[rows_k, queries], got)
    return out, lo_lag


def _trailing_max(x: Ints, width: int) -> Ints:
    """out[i] = max(x[i-width .. i-1]) (0 where empty), by doubling."""
    out = np.zeros_like(x)
    if width <= 0 or len(x) < 2:
        return out
    span, acc = 1, x.copy()  # acc[i] = max(x[i-span+1 .. i])
    shifted = np.zeros_like(x)
    while span * 2 <= width:
        shifted[span:] = acc[:-span]
        shifted[:span] = 0
        acc = np.maximum(acc, shifted)
        span *= 2
    # window [i-width, i-1] = [i-span, i-1] and [i-width, i-width+span-1]
    out[1:] = acc[:-1]
    rest = width - span
    if rest > 0 and len(x) > 1 + rest:
        out[1 + rest :] = np.maximum(out[1 + rest :], acc[: len(x) - 1 - rest])
    return out


class _Settler:
    """Settles candidate rows in order: the warm pass's alive levels, raised by the pairs that
    rows settled before wrote (``fixes``: slot, level, time)."""

    def __init__(
        self,
        blocks: Blocks,
        rows: _Rows,
        stream: _Stream,
        cap: Ints | None,
        alive: Ints,
        lo_lag: Ints,
        keep_alive_s: float,
        lags: int,
        duration_s: float,
        cold_s: float,
    ) -> None:
        self.b, self.rows, self.stream, self.cap = blocks, rows, stream, cap
        self.alive, self.lo_lag = alive, lo_lag
        self.keep, self.lags, self.d, self.cold = keep_alive_s, lags, duration_s, cold_s
        self.fixes: list[tuple[int, int, float]] = []
        self.end = stream.warm_end.copy()  # raised by cold starts as they are found

    def _cap(self, slot: int) -> int:
        return int(self.cap[slot]) if self.cap is not None else 0

    def _alive(self, p: int, slot: int, column: int, since: float) -> int:
        best = int(self.alive[p, column])
        for j, level, time in reversed(self.fixes):
            if j < slot - self.lags:
                break
            if level > best and time >= since:
                best = level
        return best

    def block(
        self, p: int, i: int, need: int, base: int, busy0: int, ping_level: int, query: list[float]
    ) -> tuple[int, int]:
        """A dense row: (user cold starts, ping cold starts)."""
        rows, b = self.rows, self.b
        q_ping, q_base, q_top = query
        cold_ping = 0
        if ping_level:
            cold_ping = max(0, ping_level - max(self._alive(p, i, 0, q_ping - self.keep), busy0))
        a_base = max(self._alive(p, i, 1, q_base - self.keep), ping_level)
        a_top = max(self._alive(p, i, 2, q_top - self.keep), ping_level)
        cold = max(0, base - a_base) + max(0, need - max(a_top, base))
        if cold == 0:
            return 0, cold_ping
        warm = max(a_top, min(a_base, base))
        rate = float(b.count[i]) / b.slot_s
        over = rate * erlang_b_one(float(b.mean[i]), self._cap(i) + warm) * (self.d + self.cold)
        starts = max(float(cold), 1.0 + over + ONSET_SPREAD * math.sqrt(over))
        starts = min(starts, float(b.count[i]))  # each cold start is one of its requests
        whole = math.floor(min(starts + float(b.coin[i]), MAX_LEVEL))
        raised = min(max(need, warm + whole), MAX_LEVEL)
        if raised > need:  # else the pair drawn already says as much
            rows.level[p, _PAIRS], rows.time[p, _PAIRS] = raised, q_top
            self.fixes.append((i, raised, q_top))
        return whole, cold_ping

    def sparse(self, p: int) -> tuple[int, int]:
        """A sparse row, one invocation at a time: (user cold starts, ping cold starts)."""
        rows, st = self.rows, self.stream
        i = int(rows.slot[p])
        j = int(rows.stream_row[p])
        lo, hi = int(st.start[j]), int(st.start[j + 1])
        t0 = i * self.b.slot_s
        # the staircase earlier rows leave: the most levels alive for a given oldest time
        w = int(self.lo_lag[p])
        times = rows.time[w:p].ravel()
        order = np.argsort(-times, kind="stable")
        neg_times = (-times[order]).tolist()
        levels = np.maximum.accumulate(rows.level[w:p].ravel()[order]).tolist()
        back = int(np.searchsorted(st.t, t0 - st.max_dur - self.cold, side="left"))
        running = [e for e in self.end[back:lo].tolist() if e > t0]
        heapq.heapify(running)
        released = user_cold = ping_cold = 0
        top = last_level = 0
        top_time = last_t = end_t = -math.inf
        for k, ti, di, ping in zip(
            range(lo, hi),
            st.t[lo:hi].tolist(),
            st.dur[lo:hi].tolist(),
            st.ping[lo:hi].tolist(),
            strict=True,
        ):
            carried = self._carried(i, ti)
            while running and running[0] <= ti:
                heapq.heappop(running)
                released = max(released, carried + len(running) + 1)
            level = carried + len(running) + 1
            at = bisect.bisect_right(neg_times, self.keep - ti)  # pairs with time >= ti - keep
            end = ti + di
            if level > released and level > (levels[at - 1] if at else 0):
                end += self.cold
                self.end[k] = end
                if ping:
                    ping_cold += 1
                else:
                    user_cold += 1
            heapq.heappush(running, end)
            if level >= top:
                top, top_time = level, ti
            last_level, last_t, end_t = level, ti, max(end_t, end)
        rows.level[p, _PAIRS : _PAIRS + 3] = (top, last_level, 1)
        rows.time[p, _PAIRS : _PAIRS + 3] = (top_time, last_t, end_t)
        self.fixes += [(i, top, top_time), (i, last_level, last_t), (i, 1, end_t)]
        return user_cold, ping_cold

    def _carried(self, i: int, t: float) -> int:
        """On-demand requests of dense slots still in flight at ``t`` (arrived within a duration)."""
        b = self.b
        if t - self.d >= i * b.slot_s or b.dense_cum[i] == 0.0:
            return 0
        x = max(t - self.d, 0.0)
        k = min(int(x // b.slot_s), len(b.count) - 1)
        share = min(1.0, max(0.0, x / b.slot_s - k))
        earlier = b.dense_cum[k] + (b.count[k] if b.dense[k] else 0.0) * share
        return max(0, round(float(b.dense_cum[i]) - float(earlier)) - self._cap(i))


def _totals(
    blocks: Blocks,
    stream: _Stream,
    n: int,
    dense: Ints,
    cap: Ints | None,
    warmer: Warmer | None,
    start_slot: int,
    user_cold: Ints,
    ping_cold: Ints,
    top: Ints,
) -> BlockRun:
    lo, hi = np.searchsorted(stream.all_slot, [start_slot, n])
    ping = stream.all_ping[lo:hi]
    pings = float(np.count_nonzero(ping))
    if cap is None:  # everything on demand: counts, no masks
        users_od, pings_od, users_pc, pings_pc = float(hi - lo) - pings, pings, 0.0, 0.0
    else:
        on_pc = stream.on_pc[lo:hi]
        users_pc = float(np.count_nonzero(on_pc & ~ping))
        pings_pc = float(np.count_nonzero(on_pc & ping))
        users_od = float(hi - lo) - pings - users_pc
        pings_od = pings - pings_pc
    win = dense[dense >= start_slot]
    if len(win) and cap is None:
        users_od += float(blocks.dense_cum[n] - blocks.dense_cum[start_slot])
        if warmer:
            r = blocks.per_minute
            pinged = (win % r == 0) & ((win // r) % warmer.rate_minutes == 0)
            pings_od += warmer.concurrency * float(np.count_nonzero(pinged))
    elif len(win):
        counts = blocks.count[win]
        share_pc = np.zeros(len(win))
        if cap is not None:
            held = cap[win] > 0
            if held.any():
                share_pc[held] = 1.0 - erlang_b(blocks.mean[win][held], cap[win][held])
        users_pc += float(counts @ share_pc)
        users_od += float(counts @ (1.0 - share_pc))
        if warmer:
            r = blocks.per_minute
            pinged = (win % r == 0) & ((win // r) % warmer.rate_minutes == 0)
            pings_pc += warmer.concurrency * float(share_pc[pinged].sum())
            pings_od += warmer.concurrency * float((1.0 - share_pc[pinged]).sum())
    return BlockRun(
        user_cold=user_cold,
        ping_cold=ping_cold,
        top=top,
        users_pc=users_pc,
        users_od=users_od,
        pings_pc=pings_pc,
        pings_od=pings_od,
        explicit=int(hi),
    )
