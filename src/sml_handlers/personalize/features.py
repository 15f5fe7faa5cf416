"""What the personalization model reads of a CloudFront request, and its input rows.

Standard library only: the edge handler (at INIT, inside a 1 MB viewer budget) and model
training both import it, so a request is featurized the same way in both.

A ``Visit`` is read from the request CloudFront hands Lambda@Edge: the viewer's country
(``CloudFront-Viewer-Country``), device class (``CloudFront-Is-{Mobile,Tablet,SmartTV,Desktop}-Viewer``),
the local hour and weekday (request time shifted by the country's usual UTC offset), the
referrer class (click ids and ``utm_medium`` in the query string, else the ``Referer`` host) and
the returning-visitor segment from the ``sml_visits`` cookie. Anything missing or malformed
falls back to the most common value of its field: a request is never refused for its headers.

The model scores one row per content variant (the visit's features plus the variant one-hot);
the handler serves the variant with the highest predicted conversion probability.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any, Final, NamedTuple

VARIANTS: Final = ("sale", "new-arrivals", "editorial", "loyalty")
COUNTRIES: Final = ("US", "GB", "DE", "FR", "IN", "BR", "JP")  # anything else: "other"
DEVICES: Final = ("desktop", "mobile", "tablet", "smarttv")
REFERRERS: Final = ("direct", "search", "social", "email", "ads")
SEGMENTS: Final = ("new", "returning", "loyal")
OTHER_COUNTRY: Final = "other"
VISITS_COOKIE: Final = "sml_visits"
VARIANT_COOKIE: Final = "sml_variant"
LOYAL_VISITS: Final = 5  # visits before this one: 0 new, 1-4 returning, 5+ loyal
MAX_HEADER_CHARS: Final = 2048  # longer values are not what a browser sends: ignored

# Usual (standard-time) UTC offset in hours; "other" is read as UTC.
UTC_OFFSET_H: Final[Mapping[str, float]] = {
    "US": -5, "GB": 0, "DE": 1, "FR": 1, "IN": 5.5, "BR": -3, "JP": 9,
}  # fmt: skip
DEVICE_HEADERS: Final = (
    ("cloudfront-is-smarttv-viewer", "smarttv"),
    ("cloudfront-is-tablet-viewer", "tablet"),
    ("cloudfront-is-mobile-viewer", "mobile"),
    ("cloudfront-is-desktop-viewer", "desktop"),
)
SEARCH_HOSTS: Final = (
    "google.", "bing.com", "duckduckgo.com", "search.yahoo.", "baidu.com", "yandex.",
    "ecosia.org", "search.brave.com",
)  # fmt: skip
SOCIAL_HOSTS: Final = (
    "facebook.com", "instagram.com", "t.co", "twitter.com", "x.com", "linkedin.com",
    "reddit.com", "tiktok.com", "pinterest.", "youtube.com", "threads.net",
)  # fmt: skip
MAIL_HOSTS: Final = ("mail.", "outlook.", "webmail.")
AD_CLICK_IDS: Final = ("gclid", "fbclid", "msclkid", "ttclid", "dclid")
AD_MEDIUMS: Final = ("cpc", "ppc", "paid", "paidsocial", "display", "ads", "cpm")

FEATURE_NAMES: Final = (
    *(f"country_{c.lower()}" for c in (*COUNTRIES, OTHER_COUNTRY)),
    *(f"device_{d}" for d in DEVICES),
    "local_hour",
    "weekend",
    *(f"referrer_{r}" for r in REFERRERS),
    *(f"segment_{s}" for s in SEGMENTS),
    *(f"variant_{v.replace('-', '_')}" for v in VARIANTS),
)


class Visit(NamedTuple):
    """What the model knows of one request."""

    country: str  # one of COUNTRIES or "other"
    device: str  # one of DEVICES
    local_hour: int  # 0-23
    weekend: bool
    referrer: str  # one of REFERRERS
    segment: str  # one of SEGMENTS


def header(headers: object, name: str) -> str | None:
    """The first value of CloudFront header ``name`` (lowercase), None if absent or malformed."""
    if not isinstance(headers, Mapping):
        return None
    entries = headers.get(name)
    if not isinstance(entries, list):
        return None
    for entry in entries:
        value = entry.get("value") if isinstance(entry, Mapping) else None
        if isinstance(value, str) and len(value) <= MAX_HEADER_CHARS:
            return value
    return None


def cookies(headers: object) -> dict[str, str]:
    """Every ``name=value`` pair of every Cookie header (malformed pairs skipped; first wins)."""
    found: dict[str, str] = {}
    entries = headers.get("cookie") if isinstance(headers, Mapping) else None
    for entry in entries if isinstance(entries, list) else ():
        value = entry.get("value") if isinstance(entry, Mapping) else None
        if not isinstance(value, str) or len(value) > 4 * MAX_HEADER_CHARS:
            continue
        for pair in value.split(";"):
            name, sep, content = pair.partition("=")
            name = name.strip()
            if sep and name and name not in found:
                found[name] = content.strip().strip('"')
    return found


def query_parameters(querystring: object) -> dict[str, str]:
    """``a=1&b=2`` -> {"a": "1", "b": "2"} (lowercased names; first wins; no decoding needed)."""
    found: dict[str, str] = {}
    if not isinstance(querystring, str) or len(querystring) > 4 * MAX_HEADER_CHARS:
        return found
    for pair in querystring.split("&"):
        name, _sep, value = pair.partition("=")
        if name:
            found.setdefault(name.lower(), value.lower())
    return found


def country_of(headers: object) -> str:
    value = (header(headers, "cloudfront-viewer-country") or "").strip().upper()
    return value if value in COUNTRIES else OTHER_COUNTRY


def device_of(headers: object) -> str:
    for name, device in DEVICE_HEADERS:
        if (header(headers, name) or "").strip().lower() == "true":
            return device
    return "desktop"


def _host(url: str) -> str:
    rest = url.split("://", 1)[1] if "://" in url else url
    return rest.split("/", 1)[0].split("?", 1)[0].split("@")[-1].split(":", 1)[0].lower()


def referrer_of(headers: object, querystring: object) -> str:
    """Ads (a click id or a paid ``utm_medium``), email, search, social, else direct."""
    query = query_parameters(querystring)
    medium = query.get("utm_medium", "")
    if any(name in query for name in AD_CLICK_IDS) or medium in AD_MEDIUMS:
        return "ads"
    if medium in ("email", "e-mail", "newsletter"):
        return "email"
    referer = header(headers, "referer")
    host = _host(referer) if referer else ""
    own = _host(header(headers, "host") or "")
    if not host or host == own:
        return "direct"
    if any(host.startswith(m) or f".{m}" in host for m in MAIL_HOSTS):
        return "email"
    if any(_matches(host, pattern) for pattern in SEARCH_HOSTS):
        return "search"
    if any(_matches(host, pattern) for pattern in SOCIAL_HOSTS):
        return "social"
    return "direct"


def _matches(host: str, pattern: str) -> bool:
    """``google.`` matches www.google.de; ``x.com`` matches x.com and m.x.com, not box.com."""
    if pattern.endswith("."):
        return host.startswith(pattern) or f".{pattern}" in host
    return host == pattern or host.endswith(f".{pattern}")


def segment_of(cookie_values: Mapping[str, str]) -> str:
    raw = cookie_values.get(VISITS_COOKIE, "")
    visits = int(raw) if raw.isdigit() and len(raw) < 7 else 0
    if visits >= LOYAL_VISITS:
        return "loyal"
    return "returning" if visits else "new"


def local_time(country: str, epoch_s: float) -> tuple[int, bool]:
    """(local hour, is weekend) at ``epoch_s`` for ``country``'s usual offset."""
    moment = time.gmtime(epoch_s + UTC_OFFSET_H.get(country, 0) * 3600)
    return moment.tm_hour, moment.tm_wday >= 5


def visit_of(request: Mapping[str, Any], epoch_s: float) -> Visit:
    """The visit a CloudFront request describes, at ``epoch_s`` (request time)."""
    headers = request.get("headers")
    country = country_of(headers)
    hour, weekend = local_time(country, epoch_s)
    return Visit(
        country=country,
        device=device_of(headers),
        local_hour=hour,
        weekend=weekend,
        referrer=referrer_of(headers, request.get("querystring")),
        segment=segment_of(cookies(headers)),
    )


def _one_hot(value: str, choices: Sequence[str]) -> list[float]:
    return [1.0 if value == choice else 0.0 for choice in choices]


def visit_features(visit: Visit) -> list[float]:
    """The visit's part of a row (FEATURE_NAMES without the variant one-hot)."""
    return [
        *_one_hot(visit.country, (*COUNTRIES, OTHER_COUNTRY)),
        *_one_hot(visit.device, DEVICES),
        float(visit.local_hour),
        1.0 if visit.weekend else 0.0,
        *_one_hot(visit.referrer, REFERRERS),
        *_one_hot(visit.segment, SEGMENTS),
    ]


def variant_rows(visit: Visit) -> list[list[float]]:
    """One model row per variant, in VARIANTS order."""
    base = visit_features(visit)
    return [base + _one_hot(variant, VARIANTS) for variant in VARIANTS]


def best_variant(probabilities: Sequence[float]) -> str:
    """The variant with the highest conversion probability (ties: the earlier one)."""
    best = max(range(len(VARIANTS)), key=lambda i: (probabilities[i], -i))
    return VARIANTS[best]
