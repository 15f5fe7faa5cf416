"""The synthetic trace: seeded, Azure-shaped, and round-trips through the Azure reader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from serverless_ml.planner.synthetic import synthetic_trace, write_azure
from serverless_ml.planner.traces import load_trace


def test_same_seed_same_trace_other_seed_other_trace() -> None:
    a, b = synthetic_trace(20, seed=7), synthetic_trace(20, seed=7)
    assert all(
        np.array_equal(x.counts, y.counts) for x, y in zip(a.functions, b.functions, strict=True)
    )
    c = synthetic_trace(20, seed=8)
    assert any(
        not np.array_equal(x.counts, y.counts)
        for x, y in zip(a.functions, c.functions, strict=True)
    )


def test_shape_like_the_azure_workload() -> None:
    trace = synthetic_trace(100, days=2, seed=0)
    assert trace.minutes == 2880 and len(trace.functions) == 100
    per_hour = np.array([f.counts.sum() / 48.0 for f in trace.functions])
    assert 0.35 <= np.mean(per_hour <= 1.0) <= 0.6  # ~45% invoked at most once an hour
    top = np.sort([f.invocations for f in trace.functions])[::-1]
    assert top[:3].sum() > 0.5 * top.sum()  # a few functions carry most traffic
    busiest = max(trace.functions, key=lambda f: f.invocations).counts
    hourly = busiest.reshape(48, 60).sum(axis=1)
    assert hourly.max() > 1.5 * np.median(hourly)  # daily cycle and bursts
    assert {f.trigger for f in trace.functions} >= {"http", "timer"}


def test_written_azure_files_read_back(tmp_path: Path) -> None:
    trace = synthetic_trace(8, days=1.5, seed=2)
    files = write_azure(trace, tmp_path)
    assert len(files) == 6  # two day files of each kind, the second one 720 minutes long
    back = load_trace([tmp_path])
    assert back.minutes == trace.minutes
    for x, y in zip(trace.functions, back.functions, strict=True):
        assert x.name == y.name and np.array_equal(x.counts, y.counts)
        assert x.duration_ms == pytest.approx(y.duration_ms) and x.memory_mb == y.memory_mb


def test_module_entry_writes_a_trace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from serverless_ml.planner.synthetic import main

    assert main([str(tmp_path), "--functions", "5", "--days", "0.25", "--seed", "4"]) == 0
    assert "5 functions, 360 minutes" in capsys.readouterr().out
    assert load_trace([tmp_path]).minutes == 360
