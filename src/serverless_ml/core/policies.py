"""Resource policies as plan data, and the one JSON form both renderers feed their engine.

CDK reads the document through ``iam.PolicyStatement.from_json``; Pulumi serializes it with
every deploy-time value resolved. Neither writes a statement of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from serverless_ml.core.plan_types import (
    ACCOUNT_ID,
    PARTITION,
    IamStatement,
    Joined,
    PolicyStatementPlan,
    Principal,
    Ref,
    Value,
)

VERSION = "2012-10-17"
_INSECURE = ("Bool", "aws:SecureTransport", "false")


def deny_insecure_sqs(queue_arn: Value) -> PolicyStatementPlan:
    """Every SQS action on the queue over plain HTTP is denied (CDK's ``enforceSSL`` form)."""
    return PolicyStatementPlan(
        sid=None,
        effect="Deny",
        principal=Principal(kind="AWS", values=("*",)),
        actions=("sqs:*",),
        resources=(queue_arn,),
        conditions=(_INSECURE,),
    )


def deny_insecure_publish(topic_arn: Value) -> PolicyStatementPlan:
    """Publishing to the topic over plain HTTP is denied (CDK's ``enforceSSL`` form)."""
    return PolicyStatementPlan(
        sid="AllowPublishThroughSSLOnly",
        effect="Deny",
        principal=Principal(kind="*"),
        actions=("sns:Publish",),
        resources=(topic_arn,),
        conditions=(_INSECURE,),
    )


def deny_insecure_s3(bucket_arn: Value) -> tuple[PolicyStatementPlan, ...]:
    """Every S3 action on the bucket and its objects over plain HTTP is denied (CDK's
    ``enforceSSL`` form)."""
    if isinstance(bucket_arn, Joined):
        objects: Value = bucket_arn + "/*"
    elif isinstance(bucket_arn, Ref):
        objects = Ref(bucket_arn.resource, bucket_arn.attribute, bucket_arn.suffix + "/*")
    else:
        objects = f"{bucket_arn}/*"
    return (
        PolicyStatementPlan(
            sid=None,
            effect="Deny",
            principal=Principal(kind="AWS", values=("*",)),
            actions=("s3:*",),
            resources=(bucket_arn, objects),
            conditions=(_INSECURE,),
        ),
    )


def allow_alarms_to_publish(topic_arn: Value) -> PolicyStatementPlan:
    """This account's CloudWatch alarms may publish. A topic policy replaces SNS's default one
    (which lets the owning account publish), and alarm actions need a resource-based Allow:
    without it every notification fails with "no resource-based policy allows SNS:Publish"."""
    return PolicyStatementPlan(
        sid="AllowAlarmsOfThisAccount",
        effect="Allow",
        principal=Principal(kind="Service", values=("cloudwatch.amazonaws.com",)),
        actions=("sns:Publish",),
        resources=(topic_arn,),
        conditions=(("StringEquals", "aws:SourceAccount", ACCOUNT_ID),),
    )


def key_administered_by_account() -> PolicyStatementPlan:
    """KMS' default key-policy statement: IAM policies of this account may use and
    administer the key (without it the key is unmanageable)."""
    root = Joined(("arn:", PARTITION, ":iam::", ACCOUNT_ID, ":root"))
    return PolicyStatementPlan(
        sid="AccountAdministersKey",
        effect="Allow",
        principal=Principal(kind="AWS", values=(root,)),
        actions=("kms:*",),
        resources=("*",),  # in a key policy, "*" is this key
    )


def allow_alarms_to_use_key(topic_arn: Value) -> PolicyStatementPlan:
    """This account's CloudWatch alarms may encrypt for (and decrypt) the alarm topic, and
    only for it: SNS passes the topic's ARN as the encryption context."""
    return PolicyStatementPlan(
        sid="AllowAlarmsOfThisAccount",
        effect="Allow",
        principal=Principal(kind="Service", values=("cloudwatch.amazonaws.com",)),
        actions=("kms:Decrypt", "kms:GenerateDataKey"),
        resources=("*",),
        conditions=(
            ("StringEquals", "aws:SourceAccount", ACCOUNT_ID),
            ("StringEquals", "kms:EncryptionContext:aws:sns:topicArn", topic_arn),
        ),
    )


def principal_json(principal: Principal, resolve: Callable[[Value], Any] = str) -> Any:
    if principal.kind == "*":
        return "*"
    values = [resolve(v) for v in principal.values]
    return {principal.kind: values[0] if len(values) == 1 else values}


def statement_json(statement: PolicyStatementPlan, resolve: Callable[[Value], Any]) -> Any:
    """One resource-policy statement; ``resolve`` turns plan values into the engine's own."""
    out: dict[str, Any] = {
        "Effect": statement.effect,
        "Principal": principal_json(statement.principal, resolve),
        "Action": list(statement.actions),
        "Resource": [resolve(r) for r in statement.resources],
    }
    if statement.sid is not None:
        out["Sid"] = statement.sid
    conditions: dict[str, dict[str, Any]] = {}
    for operator, key, value in statement.conditions:
        conditions.setdefault(operator, {})[key] = resolve(value)
    if conditions:
        out["Condition"] = conditions
    return out


def resource_policy_json(
    statements: tuple[PolicyStatementPlan, ...], resolve: Callable[[Value], Any]
) -> dict[str, Any]:
    return {"Version": VERSION, "Statement": [statement_json(s, resolve) for s in statements]}


def role_policy_json(
    statements: tuple[IamStatement, ...], resolve: Callable[[Value], Any]
) -> dict[str, Any]:
    """The function role's identity policy: the plan's statements one-to-one."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": s.sid,
                "Effect": "Allow",
                "Action": list(s.actions),
                "Resource": [resolve(r) for r in s.resources],
            }
            for s in statements
        ],
    }


def trust_policy_json(principals: tuple[str, ...]) -> dict[str, Any]:
    """Who may assume the function's role: the plan's service principals, nothing else."""
    statement = {
        "Effect": "Allow",
        "Principal": principal_json(Principal(kind="Service", values=principals)),
        "Action": "sts:AssumeRole",
    }
    return {"Version": VERSION, "Statement": [statement]}
