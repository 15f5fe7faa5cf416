"""The CloudWatch Logs Insights queries behind the same figures, for windows too large to read
line by line (``coldstarts --insights`` prints them).

Text format: Insights discovers ``@type``, ``@duration``, ``@billedDuration``, ``@initDuration``,
``@maxMemoryUsed`` (bytes) and ``@memorySize`` in REPORT lines
(AmazonCloudWatch/latest/logs/CWL_AnalyzeLogData-discoverable-fields.html); ``Restore Duration``
is parsed as in lambda/latest/dg/snapstart-monitoring.html. JSON format: Insights flattens the
JSON record, so the Telemetry API fields are ``type`` and ``record.metrics.*``. The version
comes from the log stream name.
"""

from __future__ import annotations

from typing import Final

from serverless_ml.coldstarts.log_lines import LogFormat

_VERSION: Final = r"| parse @logStream /\[(?<version>[^\]]+)\]/"

TEXT_REPORTS: Final = f"""filter @type = "REPORT"
{_VERSION}
| parse @message /Restore Duration: (?<restoreMs>[\\d.]+) ms/
| stats count(*) as invocations,
        count(@initDuration) as coldStarts,
        count(restoreMs) as restores,
        (count(@initDuration) + count(restoreMs)) * 100 / count(*) as coldStartPct,
        pct(@initDuration, 50) as initP50,
        pct(@initDuration, 90) as initP90,
        pct(@initDuration, 99) as initP99,
        max(@initDuration) as initMax,
        pct(@duration, 50) as durationP50,
        pct(@duration, 99) as durationP99,
        sum(@billedDuration) as billedMs,
        max(@maxMemoryUsed) as maxMemoryUsedBytes
  by bin(1h), version"""

TEXT_INITS: Final = f"""filter @message like /^(INIT_START|INIT_REPORT|RESTORE_REPORT)/
{_VERSION}
| parse @message /^(?<kind>[A-Z_]+) /
| parse @message /(Init|Restore) Duration: (?<durationMs>[\\d.]+) ms/
| parse @message /Status: (?<status>\\w+)/
| stats count(*) as lines, pct(durationMs, 50) as p50, max(durationMs) as maxMs
  by kind, status, version"""

JSON_REPORTS: Final = f"""filter type = "platform.report"
{_VERSION}
| stats count(*) as invocations,
        count(record.metrics.initDurationMs) as coldStarts,
        count(record.metrics.restoreDurationMs) as restores,
        (count(record.metrics.initDurationMs) + count(record.metrics.restoreDurationMs)) * 100
            / count(*) as coldStartPct,
        pct(record.metrics.initDurationMs, 50) as initP50,
        pct(record.metrics.initDurationMs, 90) as initP90,
        pct(record.metrics.initDurationMs, 99) as initP99,
        max(record.metrics.initDurationMs) as initMax,
        pct(record.metrics.durationMs, 50) as durationP50,
        pct(record.metrics.durationMs, 99) as durationP99,
        sum(record.metrics.billedDurationMs) as billedMs,
        max(record.metrics.maxMemoryUsedMB) as maxMemoryUsedMB
  by bin(1h), version"""

JSON_INITS: Final = f"""filter type in ["platform.initStart", "platform.initReport", "platform.restoreReport"]
{_VERSION}
| stats count(*) as records,
        pct(record.metrics.durationMs, 50) as p50,
        max(record.metrics.durationMs) as maxMs
  by type, record.initializationType, record.status, version"""

QUERIES: Final[dict[LogFormat, dict[str, str]]] = {
    "Text": {"requests": TEXT_REPORTS, "environment starts": TEXT_INITS},
    "JSON": {"requests": JSON_REPORTS, "environment starts": JSON_INITS},
}


def format_queries(log_group: str, log_format: LogFormat | None) -> str:
    """The queries for one format (both when unknown), ready to paste or pass to
    ``aws logs start-query --log-group-name <group> --query-string``."""
    formats: tuple[LogFormat, ...] = (log_format,) if log_format else ("Text", "JSON")
    lines = [f"# CloudWatch Logs Insights, log group {log_group}"]
    for fmt in formats:
        for name, query in QUERIES[fmt].items():
            lines += ["", f"# {fmt} format: {name}", query]
    return "\n".join(lines)
