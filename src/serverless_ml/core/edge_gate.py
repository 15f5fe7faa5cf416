"""The security gate for edge personalization: the same verdicts and report as the inference
services' gate (``core.gate``), on the edge plan's resources (function, role policy, log group,
site bucket, distribution). Both renderers call ``enforce_edge`` before creating anything."""

from __future__ import annotations

from collections.abc import Iterator

from serverless_ml.core.gate import GateReport, judge, require_clean
from serverless_ml.core.gate_rules import Verdict, _verdict, statement_scopes
from serverless_ml.core.plan_types import (
    ALARM_KEY_ID,
    ALARM_TOPIC_ID,
    FUNCTION_ID,
    LOG_GROUP_ID,
    ROLE_POLICY_ID,
    EdgeServicePlan,
)

# Edge-only rules (the inference services' rules are ``gate_rules.RULES``).
EDGE_RULES = ("tracing", "web-firewall", "viewer-tls", "geo-restriction")


def edge_verdicts(plan: EdgeServicePlan) -> Iterator[Verdict]:
    f, d, b = plan.edge.function, plan.distribution, plan.bucket
    yield _verdict("customer-managed-keys", LOG_GROUP_ID, False, "", "AWS-managed key")
    yield _verdict("customer-managed-keys", FUNCTION_ID, False, "", "no customer-managed key")
    yield _verdict("log-retention", LOG_GROUP_ID, f.log_retention_days > 0,
                   f"{f.log_retention_days} days", "log events kept forever")  # fmt: skip
    yield _verdict("latest-runtime", FUNCTION_ID, f.runtime == f.latest_runtime, f.runtime,
                   f"{f.runtime}, not the latest {f.latest_runtime}")  # fmt: skip
    yield _verdict("network-isolation", FUNCTION_ID, False, "", "the function has no VPC")
    yield _verdict("concurrency-limit", FUNCTION_ID, False, "", "no reserved concurrency")
    yield _verdict(
        "on-failure-destination", FUNCTION_ID, True,
        "CloudFront invokes the function synchronously for each request, and the handler "
        "passes a request it cannot personalize through unchanged: there is no asynchronous "
        "event to keep",
        "", otherwise=True,
    )  # fmt: skip
    yield _verdict("tracing", FUNCTION_ID, False, "", "Lambda@Edge sends no X-Ray traces")
    for s in plan.edge.iam:
        wild_actions = [a for a in s.actions if "*" in a]
        yield _verdict("no-wildcard-actions", ROLE_POLICY_ID, not wild_actions, s.sid or "",
                       f"{s.sid} allows {wild_actions}")  # fmt: skip
    yield from statement_scopes(plan.edge.iam)
    yield _verdict("web-firewall", d.node_id, d.web_acl_arn is not None, "web ACL attached",
                   "no web ACL in front of the distribution")  # fmt: skip
    yield _verdict("viewer-tls", d.node_id, d.certificate_arn is not None,
                   d.minimum_protocol_version, "viewers may connect with TLS 1.0")  # fmt: skip
    yield _verdict("geo-restriction", d.node_id, False, "", "the distribution serves every country")
    yield _verdict("access-logging", d.node_id, False, "", "the distribution has no access logs")
    m = plan.monitoring
    if m.topic_key is not None:
        yield _verdict("no-wildcard-actions", ALARM_KEY_ID, False, "", "kms:* for the account")
    if m.subscriptions:
        yield _verdict("on-failure-destination", ALARM_TOPIC_ID, False, "", "no redrive policy")
    if b is not None:
        yield _verdict("encryption-at-rest", b.node_id, bool(b.encryption), b.encryption, "")
        yield _verdict("tls-only", b.node_id, any(p.effect == "Deny" for p in b.policy),
                       "the bucket policy denies plain HTTP", "plain HTTP allowed")  # fmt: skip
        yield _verdict("retention", b.node_id, b.retain_on_delete, "retained on delete",
                       "deleted with the stack")  # fmt: skip
        yield _verdict("access-logging", b.node_id, False, "", "no server access logs")


def evaluate_edge(plan: EdgeServicePlan) -> GateReport:
    return judge(tuple(edge_verdicts(plan)), plan.acknowledgments)


def enforce_edge(plan: EdgeServicePlan) -> GateReport:
    """The report, or ``SecurityGateError`` (SML701/SML702) naming what is wrong."""
    return require_clean(
        evaluate_edge(plan), plan.service,
        "Set web_acl_arn / certificate_arn in EdgePersonalizationSpec, or report the rule: the "
        "library accepts every other edge finding itself (docs/security.md)",
    )  # fmt: skip
