"""The security gate: every rule of ``gate_rules`` on the plan, findings matched against the
plan's acknowledgments. Both renderers call ``enforce`` before creating anything (CDK at
synth, Pulumi when the program runs), so a finding nobody accepted stops both the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from serverless_ml.core.gate_rules import RULES, Verdict
from serverless_ml.core.plan_types import Acknowledgment, ServicePlan
from serverless_ml.spec.errors import SpecError


class SecurityGateError(SpecError):
    """A finding without an acknowledgment (SML701), or an acknowledgment of nothing (SML702)."""


@dataclass(frozen=True, kw_only=True)
class Accepted:
    """A finding and the acknowledgment that accepts it."""

    verdict: Verdict
    reason: str


@dataclass(frozen=True, kw_only=True)
class GateReport:
    verdicts: tuple[Verdict, ...]
    accepted: tuple[Accepted, ...]
    unaccepted: tuple[Verdict, ...]
    stale: tuple[Acknowledgment, ...]  # acknowledgments that match no finding

    def explained(self) -> tuple[tuple[Verdict, str], ...]:
        """Every verdict an external scanner may flag, with the text that answers it: the
        acknowledgment's reason for a finding, the evidence for a concern met otherwise."""
        otherwise = [(v, v.detail) for v in self.verdicts if v.status == "met_otherwise"]
        return (*((a.verdict, a.reason) for a in self.accepted), *otherwise)

    def counts(self) -> dict[str, int]:
        return {
            "met": sum(v.status == "met" for v in self.verdicts),
            "met_otherwise": sum(v.status == "met_otherwise" for v in self.verdicts),
            "accepted": len(self.accepted),
            "unaccepted": len(self.unaccepted),
        }


def _matches(ack: Acknowledgment, v: Verdict) -> bool:
    return ack.rule == v.rule and ack.subject in (v.subject, v.part)


def judge(verdicts: tuple[Verdict, ...], acknowledgments: tuple[Acknowledgment, ...]) -> GateReport:
    """Findings matched against acknowledgments (one matcher for every plan shape)."""
    findings = [v for v in verdicts if v.status == "finding"]
    accepted, unaccepted = [], []
    for v in findings:
        ack = next((a for a in acknowledgments if _matches(a, v)), None)
        if ack is None:
            unaccepted.append(v)
        else:
            accepted.append(Accepted(verdict=v, reason=ack.reason))
    stale = tuple(a for a in acknowledgments if not any(_matches(a, v) for v in findings))
    return GateReport(
        verdicts=verdicts, accepted=tuple(accepted), unaccepted=tuple(unaccepted), stale=stale
    )


def evaluate(plan: ServicePlan) -> GateReport:
    return judge(tuple(v for check in RULES.values() for v in check(plan)), plan.acknowledgments)


def enforce(plan: ServicePlan) -> GateReport:
    """The report, or ``SecurityGateError`` naming every finding to fix or acknowledge."""
    return require_clean(evaluate(plan), plan.service)


def require_clean(
    report: GateReport,
    service: str,
    fix: str = "Fix the spec, or accept a finding with InferenceServiceSpec(acknowledgments="
    "(Acknowledge(rule=..., part=..., reason=...),)) (docs/security.md)",
) -> GateReport:
    """``report``, or SML701 naming every unaccepted finding (``fix`` says what to do), or SML702
    naming every acknowledgment of a finding that no longer exists."""
    if report.unaccepted:
        lines = "; ".join(f"{v.rule} on {v.subject}: {v.detail}" for v in report.unaccepted)
        raise SecurityGateError("SML701", f"security gate of {service}: {lines}. {fix}")
    if report.stale:
        lines = "; ".join(f"{a.rule} on {a.subject}" for a in report.stale)
        raise SecurityGateError(
            "SML702",
            f"security gate of {service}: acknowledged but not found: {lines}. Remove "
            "these acknowledgments (the finding is gone)",
        )
    return report
