"""Invocation traces: the Azure Functions 2019 public-dataset layout and CloudWatch exports.

A ``Trace`` holds, per function, invocations per minute (numpy ``int64``) from ``start`` (UTC),
plus the mean duration and memory when the trace files carry them. Readers refuse a malformed
file with a ``TraceError`` naming the file, line and column.

Azure layout (one file per day, ``invocations_per_function_md.anon.dNN.csv``)::

    HashOwner,HashApp,HashFunction[,Trigger],1,2,...,1440

with ``function_durations_percentiles.anon.dNN.csv`` (``HashOwner,HashApp,HashFunction,Average,
Count,...``, milliseconds) and ``app_memory_percentiles.anon.dNN.csv`` (``HashOwner,HashApp,
SampleCount,AverageAllocatedMb,...``, per application). Several days are joined in order.

CloudWatch export: a CSV with a header naming ``timestamp`` and ``count`` (aliases below), an
optional ``duration`` (average ms in the period) and an optional ``function`` column. Periods of
several minutes are spread evenly over their minutes; missing periods count zero.
"""

from __future__ import annotations

import csv
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

TraceFormat = Literal["azure", "cloudwatch"]
FORMATS: tuple[TraceFormat, ...] = ("azure", "cloudwatch")

# The Azure dataset does not give dates; day files start at 00:00 UTC of an arbitrary day.
AZURE_EPOCH = datetime(2019, 7, 15, tzinfo=UTC)

AZURE_ID_COLUMNS = ("HashOwner", "HashApp", "HashFunction")
AZURE_INVOCATIONS_GLOB = "invocations_per_function_md.anon.d*.csv"
AZURE_DURATIONS_GLOB = "function_durations_percentiles.anon.d*.csv"
AZURE_MEMORY_GLOB = "app_memory_percentiles.anon.d*.csv"

CW_TIMESTAMP = ("timestamp", "time", "datetime", "date")
CW_COUNT = ("count", "invocations", "sum", "value")
CW_DURATION = ("duration", "duration_ms", "durationms", "avg_duration_ms", "duration_avg")
CW_FUNCTION = ("function", "function_name", "functionname")

Counts = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class FunctionTrace:
    """One function's invocations per minute, with its mean duration and memory if known."""

    name: str
    counts: Counts
    owner: str = ""
    app: str = ""
    trigger: str = ""
    duration_ms: float | None = None
    memory_mb: float | None = None

    @property
    def invocations(self) -> int:
        return int(self.counts.sum())


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


def _read_azure_day(path: Path) -> _AzureDay:
    rows = _rows(path)
    _, header = _header(path, rows)
    for i, expected in enumerate(AZURE_ID_COLUMNS):
        if i >= len(header) or header[i] != expected:
            got = header[i] if i < len(header) else "nothing"
            raise TraceError(
                "SML602",
                f"expected {expected!r}, got {got!r} (Azure layout: "
                "HashOwner,HashApp,HashFunction[,Trigger],1..1440)",
                path=path,
                line=1,
                column=i + 1,
            )
    first = 4 if len(header) > 3 and header[3] == "Trigger" else 3
    minute_labels = header[first:]
    if not minute_labels:
        raise TraceError(
            "SML602", "no minute columns after the identifiers", path=path, line=1, column=first + 1
        )
    for i, label in enumerate(minute_labels):
        if label != str(i + 1):
            raise TraceError(
                "SML602",
                f"minute columns must be 1,2,...; expected {str(i + 1)!r}, got {label!r}",
                path=path,
                line=1,
                column=first + i + 1,
            )
    out: dict[tuple[str, str, str], tuple[str, Counts]] = {}
    seen_line: dict[tuple[str, str, str], int] = {}
    for line, row in rows:
        _check_width(path, line, row, header)
        key = (row[0].strip(), row[1].strip(), row[2].strip())
        for i, part in enumerate(key):
            if not part:
                raise TraceError(
                    "SML603",
                    "empty identifier",
                    path=path,
                    line=line,
                    column=i + 1,
                    column_name=AZURE_ID_COLUMNS[i],
                )
        if key in out:
            raise TraceError(
                "SML605",
                f"function already listed on line {seen_line[key]}",
                path=path,
                line=line,
                column=3,
                column_name="HashFunction",
            )
        out[key] = (row[3].strip() if first == 4 else "", _counts(path, line, row, first, header))
        seen_line[key] = line
    return _AzureDay(minutes=len(minute_labels), rows=out)


def _counts(path: Path, line: int, row: list[str], first: int, header: list[str]) -> Counts:
    cells = row[first:]
    try:
        values = np.array(cells, dtype=np.int64)
        if values.min() >= 0:
            return values
    except ValueError:
        pass
    for i, cell in enumerate(cells):  # slow path only to name the culprit
        text = cell.strip()
        if not text.isdigit():
            raise TraceError(
                "SML604",
                f"{cell!r} is not a non-negative integer count",
                path=path,
                line=line,
                column=first + i + 1,
                column_name=header[first + i],
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
    return {k: s / w for k, (s, w) in sums.items()}


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
    days = [_read_azure_day(Path(p)) for p in invocations]
    keys: list[tuple[str, str, str]] = []
    seen: set[tuple[str, str, str]] = set()
    for day in days:
        for key in day.rows:
            if key not in seen:
                seen.add(key)
                keys.append(key)
    total = sum(d.minutes for d in days)
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
    return value / 1000.0 if value > 1e11 else value  # epoch milliseconds


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
        try:
            count_f = float(count_text)
        except ValueError:
            count_f = math.nan
        if not (math.isfinite(count_f) and count_f >= 0 and count_f == int(count_f)):
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
        series[stamp] = (line, int(count_f), duration)
    if not points:
        raise TraceError("SML613", "no data rows after the header", path=path, line=2)
    return _cloudwatch_trace(path, points, header[ts_col], ts_col + 1, period_s)


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
    """``count`` invocations spread as evenly as integers allow over ``minutes`` minutes."""
    edges = (np.arange(minutes + 1, dtype=np.int64) * count) // minutes
    return np.diff(edges)


# -- entry point ------------------------------------------------------------------------------
def detect_format(path: Path) -> TraceFormat:
    """``azure`` if the header starts with HashOwner, ``cloudwatch`` if it names a timestamp."""
    _, header = _header(path, _rows(path))
    if header and header[0] == "HashOwner":
        return "azure"
    if _find(header, CW_TIMESTAMP) is not None:
        return "cloudwatch"
    raise TraceError(
        "SML609",
        f"cannot tell the format from the header {header[:6]}: an Azure trace starts with "
        "'HashOwner', a CloudWatch export names a 'timestamp' column; or pass --format",
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
    if len(files) != 1 or detected != {"cloudwatch"}:
        raise PlannerError("SML609", "give one CloudWatch export, or Azure day files only")
    return read_cloudwatch(files[0], period_s=period_s)


def minute_of_day(trace: Trace) -> npt.NDArray[np.int64]:
    """UTC minute of the day (0..1439) of every trace minute."""
    first = trace.start.hour * 60 + trace.start.minute
    return (first + np.arange(trace.minutes, dtype=np.int64)) % 1440


def trace_end(trace: Trace) -> datetime:
    return trace.start + timedelta(minutes=trace.minutes)
