"""The security gate's rules: each reads the plan and gives a verdict per resource it concerns.

A verdict is ``met``; ``met_otherwise`` (the concern is met by other means than the obvious
one, e.g. failures kept by an on-failure destination instead of a dead-letter queue: external
scanners that look for the obvious one are told why); or a ``finding``, which stops the gate
unless an acknowledgment next to the part accepts it. Rules are backend-neutral: they read plan
fields only, never a renderer's output.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

from serverless_ml.core.plan_types import (
    ALARM_KEY_ID,
    ALARM_TOPIC_ID,
    FUNCTION_ID,
    LOG_GROUP_ID,
    ROLE_POLICY_ID,
    WARMER_ID,
    BucketPlan,
    CapacityProviderPlan,
    HttpPlan,
    IamStatement,
    Joined,
    KinesisStreamPlan,
    PolicyStatementPlan,
    QueuePlan,
    Ref,
    ServicePlan,
    TablePlan,
    TopicPlan,
    Value,
)

Status = Literal["met", "met_otherwise", "finding"]

# Actions AWS offers no resource-level permissions for: "*" is their only resource.
NO_RESOURCE_LEVEL_ACTIONS = frozenset(
    {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "cloudwatch:PutMetricData"}
)


@dataclass(frozen=True, kw_only=True)
class Verdict:
    """One rule on one subject (a plan node id or one of ``plan_types.SUBJECTS``).

    ``target`` is the policy resource a ``scoped-resources`` verdict is about, or the managed
    policy a ``managed-policies`` one is.
    """

    rule: str
    subject: str
    status: Status
    detail: str
    target: Value | None = None

    @property
    def part(self) -> str:
        """What a user's acknowledgment names: a node's key, or the subject itself."""
        _, _, key = self.subject.partition(":")
        return key or self.subject


def _verdict(
    rule: str, subject: str, ok: bool, met: str, finding: str, *, otherwise: bool = False
) -> Verdict:
    status: Status = ("met_otherwise" if otherwise else "met") if ok else "finding"
    return Verdict(rule=rule, subject=subject, status=status, detail=met if ok else finding)


def _policies(plan: ServicePlan) -> Iterator[tuple[str, tuple[PolicyStatementPlan, ...]]]:
    """Every resource policy of the plan, by subject."""
    for node in plan.resources:
        if isinstance(node, QueuePlan | TopicPlan | BucketPlan):
            yield node.node_id, node.policy
    m = plan.monitoring
    if m.topic_name is not None:
        yield ALARM_TOPIC_ID, m.topic_policy
    if m.topic_key is not None:
        yield ALARM_KEY_ID, m.topic_key.policy


def encryption_at_rest(plan: ServicePlan) -> Iterator[Verdict]:
    rule = "encryption-at-rest"
    for n in plan.resources:
        if isinstance(n, TablePlan):
            yield _verdict(rule, n.node_id, n.encrypted, "SSE with KMS", "table not encrypted")
        elif isinstance(n, KinesisStreamPlan):
            yield _verdict(rule, n.node_id, bool(n.encryption_key), "SSE with KMS", "no KMS key")
        elif isinstance(n, TopicPlan):
            yield _verdict(rule, n.node_id, bool(n.kms_key), "SSE with KMS", "no KMS key")
        elif isinstance(n, BucketPlan):
            yield _verdict(rule, n.node_id, bool(n.encryption), n.encryption, "no encryption")
        elif isinstance(n, QueuePlan):
            yield _verdict(
                rule, n.node_id, n.sqs_managed_sse,
                "SSE-SQS: encrypted at rest with SQS-managed keys (no KMS key to set)",
                "queue not encrypted", otherwise=True,
            )  # fmt: skip
    m = plan.monitoring
    if m.topic_name is not None:
        yield _verdict(
            rule, ALARM_TOPIC_ID, m.topic_key is not None, "SSE with its own key", "no KMS key"
        )


def customer_managed_keys(plan: ServicePlan) -> Iterator[Verdict]:
    """Where data sits under an AWS-managed key, the plan says why that is enough."""
    rule = "customer-managed-keys"
    aws_managed = "encrypted with an AWS-managed key, whose policy this stack cannot set"
    for n in plan.resources:
        if isinstance(n, TablePlan | KinesisStreamPlan | TopicPlan | QueuePlan | BucketPlan):
            yield _verdict(rule, n.node_id, False, "", aws_managed)
        elif isinstance(n, CapacityProviderPlan):
            yield _verdict(rule, n.node_id, False, "", "its data " + aws_managed)
    yield _verdict(rule, LOG_GROUP_ID, False, "", "log events " + aws_managed)
    yield _verdict(rule, FUNCTION_ID, False, "", "environment variables " + aws_managed)
    if plan.http is not None and plan.http.access_log_group_name is not None:
        yield _verdict(rule, plan.http.node_id, False, "", "access logs " + aws_managed)
    key = plan.monitoring.topic_key
    if key is not None:
        yield _verdict(
            rule, ALARM_KEY_ID, key.rotation, "its own key, rotated yearly", "key not rotated"
        )


def tls_only(plan: ServicePlan) -> Iterator[Verdict]:
    for subject, policy in _policies(plan):
        if subject == ALARM_KEY_ID:
            continue  # KMS is reachable over TLS only
        denies = any(
            s.effect == "Deny" and ("Bool", "aws:SecureTransport", "false") in s.conditions
            for s in policy
        )
        yield _verdict(
            "tls-only", subject, denies, "denies aws:SecureTransport=false",
            "the resource policy does not deny plain-HTTP requests",
        )  # fmt: skip


def no_wildcard_actions(plan: ServicePlan) -> Iterator[Verdict]:
    rule = "no-wildcard-actions"
    actions = [a for s in plan.iam for a in s.actions]
    wild = [a for a in actions if "*" in a]
    yield _verdict(
        rule, ROLE_POLICY_ID, not wild, f"{len(actions)} actions, each named",
        f"the function's role allows {wild}",
    )  # fmt: skip
    for subject, policy in _policies(plan):
        allowed = [a for s in policy if s.effect == "Allow" for a in s.actions if "*" in a]
        yield _verdict(
            rule, subject, not allowed, "every allowed action named",
            f"the resource policy allows {allowed}",
        )  # fmt: skip


def scoped_resources(plan: ServicePlan) -> Iterator[Verdict]:
    yield from statement_scopes(plan.iam)


def statement_scopes(statements: tuple[IamStatement, ...]) -> Iterator[Verdict]:
    """``*`` only for actions without resource-level permissions; a wildcard *under* a
    resource (``<log group>:*``, ``<table>/stream/*``) is scoped to it, and says why."""
    for s in statements:
        for resource in s.resources:
            if isinstance(resource, Ref):
                text = resource.suffix
            elif isinstance(resource, Joined):
                text = "".join(p for p in resource.parts if isinstance(p, str))
            else:
                text = str(resource)
            if resource == "*":
                ok = set(s.actions) <= NO_RESOURCE_LEVEL_ACTIONS
                detail = s.reason if ok else f"{s.sid} grants {list(s.actions)} on '*'"
                status: Status = "met_otherwise" if ok else "finding"
            elif "*" in text:
                status, detail = "met_otherwise", f"scoped under one resource: {s.reason}"
            else:
                status, detail = "met", "one named resource"
            yield Verdict(
                rule="scoped-resources", subject=ROLE_POLICY_ID, status=status, detail=detail,
                target=resource,
            )  # fmt: skip


def http_auth(plan: ServicePlan) -> Iterator[Verdict]:
    h = plan.http
    if h is not None:
        yield _verdict(
            "http-auth", h.node_id, h.auth != "none", f"auth={h.auth}",
            "the endpoint is public (auth='none'): set HttpTrigger(auth='iam') or acknowledge "
            "it in the spec",
        )  # fmt: skip


def on_failure_destination(plan: ServicePlan) -> Iterator[Verdict]:
    rule = "on-failure-destination"
    yield _verdict(
        rule, FUNCTION_ID, plan.alias.async_on_failure is not None,
        "failed asynchronous invocations go to the on-failure destination of the alias' "
        "EventInvokeConfig (a Lambda destination supersedes a dead-letter queue)",
        "asynchronous invocations that fail are dropped", otherwise=True,
    )  # fmt: skip
    for m in plan.stream_mappings:
        yield _verdict(rule, m.node_id, True, "the mapping's on-failure destination", "")
    for r in plan.s3_rules:
        yield _verdict(
            rule, r.node_id, plan.alias.async_on_failure is not None,
            "EventBridge invokes the alias asynchronously: Lambda retries and keeps failed "
            "events on the alias' on-failure destination",
            "failed events are dropped", otherwise=True,
        )  # fmt: skip
    for q in plan.queues:
        yield _verdict(rule, q.node_id, False, "", "the queue has no dead-letter queue")
    if plan.warmer is not None:
        yield _verdict(rule, WARMER_ID, False, "", "the warm-up rule has no dead-letter queue")
    if plan.monitoring.subscriptions:
        yield _verdict(rule, ALARM_TOPIC_ID, False, "", "subscriptions have no redrive policy")


def retention(plan: ServicePlan) -> Iterator[Verdict]:
    rule = "retention"
    for n in plan.resources:
        if isinstance(n, TablePlan):
            ok = n.retain_on_delete and n.point_in_time_recovery
            yield _verdict(
                rule, n.node_id, ok, "retained on delete, point-in-time recovery",
                "the table is deleted with the stack or has no point-in-time recovery",
            )  # fmt: skip
        elif isinstance(n, KinesisStreamPlan | QueuePlan | BucketPlan):
            yield _verdict(
                rule, n.node_id, n.retain_on_delete, "retained on delete",
                "deleted with the stack, and what it holds with it",
            )  # fmt: skip


def log_retention(plan: ServicePlan) -> Iterator[Verdict]:
    rule = "log-retention"
    days = plan.function.log_retention_days
    yield _verdict(rule, LOG_GROUP_ID, days > 0, f"{days} days", "logs kept forever")
    h: HttpPlan | None = plan.http
    if h is not None and h.access_log_group_name is not None:
        d = h.access_log_retention_days
        yield _verdict(rule, h.node_id, d > 0, f"{d} days", "access logs kept forever")


def latest_runtime(plan: ServicePlan) -> Iterator[Verdict]:
    f = plan.function
    yield _verdict(
        "latest-runtime", FUNCTION_ID, f.runtime == f.latest_runtime, f.runtime,
        f"{f.runtime}, not the latest {f.latest_runtime}",
    )  # fmt: skip


def network_isolation(plan: ServicePlan) -> Iterator[Verdict]:
    managed = plan.managed_instances
    if managed is None:
        yield _verdict("network-isolation", FUNCTION_ID, False, "", "the function has no VPC")
        return
    (node,) = plan.capacity_providers or (None,)
    where = (
        f"in subnets {', '.join(node.subnet_ids)} behind security groups "
        f"{', '.join(node.security_group_ids)}"
        if node is not None
        else "in the existing capacity provider's subnets and security groups"
    )
    yield _verdict(
        "network-isolation", FUNCTION_ID, True,
        f"Lambda Managed Instances: the function runs on the capacity provider's EC2 instances "
        f"{where} (the VPC is the capacity provider's, not the function's VpcConfig)", "",
        otherwise=True,
    )  # fmt: skip


def concurrency_limit(plan: ServicePlan) -> Iterator[Verdict]:
    managed = plan.managed_instances
    if managed is not None:
        (node,) = plan.capacity_providers or (None,)
        if managed.max_environments is not None:
            cap = f"at most {managed.max_environments} execution environments (max_environments)"
        elif node is not None:
            cap = f"the capacity provider's {node.max_vcpu_count} vCPUs (max_vcpu)"
        else:
            cap = "the existing capacity provider's MaxVCpuCount"
        yield _verdict(
            "concurrency-limit", FUNCTION_ID, True,
            f"Lambda Managed Instances: concurrency is environments x requests per environment, "
            f"capped by {cap}", "", otherwise=True,
        )  # fmt: skip
        return
    r = plan.function.reserved_concurrency
    yield _verdict(
        "concurrency-limit", FUNCTION_ID, r is not None, f"{r} reserved",
        "no reserved concurrency: the function may use the account's whole pool",
    )  # fmt: skip


def access_logging(plan: ServicePlan) -> Iterator[Verdict]:
    rule = "access-logging"
    for b in plan.buckets:
        yield _verdict(rule, b.node_id, False, "", "the bucket has no server access logs")
    h = plan.http
    if h is not None and h.endpoint == "http_api":
        yield _verdict(
            rule, h.node_id, h.access_log_group_name is not None, "stage access logs",
            "the stage has no access logs",
        )  # fmt: skip


def managed_policies(plan: ServicePlan) -> Iterator[Verdict]:
    """Roles the plan creates carry the plan's own statements; an AWS managed policy is a
    finding (the Managed Instances operator role's is accepted where it is decided)."""
    for n in plan.capacity_providers:
        for arn in n.operator_managed_policies:
            yield Verdict(
                rule="managed-policies", subject=n.node_id, status="finding",
                detail=f"the operator role {n.operator_role_name} attaches an AWS managed policy",
                target=arn,
            )  # fmt: skip


RULES: dict[str, Callable[[ServicePlan], Iterator[Verdict]]] = {
    "encryption-at-rest": encryption_at_rest,
    "customer-managed-keys": customer_managed_keys,
    "tls-only": tls_only,
    "no-wildcard-actions": no_wildcard_actions,
    "scoped-resources": scoped_resources,
    "http-auth": http_auth,
    "on-failure-destination": on_failure_destination,
    "retention": retention,
    "log-retention": log_retention,
    "latest-runtime": latest_runtime,
    "network-isolation": network_isolation,
    "concurrency-limit": concurrency_limit,
    "access-logging": access_logging,
    "managed-policies": managed_policies,
}
