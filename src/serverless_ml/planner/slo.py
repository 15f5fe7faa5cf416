"""Cold-start objectives: ``--slo "cold-rate<=1%,p99-added-ms<=300,misses<=0"``.

Clauses, comma-separated, all must hold:

- ``cold-rate<=X`` — cold starts / invocations, ``X`` as ``1%`` or ``0.01``;
- ``pNN-added-ms<=X`` — the NN-th percentile (nearest rank; ``p99``, ``p99.9``, ``p50``) of the
  start-up latency added to each request (0 when warm, INIT or restore when cold), in ms;
- ``misses<=N`` — at most N functions (or ``N%`` of them) may miss the other clauses on their
  own traffic.

The metric clauses apply to all functions' requests pooled (the aggregate); ``misses`` adds a
per-function bound. The planner plans each function to meet the metric clauses on its own.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from serverless_ml.planner.errors import PlannerError
from serverless_ml.planner.simulator import added_latency_quantile

DEFAULT_OBJECTIVE = "cold-rate<=1%"
Group = tuple[int, int, float]  # (invocations, cold starts, added latency of a cold start in ms)

_CLAUSE = re.compile(r"^\s*([a-z0-9.\-]+)\s*<=\s*([0-9]*\.?[0-9]+)\s*(%?)\s*$")
_LATENCY = re.compile(r"^p(\d{1,2}(?:\.\d+)?)-added-ms$")


@dataclass(frozen=True)
class Clause:
    """One bound on a metric of a set of requests."""

    metric: str  # "cold-rate" or "pNN-added-ms"
    limit: float  # a fraction for cold-rate, milliseconds for latency
    text: str

    def value(self, groups: list[Group]) -> float:
        if self.metric == "cold-rate":
            calls = sum(g[0] for g in groups)
            return sum(g[1] for g in groups) / calls if calls else 0.0
        match = _LATENCY.match(self.metric)
        assert match is not None
        return added_latency_quantile(groups, float(match.group(1)) / 100.0)

    def holds(self, groups: list[Group]) -> bool:
        return self.value(groups) <= self.limit * (1 + 1e-12)


@dataclass(frozen=True)
class Objective:
    """Metric clauses on pooled requests, and optionally at most ``max_misses`` functions
    (``misses_are_percent``: a percentage of functions) missing them individually."""

    clauses: tuple[Clause, ...]
    max_misses: float | None = None
    misses_are_percent: bool = False
    text: str = DEFAULT_OBJECTIVE

    def function_ok(self, group: Group) -> bool:
        return all(c.holds([group]) for c in self.clauses)

    def allowed_misses(self, functions: int) -> int | None:
        if self.max_misses is None:
            return None
        if self.misses_are_percent:
            return math.floor(self.max_misses / 100.0 * functions + 1e-9)
        return int(self.max_misses)

    def met(self, groups: list[Group]) -> bool:
        """Aggregate clauses hold and few enough functions miss them (one group per function)."""
        if not all(c.holds(groups) for c in self.clauses):
            return False
        allowed = self.allowed_misses(len(groups))
        return allowed is None or sum(not self.function_ok(g) for g in groups) <= allowed


def parse_objective(text: str | None) -> Objective:
    """Parse ``--slo``; ``None`` or empty means ``cold-rate<=1%``."""
    text = (text or DEFAULT_OBJECTIVE).strip()
    clauses: list[Clause] = []
    misses: float | None = None
    percent = False
    for raw in text.split(","):
        match = _CLAUSE.match(raw)
        if not match:
            raise PlannerError(
                "SML611",
                f"cannot read {raw.strip()!r} in --slo {text!r}: write METRIC<=VALUE clauses "
                "separated by commas, e.g. 'cold-rate<=1%', 'p99-added-ms<=300', 'misses<=0'",
            )
        metric, number, pct = match.group(1), float(match.group(2)), match.group(3) == "%"
        if metric == "cold-rate":
            limit = number / 100.0 if pct else number
            if not 0 <= limit <= 1:
                raise PlannerError("SML611", f"{raw.strip()!r}: a rate is between 0 and 100%")
            clauses.append(Clause("cold-rate", limit, raw.strip()))
        elif _LATENCY.match(metric):
            q = float(_LATENCY.match(metric).group(1))  # type: ignore[union-attr]
            if pct or not 0 < q < 100:
                raise PlannerError(
                    "SML611", f"{raw.strip()!r}: use pNN-added-ms<=MILLISECONDS with 0<NN<100"
                )
            clauses.append(Clause(metric, number, raw.strip()))
        elif metric == "misses":
            if misses is not None:
                raise PlannerError("SML611", f"'misses' given twice in {text!r}")
            misses, percent = number, pct
        else:
            raise PlannerError(
                "SML611",
                f"unknown metric {metric!r} in --slo: use cold-rate, pNN-added-ms or misses",
            )
    if not clauses:
        raise PlannerError("SML611", f"--slo {text!r} bounds no metric (cold-rate, pNN-added-ms)")
    return Objective(tuple(clauses), misses, percent, text)
