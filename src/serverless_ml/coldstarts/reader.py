"""The time window, and the function's platform lines read from CloudWatch Logs.

``FilterLogEvents`` (boto3 ``logs`` client), page by page through ``nextToken``, over every
stream of the group: a filter pattern per log format keeps application logs out (Text:
any of the keywords, ``?term`` means OR; JSON: ``{ $.type = ... || ... }``), see
docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html. Lines the
pattern lets through anyway (emulators ignore patterns) are sorted out by the parser.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from serverless_ml.coldstarts.errors import ColdStartsError
from serverless_ml.coldstarts.log_lines import LogFormat

# FilterLogEvents answers at most 10,000 events a page (API_FilterLogEvents.html, "limit").
PAGE_LIMIT: Final = 10_000
DEFAULT_MAX_LINES: Final = 500_000
FILTER_PATTERNS: Final[dict[LogFormat, str]] = {
    "Text": '?REPORT ?"INIT_START" ?"INIT_REPORT" ?"RESTORE_START" ?"RESTORE_REPORT"',
    "JSON": (
        '{ $.type = "platform.report" || $.type = "platform.initStart" || '
        '$.type = "platform.initReport" || $.type = "platform.restoreStart" || '
        '$.type = "platform.restoreReport" || $.type = "platform.logsDropped" }'
    ),
}
_RELATIVE: Final = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNITS: Final = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass(frozen=True, slots=True)
class Window:
    """[since, until) in UTC."""

    since: datetime
    until: datetime

    @property
    def start_ms(self) -> int:
        return int(self.since.timestamp() * 1000)

    @property
    def end_ms(self) -> int:
        return int(self.until.timestamp() * 1000)


def parse_when(value: str, *, now: datetime) -> datetime:
    """``now``, a span back from now (``90s``, ``30m``, ``24h``, ``7d``, ``2w``) or ISO 8601
    (no zone: UTC)."""
    text = value.strip()
    if text == "now":
        return now
    match = _RELATIVE.match(text)
    if match:
        return now - timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ColdStartsError(
            "SML801", f"{value!r}: use 'now', a span such as 24h / 30m / 7d, or ISO 8601"
        ) from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def parse_window(since: str, until: str, *, now: datetime | None = None) -> Window:
    now = now or datetime.now(UTC)
    window = Window(parse_when(since, now=now), parse_when(until, now=now))
    if window.since >= window.until:
        raise ColdStartsError(
            "SML801", f"--since {since} is not before --until {until}: the window is empty"
        )
    return window


@dataclass(frozen=True, slots=True)
class LogEvent:
    """One CloudWatch event: the stream names the environment (and the version)."""

    timestamp_ms: int
    stream: str
    message: str
    event_id: str = ""


@dataclass(frozen=True, slots=True)
class ReadResult:
    events: tuple[LogEvent, ...]
    truncated: bool  # stopped at max_lines: the figures cover part of the window


def read_events(
    client: Any,
    *,
    log_group: str,
    window: Window,
    formats: Sequence[LogFormat],
    max_lines: int = DEFAULT_MAX_LINES,
    page_size: int = PAGE_LIMIT,
) -> ReadResult:
    """Every platform line of ``log_group`` in ``window``, one query per format (merged, each
    event once), oldest first."""
    seen: dict[str, LogEvent] = {}
    truncated = False
    for fmt in formats:
        for event in _pages(client, log_group, window, FILTER_PATTERNS[fmt], page_size):
            key = event.event_id or f"{event.stream}/{event.timestamp_ms}/{event.message}"
            seen.setdefault(key, event)
            if len(seen) >= max_lines:
                truncated = True
                break
        if truncated:
            break
    events = sorted(seen.values(), key=lambda e: (e.timestamp_ms, e.stream))
    return ReadResult(tuple(events), truncated)


def _pages(
    client: Any, log_group: str, window: Window, pattern: str, page_size: int
) -> Iterator[LogEvent]:
    from botocore.exceptions import BotoCoreError, ClientError

    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {
            "logGroupName": log_group,
            "startTime": window.start_ms,
            "endTime": window.end_ms - 1,  # endTime is inclusive
            "filterPattern": pattern,
            "limit": page_size,
        }
        if token:
            kwargs["nextToken"] = token
        try:
            page = client.filter_log_events(**kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ResourceNotFoundException":
                raise ColdStartsError(
                    "SML802",
                    f"log group {log_group} does not exist (in this region / account?): name "
                    "the right --region, or the function's group with --log-group",
                ) from None
            raise ColdStartsError("SML803", f"FilterLogEvents on {log_group}: {exc}") from None
        except BotoCoreError as exc:
            raise ColdStartsError("SML803", f"CloudWatch Logs: {exc}") from None
        for raw in page.get("events", []):
            yield LogEvent(
                timestamp_ms=int(raw.get("timestamp", 0)),
                stream=str(raw.get("logStreamName", "")),
                message=str(raw.get("message", "")),
                event_id=str(raw.get("eventId", "")),
            )
        next_token = page.get("nextToken")
        if not next_token or next_token == token:
            return
        token = next_token
