"""Platform lines -> cold-start figures per version, per alias and for the whole function.

An environment is a log stream: Lambda writes one per execution environment and puts the
version in brackets (``2026/12/04/[$LATEST]<id>``, ``[12]``; custom log groups
``2026/12/04/<function>[12]<id>``, monitoring-cloudwatchlogs-loggroups.html). A request cold
start is a REPORT that waited for INIT (``Init Duration``) or a SnapStart restore
(``Restore Duration``). INITs no request waited for are counted apart: provisioned (JSON
``initializationType``; in Text an INIT_REPORT that succeeded, which on-demand environments
log only on failure), SnapStart snapshot INITs, and proactive on-demand INITs (an INIT_START
whose environment's requests show no Init Duration). Lambda Managed Instances report
``durationMs`` only and start environments that serve many requests: no per-request cold start.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from serverless_ml.coldstarts.lambda_api import FunctionInfo
from serverless_ml.coldstarts.log_lines import (
    ON_DEMAND,
    PROVISIONED,
    SNAP_START,
    SUCCESS,
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
from serverless_ml.coldstarts.reader import LogEvent, Window

UNKNOWN_VERSION: Final = "unknown"
_VERSION: Final = re.compile(r"\[(\$LATEST|\d+)\]")
MAX_SAMPLES: Final = 3


def stream_version(stream: str) -> str:
    """``$LATEST`` or the version number from a log stream name."""
    match = _VERSION.search(stream)
    return match.group(1) if match else UNKNOWN_VERSION


def version_order(version: str) -> tuple[int, int, str]:
    if version == "$LATEST":
        return (0, 0, version)
    return (1, int(version), version) if version.isdigit() else (2, 0, version)


@dataclass(frozen=True, slots=True)
class Spread:
    """Count and nearest-rank percentiles (ceil(q * n)-th smallest) of some values."""

    count: int
    p50: float | None = None
    p90: float | None = None
    p99: float | None = None
    max: float | None = None

    @classmethod
    def of(cls, values: Iterable[float]) -> Spread:
        ordered = sorted(values)
        if not ordered:
            return cls(0)
        n = len(ordered)

        def rank(q: float) -> float:
            return round(ordered[max(0, math.ceil(q * n) - 1)], 2)

        return cls(n, rank(0.50), rank(0.90), rank(0.99), round(ordered[-1], 2))

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "p50": self.p50,
            "p90": self.p90,
            "p99": self.p99,
            "max": self.max,
        }


@dataclass
class _Env:
    """One execution environment's lines (one log stream)."""

    stream: str
    reports: list[Report] = field(default_factory=list)
    starts: list[InitStart] = field(default_factory=list)
    init_reports: list[InitReport] = field(default_factory=list)
    restore_reports: list[RestoreReport] = field(default_factory=list)
    restore_starts: int = 0

    @property
    def version(self) -> str:
        from_stream = stream_version(self.stream)
        if from_stream != UNKNOWN_VERSION:
            return from_stream
        versions = {s.function_version for s in self.starts if s.function_version}
        return versions.pop() if len(versions) == 1 else UNKNOWN_VERSION

    @property
    def inits(self) -> int:
        return max(len(self.starts), sum(r.phase == "init" for r in self.init_reports))

    def kind(self, snapstart: bool) -> str:
        """How this environment was initialized: on-demand | provisioned | snapshot."""
        types = {s.initialization_type for s in self.starts}
        types |= {r.initialization_type for r in self.init_reports}
        if PROVISIONED in types:
            return "provisioned"
        if SNAP_START in types:
            return "snapshot"
        if ON_DEMAND in types or any(r.init_ms is not None for r in self.reports):
            return "on-demand"
        if any(r.status == SUCCESS for r in self.init_reports):  # Text: only PC / SnapStart
            return "snapshot" if snapstart else "provisioned"
        return "on-demand"


@dataclass(frozen=True, kw_only=True)
class Figures:
    """What a set of environments (a version, an alias, the function) went through."""

    environments: int
    invocations: int
    cold_starts: int  # requests that waited for INIT or a restore
    on_demand_cold_starts: int
    restores: int
    environment_starts: int  # every INIT seen, whoever waited for it
    provisioned_inits: int
    snapshot_inits: int
    proactive_inits: int
    init_failures: int
    restore_failures: int
    init_ms: Spread  # Init Duration of on-demand cold starts
    restore_ms: Spread
    provisioned_init_ms: Spread  # INIT_REPORT durations of provisioned environments
    environment_init_ms: Spread  # every INIT_REPORT duration
    warm_ms: Spread
    duration_mean_ms: float | None  # every request's handler duration, for the planner
    cold_ms: Spread  # handler duration of the cold requests
    cold_total_ms: Spread  # what a cold request waited: duration + INIT or restore
    billed_ms: Spread
    billed_total_ms: float
    memory_mb: tuple[int, ...]
    max_memory_used_mb: Spread
    statuses: dict[str, int]
    error_types: dict[str, int]
    per_request_metrics: bool

    @property
    def cold_start_rate(self) -> float:
        return self.cold_starts / self.invocations if self.invocations else 0.0

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            out[name] = value.to_dict() if isinstance(value, Spread) else value
        out["memory_mb"] = list(self.memory_mb)
        out["cold_start_rate"] = round(self.cold_start_rate, 6)
        return out


def figures(envs: Sequence[_Env], *, snapstart: bool) -> Figures:
    reports = [r for env in envs for r in env.reports]
    cold = [r for r in reports if r.cold]
    kinds = [(env, env.kind(snapstart)) for env in envs]
    proactive = 0
    for env, kind in kinds:
        if kind == "on-demand":
            felt = sum(r.init_ms is not None for r in env.reports)
            failed = sum(r.status != SUCCESS and r.phase == "init" for r in env.init_reports)
            proactive += max(0, env.inits - felt - failed)
    statuses = Counter(r.status for r in reports)
    billed = [r.billed_ms for r in reports if r.billed_ms is not None]
    return Figures(
        environments=len(envs),
        invocations=len(reports),
        cold_starts=len(cold),
        on_demand_cold_starts=sum(r.init_ms is not None for r in reports),
        restores=sum(r.restore_ms is not None for r in reports),
        environment_starts=sum(env.inits for env in envs),
        provisioned_inits=sum(env.inits for env, kind in kinds if kind == "provisioned"),
        snapshot_inits=sum(env.inits for env, kind in kinds if kind == "snapshot"),
        proactive_inits=proactive,
        init_failures=sum(r.status != SUCCESS for env in envs for r in env.init_reports),
        restore_failures=sum(r.status != SUCCESS for env in envs for r in env.restore_reports),
        init_ms=Spread.of(r.init_ms for r in reports if r.init_ms is not None),
        restore_ms=Spread.of(r.restore_ms for r in reports if r.restore_ms is not None),
        provisioned_init_ms=Spread.of(
            r.init_ms for env, kind in kinds if kind == "provisioned" for r in env.init_reports
        ),
        environment_init_ms=Spread.of(r.init_ms for env in envs for r in env.init_reports),
        warm_ms=Spread.of(r.duration_ms for r in reports if not r.cold),
        duration_mean_ms=(
            round(sum(r.duration_ms for r in reports) / len(reports), 3) if reports else None
        ),
        cold_ms=Spread.of(r.duration_ms for r in cold),
        cold_total_ms=Spread.of(
            r.duration_ms + (r.init_ms or 0) + (r.restore_ms or 0) for r in cold
        ),
        billed_ms=Spread.of(billed),
        billed_total_ms=round(sum(billed), 2),
        memory_mb=tuple(sorted({r.memory_mb for r in reports if r.memory_mb is not None})),
        max_memory_used_mb=Spread.of(
            r.max_memory_used_mb for r in reports if r.max_memory_used_mb is not None
        ),
        statuses={s: statuses[s] for s in ("success", "failure", "error", "timeout")},
        error_types=dict(Counter(r.error_type for r in reports if r.error_type).most_common()),
        per_request_metrics=not reports or any(r.per_request_metrics for r in reports),
    )


@dataclass(frozen=True, kw_only=True)
class AliasFigures:
    weights: dict[str, float]  # version -> share of the alias' traffic
    figures: Figures


@dataclass(frozen=True, kw_only=True)
class ColdStartReport:
    function: str
    log_group: str
    window: Window
    formats: dict[str, int]  # platform lines per log format
    platform_lines: int
    unparsed: int
    unparsed_samples: tuple[str, ...]
    other_lines: int  # application logs, START / END and platform events not read
    logs_dropped: int
    truncated: bool
    managed_instances: bool
    snapstart: bool
    versions: dict[str, Figures]
    total: Figures
    aliases: dict[str, AliasFigures] | None
    notes: tuple[str, ...]
    first_minute: datetime | None  # start of the per-minute REPORT series
    minute_counts: tuple[int, ...]


def build_report(
    events: Sequence[LogEvent],
    *,
    function: str,
    log_group: str,
    window: Window,
    info: FunctionInfo,
    truncated: bool = False,
) -> ColdStartReport:
    """Parse every event and aggregate (malformed platform lines are counted, never raised)."""
    envs: dict[str, _Env] = {}
    formats: Counter[str] = Counter()
    unparsed, other, dropped = 0, 0, 0
    samples: list[str] = []
    report_times: list[int] = []
    for event in events:
        try:
            line = parse_line(event.message)
        except LineError as exc:
            unparsed += 1
            if len(samples) < MAX_SAMPLES:
                samples.append(f"{event.message.strip()[:120]} ({exc})")
            continue
        if line is None:
            other += 1
            continue
        formats[line_format(event.message)] += 1
        env = envs.setdefault(event.stream, _Env(event.stream))
        if isinstance(line, Report):
            env.reports.append(line)
            report_times.append(event.timestamp_ms)
        elif isinstance(line, InitStart):
            env.starts.append(line)
        elif isinstance(line, InitReport):
            env.init_reports.append(line)
        elif isinstance(line, RestoreStart):
            env.restore_starts += 1
        elif isinstance(line, RestoreReport):
            env.restore_reports.append(line)
        elif isinstance(line, LogsDropped):
            dropped += line.dropped_records
    all_envs = list(envs.values())
    snapstart = info.snapstart or any(e.restore_starts or e.restore_reports for e in all_envs)
    by_version: dict[str, list[_Env]] = {}
    for env in all_envs:
        by_version.setdefault(env.version, []).append(env)
    versions = {
        v: figures(by_version[v], snapstart=snapstart)
        for v in sorted(by_version, key=version_order)
    }
    total = figures(all_envs, snapstart=snapstart)
    managed = info.managed_instances or (total.invocations > 0 and not total.per_request_metrics)
    aliases = None
    if info.aliases is not None:
        aliases = {
            name: AliasFigures(
                weights=weights,
                figures=figures(
                    [e for v in weights for e in by_version.get(v, [])], snapstart=snapstart
                ),
            )
            for name, weights in sorted(info.aliases.items())
        }
    first_minute, counts = _minute_series(report_times)
    return ColdStartReport(
        function=function,
        log_group=log_group,
        window=window,
        formats=dict(formats),
        platform_lines=sum(formats.values()),
        unparsed=unparsed,
        unparsed_samples=tuple(samples),
        other_lines=other,
        logs_dropped=dropped,
        truncated=truncated,
        managed_instances=managed,
        snapstart=snapstart,
        versions=versions,
        total=total,
        aliases=aliases,
        notes=tuple(_notes(info, aliases, truncated, dropped, managed)),
        first_minute=first_minute,
        minute_counts=counts,
    )


def _minute_series(times_ms: Sequence[int]) -> tuple[datetime | None, tuple[int, ...]]:
    """REPORTs per minute, from the first REPORT's minute to the last's."""
    if not times_ms:
        return None, ()
    minutes = [t // 60_000 for t in times_ms]
    first = min(minutes)
    counts = [0] * (max(minutes) - first + 1)
    for m in minutes:
        counts[m - first] += 1
    return datetime.fromtimestamp(first * 60, tz=UTC), tuple(counts)


def _notes(
    info: FunctionInfo,
    aliases: dict[str, AliasFigures] | None,
    truncated: bool,
    dropped: int,
    managed: bool,
) -> list[str]:
    notes = []
    if aliases is None:
        reason = info.note or "not asked"
        notes.append(
            f"aliases not resolved ({reason}): the logs name versions only; figures are per version"
        )
    elif aliases:
        notes.append(
            "an alias' figures are those of the versions it routes to, including requests that "
            "reached those versions another way (another alias, the version ARN)"
        )
    if truncated:
        notes.append(
            "stopped at --max-lines: the figures cover the oldest part of the window only "
            "(narrow --since / --until, or run the --insights query)"
        )
    if dropped:
        notes.append(
            f"Lambda dropped {dropped} log records (platform.logsDropped): counts may be short"
        )
    if managed:
        notes.append(
            "Lambda Managed Instances: environments start ahead of traffic and serve many "
            "requests at once, and reports carry durationMs only: no per-request cold start"
        )
    return notes
