"""ConcurrencyPlan: how warm capacity is kept for a function.

Modes:
- ``on_demand``: no provisioned concurrency (PC); optional warmer.
- ``static``: a fixed PC of ``provisioned`` environments on the alias.
- ``scheduled``: scheduled scaling actions set (min, max) of the alias' PC over the day; between
  them, optional target tracking on ``ProvisionedConcurrencyUtilization`` (Maximum).
- ``target_tracking``: PC auto-scaled between ``min_capacity`` and ``max_capacity``.
- ``snapstart``: no PC; each cold start restores a snapshot (Python 3.12+).
- ``managed_instances``: Lambda Managed Instances (``ManagedInstances``): the function runs on
  EC2 capacity providers, environments kept running and serving several requests each; no
  cold starts, no PC, no SnapStart, no warmer.

Every mode but ``managed_instances`` may add a ``Warmer`` (a scheduled rule pinging the alias).
The JSON form (``to_dict``/``from_dict``/``from_json_file``) is what ``serverless-ml plan``
writes; a ``managed_instances`` plan may leave its capacity provider to deploy time.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from serverless_ml.spec.errors import SpecError
from serverless_ml.spec.managed_instances import CapacityProvider, ManagedInstances

Mode = Literal[
    "on_demand", "static", "scheduled", "target_tracking", "snapstart", "managed_instances"
]
MODES: tuple[Mode, ...] = (
    "on_demand", "static", "scheduled", "target_tracking", "snapstart", "managed_instances",
)  # fmt: skip

# Application Auto Scaling accepts at(...), rate(...) and cron(...) with six fields.
# https://docs.aws.amazon.com/autoscaling/application/userguide/scheduled-scaling-using-cron-expressions.html
_SCHEDULE = re.compile(
    r"^(cron\((\S+\s+){5}\S+\)|rate\(\d+ (minute|minutes|hour|hours|day|days)\)|at\(\S+\))$"
)
_ACTION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")


@dataclass(frozen=True, kw_only=True)
class ScheduledAction:
    """At ``schedule``, set the alias' PC range to [min_capacity, max_capacity]."""

    name: str
    schedule: str
    min_capacity: int
    max_capacity: int

    def __post_init__(self) -> None:
        if not _ACTION_NAME.match(self.name):
            raise SpecError(
                "SML120",
                f"scheduled action name {self.name!r} must be 1-64 letters, digits or '-'",
            )
        if not _SCHEDULE.match(self.schedule):
            raise SpecError(
                "SML121",
                f"scheduled action {self.name!r}: schedule {self.schedule!r} must be "
                "'cron(m h dom mon dow yr)', 'rate(N minutes)' or 'at(yyyy-mm-ddThh:mm:ss)'",
            )
        if not 0 <= self.min_capacity <= self.max_capacity:
            raise SpecError(
                "SML122",
                f"scheduled action {self.name!r}: need 0 <= min_capacity ({self.min_capacity}) "
                f"<= max_capacity ({self.max_capacity})",
            )


@dataclass(frozen=True, kw_only=True)
class Warmer:
    """A scheduled rule invoking the alias every ``rate_minutes`` with ``concurrency`` pings."""

    rate_minutes: int = 5
    concurrency: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.rate_minutes <= 60:
            raise SpecError("SML123", f"warmer rate_minutes={self.rate_minutes}: use 1..60")
        if not 1 <= self.concurrency <= 5:
            raise SpecError(
                "SML124",
                f"warmer concurrency={self.concurrency}: use 1..5 (one EventBridge rule holds 5 targets)",
            )


@dataclass(frozen=True, kw_only=True)
class ConcurrencyPlan:
    """How warm capacity is kept. Build it with the classmethods; see the module docstring."""

    mode: Mode = "on_demand"
    provisioned: int = 0
    min_capacity: int = 0
    max_capacity: int = 0
    target_utilization: float | None = None
    schedule: tuple[ScheduledAction, ...] = ()
    warmer: Warmer | None = None
    managed: ManagedInstances | None = None  # mode "managed_instances" only

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise SpecError("SML110", f"concurrency mode {self.mode!r}: use one of {MODES}")
        if (self.mode == "managed_instances") != (self.managed is not None):
            raise SpecError(
                "SML913",
                "Managed Instances settings go with mode 'managed_instances' and that mode needs "
                "them: build it with ConcurrencyPlan.managed_instances(...)",
            )
        if self.managed is not None and self.warmer is not None:
            raise SpecError(
                "SML914",
                "a warmer on Managed Instances pings environments that are kept running anyway "
                "(no cold starts to prevent): drop it",
            )
        if self.mode == "static" and self.provisioned < 1:
            raise SpecError("SML111", "static concurrency needs provisioned >= 1")
        if self.mode != "static" and self.provisioned:
            raise SpecError("SML112", f"provisioned={self.provisioned} is only for mode 'static'")
        if self.mode in ("scheduled", "target_tracking"):
            if not 0 <= self.min_capacity <= self.max_capacity or self.max_capacity < 1:
                raise SpecError(
                    "SML113",
                    f"{self.mode}: need 0 <= min_capacity ({self.min_capacity}) <= "
                    f"max_capacity ({self.max_capacity}) and max_capacity >= 1",
                )
        elif self.min_capacity or self.max_capacity:
            raise SpecError("SML114", "min/max_capacity are only for scheduled/target_tracking")
        if self.mode == "target_tracking" and self.target_utilization is None:
            raise SpecError("SML115", "target_tracking needs target_utilization (e.g. 0.7)")
        if self.target_utilization is not None:
            if self.mode not in ("scheduled", "target_tracking"):
                raise SpecError(
                    "SML116", "target_utilization is only for scheduled/target_tracking"
                )
            if not 0.1 <= self.target_utilization <= 0.9:
                raise SpecError(
                    "SML117",
                    f"target_utilization={self.target_utilization}: use 0.1..0.9 (0.7 leaves "
                    "headroom for bursts while scaling reacts)",
                )
        if self.mode == "scheduled":
            if not self.schedule:
                raise SpecError("SML118", "scheduled concurrency needs at least one action")
            names = [a.name for a in self.schedule]
            if len(set(names)) != len(names):
                raise SpecError("SML119", f"scheduled action names must be unique: {names}")
        elif self.schedule:
            raise SpecError("SML125", "schedule actions are only for mode 'scheduled'")

    # -- constructors -----------------------------------------------------------------------
    @classmethod
    def on_demand(cls, *, warmer: Warmer | None = None) -> ConcurrencyPlan:
        return cls(mode="on_demand", warmer=warmer)

    @classmethod
    def static(cls, provisioned: int) -> ConcurrencyPlan:
        return cls(mode="static", provisioned=provisioned)

    @classmethod
    def scheduled(
        cls,
        actions: tuple[ScheduledAction, ...] | list[ScheduledAction],
        *,
        min_capacity: int,
        max_capacity: int,
        target_utilization: float | None = None,
    ) -> ConcurrencyPlan:
        return cls(
            mode="scheduled",
            schedule=tuple(actions),
            min_capacity=min_capacity,
            max_capacity=max_capacity,
            target_utilization=target_utilization,
        )

    @classmethod
    def target_tracking(
        cls, *, min_capacity: int, max_capacity: int, target_utilization: float = 0.7
    ) -> ConcurrencyPlan:
        return cls(
            mode="target_tracking",
            min_capacity=min_capacity,
            max_capacity=max_capacity,
            target_utilization=target_utilization,
        )

    @classmethod
    def snapstart(cls) -> ConcurrencyPlan:
        return cls(mode="snapstart")

    @classmethod
    def managed_instances(
        cls,
        capacity_provider: CapacityProvider | None = None,
        *,
        max_concurrency: int | None = None,
        memory_gib_per_vcpu: float = 4.0,
        min_environments: int | None = None,
        max_environments: int | None = None,
    ) -> ConcurrencyPlan:
        """Run on Lambda Managed Instances (see ``ManagedInstances`` for each setting)."""
        return cls(
            mode="managed_instances",
            managed=ManagedInstances(
                capacity_provider=capacity_provider,
                max_concurrency=max_concurrency,
                memory_gib_per_vcpu=memory_gib_per_vcpu,
                min_environments=min_environments,
                max_environments=max_environments,
            ),
        )

    def with_capacity_provider(self, provider: CapacityProvider) -> ConcurrencyPlan:
        """This plan with its capacity provider given at deploy time (CDK context, Pulumi
        config). A plan that already names one refuses a second (SML916)."""
        if self.managed is None:
            raise SpecError(
                "SML916", f"a capacity provider was given for a {self.mode!r} concurrency plan"
            )
        if self.managed.capacity_provider is not None:
            raise SpecError(
                "SML916",
                "the concurrency plan already names a capacity provider; give it in one place",
            )
        return replace(self, managed=replace(self.managed, capacity_provider=provider))

    # -- properties ---------------------------------------------------------------------------
    @property
    def uses_provisioned(self) -> bool:
        return self.mode in ("static", "scheduled", "target_tracking")

    @property
    def peak_provisioned(self) -> int:
        """The most PC this plan can hold at once (for reserved-concurrency checks)."""
        if self.mode == "static":
            return self.provisioned
        if self.mode in ("scheduled", "target_tracking"):
            return max([self.max_capacity, *(a.max_capacity for a in self.schedule)])
        return 0

    # -- JSON ---------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        data = self._to_dict()
        if self.managed is not None:  # only then: other modes' JSON is what it always was
            data["managed_instances"] = self.managed.to_dict()
        return data

    def _to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "provisioned": self.provisioned,
            "min_capacity": self.min_capacity,
            "max_capacity": self.max_capacity,
            "target_utilization": self.target_utilization,
            "schedule": [
                {
                    "name": a.name,
                    "schedule": a.schedule,
                    "min_capacity": a.min_capacity,
                    "max_capacity": a.max_capacity,
                }
                for a in self.schedule
            ],
            "warmer": None
            if self.warmer is None
            else {"rate_minutes": self.warmer.rate_minutes, "concurrency": self.warmer.concurrency},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConcurrencyPlan:
        if not isinstance(data, dict):
            raise SpecError("SML126", "a concurrency plan must be a JSON object")
        known = {
            "mode", "provisioned", "min_capacity", "max_capacity", "target_utilization",
            "schedule", "warmer", "managed_instances",
        }  # fmt: skip
        unknown = sorted(set(data) - known - {"comment", "source"})
        if unknown:
            raise SpecError(
                "SML127", f"unknown concurrency plan fields {unknown}; known: {sorted(known)}"
            )
        try:
            warmer = data.get("warmer")
            managed = data.get("managed_instances")
            return cls(
                mode=data.get("mode", "on_demand"),
                provisioned=int(data.get("provisioned", 0)),
                min_capacity=int(data.get("min_capacity", 0)),
                max_capacity=int(data.get("max_capacity", 0)),
                target_utilization=data.get("target_utilization"),
                schedule=tuple(ScheduledAction(**a) for a in data.get("schedule", ())),
                warmer=None if warmer is None else Warmer(**warmer),
                managed=None if managed is None else ManagedInstances.from_dict(managed),
            )
        except (TypeError, ValueError) as exc:
            if isinstance(exc, SpecError):
                raise
            raise SpecError("SML128", f"malformed concurrency plan: {exc}") from exc

    @classmethod
    def from_json_file(cls, path: str | Path) -> ConcurrencyPlan:
        """Load the plan ``serverless-ml plan`` wrote."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise SpecError("SML129", f"cannot read concurrency plan {path}: {exc}") from exc
        return cls.from_dict(data)
