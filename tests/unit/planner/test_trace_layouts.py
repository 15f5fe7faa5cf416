"""The trace layouts users bring (issue #13): the Azure 2019 sample with its id columns in
another order and ``minute_N`` columns, day files concatenated into one, pandas' index column,
the Azure 2021 per-invocation layout; and the values that used to end in a traceback or a
27-million-minute trace."""

from __future__ import annotations

from pathlib import Path

import pytest

from serverless_ml.planner.errors import CODES, TraceError
from serverless_ml.planner.planner import MAX_DURATION_MS, PlannerOptions
from serverless_ml.planner.traces import (
    FunctionTrace,
    detect_format,
    load_trace,
    read_azure,
    read_azure_2021,
    read_cloudwatch,
)
from serverless_ml.spec import SpecError


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def minutes_header(n: int, prefix: str = "") -> str:
    return ",".join(f"{prefix}{i}" for i in range(1, n + 1))


def test_the_azure_sample_layout_reads_by_column_name(tmp_path: Path) -> None:
    header = f"HashFunction,Trigger,HashOwner,HashApp,{minutes_header(3, 'minute_')}\n"
    path = write(tmp_path, "sample.csv", header + "f1,http,o1,a1,1,0,2\nf2,timer,o1,a1,0,0,7\n")
    assert detect_format(path) == "azure"
    trace = load_trace([path])
    (f1, f2) = trace.functions
    assert (f1.name, f1.owner, f1.app, f1.trigger, f1.counts.tolist()) == (
        "f1",
        "o1",
        "a1",
        "http",
        [1, 0, 2],
    )
    assert f2.counts.tolist() == [0, 0, 7]


def test_minute_columns_in_any_order_and_pandas_index_ignored(tmp_path: Path) -> None:
    header = ",hashowner,hashapp,hashfunction,Minute_2,Minute_1\n"  # pandas wrote an index
    path = write(tmp_path, "p.csv", header + "0,o,a,f,5,3\n")
    assert read_azure([path]).functions[0].counts.tolist() == [3, 5]


def test_day_files_concatenated_into_one_file(tmp_path: Path) -> None:
    day = "HashOwner,HashApp,HashFunction,Trigger,1,2\n"
    path = write(
        tmp_path, "all.csv", day + "o,a,f,http,1,2\n" + day + "o,a,f,http,3,4\no,a,g,http,9,9\n"
    )
    by_name = {f.name: f.counts.tolist() for f in read_azure([path]).functions}
    assert by_name == {"f": [1, 2, 3, 4], "g": [0, 0, 9, 9]}


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("HashOwner,HashApp,HashFunction,1,2,colour\no,a,f,1,2,x\n", "unexpected column", 6),
        ("HashOwner,HashApp,HashFunction,minute_1,1\no,a,f,1,2\n", "appears twice", 5),
        ("HashOwner,HashApp,HashFunction,minute_1,minute_3\no,a,f,1,2\n", "without gaps", 5),
    ],
)
def test_bad_azure_headers_name_the_column(
    tmp_path: Path, text: str, message: str, column: int
) -> None:
    with pytest.raises(TraceError, match=message) as info:
        read_azure([write(tmp_path, "bad.csv", text)])
    assert (info.value.code, info.value.line, info.value.column) == ("SML602", 1, column)


def test_counts_beyond_int64_are_a_coded_error_not_a_traceback(tmp_path: Path) -> None:
    azure = write(
        tmp_path, "a.csv", "HashOwner,HashApp,HashFunction,1,2\no,a,f,1,99999999999999999999\n"
    )
    with pytest.raises(TraceError, match="64-bit") as info:
        read_azure([azure])
    assert (info.value.code, info.value.line, info.value.column) == ("SML604", 2, 5)
    cw = write(tmp_path, "c.csv", "timestamp,count\n2026-01-05T10:00:00Z,1e20\n")
    with pytest.raises(TraceError, match="SML604"):
        read_cloudwatch(cw)


def test_points_years_apart_are_refused_before_allocating_the_span(tmp_path: Path) -> None:
    cw = write(
        tmp_path, "c.csv", "timestamp,count\n2000-01-05T10:00:00Z,1\n2026-01-05T10:00:00Z,2\n"
    )
    with pytest.raises(TraceError, match="SML615") as info:
        read_cloudwatch(cw)
    assert "another year" in str(info.value) and "SML615" in CODES


def test_azure_2021_per_invocation_layout(tmp_path: Path) -> None:
    text = (
        "app,func,end_timestamp,duration\n"
        "a1,f1,10.5,0.5\n"  # started at 10 s: minute 0
        "a1,f1,130.0,20.0\n"  # started at 110 s: minute 1
        "a1,f1,125.0,0.25\n"  # minute 2? no: started 124.75 s -> minute 2
        "a2,f1,61.0,1.0\n"  # same function hash in another app
        "a2,g,5.0,9.0\n"  # started before the trace: minute 0
    )
    path = write(tmp_path, "AzureFunctionsInvocationTraceForTwoWeeksJan2021.txt", text)
    assert detect_format(path) == "azure2021"
    trace = load_trace([path])
    assert trace.source == "azure2021" and trace.minutes == 3
    by_name = {f.name: f for f in trace.functions}
    assert set(by_name) == {"f1~a1", "f1~a2", "g"}
    assert by_name["f1~a1"].counts.tolist() == [1, 1, 1]
    assert by_name["f1~a1"].duration_ms == pytest.approx((0.5 + 20.0 + 0.25) / 3 * 1000)
    assert by_name["f1~a2"].counts.tolist() == [0, 1, 0]
    assert by_name["g"].counts.tolist() == [1, 0, 0]


@pytest.mark.parametrize(
    ("text", "code", "line"),
    [
        ("app,func,end_timestamp\na,f,1\n", "SML602", 1),
        ("app,func,end_timestamp,duration\na,f,1,-2\n", "SML607", 2),
        ("app,func,end_timestamp,duration\na,,1,2\n", "SML603", 2),
        ("app,func,end_timestamp,duration\n", "SML613", 2),
        ("app,func,end_timestamp,duration\na,f,99999999999,1\n", "SML615", None),
    ],
)
def test_malformed_azure_2021(tmp_path: Path, text: str, code: str, line: int | None) -> None:
    with pytest.raises(TraceError) as info:
        read_azure_2021(write(tmp_path, "t.txt", text))
    assert (info.value.code, info.value.line) == (code, line)


def test_an_unknown_layout_names_every_accepted_one(tmp_path: Path) -> None:
    with pytest.raises(TraceError, match="SML609") as info:
        detect_format(write(tmp_path, "x.csv", "a,b,c\n1,2,3\n"))
    assert "HashOwner" in str(info.value) and "end_timestamp" in str(info.value)


def test_durations_beyond_lambda_s_limit_are_planned_at_the_limit() -> None:
    import numpy as np

    slow = FunctionTrace(name="batch", counts=np.ones(10, dtype=np.int64), duration_ms=3_600_000.0)
    assert PlannerOptions().profile_for(slow).duration_ms == MAX_DURATION_MS == 900_000
    with pytest.raises(SpecError, match="SML612"):
        PlannerOptions(duration_ms=1_000_000)
