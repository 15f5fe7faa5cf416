"""A seeded synthetic clickstream for content personalization at the edge.

Each session is one storefront page view as CloudFront hands it to Lambda@Edge (real header
names and value formats), the content variant the site showed it, chosen uniformly at random
(a randomized logging policy, so held-out logs evaluate any policy without bias), and whether
the session converted.

Who visits (weights documented in the constants below): country, device class, local hour
(a diurnal curve), weekday, referrer (with realistic ``Referer`` URLs and ``utm_*`` / click-id
query strings) and the number of earlier visits in the ``sml_visits`` cookie (geometric).

Who converts: ``P(convert | visit, variant) = logistic(BASE[variant] + sum of EFFECTS)``,
where each effect is one visit attribute's pull towards a variant (mobile viewers take the
sale, loyal visitors the loyalty offer, search visitors the new arrivals, evenings and weekends
the editorial, ...). The sale is the most popular variant overall, so "always show the most
popular" is a strong baseline the model must beat by reading the context.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from sml_handlers.personalize.features import (
    COUNTRIES,
    LOYAL_VISITS,
    OTHER_COUNTRY,
    UTC_OFFSET_H,
    VARIANTS,
    VISITS_COOKIE,
    Visit,
    local_time,
)

START_EPOCH_S: Final = 1_735_689_600  # 2025-01-01T00:00:00Z; sessions span one year
YEAR_S: Final = 365 * 24 * 3600
HOST: Final = "shop.example.com"

COUNTRY_WEIGHTS: Final[Mapping[str, float]] = {
    "US": 0.34, "GB": 0.10, "DE": 0.09, "FR": 0.07, "IN": 0.12, "BR": 0.08, "JP": 0.08,
    OTHER_COUNTRY: 0.12,
}  # fmt: skip
DEVICE_WEIGHTS: Final[Mapping[str, float]] = {
    "desktop": 0.38, "mobile": 0.50, "tablet": 0.09, "smarttv": 0.03,
}  # fmt: skip
REFERRER_WEIGHTS: Final[Mapping[str, float]] = {
    "direct": 0.30, "search": 0.30, "social": 0.18, "email": 0.10, "ads": 0.12,
}  # fmt: skip
# Local-hour traffic: low at night, peaks at lunch and in the evening.
HOUR_WEIGHTS: Final = tuple(
    0.2 + math.exp(-((h - 12.5) ** 2) / 8) + 1.4 * math.exp(-((h - 20.5) ** 2) / 6)
    for h in range(24)
)
RETURN_PROBABILITY: Final = 0.55  # visits before this one ~ geometric: P(k) ~ 0.55^k

BASE_LOGIT: Final[Mapping[str, float]] = {
    "sale": -3.0, "new-arrivals": -3.15, "editorial": -3.35, "loyalty": -3.45,
}  # fmt: skip
# (attribute, value) -> {variant: logit change}
EFFECTS: Final[Mapping[tuple[str, Any], Mapping[str, float]]] = {
    ("device", "mobile"): {"sale": 0.45, "editorial": -0.30},
    ("device", "tablet"): {"editorial": 0.45},
    ("device", "smarttv"): {"editorial": 0.70, "sale": -0.50},
    ("referrer", "search"): {"new-arrivals": 0.70},
    ("referrer", "social"): {"editorial": 0.55, "sale": 0.15},
    ("referrer", "email"): {"loyalty": 0.65},
    ("referrer", "ads"): {"sale": 0.45},
    ("segment", "new"): {"sale": 0.30, "loyalty": -0.90},
    ("segment", "returning"): {"new-arrivals": 0.40, "loyalty": 0.30},
    ("segment", "loyal"): {"loyalty": 1.25, "sale": -0.25},
    ("evening", True): {"editorial": 0.45},
    ("lunch", True): {"sale": 0.25},
    ("weekend", True): {"editorial": 0.30, "new-arrivals": 0.20},
    ("country", "JP"): {"new-arrivals": 0.50},
    ("country", "DE"): {"editorial": 0.35},
    ("country", "IN"): {"sale": 0.50},
    ("country", "BR"): {"sale": 0.30},
    ("country", "US"): {"loyalty": 0.20},
    ("country", "GB"): {"new-arrivals": 0.20},
}

OTHER_COUNTRY_CODES: Final = ("CA", "AU", "MX", "ES", "IT", "KR", "NG")
DEVICE_HEADER_NAMES: Final = (
    ("Mobile", "mobile"), ("Tablet", "tablet"), ("SmartTV", "smarttv"), ("Desktop", "desktop"),
)  # fmt: skip
AD_QUERIES: Final = (
    "gclid=Cj0KCQ", "utm_source=google&utm_medium=cpc", "fbclid=IwAR2x",
    "utm_medium=display&utm_campaign=fall",
)  # fmt: skip
_REFERERS: Final[Mapping[str, tuple[str, ...]]] = {
    "search": (
        "https://www.google.com/", "https://www.google.de/search?q=shoes",
        "https://www.bing.com/search?q=sale", "https://duckduckgo.com/",
        "https://search.yahoo.co.jp/search?p=bag", "https://yandex.ru/",
    ),
    "social": (
        "https://t.co/Ab12Cd", "https://www.facebook.com/", "https://l.instagram.com/",
        "https://www.reddit.com/r/deals/", "https://m.youtube.com/watch?v=x",
        "https://www.tiktok.com/",
    ),
    "email": ("https://mail.google.com/", "https://outlook.live.com/"),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Session:
    """One logged page view: the CloudFront request, when, what was shown, and the outcome."""

    request: dict[str, Any]
    epoch_s: float
    visit: Visit
    shown: str
    converted: bool


def _draw(rng: np.random.Generator, weights: Mapping[str, float], n: int) -> list[str]:
    names = list(weights)
    p = np.asarray([weights[name] for name in names], dtype=np.float64)
    return [names[i] for i in rng.choice(len(names), size=n, p=p / p.sum()).tolist()]


def logits(visit: Visit) -> dict[str, float]:
    """The true conversion logit of each variant for ``visit``."""
    attributes: dict[str, Any] = {
        "device": visit.device,
        "referrer": visit.referrer,
        "segment": visit.segment,
        "country": visit.country,
        "evening": 18 <= visit.local_hour <= 23,
        "lunch": 11 <= visit.local_hour <= 14,
        "weekend": visit.weekend,
    }
    result = dict(BASE_LOGIT)
    for attribute, value in attributes.items():
        for variant, change in EFFECTS.get((attribute, value), {}).items():
            result[variant] += change
    return result


def conversion_probabilities(visit: Visit) -> list[float]:
    """True P(convert) of each variant, in VARIANTS order."""
    values = logits(visit)
    return [1.0 / (1.0 + math.exp(-values[v])) for v in VARIANTS]


def _headers(
    pick: np.random.Generator, country: str, device: str, referrer: str, visits: int
) -> dict[str, list[dict[str, str]]]:
    """CloudFront-format request headers (lowercase names, ``[{key, value}]`` lists)."""
    shown_country = country if country in COUNTRIES else str(pick.choice(OTHER_COUNTRY_CODES))
    headers: dict[str, list[dict[str, str]]] = {
        "host": [{"key": "Host", "value": HOST}],
        "user-agent": [{"key": "User-Agent", "value": "Amazon CloudFront"}],
        "cloudfront-viewer-country": [{"key": "CloudFront-Viewer-Country", "value": shown_country}],
    }
    for name, value in DEVICE_HEADER_NAMES:
        headers[f"cloudfront-is-{name.lower()}-viewer"] = [
            {"key": f"CloudFront-Is-{name}-Viewer", "value": "true" if device == value else "false"}
        ]
    if referrer in _REFERERS:
        choices = _REFERERS[referrer]
        headers["referer"] = [
            {"key": "Referer", "value": choices[int(pick.integers(len(choices)))]}
        ]
    elif referrer == "direct" and pick.random() < 0.3:  # internal navigation
        headers["referer"] = [{"key": "Referer", "value": f"https://{HOST}/collections/all"}]
    cookie_pairs = ["session-id=" + format(int(pick.integers(1 << 40)), "x")]
    if visits:
        cookie_pairs.append(f"{VISITS_COOKIE}={visits}")
    if pick.random() < 0.5:
        cookie_pairs.append("consent=yes")
    headers["cookie"] = [{"key": "Cookie", "value": "; ".join(cookie_pairs)}]
    return headers


def _querystring(pick: np.random.Generator, referrer: str) -> str:
    if referrer == "ads":
        return str(pick.choice(AD_QUERIES))
    if referrer == "email":  # newsletters tag their links; webmail referers carry the rest
        return "utm_source=newsletter&utm_medium=email"
    return ""


def generate_sessions(n: int, *, seed: int) -> list[Session]:
    """``n`` sessions from generator seed ``seed`` (the same list for the same arguments)."""
    rng = np.random.default_rng(seed)
    countries = _draw(rng, COUNTRY_WEIGHTS, n)
    devices = _draw(rng, DEVICE_WEIGHTS, n)
    referrers = _draw(rng, REFERRER_WEIGHTS, n)
    visits = (rng.geometric(1 - RETURN_PROBABILITY, size=n) - 1).tolist()
    days = rng.integers(365, size=n).tolist()
    hours = rng.choice(24, size=n, p=np.asarray(HOUR_WEIGHTS) / sum(HOUR_WEIGHTS)).tolist()
    seconds = rng.integers(3600, size=n).tolist()
    shown = rng.integers(len(VARIANTS), size=n).tolist()
    draws = rng.random(size=n).tolist()
    pick = np.random.default_rng(seed + 1)  # header details: their own stream
    sessions: list[Session] = []
    for i in range(n):
        country, referrer = countries[i], referrers[i]
        offset_s = UTC_OFFSET_H.get(country, 0) * 3600
        epoch_s = float(START_EPOCH_S + days[i] * 86400 + hours[i] * 3600 + seconds[i] - offset_s)
        request = {
            "clientIp": f"203.0.113.{int(pick.integers(1, 255))}",
            "headers": _headers(pick, country, devices[i], referrer, visits[i]),
            "method": "GET",
            "querystring": _querystring(pick, referrer),
            "uri": "/",
        }
        hour, weekend = local_time(country, epoch_s)
        count = visits[i]
        segment = "new" if count == 0 else ("loyal" if count >= LOYAL_VISITS else "returning")
        visit = Visit(country, devices[i], hour, weekend, referrer, segment)
        variant = VARIANTS[shown[i]]
        p = conversion_probabilities(visit)[shown[i]]
        sessions.append(Session(request, epoch_s, visit, variant, draws[i] < p))
    return sessions
