"""One platform line of a Lambda function's log -> a typed record (or None for any other line).

Text format: a keyword, then ``Key: value`` fields separated by tabs (AWS's pages print spaces;
both are read). Sources: docs.aws.amazon.com/lambda/latest/dg/ lambda-runtime-environment.html
(INIT_REPORT / RESTORE_REPORT failures), snapstart-monitoring.html (Restore Duration),
services-cloudwatchlogs.html (a REPORT as CloudWatch stores it)::

    REPORT RequestId: <id>\\tDuration: 15.74 ms\\tBilled Duration: 147 ms\\tMemory Size: 128 MB\\t
        Max Memory Used: 56 MB\\tInit Duration: 130.49 ms\\t   (Init Duration: cold starts only)
        [Restore Duration: .. ms\\tBilled Restore Duration: .. ms]   (SnapStart, instead of Init)
        [Status: timeout | Status: error\\tError Type: Runtime.ExitError] [XRAY TraceId: ..]
    INIT_START Runtime Version: python:3.13.v16\\tRuntime Version ARN: arn:aws:lambda:...
    INIT_REPORT Init Duration: 1236.04 ms\\tPhase: init\\tStatus: error\\tError Type: Extension.Crash
    RESTORE_START Runtime Version: ...;  RESTORE_REPORT Restore Duration: 1236.04 ms[\\tStatus: ..]

JSON format (LoggingConfig ``LogFormat: JSON``): ``{"time", "type": "platform.<event>",
"record"}`` with the Telemetry API's record schema (telemetry-schema-reference.html):
``platform.report`` (requestId, status, errorType?, metrics: durationMs, billedDurationMs,
memorySizeMB, maxMemoryUsedMB, initDurationMs?, restoreDurationMs?; Lambda Managed Instances log
durationMs only), ``platform.initStart`` (initializationType on-demand | provisioned-concurrency
| snap-start, phase, runtimeVersion, functionVersion), ``platform.initReport`` (metrics.durationMs,
status, errorType?), ``platform.restoreStart``, ``platform.restoreReport``,
``platform.logsDropped``. START / END / ``platform.start`` and application logs are not read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Literal

LogFormat = Literal["Text", "JSON"]
SUCCESS: Final = "success"
STATUSES: Final = ("success", "failure", "error", "timeout")  # Telemetry API ``Status``
ON_DEMAND: Final = "on-demand"
PROVISIONED: Final = "provisioned-concurrency"
SNAP_START: Final = "snap-start"


class LineError(ValueError):
    """A platform line that cannot be read (counted as unparsed, never raised to the user)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    """``REPORT`` / ``platform.report``: one request."""

    request_id: str
    duration_ms: float
    billed_ms: float | None = None
    memory_mb: int | None = None
    max_memory_used_mb: int | None = None
    init_ms: float | None = None  # on-demand cold start: the request waited for INIT
    restore_ms: float | None = None  # SnapStart: the request waited for a restore
    billed_restore_ms: float | None = None
    status: str = SUCCESS
    error_type: str | None = None

    @property
    def cold(self) -> bool:
        return self.init_ms is not None or self.restore_ms is not None

    @property
    def per_request_metrics(self) -> bool:
        """False for Lambda Managed Instances, whose reports carry durationMs only."""
        return self.billed_ms is not None or self.memory_mb is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class InitStart:
    """``INIT_START`` / ``platform.initStart``: an environment began its INIT."""

    initialization_type: str | None = None  # JSON only; Text does not say
    runtime_version: str | None = None
    function_version: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InitReport:
    """``INIT_REPORT`` / ``platform.initReport``: how the INIT went."""

    init_ms: float
    phase: str = "init"  # init | invoke (a suppressed init, re-run on the request path)
    status: str = SUCCESS
    error_type: str | None = None
    initialization_type: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RestoreStart:
    """``RESTORE_START`` / ``platform.restoreStart``: a SnapStart environment began restoring."""

    runtime_version: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RestoreReport:
    """``RESTORE_REPORT`` / ``platform.restoreReport``."""

    restore_ms: float | None = None
    status: str = SUCCESS
    error_type: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LogsDropped:
    """``platform.logsDropped``: Lambda dropped log records, so counts may be short."""

    dropped_records: int


PlatformLine = Report | InitStart | InitReport | RestoreStart | RestoreReport | LogsDropped

# Longest labels first: "Billed Duration" must not be read as "Duration".
_KEYS: Final = (
    "Billed Restore Duration",
    "Restore Duration",
    "Billed Duration",
    "Init Duration",
    "Max Memory Used",
    "Memory Size",
    "Duration",
    "RequestId",
    "Runtime Version ARN",
    "Runtime Version",
    "Phase",
    "Status",
    "Error Type",
    "XRAY TraceId",
    "SegmentId",
    "Sampled",
)
_FIELD: Final = re.compile(r"(?:^|(?<=\s))(" + "|".join(map(re.escape, _KEYS)) + r"):")
_NUMBER: Final = re.compile(r"^(\d+(?:\.\d+)?)\s*(ms|MB)?(?:\s|$)")
_TEXT_KEYWORDS: Final = ("REPORT", "INIT_START", "INIT_REPORT", "RESTORE_START", "RESTORE_REPORT")


def line_format(message: str) -> LogFormat:
    """JSON when the message is an object, else Text."""
    return "JSON" if message.lstrip().startswith("{") else "Text"


def parse_line(message: str) -> PlatformLine | None:
    """The platform record in ``message``; None for any other line (application logs, START,
    END, platform events not read); ``LineError`` for a platform line that cannot be read."""
    if line_format(message) == "JSON":
        return _parse_json(message)
    text = message.strip()
    keyword, _, body = text.partition(" ")
    if keyword not in _TEXT_KEYWORDS:
        return None
    fields = _fields(body)
    if keyword == "REPORT":
        return _text_report(fields)
    if keyword == "INIT_START":
        return InitStart(runtime_version=_word(fields.get("Runtime Version")))
    if keyword == "RESTORE_START":
        return RestoreStart(runtime_version=_word(fields.get("Runtime Version")))
    status, error_type = _text_status(fields)
    if keyword == "INIT_REPORT":
        init_ms = _ms(fields, "Init Duration")
        if init_ms is None:
            raise LineError("INIT_REPORT without Init Duration")
        return InitReport(
            init_ms=init_ms,
            phase=_word(fields.get("Phase")) or "init",
            status=status,
            error_type=error_type,
        )
    return RestoreReport(
        restore_ms=_ms(fields, "Restore Duration"), status=status, error_type=error_type
    )


def _fields(body: str) -> dict[str, str]:
    """``Key: value`` pairs; a value runs to the next known key (tabs or spaces between)."""
    matches = list(_FIELD.finditer(body))
    fields: dict[str, str] = {}
    ends = [m.start() for m in matches[1:]] + [len(body)] if matches else []
    for here, end in zip(matches, ends, strict=True):
        fields.setdefault(here.group(1), body[here.end() : end].strip())
    return fields


def _word(value: str | None) -> str | None:
    return value.split()[0] if value and value.split() else None


def _ms(fields: dict[str, str], key: str) -> float | None:
    value = fields.get(key)
    if value is None:
        return None
    match = _NUMBER.match(value)
    if not match:
        raise LineError(f"{key}: {value!r} is not a number of ms or MB")
    return float(match.group(1))


def _mb(fields: dict[str, str], key: str) -> int | None:
    value = _ms(fields, key)
    return None if value is None else round(value)


def _text_status(fields: dict[str, str]) -> tuple[str, str | None]:
    status = (_word(fields.get("Status")) or SUCCESS).lower()
    if status not in STATUSES:
        raise LineError(f"unknown Status {status!r}")
    return status, _word(fields.get("Error Type"))


def _text_report(fields: dict[str, str]) -> Report:
    request_id = _word(fields.get("RequestId"))
    duration = _ms(fields, "Duration")
    if request_id is None or duration is None:
        raise LineError("REPORT without RequestId or Duration")
    status, error_type = _text_status(fields)
    return Report(
        request_id=request_id,
        duration_ms=duration,
        billed_ms=_ms(fields, "Billed Duration"),
        memory_mb=_mb(fields, "Memory Size"),
        max_memory_used_mb=_mb(fields, "Max Memory Used"),
        init_ms=_ms(fields, "Init Duration"),
        restore_ms=_ms(fields, "Restore Duration"),
        billed_restore_ms=_ms(fields, "Billed Restore Duration"),
        status=status,
        error_type=error_type,
    )


# --- JSON ----------------------------------------------------------------------------------


def _parse_json(message: str) -> PlatformLine | None:
    try:
        event = json.loads(message)
    except ValueError:
        if '"platform.' in message:
            raise LineError("platform record is not valid JSON") from None
        return None
    if not isinstance(event, dict):
        return None
    kind = event.get("type")
    if not isinstance(kind, str) or kind not in _JSON_READERS:
        return None  # application log, or a platform event not read here
    record = event.get("record")
    if not isinstance(record, dict):
        raise LineError(f"{kind}: record is not an object")
    return _JSON_READERS[kind](record)


def _num(data: dict[str, Any], key: str, *, required: bool = False) -> float | None:
    value = data.get(key)
    if value is None:
        if required:
            raise LineError(f"missing {key}")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise LineError(f"{key}: {value!r} is not a non-negative number")
    return float(value)


def _int(data: dict[str, Any], key: str) -> int | None:
    value = _num(data, key)
    return None if value is None else round(value)


def _str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value else None


def _metrics(record: dict[str, Any], *, required: bool) -> dict[str, Any]:
    metrics = record.get("metrics")
    if metrics is None and not required:
        return {}
    if not isinstance(metrics, dict):
        raise LineError("metrics is not an object")
    return metrics


def _json_status(record: dict[str, Any]) -> tuple[str, str | None]:
    status = (_str(record, "status") or SUCCESS).lower()
    if status not in STATUSES:
        raise LineError(f"unknown status {status!r}")
    return status, _str(record, "errorType")


def _json_report(record: dict[str, Any]) -> Report:
    request_id = _str(record, "requestId")
    if request_id is None:
        raise LineError("platform.report without requestId")
    metrics = _metrics(record, required=True)
    status, error_type = _json_status(record)
    duration = _num(metrics, "durationMs", required=True)
    assert duration is not None
    return Report(
        request_id=request_id,
        duration_ms=duration,
        billed_ms=_num(metrics, "billedDurationMs"),
        memory_mb=_int(metrics, "memorySizeMB"),
        max_memory_used_mb=_int(metrics, "maxMemoryUsedMB"),
        init_ms=_num(metrics, "initDurationMs"),
        restore_ms=_num(metrics, "restoreDurationMs"),
        billed_restore_ms=_num(metrics, "billedRestoreDurationMs"),  # not in the schema: if ever
        status=status,
        error_type=error_type,
    )


def _json_init_start(record: dict[str, Any]) -> InitStart:
    return InitStart(
        initialization_type=_str(record, "initializationType"),
        runtime_version=_str(record, "runtimeVersion"),
        function_version=_str(record, "functionVersion"),
    )


def _json_init_report(record: dict[str, Any]) -> InitReport:
    status, error_type = _json_status(record)
    init_ms = _num(_metrics(record, required=True), "durationMs", required=True)
    assert init_ms is not None
    return InitReport(
        init_ms=init_ms,
        phase=_str(record, "phase") or "init",
        status=status,
        error_type=error_type,
        initialization_type=_str(record, "initializationType"),
    )


def _json_restore_start(record: dict[str, Any]) -> RestoreStart:
    return RestoreStart(runtime_version=_str(record, "runtimeVersion"))


def _json_restore_report(record: dict[str, Any]) -> RestoreReport:
    status, error_type = _json_status(record)
    restore_ms = _num(_metrics(record, required=False), "durationMs")
    return RestoreReport(restore_ms=restore_ms, status=status, error_type=error_type)


def _json_logs_dropped(record: dict[str, Any]) -> LogsDropped:
    return LogsDropped(dropped_records=_int(record, "droppedRecords") or 0)


_JSON_READERS: Final[dict[str, Callable[[dict[str, Any]], PlatformLine]]] = {
    "platform.report": _json_report,
    "platform.initStart": _json_init_start,
    "platform.initReport": _json_init_report,
    "platform.restoreStart": _json_restore_start,
    "platform.restoreReport": _json_restore_report,
    "platform.logsDropped": _json_logs_dropped,
}
