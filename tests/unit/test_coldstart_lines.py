"""``coldstarts``' line parser on every variant of Lambda's platform lines, the exact examples
from AWS's pages first, then the local runner's own lines read back, then the aggregation on
hand-made environments.

Sources of the verbatim examples:
- services-cloudwatchlogs.html: a REPORT as CloudWatch stores it (tabs, a stray space, ``\\t\\n``).
- python-logging.html: REPORT with Init Duration, the XRAY line after it, spaces not tabs.
- lambda-runtime-environment.html: INIT_REPORT / RESTORE_REPORT on timeout and on error.
- snapstart-monitoring.html: REPORT with Restore Duration and Billed Restore Duration.
- telemetry-schema-reference.html: platform.initStart / initReport / restoreReport /
  logsDropped examples; platform.report's (which has a trailing comma: not JSON).
- awslabs/aws-lambda-rust-runtime lambda-extension/src/telemetry.rs tests: a real platform.report.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from serverless_ml.coldstarts.compare import compare_bench
from serverless_ml.coldstarts.errors import CODES, ColdStartsError
from serverless_ml.coldstarts.insights import QUERIES, format_queries
from serverless_ml.coldstarts.lambda_api import FunctionInfo
from serverless_ml.coldstarts.log_lines import (
    InitReport,
    InitStart,
    LineError,
    LogsDropped,
    Report,
    RestoreReport,
    RestoreStart,
    line_format,
    parse_line,
)
from serverless_ml.coldstarts.reader import LogEvent, Window, parse_when, parse_window
from serverless_ml.coldstarts.report import Spread, build_report, stream_version
from serverless_ml.coldstarts.schedule import scheduled_floor
from serverless_ml.local import report_lines
from serverless_ml.local.records import PROVISIONED, InitRecord, InvokeRecord
from serverless_ml.spec.concurrency import ScheduledAction

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)

# --- Text format: AWS's own examples, verbatim ---------------------------------------------

CLOUDWATCH_REPORT = (
    "REPORT RequestId: 6234bffe-149a-b642-81ff-2e8e376d8aff\tDuration: 46.84 ms\t"
    "Billed Duration: 47 ms \tMemory Size: 192 MB\tMax Memory Used: 72 MB\t\n"
)
PYTHON_LOGGING_REPORT = (
    "REPORT RequestId: 8f507cfc-xmpl-4697-b07a-ac58fc914c95  Duration: 15.74 ms  Billed "
    "Duration: 16 ms Memory Size: 128 MB Max Memory Used: 56 MB  Init Duration: 130.49 ms\n"
    "XRAY TraceId: 1-5e34a614-10bdxmplf1fb44f07bc535a1   SegmentId: 07f5xmpl2d1f6f85 Sampled: true \n"
)


def test_report_as_cloudwatch_stores_it() -> None:
    line = parse_line(CLOUDWATCH_REPORT)
    assert line == Report(
        request_id="6234bffe-149a-b642-81ff-2e8e376d8aff",
        duration_ms=46.84,
        billed_ms=47.0,
        memory_mb=192,
        max_memory_used_mb=72,
    )
    assert not line.cold and line.per_request_metrics


def test_cold_report_with_xray_line_and_spaces() -> None:
    line = parse_line(PYTHON_LOGGING_REPORT)
    assert isinstance(line, Report)
    assert (line.request_id, line.duration_ms, line.billed_ms) == (
        "8f507cfc-xmpl-4697-b07a-ac58fc914c95",
        15.74,
        16.0,
    )
    assert (line.memory_mb, line.max_memory_used_mb, line.init_ms) == (128, 56, 130.49)
    assert line.cold and line.status == "success"


def test_report_with_xray_segment_in_the_same_line() -> None:
    line = parse_line(
        "REPORT RequestId: r-1\tDuration: 2.50 ms\tBilled Duration: 3 ms\tMemory Size: 1024 MB\t"
        "Max Memory Used: 90 MB\tInit Duration: 200.00 ms\tXRAY TraceId: 1-5e34a614-10bd\t"
        "SegmentId: 07f5xmpl2d1f6f85\tSampled: true\t"
    )
    assert isinstance(line, Report) and line.init_ms == 200.0 and line.memory_mb == 1024


def test_report_of_a_timeout_and_of_a_runtime_error() -> None:
    base = "REPORT RequestId: r-2\tDuration: 10000.00 ms\tBilled Duration: 10000 ms\tMemory Size: 128 MB\tMax Memory Used: 60 MB\t"
    timeout = parse_line(base + "Status: timeout\n")
    error = parse_line(base + "Status: error\tError Type: Runtime.ExitError\n")
    assert isinstance(timeout, Report) and (timeout.status, timeout.error_type) == ("timeout", None)
    assert isinstance(error, Report)
    assert (error.status, error.error_type) == ("error", "Runtime.ExitError")


def test_snapstart_report_has_restore_instead_of_init() -> None:
    line = parse_line(
        "REPORT RequestId: 2f98d5aa-c63b-41e8-a9d2-0d2c21d7410d\tDuration: 13.82 ms\t"
        "Billed Duration: 129 ms\tMemory Size: 512 MB\tMax Memory Used: 71 MB\t"
        "Restore Duration: 204.27 ms\tBilled Restore Duration: 115 ms\t"
    )
    assert isinstance(line, Report)
    assert (line.init_ms, line.restore_ms, line.billed_restore_ms) == (None, 204.27, 115.0)
    assert line.cold


def test_init_start_and_restore_start() -> None:
    init = parse_line(
        "INIT_START Runtime Version: python:3.13.v16\tRuntime Version ARN: "
        "arn:aws:lambda:us-east-1::runtime:8eeff65f6809a3ce81507fe733fe09b835899b99481ba22fd75b5a7338290ec1"
    )
    restore = parse_line(
        "RESTORE_START Runtime Version: java:11.v21\tRuntime Version ARN: "
        "arn:aws:lambda:us-east-1::runtime:156ab0dc268a6b4a8dedcbcf0974795cafba2ee8760fe386062fffdbb887b971"
    )
    assert init == InitStart(runtime_version="python:3.13.v16")
    assert restore == RestoreStart(runtime_version="java:11.v21")


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "INIT_REPORT Init Duration: 1236.04 ms Phase: init Status: timeout",
            InitReport(init_ms=1236.04, phase="init", status="timeout"),
        ),
        (
            "INIT_REPORT Init Duration: 1236.04 ms Phase: init Status: error Error Type: Extension.Crash",
            InitReport(init_ms=1236.04, status="error", error_type="Extension.Crash"),
        ),
        (
            "INIT_REPORT Init Duration: 10000.12 ms\tPhase: invoke\tStatus: timeout\n",
            InitReport(init_ms=10000.12, phase="invoke", status="timeout"),
        ),
        (
            "INIT_REPORT Init Duration: 250.00 ms\tPhase: init\tStatus: success",
            InitReport(init_ms=250.0),
        ),
        (
            "RESTORE_REPORT Restore Duration: 1236.04 ms Status: timeout",
            RestoreReport(restore_ms=1236.04, status="timeout"),
        ),
        (
            "RESTORE_REPORT Restore Duration: 1236.04 ms Status: error Error Type: Runtime.ExitError",
            RestoreReport(restore_ms=1236.04, status="error", error_type="Runtime.ExitError"),
        ),
        ("RESTORE_REPORT Restore Duration: 398.97 ms", RestoreReport(restore_ms=398.97)),
    ],
)
def test_init_and_restore_reports(message: str, expected: object) -> None:
    assert parse_line(message) == expected


# --- JSON format -------------------------------------------------------------------------------


def _event(kind: str, record: dict[str, Any]) -> str:
    return json.dumps({"time": "2022-10-12T00:01:15.000Z", "type": kind, "record": record})


def test_json_report_from_the_telemetry_api() -> None:
    line = parse_line(
        '{"time":"2022-10-21T14:05:05.766Z","type":"platform.report","record":{"requestId":'
        '"459921b5-681c-4a96-beb0-81e0aa586026","metrics":{"durationMs":2599.4,"billedDurationMs":'
        '2600,"memorySizeMB":128,"maxMemoryUsedMB":94,"initDurationMs":549.04},"tracing":{"spanId":'
        '"24cd7d670fa455f0","type":"X-Amzn-Trace-Id","value":"Root=1-6352a70e-1e2c502e358361800241fd45;'
        'Parent=35465b3a9e2f7c6a;Sampled=1"},"status":"success"}}'
    )
    assert line == Report(
        request_id="459921b5-681c-4a96-beb0-81e0aa586026",
        duration_ms=2599.4,
        billed_ms=2600.0,
        memory_mb=128,
        max_memory_used_mb=94,
        init_ms=549.04,
    )


def test_the_docs_report_example_is_not_json_and_is_counted_unparsed() -> None:
    # telemetry-schema-reference.html's platform.report example ends its record with a comma.
    docs = (
        '{\n"time": "2022-10-12T00:01:15.000Z",\n"type": "platform.report",\n"record": {\n'
        '"metrics": {\n"billedDurationMs": 694,\n"durationMs": 693.92,\n"initDurationMs": 397.68,\n'
        '"maxMemoryUsedMB": 84,\n"memorySizeMB": 128\n},\n'
        '"requestId": "6d68ca91-49c9-448d-89b8-7ca3e6dc66aa",\n}\n}'
    )
    with pytest.raises(LineError):
        parse_line(docs)
    fixed = parse_line(docs.replace('aa",\n}', 'aa"\n}'))
    assert isinstance(fixed, Report) and fixed.init_ms == 397.68 and fixed.billed_ms == 694.0


def test_json_report_errors_and_snapstart() -> None:
    timeout = parse_line(
        _event(
            "platform.report",
            {
                "requestId": "r",
                "status": "timeout",
                "errorType": "Sandbox.Timedout",
                "metrics": {
                    "durationMs": 3000.0,
                    "billedDurationMs": 3000,
                    "memorySizeMB": 128,
                    "maxMemoryUsedMB": 50,
                },
            },
        )
    )
    restored = parse_line(
        _event(
            "platform.report",
            {
                "requestId": "s",
                "status": "success",
                "metrics": {
                    "durationMs": 5.0,
                    "billedDurationMs": 120,
                    "memorySizeMB": 512,
                    "maxMemoryUsedMB": 70,
                    "restoreDurationMs": 204.27,
                },
            },
        )
    )
    assert isinstance(timeout, Report) and (timeout.status, timeout.error_type) == (
        "timeout",
        "Sandbox.Timedout",
    )
    assert isinstance(restored, Report) and restored.restore_ms == 204.27 and restored.cold


def test_managed_instances_report_has_duration_only() -> None:
    line = parse_line(
        _event(
            "platform.report",
            {
                "requestId": "m",
                "status": "success",
                "metrics": {"durationMs": 12.5},
                "spans": [
                    {
                        "name": "responseLatency",
                        "start": "2025-12-01T00:00:00.000Z",
                        "durationMs": 10.0,
                    },
                    {
                        "name": "responseDuration",
                        "start": "2025-12-01T00:00:00.010Z",
                        "durationMs": 0.5,
                    },
                ],
            },
        )
    )
    assert isinstance(line, Report) and not line.per_request_metrics and not line.cold


def test_json_init_restore_and_dropped_records_from_the_docs() -> None:
    start = parse_line(
        '{"time":"2026-10-08T07:30:27.768Z","type":"platform.initStart","record":{"initializationType":'
        '"on-demand","phase":"init","runtimeVersion":"nodejs:22.mainline.v122","runtimeVersionArn":'
        '"arn:aws:lambda:eu-central-1::runtime:775dab0d","functionName":"tenner-notifier",'
        '"functionVersion":"$LATEST","instanceId":"2026/10/08/tenner-notifier[$LATEST]22be53a8cfde4e68b844f8ec293b2543",'
        '"instanceMaxMemory":268435456}}'
    )
    report = parse_line(
        _event(
            "platform.initReport",
            {
                "initializationType": "on-demand",
                "status": "success",
                "phase": "init",
                "metrics": {"durationMs": 125.33},
                "spans": [],
            },
        )
    )
    provisioned = parse_line(
        _event(
            "platform.initStart", {"initializationType": "provisioned-concurrency", "phase": "init"}
        )
    )
    restore = parse_line(
        _event("platform.restoreReport", {"status": "success", "metrics": {"durationMs": 15.19}})
    )
    dropped = parse_line(
        _event(
            "platform.logsDropped", {"droppedBytes": 12345, "droppedRecords": 123, "reason": "slow"}
        )
    )
    assert start == InitStart(
        initialization_type="on-demand",
        runtime_version="nodejs:22.mainline.v122",
        function_version="$LATEST",
    )
    assert report == InitReport(init_ms=125.33, initialization_type="on-demand")
    assert (
        isinstance(provisioned, InitStart)
        and provisioned.initialization_type == "provisioned-concurrency"
    )
    assert restore == RestoreReport(restore_ms=15.19)
    assert dropped == LogsDropped(dropped_records=123)
    failed = parse_line(
        _event(
            "platform.initReport",
            {
                "initializationType": "on-demand",
                "phase": "init",
                "status": "error",
                "errorType": "Runtime.ExitError",
                "metrics": {"durationMs": 80.0},
            },
        )
    )
    assert failed == InitReport(
        init_ms=80.0,
        status="error",
        error_type="Runtime.ExitError",
        initialization_type="on-demand",
    )


@pytest.mark.parametrize(
    "message",
    [
        "START RequestId: 8f507cfc-xmpl-4697-b07a-ac58fc914c95 Version: $LATEST",
        "END RequestId: 8f507cfc-xmpl-4697-b07a-ac58fc914c95",
        "2026-12-04T10:00:00.000Z\t8f507cfc\tINFO\tscored REPORT of the day",
        "[INFO] REPORT generated",
        '{"timestamp":"2026-10-08T07:30:29.443Z","level":"ERROR","requestId":"79b5","message":"Widget update failed"}',
        _event("platform.start", {"requestId": "r", "version": "$LATEST"}),
        _event("platform.runtimeDone", {"requestId": "r", "status": "success"}),
        "[1, 2]",
        "{not json at all}",
        "",
    ],
)
def test_other_lines_are_not_platform_lines(message: str) -> None:
    assert parse_line(message) is None


@pytest.mark.parametrize(
    "message",
    [
        "REPORT RequestId: r\tDuration: fast ms\tBilled Duration: 2 ms",
        "REPORT Duration: 1.00 ms\tBilled Duration: 1 ms",
        "REPORT RequestId: r\tDuration: 1.00 ms\tStatus: exploded",
        "INIT_REPORT Phase: init\tStatus: error",
        '{"time":"x","type":"platform.report","record":{"requestId":"r"}}',
        '{"time":"x","type":"platform.report","record":{"requestId":"r","metrics":{"durationMs":"1"}}}',
        '{"time":"x","type":"platform.report","record":{"metrics":{"durationMs":1}}}',
        '{"time":"x","type":"platform.initReport","record":{"metrics":{"durationMs":-3}}}',
        '{"time":"x","type":"platform.report","record":"a string"}',
        '{"time":"x","type":"platform.report","record":{"requestId":',
    ],
)
def test_malformed_platform_lines_raise_line_error(message: str) -> None:
    with pytest.raises(LineError):
        parse_line(message)


@given(st.text(max_size=300))
def test_any_text_parses_or_raises_line_error(message: str) -> None:
    try:
        parse_line(message)
        parse_line("REPORT " + message)
        parse_line('{"type":"platform.report","record":' + message + "}")
    except LineError:
        pass


# --- round trip: what the local runner writes, read back -------------------------------------

RID = "8491a07b-8ff5-48c7-8a0f-518cd9b1efa6"


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


@pytest.mark.parametrize("log_format", ["Text", "JSON"])
@pytest.mark.parametrize(
    ("record", "status", "error_type"),
    [
        (_invoke(), "success", None),
        (_invoke(init_ms=222.7), "success", None),
        (_invoke(error_type="Sandbox.Timedout"), "timeout", None),
        (_invoke(error_type="Runtime.ExitError"), "error", "Runtime.ExitError"),
    ],
)
def test_report_lines_of_the_local_runner_read_back(
    record: InvokeRecord, status: str, error_type: str | None, log_format: str
) -> None:
    line = parse_line(report_lines.report_line(record, log_format=log_format))
    assert isinstance(line, Report)
    assert line.request_id == RID and line.duration_ms == round(record.duration_ms, 2)
    assert line.billed_ms == record.billed_ms and line.memory_mb == 1024
    assert line.max_memory_used_mb == 90 and line.init_ms == record.init_ms
    # JSON names the error type of every failed request; Text only of a runtime error
    assert line.status == status
    assert line.error_type == (record.error_type if log_format == "JSON" else error_type)


def test_a_handler_failure_reads_back_as_failure_in_json_only() -> None:
    record = _invoke(error_type="ValueError")
    text = parse_line(report_lines.report_line(record, log_format="Text"))
    js = parse_line(report_lines.report_line(record, log_format="JSON"))
    assert isinstance(text, Report) and text.status == "success"  # Text logs no Status for it
    assert isinstance(js, Report) and (js.status, js.error_type) == ("failure", "ValueError")


@pytest.mark.parametrize("log_format", ["Text", "JSON"])
def test_init_lines_of_the_local_runner_read_back(log_format: str) -> None:
    init = InitRecord(
        function="fraud-detection",
        environment=1,
        at_s=0.0,
        init_ms=301.5,
        initialization_type=PROVISIONED,
    )
    failed = InitRecord(
        function="fraud-detection", environment=2, at_s=0.0, init_ms=80.0, initialization_type="on-demand",
        error="Runtime.ImportModuleError: no module named x",
    )  # fmt: skip
    start = parse_line(
        report_lines.init_start_line(init, runtime="python:3.13.v16", log_format=log_format)
    )
    ok = parse_line(report_lines.init_report_line(init, log_format=log_format))
    bad = parse_line(report_lines.init_report_line(failed, log_format=log_format))
    assert isinstance(start, InitStart) and start.runtime_version == "python:3.13.v16"
    assert isinstance(ok, InitReport) and ok.init_ms == 301.5 and ok.status == "success"
    assert isinstance(bad, InitReport) and (bad.status, bad.error_type) == (
        "error",
        "Runtime.ImportModuleError",
    )
    if log_format == "JSON":
        assert start.initialization_type == ok.initialization_type == PROVISIONED
        assert start.function_version == "$LATEST"
    assert line_format(report_lines.init_report_line(init, log_format=log_format)) == log_format


def test_start_and_end_lines_of_the_local_runner_are_skipped() -> None:
    assert parse_line(report_lines.start_line(RID, log_format="Text")) is None
    assert parse_line(report_lines.start_line(RID, log_format="JSON")) is None
    assert parse_line(report_lines.end_line(RID, log_format="Text") or "") is None
    assert parse_line(report_lines.timeout_line(RID, 3.0)) is None


# --- streams, percentiles, window --------------------------------------------------------------


@pytest.mark.parametrize(
    ("stream", "version"),
    [
        ("2026/12/04/[$LATEST]3893xmpl7fac4485b47bb75b671a283c", "$LATEST"),
        ("2023/07/05/[56]374cd7798d2a4e36a494a23d658b9741", "56"),
        ("2026/10/08/tenner-notifier[$LATEST]22be53a8cfde4e68b844f8ec293b2543", "$LATEST"),
        ("2026/10/08/my-function[12][0a1b2c]", "12"),
        ("some-stream", "unknown"),
    ],
)
def test_version_from_the_log_stream(stream: str, version: str) -> None:
    assert stream_version(stream) == version


def test_nearest_rank_percentiles() -> None:
    spread = Spread.of(float(v) for v in range(1, 101))
    assert (spread.count, spread.p50, spread.p90, spread.p99, spread.max) == (100, 50, 90, 99, 100)
    assert Spread.of([7.0]) == Spread(1, 7.0, 7.0, 7.0, 7.0)
    assert Spread.of([]) == Spread(0)


def test_window_parsing() -> None:
    assert parse_when("24h", now=NOW) == datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    assert parse_when("90m", now=NOW) == datetime(2026, 12, 4, 10, 30, tzinfo=UTC)
    assert parse_when("2026-12-01T00:00:00Z", now=NOW) == datetime(2026, 12, 1, tzinfo=UTC)
    assert parse_when("2026-12-01T02:00:00+02:00", now=NOW) == datetime(2026, 12, 1, tzinfo=UTC)
    assert parse_when("2026-12-01", now=NOW) == datetime(2026, 12, 1, tzinfo=UTC)
    assert parse_when("now", now=NOW) == NOW
    window = parse_window("7d", "now", now=NOW)
    assert window.end_ms - window.start_ms == 7 * 86_400_000
    for bad in ("yesterday", "24x", ""):
        with pytest.raises(ColdStartsError, match="SML801"):
            parse_when(bad, now=NOW)
    with pytest.raises(ColdStartsError, match="SML801"):
        parse_window("now", "1h", now=NOW)


# --- aggregation on hand-made environments ----------------------------------------------------

WINDOW = Window(datetime(2026, 12, 4, tzinfo=UTC), datetime(2026, 12, 5, tzinfo=UTC))
T0 = WINDOW.start_ms + 3_600_000


def _report(rid: str, duration: float, **extra: str) -> str:
    fields = [
        f"REPORT RequestId: {rid}",
        f"Duration: {duration:.2f} ms",
        f"Billed Duration: {round(duration)} ms",
        "Memory Size: 1024 MB",
        "Max Memory Used: 90 MB",
    ]
    fields += [f"{k.replace('_', ' ')}: {v}" for k, v in extra.items()]
    return "\t".join(fields) + "\t"


def _events(stream: str, *messages: str, at: int = T0) -> list[LogEvent]:
    return [LogEvent(at + i * 1000, stream, m, f"{stream}-{i}") for i, m in enumerate(messages)]


def test_text_environments_are_classified() -> None:
    events = [
        *_events("2026/12/04/[$LATEST]a", "INIT_START Runtime Version: python:3.13.v16", _report("1", 10, Init_Duration="200.00 ms"), _report("2", 2)),
        *_events("2026/12/04/[$LATEST]b", "INIT_START Runtime Version: python:3.13.v16", _report("3", 3)),  # proactive
        *_events("2026/12/04/[7]c", "INIT_START Runtime Version: python:3.13.v16", "INIT_REPORT Init Duration: 250.00 ms\tPhase: init\tStatus: success", _report("4", 4), _report("5", 5)),
        *_events("2026/12/04/[7]d", "INIT_START Runtime Version: python:3.13.v16", "INIT_REPORT Init Duration: 3000.00 ms\tPhase: init\tStatus: timeout"),
        *_events("2026/12/04/[7]e", "not a platform line", "REPORT RequestId: x\tDuration: nope ms"),
    ]  # fmt: skip
    report = build_report(
        events,
        function="f",
        log_group="/aws/lambda/f",
        window=WINDOW,
        info=FunctionInfo(reachable=False),
    )
    latest, seven, total = report.versions["$LATEST"], report.versions["7"], report.total
    assert (
        latest.invocations,
        latest.cold_starts,
        latest.proactive_inits,
        latest.environments,
    ) == (3, 1, 1, 2)
    assert latest.init_ms == Spread(1, 200.0, 200.0, 200.0, 200.0)
    assert (seven.invocations, seven.cold_starts, seven.provisioned_inits, seven.init_failures) == (
        2,
        0,
        1,
        1,
    )
    assert seven.provisioned_init_ms == Spread(1, 250.0, 250.0, 250.0, 250.0)
    assert (total.invocations, total.cold_starts, total.environment_starts) == (5, 1, 4)
    assert total.cold_start_rate == pytest.approx(0.2)
    assert (report.unparsed, report.other_lines, report.platform_lines) == (1, 1, 11)
    assert report.minute_counts == (5,) and not report.managed_instances
    assert report.aliases is None and "aliases not resolved" in report.notes[0]


def test_snapstart_environments() -> None:
    events = [
        *_events("2026/12/04/[5]snap", "INIT_START Runtime Version: python:3.13.v16", "INIT_REPORT Init Duration: 900.00 ms\tPhase: init\tStatus: success"),
        *_events("2026/12/04/[5]r1", "RESTORE_START Runtime Version: python:3.13.v16", "RESTORE_REPORT Restore Duration: 300.00 ms", _report("1", 5, Restore_Duration="300.00 ms", Billed_Restore_Duration="120 ms"), _report("2", 1)),
        *_events("2026/12/04/[5]r2", "RESTORE_START Runtime Version: python:3.13.v16", "RESTORE_REPORT Restore Duration: 10000.00 ms\tStatus: timeout"),
    ]  # fmt: skip
    report = build_report(
        events, function="f", log_group="g", window=WINDOW, info=FunctionInfo(reachable=False)
    )
    five = report.versions["5"]
    assert report.snapstart and (five.snapshot_inits, five.provisioned_inits) == (1, 0)
    assert (five.invocations, five.cold_starts, five.restores, five.on_demand_cold_starts) == (
        2,
        1,
        1,
        0,
    )
    assert five.restore_ms == Spread(1, 300.0, 300.0, 300.0, 300.0)
    assert five.cold_total_ms.p50 == 305.0 and five.proactive_inits == 0
    assert five.restore_failures == 1


def test_managed_instances_have_no_per_request_cold_start() -> None:
    stream = "2026/12/04/[$LATEST]mi"
    events = _events(
        stream,
        _event("platform.initStart", {"initializationType": "on-demand", "phase": "init"}),
        _event("platform.initReport", {"initializationType": "on-demand", "phase": "init", "status": "success", "metrics": {"durationMs": 1500.0}}),
        *[_event("platform.report", {"requestId": f"r{i}", "status": "success", "metrics": {"durationMs": 4.0}}) for i in range(3)],
    )  # fmt: skip
    report = build_report(
        events, function="f", log_group="g", window=WINDOW, info=FunctionInfo(reachable=False)
    )
    assert report.managed_instances and report.total.environment_starts == 1
    assert report.total.environment_init_ms.p50 == 1500.0 and report.total.cold_starts == 0


def test_aliases_add_up_their_versions() -> None:
    events = [*_events("2026/12/04/[1]a", _report("1", 1)), *_events("2026/12/04/[2]b", "INIT_START Runtime Version: p", _report("2", 2, Init_Duration="100.00 ms"))]  # fmt: skip
    info = FunctionInfo(reachable=True, aliases={"live": {"2": 0.9, "1": 0.1}, "old": {"1": 1.0}})
    report = build_report(events, function="f", log_group="g", window=WINDOW, info=info)
    assert report.aliases is not None
    assert (
        report.aliases["live"].figures.invocations,
        report.aliases["live"].figures.cold_starts,
    ) == (2, 1)
    assert report.aliases["old"].figures.cold_starts == 0


# --- queries, schedule replay, bench comparison -----------------------------------------------


def test_insights_queries_use_the_documented_fields() -> None:
    text = QUERIES["Text"]["requests"]
    for name in (
        "@type",
        "@initDuration",
        "@duration",
        "@billedDuration",
        "@maxMemoryUsed",
        "@logStream",
    ):
        assert name in text
    assert 'filter @type = "REPORT"' in text and "bin(1h)" in text
    assert 'filter type = "platform.report"' in QUERIES["JSON"]["requests"]
    assert "record.metrics.initDurationMs" in QUERIES["JSON"]["requests"]
    both = format_queries("/aws/lambda/f", None)
    assert "Text format" in both and "JSON format" in both
    assert "JSON format" not in format_queries("/aws/lambda/f", "Text")


def test_weekday_schedule_replayed_on_real_dates() -> None:
    actions = (
        ScheduledAction(name="business-hours", schedule="cron(0 7 ? * MON-FRI *)", min_capacity=2, max_capacity=10),
        ScheduledAction(name="off-hours", schedule="cron(0 20 * * ? *)", min_capacity=1, max_capacity=4),
    )  # fmt: skip
    friday = datetime(2026, 12, 4, 6, 0, tzinfo=UTC)  # a Friday
    low, high = scheduled_floor(actions, friday, 72 * 60, default=1)
    assert low[0] == 1 and low[60] == 2 and high[60] == 10  # 07:00 Friday
    assert low[14 * 60] == 1  # 20:00 Friday
    assert low[(24 + 1) * 60] == 1  # Saturday 07:00: no business-hours action
    with pytest.raises(ValueError, match="rate"):
        scheduled_floor((ScheduledAction(name="r", schedule="rate(5 minutes)", min_capacity=1, max_capacity=1),), friday, 10, default=0)  # fmt: skip


def test_compare_bench_refuses_other_files(tmp_path: Any) -> None:
    report = build_report(_events("2026/12/04/[$LATEST]a", "INIT_START Runtime Version: p", _report("1", 1, Init_Duration="480.00 ms")), function="f", log_group="g", window=WINDOW, info=FunctionInfo(reachable=False))  # fmt: skip
    bench = tmp_path / "bench.json"
    bench.write_text(
        json.dumps({"init_ms_median": 240.0, "memory_mb": 1024, "function": "fraud-detection"})
    )
    out = compare_bench(bench, report)
    assert (out["local_init_ms_median"], out["deployed_init_ms_p50"], out["ratio"]) == (
        240.0,
        480.0,
        2.0,
    )
    every = {"benchmark": "cold-start-all", "rows": [{"function": "g", "init_ms_median": 1.0}, {"function": "f", "init_ms_median": 160.0}]}  # fmt: skip
    bench.write_text(json.dumps(every))
    assert compare_bench(bench, report)["ratio"] == 3.0  # the row of the same function
    every["rows"] = [
        {"function": "g", "init_ms_median": 1.0},
        {"function": "h", "init_ms_median": 2.0},
    ]
    for content in (
        "not json",
        json.dumps({"init_ms_median": "fast"}),
        json.dumps([1]),
        json.dumps(every),
    ):
        bench.write_text(content)
        with pytest.raises(ColdStartsError, match="SML805"):
            compare_bench(bench, report)
    with pytest.raises(ColdStartsError, match="SML805"):
        compare_bench(tmp_path / "missing.json", report)


def test_error_codes_are_in_the_sml8_range() -> None:
    assert all(code.startswith("SML8") for code in CODES)
    with pytest.raises(ValueError):
        ColdStartsError("SML899", "no such code")
