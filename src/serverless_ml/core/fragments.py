"""Plan fragments: what one part contributes, and how ``build_plan`` composes them.

Each part kind's core module turns its spec part into a ``Fragment``: the resources it creates,
its binding to the function, environment variables, IAM statements, alarms and dashboard
widgets. Composition concatenates fragments in order; an alarm or widget that several parts
contribute identically (the Lambda ``IteratorAge`` alarm of two stream triggers) is kept once.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from serverless_ml.core.plan_types import (
    Acknowledgment,
    AlarmPlan,
    BindingPlan,
    DashboardWidgetPlan,
    IamStatement,
    ResourcePlan,
    Value,
)
from serverless_ml.spec.alarms import AlarmSettings

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class PartContext:
    """What a part's fragment may depend on besides the part itself."""

    service: str
    alias: str
    timeout_s: int
    log_retention_days: int
    alarms: AlarmSettings
    failure_queue_arn: Value  # where failed records / events go unless the part names one


@dataclass(frozen=True, kw_only=True)
class AsyncInvoke:
    """The alias' asynchronous-invocation config a part asks for (one per alias)."""

    max_retries: int
    max_event_age_s: int
    on_failure: Value


@dataclass(frozen=True, kw_only=True)
class Fragment:
    resources: tuple[ResourcePlan, ...] = ()
    bindings: tuple[BindingPlan, ...] = ()
    environment: tuple[tuple[str, Value], ...] = ()
    statements: tuple[IamStatement, ...] = ()
    alarms: tuple[AlarmPlan, ...] = ()
    widgets: tuple[DashboardWidgetPlan, ...] = ()
    async_invoke: tuple[AsyncInvoke, ...] = ()
    acknowledgments: tuple[Acknowledgment, ...] = ()  # gate findings this part accepts


def compose(fragments: Iterable[Fragment]) -> Fragment:
    """One fragment holding every part's contributions, in order; node ids, environment
    names and Sids must be unique (a clash is a bug in a core module, not a user error:
    the spec already refused duplicate part keys)."""
    parts = list(fragments)
    composed = Fragment(
        resources=tuple(n for f in parts for n in f.resources),
        bindings=tuple(n for f in parts for n in f.bindings),
        environment=_once((e for f in parts for e in f.environment), key=lambda e: e[0]),
        statements=tuple(s for f in parts for s in f.statements),
        alarms=_once((a for f in parts for a in f.alarms), key=lambda a: a.key),
        widgets=_once((w for f in parts for w in f.widgets), key=lambda w: w.title),
        async_invoke=_once((a for f in parts for a in f.async_invoke), key=lambda a: "alias"),
        acknowledgments=_once(
            (a for f in parts for a in f.acknowledgments), key=lambda a: (a.rule, a.subject)
        ),
    )
    _unique([n.node_id for n in (*composed.resources, *composed.bindings)], "node id")
    _unique([name for name, _ in composed.environment], "environment variable")
    _unique([s.sid for s in composed.statements], "IAM Sid")
    return composed


def _once(items: Iterable[T], *, key: Callable[[T], Hashable]) -> tuple[T, ...]:
    by_key: dict[Hashable, T] = {}
    for item in items:
        k = key(item)
        if k in by_key and by_key[k] != item:
            raise ValueError(f"two parts contribute different items under one key {k!r}")
        by_key.setdefault(k, item)
    return tuple(by_key.values())


def _unique(values: list[str], what: str) -> None:
    duplicates = sorted({v for v in values if values.count(v) > 1})
    if duplicates:
        raise ValueError(f"duplicate {what}s across plan fragments: {duplicates}")
