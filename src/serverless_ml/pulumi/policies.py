"""IAM and resource-policy documents as Pulumi Outputs of JSON text: core's one JSON form
(``serverless_ml.core.policies``) with every plan value resolved to an Output."""

from __future__ import annotations

import json

import pulumi

from serverless_ml.core import policies
from serverless_ml.core.plan_types import IamStatement, PolicyStatementPlan
from serverless_ml.pulumi.refs import RefResolver


def trust_policy(principals: tuple[str, ...]) -> str:
    """Who may assume the function's role (the plan's service principals)."""
    return json.dumps(policies.trust_policy_json(principals), sort_keys=True)


def role_policy(statements: tuple[IamStatement, ...], refs: RefResolver) -> pulumi.Output[str]:
    """The plan's statements as one document, every ``Ref`` resolved."""
    return pulumi.Output.json_dumps(
        policies.role_policy_json(statements, refs.resolve), sort_keys=True
    )


def resource_policy(
    statements: tuple[PolicyStatementPlan, ...], refs: RefResolver
) -> pulumi.Output[str]:
    """A queue's or topic's resource policy, from the plan's statements."""
    return pulumi.Output.json_dumps(
        policies.resource_policy_json(statements, refs.resolve), sort_keys=True
    )
