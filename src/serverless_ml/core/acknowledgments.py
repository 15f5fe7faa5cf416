"""The reasons the library accepts gate findings, shared by the parts that accept them.

Each part's module acknowledges its own findings (``aws_managed_key(table)`` next to the
table it creates); the texts live here so that one decision reads the same everywhere.
"""

from __future__ import annotations

from serverless_ml.core.defaults import RUNTIME_NOT_LATEST_REASON
from serverless_ml.core.plan_types import FUNCTION_ID, LOG_GROUP_ID, Acknowledgment, Node
from serverless_ml.spec.acknowledgments import Acknowledge

AWS_MANAGED_KEY = (
    "encrypted at rest with the service's AWS-managed key: only IAM principals of this "
    "account reach the data, and the role policies already scope who does; a "
    "customer-managed key would add a key policy, $1 a month and a KMS call per request"
)
NO_VPC = (
    "the function calls only AWS APIs, over TLS and signed with its role: a VPC would add "
    "ENI setup to cold starts and NAT or endpoint costs without narrowing access"
)
OPERATOR_MANAGED_POLICY = (
    "AWS documents AWSLambdaManagedEC2ResourceOperator as the minimum permissions of a Managed "
    "Instances operator role and keeps it current as the feature changes; its EC2 writes are "
    "conditioned on ec2:ManagedResourceOperator = scaler.lambda.amazonaws.com, so only "
    "Lambda's scaler launches or tags instances with it; an inline copy would fall behind"
)
NO_RESERVATION = (
    "no reservation unless the spec sets reserved_concurrency: a reservation caps "
    "throughput and takes from the account's unreserved pool (new accounts have 10)"
)


def acknowledge(rule: str, subject: str, reason: str) -> Acknowledgment:
    return Acknowledgment(rule=rule, subject=subject, reason=reason)


def aws_managed_key(*nodes: Node) -> tuple[Acknowledgment, ...]:
    return tuple(acknowledge("customer-managed-keys", n.node_id, AWS_MANAGED_KEY) for n in nodes)


def function_core_acknowledgments(
    *,
    runtime: str,
    latest_runtime: str,
    reserved_concurrency: int | None,
    managed_instances: bool = False,
) -> tuple[Acknowledgment, ...]:
    """The function core's accepted findings. On Managed Instances the function runs in the
    capacity provider's VPC and its concurrency is capped by the provider (the gate finds
    both concerns met otherwise), so neither is acknowledged."""
    acks = [
        acknowledge("customer-managed-keys", LOG_GROUP_ID, AWS_MANAGED_KEY),
        acknowledge(
            "customer-managed-keys",
            FUNCTION_ID,
            "the environment holds names, ARNs and settings, never secrets; " + AWS_MANAGED_KEY,
        ),
    ]
    if not managed_instances:
        acks.append(acknowledge("network-isolation", FUNCTION_ID, NO_VPC))
    if reserved_concurrency is None and not managed_instances:
        acks.append(acknowledge("concurrency-limit", FUNCTION_ID, NO_RESERVATION))
    if runtime != latest_runtime:
        acks.append(acknowledge("latest-runtime", FUNCTION_ID, RUNTIME_NOT_LATEST_REASON))
    return tuple(acks)


def from_spec(acks: tuple[Acknowledge, ...]) -> tuple[Acknowledgment, ...]:
    """The user's acknowledgments: their subject is the part key (or ``function``)."""
    return tuple(acknowledge(a.rule, a.part, a.reason) for a in acks)
