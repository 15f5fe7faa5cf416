"""The platform lines the local runner writes to a function's log, checked against what Lambda
writes:

- Text format (CloudWatch message text): ``START RequestId: <id> Version: $LATEST``,
  ``END RequestId: <id>``, and the tab-separated ``REPORT`` line, e.g.
  ``REPORT RequestId: <id>\\tDuration: 13.93 ms\\tBilled Duration: 237 ms\\tMemory Size: 128 MB\\t
  Max Memory Used: 36 MB\\tInit Duration: 222.70 ms\\t`` (Billed Duration includes INIT on an
  on-demand cold start since 2025-08-01: ceil(13.93 + 222.70) = 237); failures add
  ``Status: timeout`` or ``Status: error\\tError Type: Runtime.ExitError``
  (docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html); INIT reports read
  ``INIT_REPORT Init Duration: 150.79 ms\\tPhase: init\\tStatus: error\\tError Type: <type>``.
- JSON format: ``{"time", "type": "platform.<event>", "record"}`` with the record fields of the
  Telemetry API schema (docs.aws.amazon.com/lambda/latest/dg/telemetry-schema-reference.html):
  ``platform.initStart`` (functionName, functionVersion, initializationType, phase,
  runtimeVersion), ``platform.initReport`` (initializationType, phase, status, metrics.durationMs,
  errorType on failure), ``platform.start`` (requestId, version), ``platform.report``
  (requestId, status, metrics: durationMs, billedDurationMs, memorySizeMB, maxMemoryUsedMB,
  initDurationMs only on a cold start; errorType on failure / error).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import pytest

from serverless_ml.local import records, report_lines
from serverless_ml.local.records import InitRecord, InvokeRecord

RID = "8491a07b-8ff5-48c7-8a0f-518cd9b1efa6"
ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def _invoke(**overrides: Any) -> InvokeRecord:
    fields: dict[str, Any] = {
        "function": "fraud-detection",
        "source": "http",
        "request_id": RID,
        "environment": 1,
        "at_s": 1.0,
        "duration_ms": 1.234,
        "init_ms": None,
        "memory_mb": 1024,
        "max_memory_used_mb": 90,
    }
    fields.update(overrides)
    return InvokeRecord(**fields)


def _init(**overrides: Any) -> InitRecord:
    fields: dict[str, Any] = {
        "function": "fraud-detection",
        "environment": 1,
        "at_s": 0.0,
        "init_ms": 200.0,
        "initialization_type": "on-demand",
    }
    fields.update(overrides)
    return InitRecord(**fields)


@pytest.fixture(autouse=True)
def _init_billed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Billed Duration includes INIT (Lambda since 2025-08-01), whatever the constant says."""
    monkeypatch.setattr(records, "LAMBDA_INIT_BILLED", True)


def _fields(line: str) -> list[str]:
    """A Text REPORT line's fields; Lambda ends the line with a tab."""
    assert line.endswith("\t"), repr(line)
    return line[:-1].split("\t")


def _event(line: str, kind: str) -> dict[str, Any]:
    assert "\n" not in line  # one log event per line
    event: dict[str, Any] = json.loads(line)
    assert set(event) == {"time", "type", "record"}
    assert event["type"] == kind
    assert ISO_MS.match(event["time"]), event["time"]
    datetime.fromisoformat(event["time"].replace("Z", "+00:00"))
    record: dict[str, Any] = event["record"]
    return record


# --- Text: START / END / REPORT -------------------------------------------------------------


def test_text_start_and_end_lines() -> None:
    assert (
        report_lines.start_line(RID, log_format="Text")
        == f"START RequestId: {RID} Version: $LATEST"
    )
    assert report_lines.end_line(RID, log_format="Text") == f"END RequestId: {RID}"


def test_text_report_warm() -> None:
    line = report_lines.report_line(_invoke(), log_format="Text")
    assert _fields(line) == [
        f"REPORT RequestId: {RID}",
        "Duration: 1.23 ms",
        "Billed Duration: 2 ms",
        "Memory Size: 1024 MB",
        "Max Memory Used: 90 MB",
    ]
    assert "Init Duration" not in line and "Status" not in line


def test_text_report_cold_start_has_init_duration_last() -> None:
    line = report_lines.report_line(_invoke(init_ms=200.0), log_format="Text")
    assert _fields(line) == [
        f"REPORT RequestId: {RID}",
        "Duration: 1.23 ms",
        "Billed Duration: 202 ms",  # ceil(1.234 + 200.0): INIT is billed on demand
        "Memory Size: 1024 MB",
        "Max Memory Used: 90 MB",
        "Init Duration: 200.00 ms",
    ]


def test_text_report_matches_a_real_cold_start_line() -> None:
    """Numbers from a real CloudWatch REPORT line (2025): the same text back."""
    record = _invoke(duration_ms=13.93, init_ms=222.70, memory_mb=128, max_memory_used_mb=36)
    assert report_lines.report_line(record, log_format="Text") == (
        f"REPORT RequestId: {RID}\tDuration: 13.93 ms\tBilled Duration: 237 ms\t"
        "Memory Size: 128 MB\tMax Memory Used: 36 MB\tInit Duration: 222.70 ms\t"
    )


def test_text_report_billed_without_init_when_init_is_not_billed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(records, "LAMBDA_INIT_BILLED", False)
    line = report_lines.report_line(_invoke(init_ms=200.0), log_format="Text")
    assert "Billed Duration: 2 ms" in _fields(line)
    assert "Init Duration: 200.00 ms" in _fields(line)


def test_text_report_timeout() -> None:
    record = _invoke(duration_ms=1000.0, error_type="Sandbox.Timedout")
    assert _fields(report_lines.report_line(record, log_format="Text")) == [
        f"REPORT RequestId: {RID}",
        "Duration: 1000.00 ms",
        "Billed Duration: 1000 ms",
        "Memory Size: 1024 MB",
        "Max Memory Used: 90 MB",
        "Status: timeout",
    ]


def test_text_report_runtime_error_names_its_type_after_init_duration() -> None:
    record = _invoke(duration_ms=6.38, init_ms=80.0, error_type="Runtime.ExitError")
    assert _fields(report_lines.report_line(record, log_format="Text")) == [
        f"REPORT RequestId: {RID}",
        "Duration: 6.38 ms",
        "Billed Duration: 87 ms",
        "Memory Size: 1024 MB",
        "Max Memory Used: 90 MB",
        "Init Duration: 80.00 ms",
        "Status: error",
        "Error Type: Runtime.ExitError",
    ]


def test_text_report_handler_exception_has_no_status() -> None:
    """A handler's own exception is a function error, not a platform one: no Status field."""
    line = report_lines.report_line(_invoke(error_type="ValueError"), log_format="Text")
    assert "Status" not in line and "Error Type" not in line


def test_timeout_line() -> None:
    line = report_lines.timeout_line(RID, 3.0)
    stamp, request_id, message = line.split(" ", 2)
    assert ISO_MS.match(stamp)
    assert request_id == RID
    assert message == "Task timed out after 3.00 seconds"


# --- Text: INIT_START / INIT_REPORT ------------------------------------------------------------


def test_text_init_start() -> None:
    line = report_lines.init_start_line(_init(), runtime="python:3.13", log_format="Text")
    assert line == "INIT_START Runtime Version: python:3.13"


def test_text_init_report_success() -> None:
    line = report_lines.init_report_line(
        _init(init_ms=412.551, initialization_type="provisioned-concurrency"), log_format="Text"
    )
    assert line.split("\t") == [
        "INIT_REPORT Init Duration: 412.55 ms",
        "Phase: init",
        "Status: success",
    ]


def test_text_init_report_failure_names_the_error_type() -> None:
    init = _init(init_ms=150.79, error="Runtime.ImportModuleError: ValueError: no model")
    assert report_lines.init_report_line(init, log_format="Text").split("\t") == [
        "INIT_REPORT Init Duration: 150.79 ms",
        "Phase: init",
        "Status: error",
        "Error Type: Runtime.ImportModuleError",
    ]


# --- JSON --------------------------------------------------------------------------------------


def test_json_start_and_no_end() -> None:
    record = _event(report_lines.start_line(RID, log_format="JSON"), "platform.start")
    assert record == {"requestId": RID, "version": "$LATEST"}
    assert report_lines.end_line(RID, log_format="JSON") is None


def test_json_init_start() -> None:
    line = report_lines.init_start_line(
        _init(initialization_type="provisioned-concurrency"),
        runtime="python:3.13",
        log_format="JSON",
    )
    assert _event(line, "platform.initStart") == {
        "functionName": "fraud-detection",
        "functionVersion": "$LATEST",
        "initializationType": "provisioned-concurrency",
        "phase": "init",
        "runtimeVersion": "python:3.13",
    }


def test_json_init_report_success_and_failure() -> None:
    ok = _event(
        report_lines.init_report_line(_init(init_ms=125.333), log_format="JSON"),
        "platform.initReport",
    )
    assert ok == {
        "initializationType": "on-demand",
        "phase": "init",
        "status": "success",
        "metrics": {"durationMs": 125.33},
    }
    failed = _event(
        report_lines.init_report_line(
            _init(init_ms=10.0, error="Runtime.ImportModuleError: boom"), log_format="JSON"
        ),
        "platform.initReport",
    )
    assert failed["status"] == "error"
    assert failed["errorType"] == "Runtime.ImportModuleError"


def test_json_report_warm() -> None:
    record = _event(report_lines.report_line(_invoke(), log_format="JSON"), "platform.report")
    assert record == {
        "requestId": RID,
        "status": "success",
        "metrics": {
            "durationMs": 1.23,
            "billedDurationMs": 2,
            "memorySizeMB": 1024,
            "maxMemoryUsedMB": 90,
        },
    }


def test_json_report_cold_start() -> None:
    record = _event(
        report_lines.report_line(
            _invoke(duration_ms=693.92, init_ms=397.68, memory_mb=128, max_memory_used_mb=84),
            log_format="JSON",
        ),
        "platform.report",
    )
    assert record["metrics"] == {
        "durationMs": 693.92,
        "billedDurationMs": 1092,  # ceil(693.92 + 397.68)
        "memorySizeMB": 128,
        "maxMemoryUsedMB": 84,
        "initDurationMs": 397.68,
    }
    assert isinstance(record["metrics"]["billedDurationMs"], int)


@pytest.mark.parametrize(
    ("error_type", "status"),
    [
        (None, "success"),
        ("ValueError", "failure"),
        ("Sandbox.Timedout", "timeout"),
        ("Runtime.ExitError", "error"),
        ("Runtime.ImportModuleError", "error"),
    ],
)
def test_json_report_status(error_type: str | None, status: str) -> None:
    record = _event(
        report_lines.report_line(_invoke(error_type=error_type), log_format="JSON"),
        "platform.report",
    )
    assert record["status"] == status
    if status in ("failure", "error"):  # the Status object names the error for these two
        assert record["errorType"] == error_type
    elif status == "success":
        assert "errorType" not in record
