"""Raw card transactions: validation, and the feature vector the fraud model scores.

The one place where transaction fields are checked and turned into model inputs; the Lambda
handler (at INIT) and model training both import it, so it uses the standard library only.

A transaction is a JSON object with these fields (others are ignored):

=========================  ==================================================================
``transaction_id``         string, 1-128 characters
``amount``                 number, > 0 and <= 1,000,000 (the card's currency)
``merchant_category``      one of ``MERCHANT_CATEGORIES``
``timestamp``              ISO-8601 string with a UTC offset (``2024-05-01T12:00:00Z``) or
                           epoch seconds (a number); between 2000-01-01 and 2100-01-01 UTC
``card_present``           true or false (chip/swipe/tap vs. online, phone or keyed)
``distance_from_home_km``  number, 0-20,038 (half the Earth's circumference), between the
                           cardholder's home and the merchant or the device's location
``txn_count_1h``           whole number >= 0: the card's earlier transactions in the past hour
``txn_count_24h``          whole number >= 0: the card's earlier transactions in the past 24 h
``amount_sum_24h``         number >= 0: the total of those earlier 24 h transactions
``account_age_days``       whole number, 0-36,500: days since the account was opened
=========================  ==================================================================

Numbers must be JSON numbers: ``true``/``false`` are not numbers, numbers are not booleans, NaN and
infinities are refused, and whole-number fields accept ``3`` or ``3.0`` but not ``3.5``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final, NamedTuple

from sml_handlers.runtime.fields import FieldErrors, Invalid, as_utc, describe, finite_number

MERCHANT_CATEGORIES: Final[tuple[str, ...]] = (
    "grocery",
    "restaurant",
    "fuel",
    "pharmacy",
    "utilities",
    "entertainment",
    "online_retail",
    "digital_goods",
    "electronics",
    "travel",
    "gambling",
    "atm_cash",
)

# Model inputs, in order. Money and distance are log1p-scaled (their ranges span six orders of
# magnitude); categories are one-hot.
FEATURE_NAMES: Final[tuple[str, ...]] = (
    "log_amount",  # log1p(amount)
    "hour_utc",  # 0..23, hour of day of the timestamp in UTC
    "is_night_utc",  # 1 if 00:00 <= UTC time < 06:00
    "card_present",  # 1 / 0
    "log_distance_from_home_km",  # log1p(distance_from_home_km)
    "txn_count_1h",
    "txn_count_24h",
    "log_amount_sum_24h",  # log1p(amount_sum_24h)
    "amount_to_avg_24h",  # amount / mean earlier 24 h amount; 1.0 when there is no such history
    "account_age_days",
    *(f"category_{name}" for name in MERCHANT_CATEGORIES),
)

MAX_ID_LENGTH: Final = 128
MAX_AMOUNT: Final = 1_000_000.0
MAX_AMOUNT_SUM_24H: Final = 100_000_000.0
MAX_DISTANCE_KM: Final = 20_038.0  # half the Earth's equatorial circumference (40,075 km)
MAX_COUNT: Final = 100_000
MAX_ACCOUNT_AGE_DAYS: Final = 36_500
NIGHT_HOURS_UTC: Final = range(0, 6)
EARLIEST: Final = datetime(2000, 1, 1, tzinfo=UTC)
LATEST: Final = datetime(2100, 1, 1, tzinfo=UTC)
_EPOCH_MIN: Final = EARLIEST.timestamp()
_EPOCH_MAX: Final = LATEST.timestamp()
_CATEGORY_INDEX: Final = {name: index for index, name in enumerate(MERCHANT_CATEGORIES)}
NON_OBJECT_KEY: Final = "transaction"  # the errors key used when the input is not an object


class TransactionError(FieldErrors):
    """Invalid transaction input; ``errors`` maps each bad field to what is wrong and expected."""

    what = "transaction"


def _bounded_float(
    low: float, high: float, *, low_inclusive: bool
) -> tuple[Callable[[object], float], str]:
    expected = f"a number {'>=' if low_inclusive else '>'} {low:g} and <= {high:,.0f}"

    def parse(value: object) -> float:
        number = finite_number(value, expected)
        too_low = number < low if low_inclusive else number <= low
        if too_low or number > high:
            raise Invalid(f"must be {expected}, got {describe(value)}")
        return number

    return parse, expected


def _bounded_int(high: int) -> tuple[Callable[[object], int], str]:
    expected = f"a whole number from 0 to {high:,}"

    def parse(value: object) -> int:
        number = finite_number(value, expected)
        if not number.is_integer() or not 0 <= number <= high:
            raise Invalid(f"must be {expected}, got {describe(value)}")
        return int(number)

    return parse, expected


_ID_EXPECTED: Final = f"a string of 1 to {MAX_ID_LENGTH} characters"


def _transaction_id(value: object) -> str:
    if not isinstance(value, str):
        raise Invalid(f"must be {_ID_EXPECTED}, got {describe(value)}")
    if not 1 <= len(value) <= MAX_ID_LENGTH:
        raise Invalid(f"must be {_ID_EXPECTED}, got {len(value)} characters")
    return value


_CATEGORY_EXPECTED: Final = f"one of {', '.join(MERCHANT_CATEGORIES)}"


def _merchant_category(value: object) -> str:
    if not isinstance(value, str) or value not in _CATEGORY_INDEX:
        raise Invalid(f"must be {_CATEGORY_EXPECTED}; got {describe(value)}")
    return value


def _card_present(value: object) -> bool:
    if not isinstance(value, bool):
        raise Invalid(f"must be true or false, got {describe(value)}")
    return value


_TIMESTAMP_EXPECTED: Final = (
    "an ISO-8601 string with a UTC offset (e.g. 2024-05-01T12:00:00Z) or epoch seconds, "
    "from 2000-01-01 to before 2100-01-01 UTC"
)


def _aware(moment: datetime, value: object) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise Invalid(
            f"must be {_TIMESTAMP_EXPECTED}; {describe(value)} has no UTC offset "
            "(append Z or +HH:MM)"
        )
    return as_utc(moment, _TIMESTAMP_EXPECTED, value)


def _timestamp(value: object) -> datetime:
    if isinstance(value, datetime):  # already parsed: a Transaction built directly
        moment = _aware(value, value)
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise Invalid(f"must be {_TIMESTAMP_EXPECTED}; got {describe(value)}") from None
        moment = _aware(parsed, value)
    else:
        seconds = finite_number(value, _TIMESTAMP_EXPECTED)
        if not _EPOCH_MIN <= seconds < _EPOCH_MAX:
            hint = " (milliseconds? send seconds)" if seconds >= _EPOCH_MIN * 1000 else ""
            raise Invalid(f"must be {_TIMESTAMP_EXPECTED}; got {describe(value)}{hint}")
        return datetime.fromtimestamp(seconds, tz=UTC)
    if not EARLIEST <= moment < LATEST:
        raise Invalid(f"must be {_TIMESTAMP_EXPECTED}; got {describe(value)}")
    return moment


# field -> (parser, what a valid value is)
_FIELDS: Final[dict[str, tuple[Callable[[object], Any], str]]] = {
    "transaction_id": (_transaction_id, _ID_EXPECTED),
    "amount": _bounded_float(0.0, MAX_AMOUNT, low_inclusive=False),
    "merchant_category": (_merchant_category, _CATEGORY_EXPECTED),
    "timestamp": (_timestamp, _TIMESTAMP_EXPECTED),
    "card_present": (_card_present, "true or false"),
    "distance_from_home_km": _bounded_float(0.0, MAX_DISTANCE_KM, low_inclusive=True),
    "txn_count_1h": _bounded_int(MAX_COUNT),
    "txn_count_24h": _bounded_int(MAX_COUNT),
    "amount_sum_24h": _bounded_float(0.0, MAX_AMOUNT_SUM_24H, low_inclusive=True),
    "account_age_days": _bounded_int(MAX_ACCOUNT_AGE_DAYS),
}


def _parse_fields(values: Mapping[Any, object]) -> tuple[dict[str, Any], dict[str, str]]:
    """Parsed values and errors (missing or invalid), both in field order."""
    parsed: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, (parse, expected) in _FIELDS.items():
        if name not in values:
            errors[name] = f"is required: {expected}"
            continue
        try:
            parsed[name] = parse(values[name])
        except Invalid as problem:
            errors[name] = str(problem)
    return parsed, errors


class _TransactionFields(NamedTuple):
    transaction_id: str
    amount: float
    merchant_category: str
    timestamp: datetime
    card_present: bool
    distance_from_home_km: float
    txn_count_1h: int
    txn_count_24h: int
    amount_sum_24h: float
    account_age_days: int


class Transaction(_TransactionFields):
    """One validated card transaction (build it with ``parse_transaction`` from decoded JSON).

    ``timestamp`` is a timezone-aware datetime in UTC. Constructing it directly (by keyword)
    validates too (TransactionError), so every instance holds values the model can score.
    A NamedTuple, not a dataclass: ``dataclasses`` imports ``inspect``, ~17 ms of INIT.
    """

    __slots__ = ()

    def __new__(cls, **fields: Any) -> Transaction:
        parsed, errors = _parse_fields(fields)
        if errors:
            raise TransactionError(errors)
        # normalised: floats, ints, timestamp in UTC
        return super().__new__(cls, **parsed)


def parse_transaction(obj: object) -> Transaction:
    """Validate a decoded JSON object into a Transaction; every bad field is reported at once.

    Raises TransactionError: ``errors`` names each missing or invalid field (or ``"transaction"``
    if ``obj`` is not an object). Unknown fields are ignored.
    """
    if not isinstance(obj, Mapping):
        raise TransactionError(
            {
                NON_OBJECT_KEY: (
                    f"must be a JSON object with fields {', '.join(_FIELDS)}; got {describe(obj)}"
                )
            }
        )
    parsed, errors = _parse_fields(obj)
    if errors:
        raise TransactionError(errors)
    return Transaction(**parsed)


MIN_HISTORY_AMOUNT: Final = 0.01  # a 24 h sum below one cent is no spending history
MAX_AMOUNT_TO_AVG: Final = 1e6  # ratio cap: keeps the model input finite


def feature_vector(txn: Transaction) -> list[float]:
    """The model's input row for ``txn``, in ``FEATURE_NAMES`` order."""
    hour = txn.timestamp.hour
    # amount / (sum / count), computed as amount * count / sum so that a tiny sum cannot
    # underflow the mean to zero; sums below a cent count as no history, and the ratio is
    # capped far above anything real, so the input is always finite.
    if txn.txn_count_24h > 0 and txn.amount_sum_24h >= MIN_HISTORY_AMOUNT:
        ratio = txn.amount * txn.txn_count_24h / txn.amount_sum_24h
        amount_to_avg = min(ratio, MAX_AMOUNT_TO_AVG)
    else:
        amount_to_avg = 1.0
    one_hot = [0.0] * len(MERCHANT_CATEGORIES)
    one_hot[_CATEGORY_INDEX[txn.merchant_category]] = 1.0
    return [
        math.log1p(txn.amount),
        float(hour),
        1.0 if hour in NIGHT_HOURS_UTC else 0.0,
        1.0 if txn.card_present else 0.0,
        math.log1p(txn.distance_from_home_km),
        float(txn.txn_count_1h),
        float(txn.txn_count_24h),
        math.log1p(txn.amount_sum_24h),
        amount_to_avg,
        float(txn.account_age_days),
        *one_hot,
    ]


DECISIONS: Final = ("approve", "review", "decline")


def decide(score: float, review: float, decline: float) -> str:
    """``"decline"`` if score >= decline, ``"review"`` if score >= review, else ``"approve"``.

    Raises ValueError for a NaN score or thresholds with review > decline (never fail open).
    """
    if not review <= decline:
        raise ValueError(f"thresholds need review <= decline, got {review} and {decline}")
    if math.isnan(score):
        raise ValueError("score is NaN")
    if score >= decline:
        return "decline"
    if score >= review:
        return "review"
    return "approve"
