"""IAM and resource-policy documents, rendered as Pulumi Outputs of JSON text.

The role policy is the plan's statements one-to-one. The transport-security documents render
the plan's ``enforce_tls`` flag the way CDK's ``enforceSSL`` does (one Deny on
``aws:SecureTransport = false``).
"""

from __future__ import annotations

import json
from typing import Any

import pulumi

from serverless_ml.core.plan_types import IamStatement
from serverless_ml.pulumi.refs import RefResolver

VERSION = "2012-10-17"
_INSECURE = {"Bool": {"aws:SecureTransport": "false"}}


def lambda_trust_policy() -> str:
    """Who may assume the function's role: the Lambda service, nothing else."""
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }
    return json.dumps({"Version": VERSION, "Statement": [statement]}, sort_keys=True)


def role_policy(statements: tuple[IamStatement, ...], refs: RefResolver) -> pulumi.Output[str]:
    """The plan's statements as one document, every ``Ref`` resolved."""
    document = {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": s.sid,
                "Effect": "Allow",
                "Action": list(s.actions),
                "Resource": refs.resolve_all(s.resources),
            }
            for s in statements
        ],
    }
    return pulumi.Output.json_dumps(document, sort_keys=True)


def queue_tls_policy(queue_arn: pulumi.Input[str]) -> pulumi.Output[str]:
    """Deny every SQS action on the queue over plain HTTP."""
    return _document(
        [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": "sqs:*",
                "Resource": queue_arn,
                "Condition": _INSECURE,
            }
        ]
    )


def topic_tls_policy(topic_arn: pulumi.Input[str]) -> pulumi.Output[str]:
    """Deny publishing to the topic over plain HTTP."""
    return _document([_deny_insecure_publish(topic_arn)])


def _deny_insecure_publish(topic_arn: pulumi.Input[str]) -> dict[str, Any]:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "sns:Publish",
        "Resource": topic_arn,
        "Condition": _INSECURE,
    }


def alarm_topic_policy(
    topic_arn: pulumi.Input[str],
    account_id: pulumi.Input[str],
    *,
    enforce_tls: bool,
    allow_cloudwatch: bool,
) -> pulumi.Output[str]:
    """Deny publishing over plain HTTP, and let this account's CloudWatch alarms publish.

    A topic policy replaces SNS's default one (which lets the owning account publish), and
    CloudWatch alarm actions need a resource-based Allow: without the second statement every
    alarm notification fails with "no resource-based policy allows the SNS:Publish action".
    """
    deny = _deny_insecure_publish(topic_arn)
    allow = {
        "Sid": "AllowAlarmsOfThisAccount",
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": "sns:Publish",
        "Resource": topic_arn,
        "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
    }
    return _document([deny] * enforce_tls + [allow] * allow_cloudwatch)


def _document(statements: list[dict[str, Any]]) -> pulumi.Output[str]:
    return pulumi.Output.json_dumps({"Version": VERSION, "Statement": statements}, sort_keys=True)
