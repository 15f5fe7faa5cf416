"""The platform lines Lambda writes to a function's log around each invoke, in the function's
log format: Text (``START`` / ``END`` / ``REPORT``, tab-separated fields, as CloudWatch shows
them) or JSON (``platform.start`` / ``platform.report`` / ``platform.initStart`` records,
https://docs.aws.amazon.com/lambda/latest/dg/telemetry-schema-reference.html). ``#12``'s
``coldstarts`` reads both back.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Final

from serverless_ml.local.invocation import TIMEOUT_ERROR
from serverless_ml.local.records import InitRecord, InvokeRecord

VERSION: Final = "$LATEST"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _json(kind: str, record: dict[str, Any]) -> str:
    return json.dumps({"time": _now(), "type": kind, "record": record})


def init_start_line(init: InitRecord, *, runtime: str, log_format: str) -> str:
    """Logged when an environment starts its INIT (``INIT_START`` in Text)."""
    if log_format == "JSON":
        return _json(
            "platform.initStart",
            {
                "functionName": init.function,
                "functionVersion": VERSION,
                "initializationType": init.initialization_type,
                "phase": "init",
                "runtimeVersion": runtime,
            },
        )
    return f"INIT_START Runtime Version: {runtime}"


def _init_error_type(init: InitRecord) -> str | None:
    """``InitRecord.error`` is ``"<errorType>: <message>"``."""
    return None if init.error is None else init.error.split(":", 1)[0]


def init_report_line(init: InitRecord, *, log_format: str) -> str:
    """The INIT phase's report (JSON ``platform.initReport``; Text logs it for provisioned
    environments and on failure, with the ``Error Type``)."""
    error_type = _init_error_type(init)
    status = "success" if error_type is None else "error"
    if log_format == "JSON":
        record: dict[str, Any] = {
            "initializationType": init.initialization_type,
            "phase": "init",
            "status": status,
            "metrics": {"durationMs": round(init.init_ms, 2)},
        }
        if error_type is not None:
            record["errorType"] = error_type
        return _json("platform.initReport", record)
    line = f"INIT_REPORT Init Duration: {init.init_ms:.2f} ms\tPhase: init\tStatus: {status}"
    return line if error_type is None else f"{line}\tError Type: {error_type}"


def start_line(request_id: str, *, log_format: str) -> str:
    if log_format == "JSON":
        return _json("platform.start", {"requestId": request_id, "version": VERSION})
    return f"START RequestId: {request_id} Version: {VERSION}"


def end_line(request_id: str, *, log_format: str) -> str | None:
    """``END`` in Text; JSON logs carry the status in the report instead (None)."""
    return None if log_format == "JSON" else f"END RequestId: {request_id}"


def _status(record: InvokeRecord) -> str:
    """success | failure (the handler raised) | timeout | error (the runtime itself failed)."""
    if record.error_type is None:
        return "success"
    if record.error_type == TIMEOUT_ERROR:
        return "timeout"
    return "error" if record.error_type.startswith(("Runtime.", "Sandbox.")) else "failure"


def report_line(record: InvokeRecord, *, log_format: str) -> str:
    """``REPORT RequestId: ... Duration ... Billed Duration ... Memory Size ... Max Memory Used
    ... [Init Duration ...]`` or its JSON ``platform.report`` record."""
    if log_format == "JSON":
        metrics: dict[str, Any] = {
            "durationMs": round(record.duration_ms, 2),
            "billedDurationMs": record.billed_ms,
            "memorySizeMB": record.memory_mb,
            "maxMemoryUsedMB": record.max_memory_used_mb,
        }
        if record.init_ms is not None:
            metrics["initDurationMs"] = round(record.init_ms, 2)
        body: dict[str, Any] = {
            "requestId": record.request_id,
            "metrics": metrics,
            "status": _status(record),
        }
        if record.error_type is not None:
            body["errorType"] = record.error_type
        return _json("platform.report", body)
    fields = [
        f"REPORT RequestId: {record.request_id}",
        f"Duration: {record.duration_ms:.2f} ms",
        f"Billed Duration: {record.billed_ms} ms",
        f"Memory Size: {record.memory_mb} MB",
        f"Max Memory Used: {record.max_memory_used_mb} MB",
    ]
    if record.init_ms is not None:
        fields.append(f"Init Duration: {record.init_ms:.2f} ms")
    status = _status(record)
    if status == "timeout":
        fields.append("Status: timeout")
    elif status == "error":
        fields += ["Status: error", f"Error Type: {record.error_type}"]
    return "\t".join(fields) + "\t"


def timeout_line(request_id: str, timeout_s: float) -> str:
    """What Lambda logs when an invoke runs past the function's timeout."""
    return f"{_now()} {request_id} Task timed out after {timeout_s:.2f} seconds"
