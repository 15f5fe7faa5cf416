"""Alarm settings: named thresholds with per-alarm overrides and pluggable actions."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Literal

from serverless_ml.spec.errors import SpecError
from serverless_ml.spec.triggers import check_arn, is_token

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_HTTPS = re.compile(r"^https://[^\s/]+(/\S*)?$")


@dataclass(frozen=True, kw_only=True)
class AlarmSubscriber:
    """Who the new alarm topic notifies: ``email`` (an address; AWS mails a confirmation
    link), ``https`` (an endpoint that confirms the subscription) or ``sqs`` (a queue ARN
    whose policy lets this topic send)."""

    protocol: Literal["email", "https", "sqs"]
    endpoint: str

    def __post_init__(self) -> None:
        if self.protocol == "email":
            ok = bool(_EMAIL.match(self.endpoint))
        elif self.protocol == "https":
            ok = bool(_HTTPS.match(self.endpoint))
        elif self.protocol == "sqs":
            check_arn(self.endpoint, "sqs", "alarm subscriber queue")
            ok = True
        else:
            raise SpecError(
                "SML154",
                f"alarm subscriber protocol {self.protocol!r}: use 'email', 'https' or 'sqs'",
            )
        if not ok and not is_token(self.endpoint):
            raise SpecError(
                "SML155",
                f"alarm subscriber {self.protocol} endpoint {self.endpoint!r}: use "
                + ("an address like oncall@example.com" if self.protocol == "email"
                   else "an https:// URL (plain http is refused: alarms leave AWS over TLS)"),
            )  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class AlarmThreshold:
    """One alarm: fires when the statistic crosses ``threshold`` in ``datapoints`` of
    ``evaluation_periods`` periods of ``period_s`` seconds. ``enabled=False`` drops it."""

    threshold: float
    period_s: int = 60
    evaluation_periods: int = 5
    datapoints: int = 3
    enabled: bool = True

    def __post_init__(self) -> None:
        if self.period_s not in (10, 30) and (self.period_s < 60 or self.period_s % 60):
            raise SpecError(
                "SML150", f"alarm period_s={self.period_s}: use 10, 30 or a multiple of 60"
            )
        if not 1 <= self.datapoints <= self.evaluation_periods:
            raise SpecError(
                "SML151",
                f"alarm datapoints={self.datapoints} must be 1..evaluation_periods "
                f"({self.evaluation_periods})",
            )


AlarmName = Literal[
    "errors",
    "error_rate_pct",
    "throttles",
    "duration_p99_pct_of_timeout",
    "cold_starts",
    "iterator_age_ms",
    "dlq_depth",
    "pc_spillover",
    "pc_utilization_max",
    "async_event_age_ms",
    "async_events_dropped",
    "capacity_cpu_pct",
    "concurrency_saturation_pct",
]


@dataclass(frozen=True, kw_only=True)
class AlarmSettings:
    """The alarm preset. Override one threshold with ``AlarmSettings().with_threshold(...)``.

    Actions go to a new SNS topic (``topic="new"``: encrypted with its own customer-managed
    key that CloudWatch may use), an existing topic ARN, or nowhere (``topic=None``), plus
    any ``extra_action_arns``. ``subscribers`` are subscribed to the new topic.
    """

    errors: AlarmThreshold = AlarmThreshold(threshold=1)
    error_rate_pct: AlarmThreshold = AlarmThreshold(threshold=1)
    throttles: AlarmThreshold = AlarmThreshold(threshold=1)
    duration_p99_pct_of_timeout: AlarmThreshold = AlarmThreshold(threshold=80)
    cold_starts: AlarmThreshold = AlarmThreshold(
        threshold=50, period_s=300, evaluation_periods=1, datapoints=1
    )
    iterator_age_ms: AlarmThreshold = AlarmThreshold(threshold=60_000)
    dlq_depth: AlarmThreshold = AlarmThreshold(threshold=1, evaluation_periods=1, datapoints=1)
    pc_spillover: AlarmThreshold = AlarmThreshold(threshold=1)
    pc_utilization_max: AlarmThreshold = AlarmThreshold(threshold=0.9)
    async_event_age_ms: AlarmThreshold = AlarmThreshold(threshold=300_000)
    async_events_dropped: AlarmThreshold = AlarmThreshold(
        threshold=1, evaluation_periods=1, datapoints=1
    )
    # Lambda Managed Instances only: the capacity provider's average CPU (percent) and the
    # alias' concurrent requests as a percentage of max_environments x requests per environment.
    capacity_cpu_pct: AlarmThreshold = AlarmThreshold(threshold=85)
    concurrency_saturation_pct: AlarmThreshold = AlarmThreshold(threshold=90)
    topic: Literal["new"] | str | None = "new"
    extra_action_arns: tuple[str, ...] = ()
    subscribers: tuple[AlarmSubscriber, ...] = ()
    dashboard: bool = True

    def __post_init__(self) -> None:
        if self.topic not in ("new", None):
            check_arn(self.topic, "sns", "alarm topic")
        if self.subscribers and self.topic != "new":
            raise SpecError(
                "SML156",
                "alarm subscribers need topic='new' (subscribe to an existing topic where it "
                "is managed)",
            )
        seen = [(s.protocol, s.endpoint) for s in self.subscribers]
        if len(set(seen)) != len(seen):
            raise SpecError("SML157", "alarm subscribers: each protocol and endpoint once")
        for arn in self.extra_action_arns:
            if not arn.startswith("arn:"):
                raise SpecError("SML152", f"alarm action {arn!r} must be an ARN")

    def with_threshold(self, name: AlarmName, **changes: float | int | bool) -> AlarmSettings:
        """A copy with one named alarm's fields changed, e.g. ``with_threshold("errors", threshold=5)``."""
        current = getattr(self, name, None)
        if not isinstance(current, AlarmThreshold):
            raise SpecError("SML153", f"unknown alarm {name!r}")
        return dataclasses.replace(self, **{name: dataclasses.replace(current, **changes)})  # type: ignore[arg-type]
