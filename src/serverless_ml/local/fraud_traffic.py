"""Poison for the fraud function: what a producer on a newer schema or with a bad number
writes to the transactions table (and so its stream), one item per kind:

- an unknown merchant category (a producer on a newer schema), written to the table as is;
- a NaN amount: DynamoDB refuses NaN numbers, so a producer that has one writes the string "NaN".

The HTTP poison (a NaN literal in the JSON, an unknown category, a truncated body) is built by
the local fraud service from a valid transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from serverless_ml.local.events import to_item

UNKNOWN_CATEGORY: Final = "teleportation"
STREAM_POISON: Final = ("unknown merchant category", "NaN amount")


def poison_items(template: Mapping[str, object]) -> dict[str, dict[str, Any]]:
    """``STREAM_POISON`` description -> the item its producer writes."""
    unknown = to_item({**template, "merchant_category": UNKNOWN_CATEGORY})
    unknown["transaction_id"] = {"S": "poison-unknown-category"}
    nan_amount = to_item(template)
    nan_amount["transaction_id"] = {"S": "poison-nan-amount"}
    nan_amount["amount"] = {"S": "NaN"}
    return dict(zip(STREAM_POISON, (unknown, nan_amount), strict=True))
