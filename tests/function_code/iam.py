"""moto with IAM enforced: an admin user sets the stage, the handler runs as a user granted
exactly a plan's runtime actions (moto checks actions; these services' resource ARNs it does
not evaluate, so resources are ``*`` here and scoping is compared by the parity tests)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest

from serverless_ml.core.plan_types import ServicePlan
from sml_handlers.runtime import aws

# The two users, their policies and keys are made before moto starts enforcing: decorate the
# test with ``moto.core.set_initial_no_auth_action_count(SETUP_ACTIONS)``.
SETUP_ACTIONS = 6
# What the function's own code calls (logs and X-Ray are written by Lambda; stream reads by
# the event source mapping; failure queues by Lambda's async / ESM destinations).
RUNTIME_SERVICES = ("dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "sns:", "s3:")


def runtime_actions(plan: ServicePlan) -> list[str]:
    return sorted({a for s in plan.iam for a in s.actions if a.startswith(RUNTIME_SERVICES)})


def _user(iam: Any, name: str, actions: list[str]) -> dict[str, str]:
    iam.create_user(UserName=name)
    document = {"Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}  # fmt: skip
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(document))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {
        "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
    }


@contextmanager
def enforced_iam(
    monkeypatch: pytest.MonkeyPatch, actions: list[str]
) -> Iterator[Callable[[], None]]:
    """Inside ``mock_aws``: switch to an admin user now; call the yielded function to become
    the function's user (the handler's cached clients are dropped)."""
    iam = boto3.client("iam")
    admin = _user(iam, "admin", ["*"])
    function = _user(iam, "function", actions)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    for name, value in admin.items():
        monkeypatch.setenv(name, value)
    boto3.DEFAULT_SESSION = None  # its cached credentials would be the fake ones

    def as_function() -> None:
        for name, value in function.items():
            monkeypatch.setenv(name, value)
        aws.reset_clients()

    try:
        yield as_function
    finally:
        aws.reset_clients()
        boto3.DEFAULT_SESSION = None
