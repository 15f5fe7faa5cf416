"""Traffic patterns for local runs: the ``--burst`` syntax, the arrival times a pattern makes
(how many, where the bursts are, in order, inside the run) and the sender that keeps to them
(every send made, failures counted, a stop honoured). No assertion depends on how fast this
machine is."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import pytest

from serverless_ml.local.traffic import Burst, Pattern, PatternError, SendStats, send_on_schedule

GUARD_S = 30.0  # a sender that ignores its stop event would hang the test; fail instead


# --- Burst.parse ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5x2s/10s", Burst(5.0, 2.0, 10.0)),
        ("1x0.5s/1s", Burst(1.0, 0.5, 1.0)),
        ("2.5x1.5s/7.25s", Burst(2.5, 1.5, 7.25)),
        ("  3x1s/4s  ", Burst(3.0, 1.0, 4.0)),
    ],
)
def test_burst_parse_valid(text: str, expected: Burst) -> None:
    assert Burst.parse(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "5x2s", "5x2/10s", "x2s/10s", "5*2s/10s", "-5x2s/10s", "5x2s/10", "five x 2s/10s"],
)
def test_burst_parse_malformed_says_the_syntax(text: str) -> None:
    with pytest.raises(PatternError) as raised:
        Burst.parse(text)
    message = str(raised.value)
    assert repr(text) in message
    assert "FACTORxLENGTHs/EVERYs" in message and "5x2s/10s" in message


@pytest.mark.parametrize(
    "text",
    [
        "0.5x2s/10s",  # a factor below 1 is a lull, not a burst
        "5x0s/10s",  # no length
        "5x10s/10s",  # as long as its period: a different rate, not a burst
        "5x12s/10s",  # longer than its period
    ],
)
def test_burst_parse_out_of_range_says_the_rule(text: str) -> None:
    with pytest.raises(PatternError, match=r"factor must be >= 1 and 0 < length < every"):
        Burst.parse(text)


def test_pattern_error_is_a_value_error() -> None:
    assert issubclass(PatternError, ValueError)


@pytest.mark.parametrize(("rate", "duration"), [(0, 10), (-1, 10), (10, 0), (10, -5)])
def test_pattern_rejects_non_positive_rate_or_duration(rate: float, duration: float) -> None:
    with pytest.raises(PatternError, match="--rate and --duration must be > 0"):
        Pattern(rate_per_s=rate, duration_s=duration)


# --- Pattern.arrivals -----------------------------------------------------------------------


@pytest.mark.parametrize(("rate", "duration"), [(20, 30), (7, 10), (3.3, 9), (250, 2), (0.5, 20)])
def test_steady_arrival_count_is_rate_times_duration(rate: float, duration: float) -> None:
    times = Pattern(rate_per_s=rate, duration_s=duration).arrivals()
    assert abs(len(times) - rate * duration) <= 1


@pytest.mark.parametrize(
    "pattern",
    [
        Pattern(rate_per_s=20, duration_s=30),
        Pattern(rate_per_s=7, duration_s=10, burst=Burst(4, 1, 3)),
        Pattern(rate_per_s=10, duration_s=20, burst=Burst(5, 2, 10)),
    ],
)
def test_arrivals_are_ordered_and_within_the_run(pattern: Pattern) -> None:
    times = pattern.arrivals()
    assert times, "a positive rate sends something"
    assert times == sorted(times)
    assert all(0.0 <= t < pattern.duration_s for t in times)
    assert len(set(times)) == len(times)  # evenly spaced within a step: no two at once


def test_steady_arrivals_are_evenly_spread() -> None:
    times = Pattern(rate_per_s=20, duration_s=30).arrivals()
    per_second = [sum(1 for t in times if s <= t < s + 1) for s in range(30)]
    assert all(19 <= n <= 21 for n in per_second), per_second


def test_bursts_multiply_the_rate_inside_their_windows_only() -> None:
    pattern = Pattern(rate_per_s=10, duration_s=20, burst=Burst(factor=5, length_s=2, every_s=10))
    times = pattern.arrivals()
    in_burst = [t for t in times if t % 10 < 2]  # [0, 2) and [10, 12): 4 s at 50/s
    outside = [t for t in times if t % 10 >= 2]  # 16 s at 10/s
    assert abs(len(in_burst) - 4 * 50) <= 2
    assert abs(len(outside) - 16 * 10) <= 2
    assert abs(len(times) - (4 * 50 + 16 * 10)) <= 1
    # each burst window on its own, not one big burst at the start
    assert abs(sum(1 for t in in_burst if t < 10) - 100) <= 2
    assert abs(sum(1 for t in in_burst if t >= 10) - 100) <= 2


def test_rate_at_follows_the_burst_windows() -> None:
    pattern = Pattern(rate_per_s=10, duration_s=30, burst=Burst(factor=3, length_s=1, every_s=5))
    assert [pattern.rate_at(t) for t in (0.0, 0.99, 1.0, 4.99, 5.0, 5.5, 6.0, 25.2)] == [
        30.0,
        30.0,
        10.0,
        10.0,
        30.0,
        30.0,
        10.0,
        30.0,
    ]
    assert Pattern(rate_per_s=10, duration_s=30).rate_at(0.0) == 10.0


def test_arrivals_are_deterministic() -> None:
    pattern = Pattern(rate_per_s=13, duration_s=7, burst=Burst(2, 1, 3))
    assert pattern.arrivals() == pattern.arrivals()


# --- send_on_schedule -------------------------------------------------------------------------


def _run(
    arrivals: Sequence[float],
    send: Callable[[int], object],
    *,
    workers: int = 4,
    stop: threading.Event | None = None,
) -> SendStats:
    stats = SendStats()
    send_on_schedule(arrivals, send, workers=workers, stop=stop or threading.Event(), stats=stats)
    return stats


def test_every_arrival_is_sent_once() -> None:
    calls: list[int] = []
    lock = threading.Lock()

    def send(index: int) -> None:
        with lock:
            calls.append(index)

    stats = _run([0.0] * 25, send)
    assert sorted(calls) == list(range(25))
    assert (stats.sent, stats.failed) == (25, 0)


def test_sends_run_on_several_workers_at_once() -> None:
    barrier = threading.Barrier(3, timeout=GUARD_S)

    def send(index: int) -> None:
        barrier.wait()  # only returns once three sends are running together

    stats = _run([0.0] * 3, send, workers=3)
    assert (stats.sent, stats.failed) == (3, 0)


def test_a_failing_send_is_counted_not_raised() -> None:
    def send(index: int) -> None:
        if index % 3 == 0:
            raise RuntimeError(f"send {index} failed")

    stats = _run([0.0] * 12, send)
    assert (stats.sent, stats.failed) == (8, 4)


def test_a_stop_set_before_the_run_sends_nothing() -> None:
    calls: list[int] = []
    stop = threading.Event()
    stop.set()
    stats = _run([0.0] * 5, calls.append, stop=stop)
    assert calls == []
    assert (stats.sent, stats.failed) == (0, 0)


def test_stop_ends_the_schedule_early() -> None:
    """The first send stops the run; the later arrivals, far in the future, never happen."""
    stop = threading.Event()
    calls: list[int] = []

    def send(index: int) -> None:
        calls.append(index)
        stop.set()

    stats = SendStats()
    runner = threading.Thread(
        target=send_on_schedule,
        args=([0.0, 3600.0, 3600.0],),
        kwargs={"send": send, "workers": 2, "stop": stop, "stats": stats},
        daemon=True,
    )
    runner.start()
    runner.join(GUARD_S)
    assert not runner.is_alive(), "send_on_schedule kept waiting after stop was set"
    assert calls == [0]
    assert (stats.sent, stats.failed) == (1, 0)


def test_behind_is_zero_when_the_sender_keeps_up() -> None:
    stats = _run([0.05], lambda index: None)
    assert stats.sent == 1
    assert stats.behind_s == 0.0
