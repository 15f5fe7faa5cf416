"""DynamoDB tables the stack creates (a stream trigger's source, a results table)."""

from __future__ import annotations

from serverless_ml.core import naming
from serverless_ml.core.plan_types import TablePlan


def table_plan(
    service: str, *, key: str, partition_key: str, sort_key: str | None, stream: bool
) -> TablePlan:
    """On-demand billing, point-in-time recovery, deletion protection: data outlives stacks."""
    return TablePlan(
        key=key,
        name=naming.table_name(service, key),
        partition_key=partition_key,
        partition_key_type="S",
        sort_key=sort_key,
        sort_key_type="S" if sort_key else None,
        stream_view_type="NEW_IMAGE" if stream else None,
        billing_mode="PAY_PER_REQUEST",
        point_in_time_recovery=True,
        deletion_protection=True,
        encrypted=True,
        retain_on_delete=True,
    )
