"""Log groups with an explicit name and retention in days."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from constructs import Construct


def log_group(scope: Construct, id: str, *, name: str | None, retention_days: int) -> logs.LogGroup:
    """CDK's ``RetentionDays`` enum names periods (``ONE_MONTH``) while the plan counts days,
    so the count is set on the L1 directly. Logs go with the stack (``DESTROY``)."""
    group = logs.LogGroup(
        scope,
        id,
        log_group_name=name,
        retention=logs.RetentionDays.INFINITE,
        removal_policy=RemovalPolicy.DESTROY,
    )
    cfn = group.node.default_child
    assert isinstance(cfn, logs.CfnLogGroup)
    cfn.retention_in_days = retention_days
    return group
