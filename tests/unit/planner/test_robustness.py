"""Inputs that used to end in a traceback, a silent overflow or an endless loop: each gets a
coded error (SML6xx) or the clamping docs/planner.md documents."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from serverless_ml.planner.cli import run_plan_command
from serverless_ml.planner.errors import PlannerError, TraceError
from serverless_ml.planner.planner import PlannerOptions, plan_trace
from serverless_ml.planner.simulator import (
    FunctionProfile,
    Lifecycle,
    Setup,
    Workload,
    ready_capacity,
    run,
)
from serverless_ml.planner.traces import (
    INT64_MAX,
    MAX_TRACE_MINUTES,
    FunctionTrace,
    Trace,
    read_azure,
    read_cloudwatch,
)

START = datetime(2026, 1, 5, tzinfo=UTC)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "counts",
    [
        [1, -1, 2],
        np.array([1.0, math.nan]),
        np.array([1.0, math.inf]),
        [1, 2.5],
        np.array([2**63, 1], dtype=object),
        ["3", "x"],
        np.zeros((2, 2)),
    ],
)
def test_bad_counts_through_the_api_are_sml604(counts: object) -> None:
    with pytest.raises(PlannerError, match="SML604"):
        FunctionTrace(name="f", counts=counts)  # type: ignore[arg-type]


def test_whole_float_counts_are_accepted_and_sums_never_overflow() -> None:
    fn = FunctionTrace(name="f", counts=np.array([1.0, 2.0, 0.0]))  # type: ignore[arg-type]
    assert fn.counts.dtype == np.int64 and fn.invocations == 3
    big = FunctionTrace(name="g", counts=np.full(3, INT64_MAX, dtype=np.int64))
    assert big.invocations == 3 * INT64_MAX  # exact, past int64
    trace = Trace(functions=(fn, big), start=START, source="t")
    assert trace.invocations == 3 + 3 * INT64_MAX


@pytest.mark.parametrize("cell", ["-1", "nan", "1e3", "²", "1.5", "18446744073709551616"])
def test_azure_counts_that_are_not_plain_integers_are_sml604(tmp_path: Path, cell: str) -> None:
    inv = write(tmp_path, "d.csv", f"HashOwner,HashApp,HashFunction,1,2\no,a,f,1,{cell}\n")
    with pytest.raises(TraceError, match="SML604") as err:
        read_azure([inv])
    assert err.value.line == 2 and err.value.column == 5


@pytest.mark.parametrize("cell", ["-1", "nan", "inf", "1.5", "9.3e18", "9223372036854775808"])
def test_cloudwatch_counts_out_of_range_are_sml604(tmp_path: Path, cell: str) -> None:
    path = write(tmp_path, "cw.csv", f"timestamp,count\n2026-01-05T10:00:00Z,{cell}\n")
    with pytest.raises(TraceError, match="SML604"):
        read_cloudwatch(path)


def test_cloudwatch_counts_at_the_int64_edge_spread_without_overflow(tmp_path: Path) -> None:
    text = f"timestamp,count\n2026-01-05T00:00:00Z,{INT64_MAX}\n2026-01-06T00:00:00Z,42.0\n"
    trace = read_cloudwatch(write(tmp_path, "cw.csv", text), period_s=86400)
    counts = trace.functions[0].counts
    assert len(counts) == 2880 and counts.min() >= 0
    assert trace.invocations == INT64_MAX + 42  # spread over 1440 minutes, nothing lost


@pytest.mark.parametrize("stamp", ["1e15", "1e300", "99999999999999999"])
def test_epochs_past_the_year_9999_are_sml606(tmp_path: Path, stamp: str) -> None:
    path = write(tmp_path, "cw.csv", f"timestamp,count\n{stamp},1\n")
    with pytest.raises(TraceError, match="SML606"):
        read_cloudwatch(path)


def test_absurd_mean_durations_are_planned_at_the_timeout(tmp_path: Path) -> None:
    inv = write(tmp_path, "inv.csv", "HashOwner,HashApp,HashFunction,1,2\no,a,f,1,2\n")
    dur = write(
        tmp_path,
        "dur.csv",
        "HashOwner,HashApp,HashFunction,Average,Count\no,a,f,1e308,1e308\n",
    )
    fn = read_azure([inv], [dur]).functions[0]
    assert PlannerOptions().profile_for(fn).duration_ms == 900_000.0
    nan = FunctionTrace(name="g", counts=np.ones(3, dtype=np.int64), duration_ms=math.nan)
    assert PlannerOptions().profile_for(nan).duration_ms == 50.0  # no usable mean: default


@pytest.mark.parametrize(
    "make",
    [
        lambda: PlannerOptions(init_ms=math.nan),
        lambda: PlannerOptions(restore_ms=math.inf),
        lambda: PlannerOptions(memory_mb=math.nan),
        lambda: PlannerOptions(duration_ms=math.nan),
        lambda: PlannerOptions(seed=-1),
        lambda: PlannerOptions(keep_alive_sweep=(5.0, math.inf)),
        lambda: PlannerOptions(simulation="fast"),  # type: ignore[arg-type]
        lambda: Lifecycle(keep_alive_min=math.inf),
        lambda: Lifecycle(keep_alive_min=math.nan),
        lambda: Lifecycle(pc_ready_delay_min=10**9),
        lambda: Lifecycle(warmer_ms=math.inf),
        lambda: FunctionProfile(duration_ms=math.inf),
        lambda: FunctionProfile(duration_ms=900_001),
        lambda: FunctionProfile(init_ms=math.nan),
    ],
)
def test_options_out_of_range_are_sml612(make: object) -> None:
    with pytest.raises(PlannerError, match="SML612"):
        make()  # type: ignore[operator]


def test_a_readiness_delay_longer_than_the_trace_is_cheap() -> None:
    assert ready_capacity(np.array([0, 2, 2]), 1440).tolist() == [0, 0, 0]


def test_a_trace_longer_than_455_days_is_sml615() -> None:
    counts = np.zeros(MAX_TRACE_MINUTES + 1, dtype=np.int64)
    counts[0] = 1
    trace = Trace(functions=(FunctionTrace(name="f", counts=counts),), start=START, source="t")
    with pytest.raises(PlannerError, match="SML615"):
        plan_trace(trace)


def test_the_cli_reports_a_coded_error_for_negative_counts(tmp_path: Path) -> None:
    inv = write(tmp_path, "d.csv", "HashOwner,HashApp,HashFunction,1,2\no,a,f,1,-3\n")
    code, text = run_plan_command([inv], out_dir=tmp_path / "out", plot=False)
    assert code == 2 and "SML604" in text


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(st.integers(0, 40), st.integers(0, 10**6), st.just(10**12)),
        min_size=2,
        max_size=30,
    ),
    st.sampled_from([1.0, 50.0, 5000.0, 900_000.0]),
    st.sampled_from([0.5, 10.0]),
)
def test_any_counts_simulate_without_a_traceback(
    counts: list[int], duration_ms: float, keep_alive: float
) -> None:
    work = Workload.build(
        "f", np.array(counts, dtype=np.int64), FunctionProfile(duration_ms=duration_ms), seed=0
    )
    n = len(counts)
    for setup in (Setup(), Setup(pc_target=np.full(n, 3))):
        stats = run(work, setup, Lifecycle(keep_alive_min=keep_alive), (0, n))
        assert 0 <= stats.cold_starts <= stats.invocations
        assert 0 <= stats.provisioned_served <= stats.invocations
        assert math.isfinite(stats.od_billed_ms) and stats.od_billed_ms >= 0
