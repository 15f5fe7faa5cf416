"""Trace readers: good files in both layouts, and every malformed case naming line and column."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from serverless_ml.planner.errors import PlannerError, TraceError
from serverless_ml.planner.traces import load_trace, minute_of_day, read_azure, read_cloudwatch

AZURE_HEADER = "HashOwner,HashApp,HashFunction,Trigger,1,2,3,4\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- Azure: good files -------------------------------------------------------------------------
def test_azure_day_with_durations_and_memory(tmp_path: Path) -> None:
    inv = write(
        tmp_path, "inv.csv", AZURE_HEADER + "o1,a1,f1,http,0,3,0,1\no1,a1,f2,timer,1,0,0,0\n"
    )
    dur = write(
        tmp_path,
        "dur.csv",
        "HashOwner,HashApp,HashFunction,Average,Count,Minimum,Maximum\no1,a1,f1,120.5,4,100,150\n",
    )
    mem = write(
        tmp_path, "mem.csv", "HashOwner,HashApp,SampleCount,AverageAllocatedMb\no1,a1,10,300\n"
    )
    trace = read_azure([inv], [dur], [mem])
    assert trace.minutes == 4 and trace.invocations == 5
    f1, f2 = trace.functions
    assert (f1.name, f1.trigger, f1.counts.tolist()) == ("f1", "http", [0, 3, 0, 1])
    assert f1.duration_ms == 120.5 and f1.memory_mb == 300
    assert f2.duration_ms is None and f2.memory_mb == 300  # memory is per application
    assert f2.counts.dtype == np.int64


def test_azure_without_trigger_and_days_joined_in_order(tmp_path: Path) -> None:
    d1 = write(tmp_path, "d1.csv", "HashOwner,HashApp,HashFunction,1,2\no,a,f,1,2\no,a,g,5,5\n")
    d2 = write(tmp_path, "d2.csv", "HashOwner,HashApp,HashFunction,1,2,3\no,a,f,3,4,5\n")
    trace = read_azure([d1, d2])
    by_name = {f.name: f.counts.tolist() for f in trace.functions}
    assert by_name == {"f": [1, 2, 3, 4, 5], "g": [5, 5, 0, 0, 0]}  # absent on day 2: zeros


def test_azure_durations_weighted_by_count_across_days(tmp_path: Path) -> None:
    inv = write(tmp_path, "inv.csv", "HashOwner,HashApp,HashFunction,1\no,a,f,1\n")
    d1 = write(tmp_path, "d1.csv", "HashOwner,HashApp,HashFunction,Average,Count\no,a,f,100,1\n")
    d2 = write(tmp_path, "d2.csv", "HashOwner,HashApp,HashFunction,Average,Count\no,a,f,200,3\n")
    assert read_azure([inv], [d1, d2]).functions[0].duration_ms == pytest.approx(175.0)


def test_same_function_hash_in_two_apps_gets_distinct_names(tmp_path: Path) -> None:
    inv = write(
        tmp_path, "inv.csv", "HashOwner,HashApp,HashFunction,1\no,app1xxxxx,f,1\no,app2yyyyy,f,2\n"
    )
    assert [f.name for f in read_azure([inv]).functions] == ["f~app1xxxx", "f~app2yyyy"]


def test_directory_of_azure_day_files(tmp_path: Path) -> None:
    write(
        tmp_path,
        "invocations_per_function_md.anon.d01.csv",
        "HashOwner,HashApp,HashFunction,1\no,a,f,2\n",
    )
    write(
        tmp_path,
        "invocations_per_function_md.anon.d02.csv",
        "HashOwner,HashApp,HashFunction,1\no,a,f,3\n",
    )
    write(
        tmp_path,
        "function_durations_percentiles.anon.d01.csv",
        "HashOwner,HashApp,HashFunction,Average,Count\no,a,f,40,2\n",
    )
    write(
        tmp_path,
        "app_memory_percentiles.anon.d01.csv",
        "HashOwner,HashApp,SampleCount,AverageAllocatedMb\no,a,3,700\n",
    )
    trace = load_trace([tmp_path])
    (f,) = trace.functions
    assert f.counts.tolist() == [2, 3] and f.duration_ms == 40 and f.memory_mb == 700


# -- CloudWatch: good files --------------------------------------------------------------------
def test_cloudwatch_iso_minutes_with_gaps_and_duration(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "fraud.csv",
        "Timestamp,Invocations,Duration\n"
        "2026-01-05T10:03:00Z,4,100\n"
        "2026-01-05T10:00:00Z,2,40\n"
        "2026-01-05T10:05:00Z,0,\n",  # unsorted; missing minutes count zero
    )
    trace = read_cloudwatch(path)
    (f,) = trace.functions
    assert f.name == "fraud" and f.counts.tolist() == [2, 0, 0, 4, 0, 0]
    assert f.duration_ms == pytest.approx((2 * 40 + 4 * 100) / 6)
    assert trace.start == datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    assert minute_of_day(trace).tolist() == [600, 601, 602, 603, 604, 605]


def test_cloudwatch_period_given_explicitly(tmp_path: Path) -> None:
    path = write(
        tmp_path, "cw.csv", "timestamp,count\n2026-01-05T10:00:00Z,4\n2026-01-05T10:04:00Z,2\n"
    )
    # inferred: the only gap, 4 min, is taken as the period
    assert read_cloudwatch(path).functions[0].counts.tolist() == [1, 1, 1, 1, 0, 1, 0, 1]
    assert read_cloudwatch(path, period_s=120).functions[0].counts.tolist() == [2, 2, 0, 0, 1, 1]
    assert read_cloudwatch(path, period_s=60).functions[0].counts.tolist() == [4, 0, 0, 0, 2]
    with pytest.raises(PlannerError, match="SML612"):
        read_cloudwatch(path, period_s=90)


def test_cloudwatch_five_minute_period_is_spread_evenly(tmp_path: Path) -> None:
    path = write(tmp_path, "cw.csv", "timestamp,count\n1767607200,7\n1767607500,0\n1767607800,5\n")
    counts = read_cloudwatch(path).functions[0].counts
    assert counts.tolist() == [1, 1, 2, 1, 2, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1]
    assert counts.sum() == 12


def test_cloudwatch_function_column_and_epoch_millis(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "cw.csv",
        "timestamp,function,count\n1767607200000,a,1\n1767607260000,a,2\n1767607200000,b,5.0\n",
    )
    trace = read_cloudwatch(path)
    assert {f.name: f.counts.tolist() for f in trace.functions} == {"a": [1, 2], "b": [5, 0]}


def test_format_is_detected_and_checked(tmp_path: Path) -> None:
    cw = write(tmp_path, "cw.csv", "timestamp,count\n2026-01-05T10:00:00,3\n")
    assert load_trace([cw]).source == "cloudwatch"
    with pytest.raises(PlannerError, match="SML609"):
        load_trace([cw], fmt="azure")
    with pytest.raises(PlannerError, match="SML609"):
        load_trace([cw], fmt="parquet")


# -- malformed files: each names the line and column -----------------------------------------
AZURE_BAD = [
    ("Owner,HashApp,HashFunction,1\no,a,f,1\n", "SML602", 1, 5),  # no HashOwner anywhere
    ("HashOwner,HashApp,HashFunction,Trigger,1,3\no,a,f,t,1,1\n", "SML602", 1, 6),
    ("HashOwner,HashApp,HashFunction,Trigger\n", "SML602", 1, 5),
    (AZURE_HEADER + "o,a,f,http,1,2,3\n", "SML603", 2, 8),
    (AZURE_HEADER + "o,a,f,http,1,2,3,4,5\n", "SML603", 2, 9),
    (AZURE_HEADER + "o,a,f,http,1,2,3,4\no,a,g,http,1,x,3,4\n", "SML604", 3, 6),
    (AZURE_HEADER + "o,a,f,http,1,2,-3,4\n", "SML604", 2, 7),
    (AZURE_HEADER + "o,a,f,http,1,2.5,3,4\n", "SML604", 2, 6),
    (AZURE_HEADER + "o,a,f,http,1,2,3,4\n\no,a,f,http,0,0,0,0\n", "SML605", 4, 3),
    (AZURE_HEADER + "o,,f,http,1,2,3,4\n", "SML603", 2, 2),
]


@pytest.mark.parametrize(("text", "code", "line", "column"), AZURE_BAD)
def test_malformed_azure_invocations(
    tmp_path: Path, text: str, code: str, line: int, column: int
) -> None:
    path = write(tmp_path, "inv.csv", text)
    with pytest.raises(TraceError) as info:
        read_azure([path])
    err = info.value
    assert (err.code, err.line, err.column) == (code, line, column)
    assert f"line {line}, column {column}" in str(err) and str(path) in str(err)


def test_malformed_durations_and_memory(tmp_path: Path) -> None:
    inv = write(tmp_path, "inv.csv", "HashOwner,HashApp,HashFunction,1\no,a,f,1\n")
    dur = write(tmp_path, "dur.csv", "HashOwner,HashApp,HashFunction,Average\no,a,f,fast\n")
    with pytest.raises(TraceError, match=r"line 2, column 4 \('Average'\)") as info:
        read_azure([inv], [dur])
    assert info.value.code == "SML607"
    mem = write(tmp_path, "mem.csv", "HashOwner,HashApp,SampleCount\no,a,1\n")
    with pytest.raises(TraceError, match="AverageAllocatedMb") as info:
        read_azure([inv], memory=[mem])
    assert (info.value.code, info.value.line) == ("SML602", 1)


CLOUDWATCH_BAD = [
    ("timestamp,calls\n2026-01-05T10:00:00Z,1\n", "SML602", 1, 3),
    ("timestamp,count\n2026-01-05T10:00:00Z,1\nyesterday,2\n", "SML606", 3, 1),
    ("timestamp,count\n2026-01-05T10:00:00Z,1\n2026-01-05T10:00:00Z,2\n", "SML605", 3, 1),
    ("timestamp,count\n2026-01-05T10:00:00Z,1\n2026-01-05T10:00:30Z,2\n", "SML608", 3, 1),
    ("timestamp,count\n1767607200.5,1\n1767607260,1\n", "SML608", 3, 1),
    ("timestamp,count\n2026-01-05T10:00:00Z,-1\n", "SML604", 2, 2),
    ("timestamp,count\n2026-01-05T10:00:00Z,1.5\n", "SML604", 2, 2),
    ("timestamp,count,duration\n2026-01-05T10:00:00Z,1,slow\n", "SML607", 2, 3),
    ("timestamp,count\n2026-01-05T10:00:00Z\n", "SML603", 2, 2),
    ("timestamp,count\n", "SML613", 2, None),
]


@pytest.mark.parametrize(("text", "code", "line", "column"), CLOUDWATCH_BAD)
def test_malformed_cloudwatch(
    tmp_path: Path, text: str, code: str, line: int, column: int | None
) -> None:
    path = write(tmp_path, "cw.csv", text)
    with pytest.raises(TraceError) as info:
        read_cloudwatch(path)
    err = info.value
    assert (err.code, err.line, err.column) == (code, line, column)
    assert f"line {line}" in str(err)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(TraceError, match="SML601"):
        read_cloudwatch(tmp_path / "missing.csv")
    empty = write(tmp_path, "empty.csv", "")
    with pytest.raises(TraceError, match=r"SML601: .*empty"):
        load_trace([empty])
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"timestamp,count\n\xff\xfe,1\n")
    with pytest.raises(TraceError, match="SML601"):
        read_cloudwatch(binary)
    unknown = write(tmp_path, "x.csv", "a,b\n1,2\n")
    with pytest.raises(TraceError, match=r"SML609: .*line 1, column 1"):
        load_trace([unknown])


def test_select_and_sample(tmp_path: Path) -> None:
    inv = write(
        tmp_path, "inv.csv", "HashOwner,HashApp,HashFunction,1\no,a,abc,1\no,a,abd,1\no,a,xyz,1\n"
    )
    trace = read_azure([inv])
    assert [f.name for f in trace.select(["ab"]).functions] == ["abc", "abd"]
    with pytest.raises(PlannerError, match="SML614"):
        trace.select(["nope"])
    picked = trace.sample(2, seed=1)
    assert len(picked.functions) == 2 and picked.functions == trace.sample(2, seed=1).functions
