"""A plan's DynamoDB tables, created for real in a local AWS (moto), and what the runner needs
from them: batched writes and full scans."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

from serverless_ml.core.plan_types import ServicePlan, TablePlan

BATCH_WRITE_MAX: Final = 25  # BatchWriteItem's limit per request
BATCH_WRITE_ROUNDS: Final = 10  # retries of UnprocessedItems before giving up


def create_table(client: Any, table: TablePlan) -> str | None:
    """Create ``table`` as planned (key, billing, stream view); return its stream ARN, if any."""
    request: dict[str, Any] = {
        "TableName": table.name,
        "KeySchema": [{"AttributeName": table.partition_key, "KeyType": "HASH"}],
        "AttributeDefinitions": [
            {"AttributeName": table.partition_key, "AttributeType": table.partition_key_type}
        ],
        "BillingMode": table.billing_mode,
    }
    if table.stream_view_type is not None:
        request["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": table.stream_view_type,
        }
    created = client.create_table(**request)["TableDescription"]
    arn: str | None = created.get("LatestStreamArn")
    return arn


def create_tables(client: Any, plan: ServicePlan) -> dict[str, str | None]:
    """Every table of ``plan``; table key -> stream ARN (None without a stream)."""
    return {table.key: create_table(client, table) for table in plan.tables}


def write_items(client: Any, table: str, items: Sequence[Mapping[str, Any]]) -> None:
    """PutItem every item, in order, through BatchWriteItem (25 per request)."""
    for start in range(0, len(items), BATCH_WRITE_MAX):
        pending: dict[str, Any] = {
            table: [
                {"PutRequest": {"Item": dict(item)}}
                for item in items[start : start + BATCH_WRITE_MAX]
            ]
        }
        for _ in range(BATCH_WRITE_ROUNDS):
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if not pending:
                break
        else:
            raise RuntimeError(f"{table}: BatchWriteItem left items unprocessed")


def scan(client: Any, table: str) -> Iterator[dict[str, Any]]:
    """Every item of ``table`` (paginated scan)."""
    for page in client.get_paginator("scan").paginate(TableName=table):
        yield from page["Items"]
