"""Least-privilege IAM statements of the function core; each part's module adds its own."""

from __future__ import annotations

from serverless_ml.core.plan_types import IamStatement, log_group_ref


def core_statements(*, tracing: bool) -> tuple[IamStatement, ...]:
    """What every function needs: its own log group, and X-Ray when traced."""
    statements = [
        IamStatement(
            sid="WriteOwnLogs",
            actions=("logs:CreateLogStream", "logs:PutLogEvents"),
            resources=(log_group_ref(":*"),),
            reason="write log events to the function's own log group",
        )
    ]
    if tracing:
        statements.append(
            IamStatement(
                sid="XRayTracing",
                actions=("xray:PutTraceSegments", "xray:PutTelemetryRecords"),
                resources=("*",),
                reason="X-Ray trace segments have no resource-level permissions",
            )
        )
    return tuple(statements)


def sid(prefix: str, key: str) -> str:
    """A Sid for a part's statement: ``sid("ReadStream", "my-table") == "ReadStreamMyTable"``."""
    return prefix + "".join(part.capitalize() for part in key.replace("-", "_").split("_"))
