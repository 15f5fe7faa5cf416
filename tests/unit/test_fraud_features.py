"""Transaction validation and the fraud model's feature vector (sml_handlers.fraud.features)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sml_handlers.fraud.features import (
    FEATURE_NAMES,
    MERCHANT_CATEGORIES,
    NON_OBJECT_KEY,
    Transaction,
    TransactionError,
    decide,
    feature_vector,
    parse_transaction,
)

FIELDS = (
    "transaction_id",
    "amount",
    "merchant_category",
    "timestamp",
    "card_present",
    "distance_from_home_km",
    "txn_count_1h",
    "txn_count_24h",
    "amount_sum_24h",
    "account_age_days",
)
FLOAT_FIELDS = ("amount", "distance_from_home_km", "amount_sum_24h")
INT_FIELDS = ("txn_count_1h", "txn_count_24h", "account_age_days")


def valid(**overrides: Any) -> dict[str, Any]:
    txn: dict[str, Any] = {
        "transaction_id": "t-1",
        "amount": 120.5,
        "merchant_category": "electronics",
        "timestamp": "2024-05-01T03:15:00Z",
        "card_present": False,
        "distance_from_home_km": 12.5,
        "txn_count_1h": 2,
        "txn_count_24h": 4,
        "amount_sum_24h": 200.0,
        "account_age_days": 400,
    }
    txn.update(overrides)
    return txn


def errors_of(obj: object) -> dict[str, str]:
    with pytest.raises(TransactionError) as caught:
        parse_transaction(obj)
    assert all(isinstance(m, str) and m for m in caught.value.errors.values())
    return caught.value.errors


def features_of(**overrides: Any) -> dict[str, float]:
    return dict(
        zip(FEATURE_NAMES, feature_vector(parse_transaction(valid(**overrides))), strict=True)
    )


# --- valid input ---------------------------------------------------------------------------------


def test_parses_a_valid_transaction_and_ignores_extra_fields() -> None:
    txn = parse_transaction(valid(note="ignored", merchant_name="Shop"))
    assert txn == Transaction(
        transaction_id="t-1",
        amount=120.5,
        merchant_category="electronics",
        timestamp=datetime(2024, 5, 1, 3, 15, tzinfo=UTC),
        card_present=False,
        distance_from_home_km=12.5,
        txn_count_1h=2,
        txn_count_24h=4,
        amount_sum_24h=200.0,
        account_age_days=400,
    )
    assert not hasattr(txn, "note")


def test_values_are_normalised() -> None:
    txn = parse_transaction(valid(amount=7, txn_count_1h=3.0, account_age_days=0, amount_sum_24h=0))
    assert isinstance(txn.amount, float) and txn.amount == 7.0
    assert isinstance(txn.txn_count_1h, int) and txn.txn_count_1h == 3
    assert txn.account_age_days == 0 and txn.amount_sum_24h == 0.0


def test_boundary_values_are_accepted() -> None:
    txn = parse_transaction(
        valid(
            amount=1_000_000,
            distance_from_home_km=20_038,
            transaction_id="x" * 128,
            account_age_days=36_500,
            txn_count_24h=100_000,
        )
    )
    assert txn.amount == 1_000_000.0 and len(txn.transaction_id) == 128
    assert parse_transaction(valid(amount=0.01, distance_from_home_km=0)).amount == 0.01


@pytest.mark.parametrize(
    "timestamp",
    [
        "2024-05-01T03:15:00Z",
        "2024-05-01T03:15:00+00:00",
        "2024-05-01T05:15:00+02:00",
        "2024-04-30T22:15:00-05:00",
        "2024-05-01T03:15:00.000Z",
        1714533300,
        1714533300.0,
    ],
)
def test_iso_and_epoch_timestamps_give_the_same_utc_moment(timestamp: object) -> None:
    txn = parse_transaction(valid(timestamp=timestamp))
    assert txn.timestamp == datetime(2024, 5, 1, 3, 15, tzinfo=UTC)
    assert txn.timestamp.utcoffset() == timedelta(0)
    assert features_of(timestamp=timestamp)["hour_utc"] == 3.0


def test_hour_feature_is_utc_not_local() -> None:
    # 23:30 at UTC-02:00 is 01:30 UTC the next day: night in UTC.
    features = features_of(timestamp="2024-05-01T23:30:00-02:00")
    assert features["hour_utc"] == 1.0
    assert features["is_night_utc"] == 1.0


def test_transaction_constructed_directly_is_validated_and_normalised() -> None:
    plus_two = timezone(timedelta(hours=2))
    txn = Transaction(
        transaction_id="a",
        amount=3,
        merchant_category="fuel",
        timestamp=datetime(2024, 1, 1, 2, 0, tzinfo=plus_two),
        card_present=True,
        distance_from_home_km=0,
        txn_count_1h=0,
        txn_count_24h=0,
        amount_sum_24h=0,
        account_age_days=1,
    )
    assert txn.timestamp == datetime(2024, 1, 1, 0, 0, tzinfo=UTC)
    assert txn.timestamp.tzinfo == UTC
    with pytest.raises(TransactionError) as caught:
        Transaction(
            transaction_id="",
            amount=-1.0,
            merchant_category="fuel",
            timestamp=datetime(2024, 1, 1),  # naive
            card_present=True,
            distance_from_home_km=0.0,
            txn_count_1h=0,
            txn_count_24h=0,
            amount_sum_24h=0.0,
            account_age_days=1,
        )
    assert set(caught.value.errors) == {"transaction_id", "amount", "timestamp"}


# --- invalid input -------------------------------------------------------------------------------


@pytest.mark.parametrize("obj", [None, [], [valid()], "text", 3, 2.5, True])
def test_non_object_input(obj: object) -> None:
    errors = errors_of(obj)
    assert list(errors) == [NON_OBJECT_KEY]
    assert "JSON object" in errors[NON_OBJECT_KEY]


def test_every_missing_field_is_reported_at_once_in_field_order() -> None:
    errors = errors_of({})
    assert list(errors) == list(FIELDS)
    assert all(message.startswith("is required") for message in errors.values())
    assert "one of grocery" in errors["merchant_category"]
    assert "true or false" in errors["card_present"]


@pytest.mark.parametrize("field", FIELDS)
def test_one_missing_field(field: str) -> None:
    txn = valid()
    del txn[field]
    assert list(errors_of(txn)) == [field]


def test_all_field_errors_are_collected() -> None:
    errors = errors_of(
        valid(amount=-5, merchant_category="casino", card_present="yes", txn_count_1h=-1)
    )
    assert set(errors) == {"amount", "merchant_category", "card_present", "txn_count_1h"}


@pytest.mark.parametrize("field", FLOAT_FIELDS + INT_FIELDS)
@pytest.mark.parametrize("flag", [True, False])
def test_booleans_are_not_numbers(field: str, flag: bool) -> None:
    errors = errors_of(valid(**{field: flag}))
    assert list(errors) == [field]
    assert ("true" if flag else "false") in errors[field]


@pytest.mark.parametrize("number", [1, 0, 1.0])
def test_numbers_are_not_booleans(number: object) -> None:
    errors = errors_of(valid(card_present=number))
    assert list(errors) == ["card_present"]
    assert "true or false" in errors["card_present"]


@pytest.mark.parametrize("field", [*FLOAT_FIELDS, *INT_FIELDS, "timestamp"])
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_nan_and_infinities_are_refused(field: str, value: float) -> None:
    errors = errors_of(valid(**{field: value}))
    assert list(errors) == [field]
    assert "finite" in errors[field]


@pytest.mark.parametrize("field", [*FLOAT_FIELDS, *INT_FIELDS])
@pytest.mark.parametrize("value", ["12", None, [1], {"n": 1}])
def test_numbers_must_be_json_numbers(field: str, value: object) -> None:
    assert list(errors_of(valid(**{field: value}))) == [field]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount", 0),
        ("amount", -0.01),
        ("amount", 1_000_000.01),
        ("distance_from_home_km", -0.1),
        ("distance_from_home_km", 20_039),
        ("amount_sum_24h", -1),
        ("amount_sum_24h", 1e9),
        ("txn_count_1h", -1),
        ("txn_count_24h", 100_001),
        ("account_age_days", 36_501),
        ("account_age_days", -3),
    ],
)
def test_out_of_range_numbers(field: str, value: float) -> None:
    errors = errors_of(valid(**{field: value}))
    assert list(errors) == [field]
    assert repr(value) in errors[field] or str(value) in errors[field]


@pytest.mark.parametrize("field", INT_FIELDS)
def test_whole_number_fields_refuse_fractions(field: str) -> None:
    errors = errors_of(valid(**{field: 2.5}))
    assert "whole number" in errors[field]


@pytest.mark.parametrize("field", [*FLOAT_FIELDS, *INT_FIELDS, "timestamp"])
def test_numbers_too_large_for_a_float(field: str) -> None:
    assert list(errors_of(valid(**{field: 10**400}))) == [field]


@pytest.mark.parametrize("value", ["", "x" * 129, 17, None, True])
def test_transaction_id(value: object) -> None:
    errors = errors_of(valid(transaction_id=value))
    assert "1 to 128 characters" in errors["transaction_id"]


@pytest.mark.parametrize("value", ["casino", "Grocery", " grocery", "", 3, None, ["grocery"]])
def test_unknown_merchant_category(value: object) -> None:
    errors = errors_of(valid(merchant_category=value))
    assert list(errors) == ["merchant_category"]
    assert all(name in errors["merchant_category"] for name in MERCHANT_CATEGORIES)


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        ("2024-05-01T03:15:00", "no UTC offset"),
        ("2024-05-01", "no UTC offset"),
        ("yesterday", "ISO-8601"),
        ("", "ISO-8601"),
        ("2024-13-01T00:00:00Z", "ISO-8601"),
        ("1999-12-31T23:59:59Z", "2000-01-01"),
        ("2100-01-01T00:00:00Z", "2100-01-01"),
        (1714533300000, "milliseconds"),
        (-1, "2000-01-01"),
        (946684799, "2000-01-01"),
        (True, "true"),
        (None, "null"),
        ([2024], "list"),
    ],
)
def test_bad_timestamps(value: object, hint: str) -> None:
    errors = errors_of(valid(timestamp=value))
    assert list(errors) == ["timestamp"]
    assert hint in errors["timestamp"]


def test_error_is_a_value_error_that_summarises_every_field() -> None:
    with pytest.raises(ValueError, match="invalid transaction") as caught:
        parse_transaction(valid(amount=-1, card_present=None))
    assert isinstance(caught.value, TransactionError)
    text = str(caught.value)
    assert "2 field(s)" in text and "amount:" in text and "card_present:" in text


def test_long_strings_are_truncated_in_messages() -> None:
    errors = errors_of(valid(merchant_category="z" * 5000))
    assert len(errors["merchant_category"]) < 400


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=len(FIELDS))
    | st.fixed_dictionaries({name: json_values for name in FIELDS})
    | json_values
)
def test_any_json_input_either_parses_or_raises_transaction_error(obj: object) -> None:
    try:
        txn = parse_transaction(obj)
    except TransactionError as error:
        assert error.errors
        assert set(error.errors) <= {*FIELDS, NON_OBJECT_KEY}
    else:
        row = feature_vector(txn)
        assert len(row) == len(FEATURE_NAMES) and all(math.isfinite(v) for v in row)


# --- features ------------------------------------------------------------------------------------


def test_feature_names_are_unique_and_match_the_vector() -> None:
    assert len(set(FEATURE_NAMES)) == len(FEATURE_NAMES)
    assert FEATURE_NAMES[-len(MERCHANT_CATEGORIES) :] == tuple(
        f"category_{name}" for name in MERCHANT_CATEGORIES
    )
    row = feature_vector(parse_transaction(valid()))
    assert len(row) == len(FEATURE_NAMES)
    assert all(isinstance(value, float) for value in row)


def test_feature_values_by_name() -> None:
    features = features_of()
    assert features["log_amount"] == pytest.approx(math.log1p(120.5))
    assert features["hour_utc"] == 3.0
    assert features["is_night_utc"] == 1.0
    assert features["card_present"] == 0.0
    assert features["log_distance_from_home_km"] == pytest.approx(math.log1p(12.5))
    assert features["txn_count_1h"] == 2.0
    assert features["txn_count_24h"] == 4.0
    assert features["log_amount_sum_24h"] == pytest.approx(math.log1p(200.0))
    assert features["amount_to_avg_24h"] == pytest.approx(120.5 / (200.0 / 4))
    assert features["account_age_days"] == 400.0
    assert features["category_electronics"] == 1.0
    assert features_of(card_present=True)["card_present"] == 1.0


@pytest.mark.parametrize(("count", "total"), [(0, 0.0), (0, 50.0), (3, 0.0)])
def test_amount_to_average_is_neutral_without_history(count: int, total: float) -> None:
    assert features_of(txn_count_24h=count, amount_sum_24h=total)["amount_to_avg_24h"] == 1.0


@pytest.mark.parametrize(
    ("hour", "night"), [(0, 1.0), (3, 1.0), (5, 1.0), (6, 0.0), (12, 0.0), (23, 0.0)]
)
def test_night_flag(hour: int, night: float) -> None:
    features = features_of(timestamp=f"2024-05-01T{hour:02d}:59:59Z")
    assert features["hour_utc"] == float(hour)
    assert features["is_night_utc"] == night


@pytest.mark.parametrize("category", MERCHANT_CATEGORIES)
def test_category_is_one_hot(category: str) -> None:
    features = features_of(merchant_category=category)
    one_hot = {name: value for name, value in features.items() if name.startswith("category_")}
    assert one_hot == {f"category_{name}": float(name == category) for name in MERCHANT_CATEGORIES}


def test_json_round_trip_gives_the_same_features() -> None:
    txn = valid(amount=0.1 + 0.2, distance_from_home_km=1e-7)
    assert feature_vector(parse_transaction(json.loads(json.dumps(txn)))) == feature_vector(
        parse_transaction(txn)
    )


# --- decisions -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        (0.0, "approve"),
        (0.0999, "approve"),
        (0.1, "review"),
        (0.5, "review"),
        (0.8999, "review"),
        (0.9, "decline"),
        (1.0, "decline"),
    ],
)
def test_decide(score: float, expected: str) -> None:
    assert decide(score, 0.1, 0.9) == expected


def test_decide_with_equal_thresholds_never_reviews() -> None:
    assert [decide(s, 0.5, 0.5) for s in (0.49, 0.5, 0.51)] == ["approve", "decline", "decline"]


@pytest.mark.parametrize(
    ("score", "review", "decline"), [(0.5, 0.9, 0.1), (math.nan, 0.1, 0.9), (0.5, math.nan, 0.9)]
)
def test_decide_refuses_what_it_cannot_decide(score: float, review: float, decline: float) -> None:
    with pytest.raises(ValueError):
        decide(score, review, decline)


def test_features_module_imports_only_the_standard_library() -> None:
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import sml_handlers.fraud.features\n"
        "new = {m.split('.')[0] for m in set(sys.modules) - before}\n"
        "print('\\n'.join(sorted(new - set(sys.stdlib_module_names))))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.split() == ["sml_handlers"]
