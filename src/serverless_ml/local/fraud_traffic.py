"""Traffic for the fraud function: generated transactions as HTTP API requests and as DynamoDB
stream batches read from a real (moto) table's stream, with poison mixed in on purpose.

Stream poison, one of each, placed evenly among the transactions:

- an unknown merchant category (a producer on a newer schema), written to the table as is;
- a NaN amount: DynamoDB refuses NaN numbers, so a producer that has one writes the string "NaN";
- a malformed image: a valid item whose delivered record is corrupted (an attribute with two
  type keys), which no DynamoDB table can hold but a handler must still survive.

HTTP poison: a NaN literal in the JSON, an unknown category, a truncated body.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from serverless_ml.local.events import (
    as_lambda_record,
    http_event,
    sequence_number,
    stream_batches,
    stream_records,
    to_item,
)
from serverless_ml.local.tables import write_items

UNKNOWN_CATEGORY: Final = "teleportation"
STREAM_POISON: Final = ("unknown merchant category", "NaN amount", "malformed image")
HTTP_POISON: Final = ("NaN literal in the JSON body", "unknown merchant category", "truncated JSON")


@dataclass(frozen=True, kw_only=True)
class StreamTraffic:
    """Lambda-shaped stream batches and which records in them are poison."""

    batches: list[dict[str, Any]]
    batch_size: int
    poison: dict[str, str]  # sequence number -> what is wrong with the record

    @property
    def records(self) -> int:
        return sum(len(batch["Records"]) for batch in self.batches)

    def poison_in(self, index: int) -> set[str]:
        """Sequence numbers of the poison records in batch ``index``."""
        return {
            sequence_number(record)
            for record in self.batches[index]["Records"]
            if sequence_number(record) in self.poison
        }


def http_events(transactions: Sequence[Mapping[str, object]]) -> list[dict[str, Any]]:
    """One HTTP API 2.0 ``POST /score`` request per transaction."""
    return [http_event(json.dumps(txn)) for txn in transactions]


def http_poison_events(template: Mapping[str, object]) -> list[dict[str, Any]]:
    """The ``HTTP_POISON`` requests, in order, built from a valid transaction."""
    nan_amount = json.dumps({**template, "amount": float("nan")})  # json writes the NaN literal
    unknown = json.dumps({**template, "merchant_category": UNKNOWN_CATEGORY})
    truncated = json.dumps(template)[:-7]
    return [http_event(body) for body in (nan_amount, unknown, truncated)]


def _poison_items(template: Mapping[str, object]) -> dict[str, dict[str, Any]]:
    """``STREAM_POISON`` description -> the item its producer writes."""
    unknown = to_item({**template, "merchant_category": UNKNOWN_CATEGORY})
    unknown["transaction_id"] = {"S": "poison-unknown-category"}
    nan_amount = to_item(template)
    nan_amount["transaction_id"] = {"S": "poison-nan-amount"}
    nan_amount["amount"] = {"S": "NaN"}
    malformed = to_item(template)
    malformed["transaction_id"] = {"S": "poison-malformed-image"}
    return dict(zip(STREAM_POISON, (unknown, nan_amount, malformed), strict=True))


def _corrupt(record: dict[str, Any]) -> None:
    """Make the record's NewImage invalid DynamoDB JSON (two type keys on one attribute)."""
    record["dynamodb"]["NewImage"]["amount"] = {"N": "12.5", "S": "12.5"}


def stream_traffic(
    dynamodb: Any,
    streams: Any,
    *,
    table: str,
    stream_arn: str,
    transactions: Sequence[Mapping[str, object]],
    batch_size: int,
) -> StreamTraffic:
    """Write ``transactions`` (poison spread among them) to ``table``, read its stream back as
    Lambda delivers it, and cut it into batches of ``batch_size``.

    ``dynamodb`` and ``streams`` are boto3 clients of the same (local) AWS.
    """
    if not transactions:
        raise ValueError("stream traffic needs at least one transaction")
    poison = _poison_items(transactions[0])
    items: list[dict[str, Any]] = [to_item(txn) for txn in transactions]
    by_key: dict[str, str] = {}
    for offset, (description, item) in enumerate(poison.items()):
        position = (offset + 1) * len(items) // (len(poison) + 1) + offset
        items.insert(position, item)
        by_key[item["transaction_id"]["S"]] = description
    write_items(dynamodb, table, items)
    records = [
        as_lambda_record(record, stream_arn) for record in stream_records(streams, stream_arn)
    ]
    if len(records) != len(items):
        raise RuntimeError(f"{table}: wrote {len(items)} items, its stream holds {len(records)}")
    poisoned: dict[str, str] = {}
    for record in records:
        key = record["dynamodb"]["Keys"]["transaction_id"]["S"]
        if key in by_key:
            poisoned[sequence_number(record)] = by_key[key]
            if by_key[key] == "malformed image":
                _corrupt(record)
    return StreamTraffic(
        batches=stream_batches(records, batch_size), batch_size=batch_size, poison=poisoned
    )
