"""Invocation traces: the Azure Functions 2019 and 2021 public-dataset layouts and CloudWatch
exports.

A ``Trace`` holds, per function, invocations per minute (numpy ``int64``) from ``start`` (UTC),
plus the mean duration and memory when the trace files carry them. Readers refuse a malformed
file with a ``TraceError`` naming the file, line and column.

Azure layout (one file per day, ``invocations_per_function_md.anon.dNN.csv``)::

    HashOwner,HashApp,HashFunction[,Trigger],1,2,...,1440

(columns found by name, in any order; minute columns ``1..`` or ``minute_1..``; a repeated
header line inside one file starts the next day, as ``cat`` of day files gives)
with ``function_durations_percentiles.anon.dNN.csv`` (``HashOwner,HashApp,HashFunction,Average,
Count,...``, milliseconds) and ``app_memory_percentiles.anon.dNN.csv`` (``HashOwner,HashApp,
SampleCount,AverageAllocatedMb,...``, per application). Several days are joined in order.

Azure 2021 layout: one row per invocation, ``app,func,end_timestamp,duration`` (seconds).

CloudWatch export: a CSV with a header naming ``timestamp`` and ``count`` (aliases below), an
optional ``duration`` (average ms in the period) and an optional ``function`` column. Periods of
several minutes are spread evenly over their minutes; missing periods count zero.
"""

from __future__ import annotations

import csv
import itertools
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from serverless_ml.planner.errors import PlannerError, TraceError

TraceFormat = Literal["azure", "azure2021", "cloudwatch"]
FORMATS: tuple[TraceFormat, ...] = ("azure", "azure2021", "cloudwatch")

# The Azure dataset does not give dates; day files start at 00:00 UTC of an arbitrary day.
AZURE_EPOCH = datetime(2019, 7, 15, tzinfo=UTC)

AZURE_ID_COLUMNS = ("HashOwner", "HashApp", "HashFunction")
AZURE_INVOCATIONS_GLOB = "invocations_per_function_md.anon.d*.csv"
AZURE_DURATIONS_GLOB = "function_durations_percentiles.anon.d*.csv"
AZURE_MEMORY_GLOB = "app_memory_percentiles.anon.d*.csv"
AZURE_MINUTE = re.compile(r"^(?:minute[_ ]?)?(\d+)$", re.IGNORECASE)
AZURE_IGNORED = re.compile(r"^(?:unnamed: ?\d+)?$", re.IGNORECASE)  # pandas' index column

# Azure Functions 2021 (AzureFunctionsInvocationTraceForTwoWeeksJan2021): one row per
# invocation, end time and duration in seconds from the start of the trace.
AZURE_2021_COLUMNS = ("app", "func", "end_timestamp", "duration")
AZURE_2021_EPOCH = datetime(2021, 1, 31, tzinfo=UTC)  # the files give offsets, not dates

INT64_MAX = int(np.iinfo(np.int64).max)
_DIGITS = re.compile(r"^[0-9]+$")
MAX_EPOCH_S = 253_402_300_799.0  # 9999-12-31T23:59:59Z, the last second datetime can hold
# CloudWatch keeps hourly points 455 days: no real export spans more, and a longer axis is a
# timestamp typo that would allocate millions of empty minutes per function.
MAX_TRACE_MINUTES = 455 * 1440

CW_TIMESTAMP = ("timestamp", "time", "datetime", "date")
CW_COUNT = ("count", "invocations", "sum", "value")
CW_DURATION = ("duration", "duration_ms", "durationms", "avg_duration_ms", "duration_avg")
CW_FUNCTION = ("function", "function_name", "functionname")

Counts = npt.NDArray[np.int64]


def total(counts: Counts) -> int:
    """Sum of non-negative int64 counts, exact even where int64 would overflow."""
    if len(counts) == 0:
        return 0
    if int(counts.max()) <= INT64_MAX // len(counts):
        return int(counts.sum())
    return sum(int(c) for c in counts.tolist())


def checked_counts(name: str, counts: object) -> Counts:
    """``counts`` as int64 per-minute invocations, or SML604 (negative, fractional, NaN or
    infinite, beyond the 64-bit range, not one-dimensional)."""
    array = np.asarray(counts)
    if array.ndim != 1:
        raise PlannerError("SML604", f"{name}: counts must be one number per minute")
    if array.dtype.kind in "iu":
        if len(array) and (array.dtype.kind == "i" and int(array.min()) < 0):
            raise PlannerError("SML604", f"{name}: negative count {int(array.min())}")
        if len(array) and int(array.max()) > INT64_MAX:
            raise PlannerError("SML604", f"{name}: a count is beyond the 64-bit range")
        return array.astype(np.int64, copy=False)
    if array.dtype.kind == "b":
        return array.astype(np.int64)
    bad = None
    values: list[int] = []
    for value in array.tolist():
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            bad = value
            break
        whole = int(value) if isinstance(value, int) else None
        if whole is None:
            if not math.isfinite(number) or number != math.floor(number):
                bad = value
                break
            whole = int(number)
        if not 0 <= whole <= INT64_MAX:
            bad = value
            break
        values.append(whole)
    if bad is not None:
        raise PlannerError(
            "SML604", f"{name}: count {bad!r} is not a non-negative integer within 64 bits"
        )
    return np.array(values, dtype=np.int64)


@dataclass(frozen=True, eq=False)
class FunctionTrace:
    """One function's invocations per minute, with its mean duration and memory if known.

    ``counts`` is checked (SML604) and stored as int64.
    """

    name: str
    counts: Counts
    owner: str = ""
    app: str = ""
    trigger: str = ""
    duration_ms: float | None = None
    memory_mb: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "counts", checked_counts(self.name, self.counts))

    @property
    def invocations(self) -> int:
        return total(self.counts)


@dataclass(frozen=True, eq=False)
class Trace:
    """Functions sharing one minute axis that starts at ``start`` (UTC)."""

    functions: tuple[FunctionTrace, ...]
    start: datetime
    source: str

    def __post_init__(self) -> None:
        lengths = {len(f.counts) for f in self.functions}
        if len(lengths) > 1:
            raise PlannerError("SML610", f"functions of one trace have different lengths {lengths}")

    @property
    def minutes(self) -> int:
        return len(self.functions[0].counts) if self.functions else 0

    @property
    def invocations(self) -> int:
        return sum(f.invocations for f in self.functions)

    def select(self, prefixes: Sequence[str]) -> Trace:
        """Only the functions whose name starts with one of ``prefixes``."""
        chosen = tuple(f for f in self.functions if any(f.name.startswith(p) for p in prefixes))
        if not chosen:
            raise PlannerError("SML614", f"no function name starts with any of {list(prefixes)}")
        return replace(self, functions=chosen)

    def sample(self, n: int, seed: int = 0) -> Trace:
        """A seeded random sample of ``n`` functions (all of them if there are fewer)."""
        if n < 1:
            raise PlannerError("SML612", f"sample size {n}: use at least 1")
        if n >= len(self.functions):
            return self
        picks = np.sort(np.random.default_rng(seed).choice(len(self.functions), n, replace=False))
        return replace(self, functions=tuple(self.functions[int(i)] for i in picks))


# -- CSV plumbing ----------------------------------------------------------------------------
def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of non-blank rows; unreadable files raise SML601."""
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise TraceError("SML601", f"cannot open: {exc.strerror or exc}", path=path) from exc
    with handle:
        reader = csv.reader(handle)
        try:
            for row in reader:
                if row and any(cell.strip() for cell in row):
                    yield reader.line_num, row
        except UnicodeDecodeError as exc:
            raise TraceError(
                "SML601", "not UTF-8 text", path=path, line=reader.line_num + 1
            ) from exc
        except csv.Error as exc:
            raise TraceError(
                "SML603", f"CSV syntax: {exc}", path=path, line=reader.line_num
            ) from exc


def _header(path: Path, rows: Iterator[tuple[int, list[str]]]) -> tuple[int, list[str]]:
    try:
        line, header = next(rows)
    except StopIteration:
        raise TraceError("SML601", "the file is empty", path=path) from None
    return line, [h.strip() for h in header]


def _check_width(path: Path, line: int, row: list[str], header: list[str]) -> None:
    if len(row) != len(header):
        column = min(len(row), len(header)) + 1
        name = header[column - 1] if column <= len(header) else None
        what = "missing" if len(row) < len(header) else "extra"
        raise TraceError(
            "SML603",
            f"{what} field: the header has {len(header)} columns, this row {len(row)}",
            path=path,
            line=line,
            column=column,
            column_name=name,
        )


def _float(
    path: Path, line: int, column: int, name: str, text: str, *, allow_empty: bool = False
) -> float | None:
    text = text.strip()
    if not text and allow_empty:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise TraceError(
            "SML607",
            f"{text!r} is not a non-negative number",
            path=path,
            line=line,
            column=column,
            column_name=name,
        )
    return value


# -- Azure ---------------------------------------------------------------------------------
@dataclass
class _AzureDay:
    minutes: int
    rows: dict[tuple[str, str, str], tuple[str, Counts]]


@dataclass(frozen=True)
class _AzureLayout:
    """Where a day file keeps its identifiers, trigger and minute columns (found by name)."""

    ids: tuple[int, int, int]
    trigger: int | None
    minutes: tuple[int, ...]  # the column of minute 1, 2, ..., N
    header: tuple[str, ...]


def _is_azure_header(cells: Sequence[str]) -> bool:
    lowered = {c.strip().lower() for c in cells}
    return {n.lower() for n in AZURE_ID_COLUMNS} <= lowered


def _azure_layout(path: Path, line: int, header: list[str]) -> _AzureLayout:
    lowered = [h.strip().lower() for h in header]
    ids: list[int] = []
    for name in AZURE_ID_COLUMNS:
        if name.lower() not in lowered:
            raise TraceError(
                "SML602",
                f"no {name!r} column (Azure layout: HashOwner, HashApp, HashFunction, an "
                f"optional Trigger and minute columns 1..1440 or minute_1..); header {header[:6]}",
                path=path,
                line=line,
                column=len(header) + 1,
            )
        ids.append(lowered.index(name.lower()))
    trigger = lowered.index("trigger") if "trigger" in lowered else None
    by_minute: dict[int, int] = {}
    for column, label in enumerate(header):
        if column in ids or column == trigger:
            continue
        match = AZURE_MINUTE.match(label.strip())
        if match is None:
            if AZURE_IGNORED.match(label.strip()):
                continue  # a pandas index column
            raise TraceError(
                "SML602",
                f"unexpected column {label!r}: the Azure layout has identifiers, Trigger and "
                "minute columns (1..1440 or minute_1..)",
                path=path,
                line=line,
                column=column + 1,
            )
        number = int(match.group(1))
        if number in by_minute:
            raise TraceError(
                "SML602", f"minute {number} appears twice", path=path, line=line, column=column + 1
            )
        by_minute[number] = column
    if not by_minute:
        raise TraceError(
            "SML602", "no minute columns", path=path, line=line, column=len(header) + 1
        )
    numbers = sorted(by_minute)
    expected = list(range(1, len(numbers) + 1))
    if numbers != expected:
        gap = next(n for n, e in zip(numbers, expected, strict=True) if n != e)
        raise TraceError(
            "SML602",
            f"minute columns must run 1..N without gaps; found {gap} where "
            f"{expected[numbers.index(gap)]} belongs",
            path=path,
            line=line,
            column=by_minute[gap] + 1,
        )
    return _AzureLayout(
        ids=(ids[0], ids[1], ids[2]),
        trigger=trigger,
        minutes=tuple(by_minute[n] for n in numbers),
        header=tuple(header),
    )


def _read_azure_days(path: Path) -> list[_AzureDay]:
    """The day(s) of one invocations file: a header line repeated further down (day files
    concatenated with ``cat``) starts the next day."""
    rows = _rows(path)
    line, header = _header(path, rows)
    layout = _azure_layout(path, line, header)
    days: list[_AzureDay] = []
    out: dict[tuple[str, str, str], tuple[str, Counts]] = {}
    seen_line: dict[tuple[str, str, str], int] = {}
    for line, row in rows:
        if _is_azure_header(row):
            days.append(_AzureDay(minutes=len(layout.minutes), rows=out))
            layout = _azure_layout(path, line, [c.strip() for c in row])
            out, seen_line = {}, {}
            continue
        _check_width(path, line, row, list(layout.header))
        key = (row[layout.ids[0]].strip(), row[layout.ids[1]].strip(), row[layout.ids[2]].strip())
        for i, part in enumerate(key):
            if not part:
                raise TraceError(
                    "SML603",
                    "empty identifier",
                    path=path,
                    line=line,
                    column=layout.ids[i] + 1,
                    column_name=AZURE_ID_COLUMNS[i],
                )
        if key in out:
            raise TraceError(
                "SML605",
                f"function already listed on line {seen_line[key]}",
                path=path,
                line=line,
                column=layout.ids[2] + 1,
                column_name="HashFunction",
            )
        trigger = row[layout.trigger].strip() if layout.trigger is not None else ""
        out[key] = (trigger, _counts(path, line, row, layout))
        seen_line[key] = line
    days.append(_AzureDay(minutes=len(layout.minutes), rows=out))
    return days


def _counts(path: Path, line: int, row: list[str], layout: _AzureLayout) -> Counts:
    cells = [row[c] for c in layout.minutes]
    try:
        values = np.array(cells, dtype=np.int64)
        if values.min() >= 0:
            return values
    except (ValueError, OverflowError):
        pass
    for column, cell in zip(layout.minutes, cells, strict=True):  # slow path: name the culprit
        text = cell.strip()
        problem = None
        if not _DIGITS.match(text):
            problem = "is not a non-negative integer count"
        elif int(text) > INT64_MAX:
            problem = "is beyond the 64-bit range of a per-minute count"
        if problem:
            raise TraceError(
                "SML604",
                f"{cell!r} {problem}",
                path=path,
                line=line,
                column=column + 1,
                column_name=layout.header[column],
            )
    raise TraceError("SML604", "invalid count", path=path, line=line)  # pragma: no cover


def _read_azure_durations(paths: Sequence[Path]) -> dict[tuple[str, str, str], float]:
    """Mean duration (ms) per function, weighted by ``Count`` across days when present."""
    sums: dict[tuple[str, str, str], list[float]] = {}
    for path in paths:
        rows = _rows(path)
        _, header = _header(path, rows)
        idx = _require(path, header, (*AZURE_ID_COLUMNS, "Average"))
        count_col = header.index("Count") if "Count" in header else None
        for line, row in rows:
            _check_width(path, line, row, header)
            key = (row[idx[0]].strip(), row[idx[1]].strip(), row[idx[2]].strip())
            avg = _float(path, line, idx[3] + 1, "Average", row[idx[3]])
            weight = 1.0
            if count_col is not None:
                weight = _float(path, line, count_col + 1, "Count", row[count_col]) or 0.0
            acc = sums.setdefault(key, [0.0, 0.0])
            acc[0] += (avg or 0.0) * max(weight, 1e-9)
            acc[1] += max(weight, 1e-9)
    # sums past the float range (absurd averages): planned at Lambda's timeout downstream
    return {k: s / w if math.isfinite(s / w) else math.inf for k, (s, w) in sums.items()}


def _read_azure_memory(paths: Sequence[Path]) -> dict[tuple[str, str], float]:
    """Mean allocated memory (MB) per application, averaged across days."""
    sums: dict[tuple[str, str], list[float]] = {}
    for path in paths:
        rows = _rows(path)
        _, header = _header(path, rows)
        idx = _require(path, header, ("HashOwner", "HashApp", "AverageAllocatedMb"))
        for line, row in rows:
            _check_width(path, line, row, header)
            key = (row[idx[0]].strip(), row[idx[1]].strip())
            mb = _float(path, line, idx[2] + 1, "AverageAllocatedMb", row[idx[2]]) or 0.0
            acc = sums.setdefault(key, [0.0, 0.0])
            acc[0] += mb
            acc[1] += 1
    return {k: s / n for k, (s, n) in sums.items()}


def _require(path: Path, header: list[str], names: Sequence[str]) -> list[int]:
    missing = [n for n in names if n not in header]
    if missing:
        raise TraceError(
            "SML602",
            f"missing column(s) {missing}; the header starts {header[:8]}",
            path=path,
            line=1,
            column=len(header) + 1,
        )
    return [header.index(n) for n in names]


def read_azure(
    invocations: Sequence[Path | str],
    durations: Sequence[Path | str] = (),
    memory: Sequence[Path | str] = (),
    *,
    start: datetime = AZURE_EPOCH,
) -> Trace:
    """Read Azure Functions 2019 day files (in order) into one trace."""
    if not invocations:
        raise PlannerError("SML601", "no Azure invocation file given")
    days = [day for p in invocations for day in _read_azure_days(Path(p))]
    keys: list[tuple[str, str, str]] = []
    seen: set[tuple[str, str, str]] = set()
    for day in days:
        for key in day.rows:
            if key not in seen:
                seen.add(key)
                keys.append(key)
    total = sum(d.minutes for d in days)
    _check_span(Path(invocations[-1]), total)
    dur = _read_azure_durations([Path(p) for p in durations])
    mem = _read_azure_memory([Path(p) for p in memory])
    names: dict[str, int] = {}
    for _, _, fn in keys:
        names[fn] = names.get(fn, 0) + 1
    functions = []
    for key in keys:
        counts = np.zeros(total, dtype=np.int64)
        offset = 0
        trigger = ""
        for day in days:
            if key in day.rows:
                trigger, values = day.rows[key][0] or trigger, day.rows[key][1]
                counts[offset : offset + day.minutes] = values
            offset += day.minutes
        owner, app, fn = key
        functions.append(
            FunctionTrace(
                name=fn if names[fn] == 1 else f"{fn}~{app[:8]}",
                counts=counts,
                owner=owner,
                app=app,
                trigger=trigger,
                duration_ms=dur.get(key),
                memory_mb=mem.get((owner, app)),
            )
        )
    return Trace(functions=tuple(functions), start=start, source="azure")


def _check_span(path: Path, minutes: int) -> None:
    if minutes > MAX_TRACE_MINUTES:
        raise TraceError(
            "SML615",
            f"the trace would span {minutes:,} minutes ({minutes / 1440:,.0f} days), over "
            f"{MAX_TRACE_MINUTES // 1440} days: check for a timestamp from another year, or "
            "plan a shorter export",
            path=path,
        )


# -- Azure 2021 -----------------------------------------------------------------------------
def read_azure_2021(path: Path | str, *, start: datetime = AZURE_2021_EPOCH) -> Trace:
    """Read the Azure Functions 2021 per-invocation layout (``app,func,end_timestamp,duration``,
    seconds): each invocation counts in the minute it started (end minus duration)."""
    path = Path(path)
    rows = _rows(path)
    _, header = _header(path, rows)
    lowered = [h.lower() for h in header]
    missing = [c for c in AZURE_2021_COLUMNS if c not in lowered]
    if missing:
        raise TraceError(
            "SML602", f"missing column(s) {missing}; header {header[:6]}", path=path, line=1,
            column=len(header) + 1,
        )  # fmt: skip
    app_col, fn_col, end_col, dur_col = (lowered.index(c) for c in AZURE_2021_COLUMNS)
    minutes: dict[tuple[str, str], list[int]] = {}
    seconds: dict[tuple[str, str], float] = {}
    for line, row in rows:
        _check_width(path, line, row, header)
        key = (row[app_col].strip(), row[fn_col].strip())
        for column, part in ((app_col, key[0]), (fn_col, key[1])):
            if not part:
                raise TraceError(
                    "SML603", "empty identifier", path=path, line=line, column=column + 1,
                    column_name=header[column],
                )  # fmt: skip
        end = _float(path, line, end_col + 1, header[end_col], row[end_col]) or 0.0
        duration = _float(path, line, dur_col + 1, header[dur_col], row[dur_col]) or 0.0
        minute = int(max(0.0, end - duration) // 60)
        if minute >= MAX_TRACE_MINUTES:
            _check_span(path, minute + 1)
        minutes.setdefault(key, []).append(minute)
        seconds[key] = seconds.get(key, 0.0) + duration
    if not minutes:
        raise TraceError("SML613", "no invocations after the header", path=path, line=2)
    total = max(max(m) for m in minutes.values()) + 1
    names: dict[str, int] = {}
    for _, fn in minutes:
        names[fn] = names.get(fn, 0) + 1
    functions = tuple(
        FunctionTrace(
            name=fn if names[fn] == 1 else f"{fn}~{app[:8]}",
            counts=np.bincount(np.asarray(found, dtype=np.int64), minlength=total).astype(np.int64),
            app=app,
            duration_ms=seconds[app, fn] / len(found) * 1000.0,
        )
        for (app, fn), found in minutes.items()
    )
    return Trace(functions=functions, start=start, source="azure2021")


# -- CloudWatch -------------------------------------------------------------------------------
def _find(header: list[str], aliases: Sequence[str]) -> int | None:
    lowered = [re.sub(r"[\s()]+", "_", h.lower()).strip("_") for h in header]
    for alias in aliases:
        if alias in lowered:
            return lowered.index(alias)
    return None


def _timestamp(path: Path, line: int, column: int, name: str, text: str) -> float:
    raw = text.strip()
    try:
        value = float(raw)
    except ValueError:
        try:
            stamp = datetime.fromisoformat(raw)
        except ValueError:
            raise TraceError(
                "SML606",
                f"{raw!r} is neither ISO 8601 (2026-01-05T10:00:00Z) nor epoch seconds",
                path=path,
                line=line,
                column=column,
                column_name=name,
            ) from None
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=UTC)
        return stamp.timestamp()
    if not math.isfinite(value) or value < 0:
        raise TraceError(
            "SML606",
            f"{raw!r} is not a valid epoch time",
            path=path,
            line=line,
            column=column,
            column_name=name,
        )
    seconds = value / 1000.0 if value > 1e11 else value  # epoch milliseconds
    if seconds > MAX_EPOCH_S:
        raise TraceError(
            "SML606",
            f"{raw!r} is after the year 9999, even read as epoch milliseconds",
            path=path,
            line=line,
            column=column,
            column_name=name,
        )
    return seconds


def read_cloudwatch(
    path: Path | str, *, name: str | None = None, period_s: int | None = None
) -> Trace:
    """Read a CloudWatch export (``timestamp,count[,duration][,function]``) into a trace.

    ``period_s``: the metric period (a multiple of 60); by default inferred from the timestamps.
    """
    if period_s is not None and (period_s < 60 or period_s % 60):
        raise PlannerError("SML612", f"period {period_s} s: use a multiple of 60")
    path = Path(path)
    rows = _rows(path)
    _, header = _header(path, rows)
    ts_col, count_col = _find(header, CW_TIMESTAMP), _find(header, CW_COUNT)
    for col, aliases in ((ts_col, CW_TIMESTAMP), (count_col, CW_COUNT)):
        if col is None:
            raise TraceError(
                "SML602",
                f"no {aliases[0]!r} column (accepted names: {', '.join(aliases)}); header {header}",
                path=path,
                line=1,
                column=len(header) + 1,
            )
    assert ts_col is not None and count_col is not None
    dur_col, fn_col = _find(header, CW_DURATION), _find(header, CW_FUNCTION)
    default_name = name or path.stem
    points: dict[str, dict[float, tuple[int, int, float | None]]] = {}
    for line, row in rows:
        _check_width(path, line, row, header)
        stamp = _timestamp(path, line, ts_col + 1, header[ts_col], row[ts_col])
        count_text = row[count_col].strip()
        count = _count(count_text)
        if count is None:
            raise TraceError(
                "SML604",
                f"{count_text!r} is not a non-negative integer count",
                path=path,
                line=line,
                column=count_col + 1,
                column_name=header[count_col],
            )
        duration = None
        if dur_col is not None:
            duration = _float(
                path, line, dur_col + 1, header[dur_col], row[dur_col], allow_empty=True
            )
        fn = row[fn_col].strip() if fn_col is not None else default_name
        series = points.setdefault(fn or default_name, {})
        if stamp in series:
            raise TraceError(
                "SML605",
                f"timestamp {row[ts_col].strip()!r} already given on line {series[stamp][0]}",
                path=path,
                line=line,
                column=ts_col + 1,
                column_name=header[ts_col],
            )
        series[stamp] = (line, count, duration)
    if not points:
        raise TraceError("SML613", "no data rows after the header", path=path, line=2)
    return _cloudwatch_trace(path, points, header[ts_col], ts_col + 1, period_s)


def _count(text: str) -> int | None:
    """A per-period count: an integer (``42``, ``42.0``, ``4.2e1``) in 0..2^63-1, else None."""
    if _DIGITS.match(text):
        value = int(text)
    else:
        try:
            number = float(text)
        except ValueError:
            return None
        if not (math.isfinite(number) and number == math.floor(number)):
            return None
        value = int(number)
    return value if 0 <= value <= INT64_MAX else None


def _cloudwatch_trace(
    path: Path,
    points: dict[str, dict[float, tuple[int, int, float | None]]],
    ts_name: str,
    ts_column: int,
    period_s: int | None,
) -> Trace:
    """Lay the points on a minute grid. The period is ``period_s`` if given, else the greatest
    common divisor of the offsets from the first timestamp (CloudWatch omits empty periods, so
    the smallest gap alone would overstate it)."""
    t0 = min(min(series) for series in points.values())
    offsets: list[int] = []
    for series in points.values():
        for stamp, (line, _, _) in sorted(series.items()):
            offset = stamp - t0
            whole = round(offset)
            step = period_s or 60
            if abs(offset - whole) > 1e-6 or whole % step:
                raise TraceError(
                    "SML608",
                    f"timestamp is {offset:g} s after the first one, not a multiple of "
                    f"{step} s: the export must be on a grid of whole minutes (or pass the period)",
                    path=path,
                    line=line,
                    column=ts_column,
                    column_name=ts_name,
                )
            offsets.append(whole)
    period = period_s or (math.gcd(*offsets) or 60)
    per = period // 60
    slots = max(offsets) // period + 1
    _check_span(path, slots * per)
    functions = []
    for fn, series in points.items():
        counts = np.zeros(slots * per, dtype=np.int64)
        weighted, calls = 0.0, 0
        for stamp, (_, count, duration) in series.items():
            slot = round(stamp - t0) // period
            counts[slot * per : (slot + 1) * per] = _spread(count, per)
            if duration is not None and count:
                weighted += duration * count
                calls += count
        functions.append(
            FunctionTrace(name=fn, counts=counts, duration_ms=weighted / calls if calls else None)
        )
    start = datetime.fromtimestamp(t0, tz=UTC)
    return Trace(functions=tuple(functions), start=start, source="cloudwatch")


def _spread(count: int, minutes: int) -> Counts:
    """``count`` invocations spread as evenly as integers allow over ``minutes`` minutes
    (in Python integers: ``minutes * count`` may not fit 64 bits)."""
    edges = [j * count // minutes for j in range(minutes + 1)]
    return np.array([b - a for a, b in itertools.pairwise(edges)], dtype=np.int64)


# -- entry point ------------------------------------------------------------------------------
def detect_format(path: Path) -> TraceFormat:
    """``azure`` for the 2019 per-minute layout (HashOwner, HashApp, HashFunction in any
    order), ``azure2021`` for the per-invocation layout, ``cloudwatch`` for a timestamp column."""
    _, header = _header(path, _rows(path))
    if _is_azure_header(header):
        return "azure"
    if set(AZURE_2021_COLUMNS) <= {h.lower() for h in header}:
        return "azure2021"
    if _find(header, CW_TIMESTAMP) is not None:
        return "cloudwatch"
    raise TraceError(
        "SML609",
        f"cannot tell the format from the header {header[:6]}: an Azure 2019 trace names "
        "HashOwner, HashApp and HashFunction; an Azure 2021 trace app, func, end_timestamp "
        "and duration; a CloudWatch export a 'timestamp' column; or pass --format",
        path=path,
        line=1,
        column=1,
    )


def load_trace(
    paths: Sequence[Path | str],
    *,
    fmt: str | None = None,
    durations: Sequence[Path | str] = (),
    memory: Sequence[Path | str] = (),
    period_s: int | None = None,
) -> Trace:
    """Read a trace from files or an Azure dataset directory, detecting the format if needed.

    A directory is searched for the Azure day files (invocations, durations, memory).
    """
    if fmt is not None and fmt not in FORMATS:
        raise PlannerError("SML609", f"unknown trace format {fmt!r}: use one of {FORMATS}")
    files: list[Path] = []
    durations = [Path(p) for p in durations]
    memory = [Path(p) for p in memory]
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(path.glob(AZURE_INVOCATIONS_GLOB))
            if not found:
                raise PlannerError(
                    "SML601", f"{path}: no {AZURE_INVOCATIONS_GLOB} file in this directory"
                )
            files.extend(found)
            durations += sorted(path.glob(AZURE_DURATIONS_GLOB))
            memory += sorted(path.glob(AZURE_MEMORY_GLOB))
        else:
            files.append(path)
    if not files:
        raise PlannerError("SML601", "no trace file given")
    detected = {detect_format(p) for p in files}
    if fmt is not None and detected != {fmt}:
        raise PlannerError("SML609", f"--format {fmt} but the file(s) look like {sorted(detected)}")
    if detected == {"azure"}:
        return read_azure(files, durations, memory)
    if len(files) != 1 or len(detected) != 1:
        raise PlannerError(
            "SML609", "give Azure 2019 day files only, or one Azure 2021 or CloudWatch file"
        )
    if detected == {"azure2021"}:
        return read_azure_2021(files[0])
    return read_cloudwatch(files[0], period_s=period_s)


def minute_of_day(trace: Trace) -> npt.NDArray[np.int64]:
    """UTC minute of the day (0..1439) of every trace minute."""
    first = trace.start.hour * 60 + trace.start.minute
    return (first + np.arange(trace.minutes, dtype=np.int64)) % 1440


def trace_end(trace: Trace) -> datetime:
    return trace.start + timedelta(minutes=trace.minutes)
