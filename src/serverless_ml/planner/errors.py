"""Coded planner errors (SML6xx); trace errors name the file, line and column."""

from __future__ import annotations

from pathlib import Path

from serverless_ml.spec.errors import SpecError

# Every code the planner raises, with what it means (docs/planner.md lists the same table).
CODES: dict[str, str] = {
    "SML601": "trace file cannot be read (missing, not UTF-8 text, or empty)",
    "SML602": "trace header is wrong (missing or misplaced column)",
    "SML603": "row has the wrong number of fields",
    "SML604": "invocation count is not a non-negative integer",
    "SML605": "duplicate function row or timestamp",
    "SML606": "timestamp cannot be parsed",
    "SML607": "number (duration, memory) cannot be parsed or is out of range",
    "SML608": "timestamps are not on a whole-minute grid",
    "SML609": "trace format not recognised, or --format does not match the file",
    "SML610": "trace files of one trace disagree (minute columns, functions)",
    "SML611": "objective (--slo) cannot be parsed",
    "SML612": "planner option out of range",
    "SML613": "trace too short or without invocations",
    "SML614": "function filter matched nothing",
    "SML615": "trace would span more than 455 days (a timestamp from another year?)",
    "SML616": "exact simulation asked of more invocations than it can hold (use auto/aggregate)",
}


class PlannerError(SpecError):
    """A refusal by the planner: a stable ``code`` (SML6xx) and what to change."""

    def __init__(self, code: str, message: str) -> None:
        if code not in CODES:
            raise ValueError(f"unknown planner error code {code}")
        super().__init__(code, message)


class TraceError(PlannerError):
    """A malformed trace file. ``line`` and ``column`` are 1-based; the message names both."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        path: Path | str,
        line: int | None = None,
        column: int | None = None,
        column_name: str | None = None,
    ) -> None:
        where = str(path)
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column {column}"
            if column_name:
                where += f" ({column_name!r})"
        super().__init__(code, f"{where}: {message}")
        self.path = str(path)
        self.line = line
        self.column = column
        self.column_name = column_name
