"""The classes of input that used to end in unhandled exceptions (issue #8), each fixed at its
root and pinned here by a minimal example; the fuzz tests explore around them."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest

from sml_handlers.fraud.features import TransactionError, feature_vector, parse_transaction
from sml_handlers.runtime.dynamodb import MAX_DEPTH, ImageError, from_dynamodb_image
from sml_handlers.runtime.fields import Invalid, as_utc
from tests.function_code.handler_events import sample_transactions


def _nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"S": "x"}
    for _ in range(levels):
        value = {"M": {"a": value}}
    return value


def test_a_mean_that_underflows_to_zero_gives_a_finite_ratio() -> None:
    txn = parse_transaction(
        {**sample_transactions(1, seed=1)[0], "amount_sum_24h": 5e-324, "txn_count_24h": 1000}
    )
    assert all(math.isfinite(x) for x in feature_vector(txn))
    big = parse_transaction(
        {**sample_transactions(1, seed=1)[0], "amount_sum_24h": 0.01, "txn_count_24h": 1000}
    )
    assert all(math.isfinite(x) for x in feature_vector(big))


@pytest.mark.parametrize("value", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+14:00"])
def test_an_offset_past_the_ends_of_datetime_is_an_invalid_field(value: str) -> None:
    with pytest.raises(TransactionError) as error:
        parse_transaction({**sample_transactions(1, seed=1)[0], "timestamp": value})
    assert set(error.value.errors) == {"timestamp"}
    with pytest.raises(Invalid):
        as_utc(datetime.fromisoformat(value), "a time", value)
    assert as_utc(datetime(2026, 1, 1, tzinfo=UTC), "a time", "x").year == 2026


@pytest.mark.parametrize("value", ["é", "ü29tZQ==", "\u2603AAA"])
def test_non_ascii_text_in_a_binary_attribute_is_an_image_error(value: str) -> None:
    with pytest.raises(ImageError, match="base64"):
        from_dynamodb_image({"blob": {"B": value}})


def test_nesting_deeper_than_dynamodb_allows_is_an_image_error() -> None:
    assert from_dynamodb_image({"a": _nested(MAX_DEPTH)})
    for levels in (MAX_DEPTH + 1, 5000):
        with pytest.raises(ImageError, match="nested deeper"):
            from_dynamodb_image({"a": _nested(levels)})
