"""Security-gate acknowledgments a user gives in the spec, and the gate's rule vocabulary.

The gate (``serverless_ml.core.gate``) evaluates these rules on the plan at ``cdk synth`` and
when a Pulumi program runs; a finding stops both unless it is fixed or acknowledged with a
reason. The library acknowledges its own decisions next to the part they concern; a user
acknowledges a finding about their own choice (a public endpoint, say) here.
"""

from __future__ import annotations

from dataclasses import dataclass

from serverless_ml.spec.errors import SpecError

# Rule id -> what it asks of every resource it concerns (docs/security.md explains each).
GATE_RULES: dict[str, str] = {
    "encryption-at-rest": "data at rest is encrypted (tables, streams, topics, queues, buckets)",
    "customer-managed-keys": "data at rest is encrypted with a key whose policy this stack sets",
    "tls-only": "resource policies deny every request not made over TLS",
    "no-wildcard-actions": "no policy allows an action pattern with '*'",
    "scoped-resources": "identity policies name resources, not '*'",
    "http-auth": "HTTP endpoints authenticate callers",
    "on-failure-destination": "every asynchronous path keeps what it could not deliver",
    "retention": "stateful resources survive a stack delete and keep point-in-time backups",
    "log-retention": "every log group has a finite retention",
    "latest-runtime": "the function runs the latest Python runtime Lambda offers",
    "network-isolation": "the function runs inside a VPC",
    "concurrency-limit": "the function's concurrency is capped by a reservation",
    "access-logging": "every request to an endpoint, bucket or distribution is logged",
    "tracing": "the function sends X-Ray traces",
    "web-firewall": "a distribution is fronted by a WAF web ACL",
    "viewer-tls": "viewers reach a distribution over TLS 1.2 or later only",
    "geo-restriction": "a distribution limits the countries it serves",
    "managed-policies": "roles hold the plan's own statements, not AWS managed policies",
}

MIN_REASON_CHARS = 20


@dataclass(frozen=True, kw_only=True)
class Acknowledge:
    """Accept one gate finding on one part: ``rule`` from ``GATE_RULES``, ``part`` a trigger's
    or output's key (``"http"`` for the HTTP trigger) or a function-core subject
    (``"function"``, ``"log_group"``, ``"policy"``, ``"warmer"``, ``"alarm_topic"``,
    ``"alarm_key"``), and why."""

    rule: str
    part: str
    reason: str

    def __post_init__(self) -> None:
        if self.rule not in GATE_RULES:
            raise SpecError(
                "SML197", f"acknowledged rule {self.rule!r}: use one of {sorted(GATE_RULES)}"
            )
        if len(self.reason.strip()) < MIN_REASON_CHARS:
            raise SpecError(
                "SML198",
                f"acknowledgment of {self.rule!r} on {self.part!r}: give a reason of at least "
                f"{MIN_REASON_CHARS} characters (it is printed in every gate report)",
            )
