"""What the local runner reads back from a DynamoDB table: every item."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def scan(client: Any, table: str) -> Iterator[dict[str, Any]]:
    """Every item of ``table`` (paginated scan; ``client``: a boto3 ``dynamodb`` client)."""
    for page in client.get_paginator("scan").paginate(TableName=table):
        yield from page["Items"]
