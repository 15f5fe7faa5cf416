"""Seeded synthetic card transactions for training and testing the fraud model.

``generate_transactions(n, seed=...)`` returns ``n`` raw transactions, as the JSON objects the
fraud function accepts (``sml_handlers.fraud.features.parse_transaction``), and their labels
(1 = fraud). The same ``(n, seed, fraud_rate)`` always gives the same data (stdlib ``random``).
Timestamps are ISO-8601 UTC strings between 2024-03-01 and 2024-05-31; cardholders are taken to
live in UTC, so the UTC hour is their local hour.

Legitimate transactions: the category sets a typical amount (log-normal around a per-category
median: fuel ~50, electronics ~220, travel ~350) and how often the card is present (grocery 95%,
online retail 2%); hours peak mid-afternoon with 8% spread over the whole day; most purchases
happen within a few km of home, but 10% of card-present ones are made while travelling (hundreds
of km); a card's earlier activity is ~0.25 transactions in the past hour and ~2.5 in 24 h; 6% of
accounts are under 60 days old.

Fraud follows one of four patterns (share of frauds):

- **card testing** (30%): card not present, digital goods / online retail / gambling, a burst of
  earlier transactions (3+ in the past hour), tiny probe amounts or a large cash-out, mostly at
  night (00:00-06:00), often from a device far from home.
- **counterfeit card abroad** (25%): card present, hundreds to thousands of km from home, large
  amounts at electronics, ATM cash, travel or gambling merchants, more often at night.
- **new or taken-over account** (20%): mostly accounts under 30 days old, card not present,
  large amounts compared with the card's recent average.
- **look-alike** (25%): drawn like a legitimate transaction, with a somewhat larger amount and a
  little more night activity: these are the frauds no model catches reliably.

Legitimate travellers, night owls, new customers and large online purchases overlap every
pattern, so the model is good, not perfect (ROC-AUC in the mid 0.9s; see the model card).
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Final

from sml_handlers.fraud.features import MAX_AMOUNT, MAX_DISTANCE_KM, MERCHANT_CATEGORIES

DEFAULT_FRAUD_RATE: Final = 0.02
START: Final = datetime(2024, 3, 1, tzinfo=UTC)
DAYS: Final = 92  # 2024-03-01 .. 2024-05-31


@dataclass(frozen=True, slots=True)
class _CategoryProfile:
    weight: float  # share of legitimate transactions
    median_amount: float
    amount_sigma: float  # of log(amount)
    p_card_present: float


_LEGIT_PROFILES: Final = {
    "grocery": _CategoryProfile(0.20, 45.0, 0.6, 0.95),
    "restaurant": _CategoryProfile(0.16, 30.0, 0.6, 0.90),
    "fuel": _CategoryProfile(0.10, 50.0, 0.4, 0.97),
    "pharmacy": _CategoryProfile(0.05, 22.0, 0.7, 0.92),
    "utilities": _CategoryProfile(0.05, 85.0, 0.5, 0.05),
    "entertainment": _CategoryProfile(0.06, 40.0, 0.8, 0.50),
    "online_retail": _CategoryProfile(0.16, 55.0, 0.9, 0.02),
    "digital_goods": _CategoryProfile(0.05, 15.0, 0.8, 0.0),
    "electronics": _CategoryProfile(0.05, 220.0, 0.9, 0.55),
    "travel": _CategoryProfile(0.05, 350.0, 0.9, 0.25),
    "gambling": _CategoryProfile(0.01, 60.0, 1.0, 0.30),
    "atm_cash": _CategoryProfile(0.06, 100.0, 0.6, 1.0),
}
if tuple(_LEGIT_PROFILES) != MERCHANT_CATEGORIES:  # one profile per category, same order
    raise RuntimeError("fraud_data profiles are out of step with MERCHANT_CATEGORIES")

_FRAUD_PATTERNS: Final = (
    ("card_testing", 0.30),
    ("counterfeit_abroad", 0.25),
    ("new_account", 0.20),
    ("look_alike", 0.25),
)


class _Draw:
    """Distributions on one seeded ``random.Random``."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, weights: dict[str, float]) -> str:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def lognormal(self, median: float, sigma: float) -> float:
        return median * math.exp(self.rng.gauss(0.0, sigma))

    def poisson(self, mean: float) -> int:
        # Knuth's method: means here are small (< 10).
        limit, count, product = math.exp(-mean), 0, self.rng.random()
        while product > limit:
            count += 1
            product *= self.rng.random()
        return count

    def day_hour(self) -> int:
        """A legitimate hour: mostly daytime around 14:00, 8% anywhere."""
        if self.chance(0.08):
            return self.rng.randrange(24)
        return round(self.rng.gauss(14.0, 4.0)) % 24

    def night_hour(self) -> int:
        return self.rng.randrange(6)

    def account_age(self) -> int:
        if self.chance(0.06):
            return self.rng.randint(0, 60)
        return min(int(self.lognormal(900.0, 0.8)), 15_000)

    def near_home_km(self, mean: float) -> float:
        return self.rng.expovariate(1.0 / mean)

    def far_km(self, median: float, sigma: float) -> float:
        return min(self.lognormal(median, sigma), MAX_DISTANCE_KM)

    def history(self, count_1h: int, extra_24h: int, median: float) -> tuple[int, int, float]:
        """(count in 1 h, count in 24 h, sum of those 24 h amounts)."""
        count_24h = count_1h + extra_24h
        total = sum(self.lognormal(median, 0.9) for _ in range(count_24h))
        return count_1h, count_24h, total


@dataclass(frozen=True, slots=True)
class _Raw:
    """A transaction before rounding, ids and timestamps."""

    amount: float
    category: str
    hour: int
    card_present: bool
    distance_km: float
    history: tuple[int, int, float]  # (count 1 h, count 24 h, sum 24 h)
    account_age_days: int


def _legit(draw: _Draw) -> _Raw:
    category = draw.pick({name: p.weight for name, p in _LEGIT_PROFILES.items()})
    profile = _LEGIT_PROFILES[category]
    card_present = draw.chance(profile.p_card_present)
    if card_present:
        travelling = draw.chance(0.10)
        distance = draw.far_km(300.0, 1.2) if travelling else draw.near_home_km(6.0)
    else:
        distance = draw.far_km(200.0, 1.2) if draw.chance(0.05) else draw.near_home_km(5.0)
    return _Raw(
        amount=draw.lognormal(profile.median_amount, profile.amount_sigma),
        category=category,
        hour=draw.day_hour(),
        card_present=card_present,
        distance_km=distance,
        history=draw.history(draw.poisson(0.25), draw.poisson(2.5), 40.0),
        account_age_days=draw.account_age(),
    )


def _card_testing(draw: _Draw) -> _Raw:
    probe = draw.chance(0.5)
    far = draw.chance(0.5)
    return _Raw(
        amount=draw.rng.uniform(1.0, 10.0) if probe else draw.lognormal(300.0, 0.8),
        category=draw.pick({"digital_goods": 0.5, "online_retail": 0.35, "gambling": 0.15}),
        hour=draw.night_hour() if draw.chance(0.6) else draw.rng.randrange(24),
        card_present=False,
        distance_km=draw.far_km(1500.0, 1.0) if far else draw.near_home_km(10.0),
        history=draw.history(3 + draw.poisson(5.0), draw.poisson(3.0), 8.0),
        account_age_days=draw.account_age(),
    )


def _counterfeit_abroad(draw: _Draw) -> _Raw:
    return _Raw(
        amount=draw.lognormal(500.0, 0.8),
        category=draw.pick(
            {"electronics": 0.35, "atm_cash": 0.35, "travel": 0.15, "gambling": 0.15}
        ),
        hour=draw.night_hour() if draw.chance(0.4) else draw.day_hour(),
        card_present=True,
        distance_km=draw.far_km(800.0, 1.0),
        history=draw.history(draw.poisson(1.5), draw.poisson(3.0), 150.0),
        account_age_days=draw.account_age(),
    )


def _new_account(draw: _Draw) -> _Raw:
    return _Raw(
        amount=draw.lognormal(600.0, 0.9),
        category=draw.pick(
            {"electronics": 0.35, "online_retail": 0.3, "digital_goods": 0.2, "travel": 0.15}
        ),
        hour=draw.night_hour() if draw.chance(0.25) else draw.day_hour(),
        card_present=draw.chance(0.15),
        distance_km=draw.near_home_km(50.0),
        history=draw.history(draw.poisson(0.8), draw.poisson(1.5), 30.0),
        account_age_days=draw.rng.randint(0, 30) if draw.chance(0.7) else draw.account_age(),
    )


def _look_alike(draw: _Draw) -> _Raw:
    raw = _legit(draw)
    hour = draw.night_hour() if draw.chance(0.3) else raw.hour
    return replace(raw, amount=raw.amount * draw.lognormal(1.8, 0.5), hour=hour)


_PATTERNS: Final = {
    "card_testing": _card_testing,
    "counterfeit_abroad": _counterfeit_abroad,
    "new_account": _new_account,
    "look_alike": _look_alike,
}


def _timestamp(draw: _Draw, hour: int) -> str:
    day = START + timedelta(days=draw.rng.randrange(DAYS))
    moment = day + timedelta(hours=hour, seconds=draw.rng.randrange(3600))
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _as_json(draw: _Draw, raw: _Raw) -> dict[str, object]:
    """The JSON shape: an id, an ISO timestamp, money to the cent, distance to 100 m."""
    count_1h, count_24h, sum_24h = raw.history
    return {
        "transaction_id": str(uuid.UUID(int=draw.rng.getrandbits(128), version=4)),
        "amount": min(max(round(raw.amount, 2), 0.01), MAX_AMOUNT),
        "merchant_category": raw.category,
        "timestamp": _timestamp(draw, raw.hour),
        "card_present": raw.card_present,
        "distance_from_home_km": round(raw.distance_km, 1),
        "txn_count_1h": count_1h,
        "txn_count_24h": count_24h,
        "amount_sum_24h": round(sum_24h, 2),
        "account_age_days": raw.account_age_days,
    }


def generate_transactions(
    n: int, *, seed: int, fraud_rate: float = DEFAULT_FRAUD_RATE
) -> tuple[list[dict[str, object]], list[int]]:
    """``n`` synthetic transactions (JSON-ready dicts) and labels (1 = fraud), reproducibly.

    Each transaction is fraud with probability ``fraud_rate``; the fraud pattern is drawn from
    the mix in the module docstring.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if not 0.0 <= fraud_rate <= 1.0:
        raise ValueError(f"fraud_rate must be within [0, 1], got {fraud_rate}")
    draw = _Draw(seed)
    patterns = dict(_FRAUD_PATTERNS)
    transactions: list[dict[str, object]] = []
    labels: list[int] = []
    for _ in range(n):
        fraud = draw.chance(fraud_rate)
        raw = _PATTERNS[draw.pick(patterns)](draw) if fraud else _legit(draw)
        transactions.append(_as_json(draw, raw))
        labels.append(int(fraud))
    return transactions, labels
