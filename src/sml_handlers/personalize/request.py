"""One CloudFront request in, the same request with its variant out (standard library only).

``personalize`` never changes the request it is given: it returns a new request dict (new
``headers`` and lists where it touches them), so the handler can fall back to the original on
any failure. Only GET and HEAD requests for a configured path get a variant.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, NamedTuple

from sml_handlers.personalize.features import (
    VARIANTS,
    best_variant,
    cookies,
    variant_rows,
    visit_of,
)
from sml_handlers.personalize.settings import Settings, canonical_header

PERSONALIZED_METHODS: Final = ("GET", "HEAD")
Score = Callable[[Sequence[Sequence[float]]], list[float]]  # rows -> P(convert) each


class Decision(NamedTuple):
    """What ``personalize`` did: ``variant`` None when the request was left alone."""

    request: dict[str, Any]
    variant: str | None
    reason: str  # "predicted" | "sticky" | "not personalized"


def personalize(
    request: Mapping[str, Any], score: Score, settings: Settings, epoch_s: float
) -> Decision:
    """The request with its variant, chosen by ``score`` unless its cookie already names one."""
    uri = request.get("uri")
    if (
        request.get("method") not in PERSONALIZED_METHODS
        or not isinstance(uri, str)
        or not settings.personalizes(uri)
    ):
        return Decision(dict(request), None, "not personalized")
    headers = request.get("headers")
    if not isinstance(headers, Mapping):
        headers = {}
    kept = cookies(headers).get(settings.cookie) if settings.sticky else None
    if kept in VARIANTS:
        variant, reason = kept, "sticky"
    else:
        variant = best_variant(score(variant_rows(visit_of(request, epoch_s))))
        reason = "predicted"
    changed = dict(request)
    changed["headers"] = _with_variant(headers, variant, settings)
    if settings.mode == "uri":
        changed["uri"] = f"{settings.uri_prefix}/{variant}{uri}"
    return Decision(changed, variant, reason)


def _with_variant(headers: Mapping[str, Any], variant: str, settings: Settings) -> dict[str, Any]:
    """A copy of ``headers`` with the variant header set and the cookie naming the variant."""
    result = dict(headers)
    result[settings.header] = [{"key": canonical_header(settings.header), "value": variant}]
    if settings.cookie:
        result["cookie"] = _with_cookie(headers.get("cookie"), settings.cookie, variant)
    return result


def _with_cookie(entries: object, name: str, value: str) -> list[dict[str, str]]:
    """Cookie header entries without any ``name=`` pair, then ``name=value`` appended."""
    kept: list[dict[str, str]] = []
    for entry in entries if isinstance(entries, list) else ():
        raw = entry.get("value") if isinstance(entry, Mapping) else None
        if not isinstance(raw, str):
            continue
        pairs = [p.strip() for p in raw.split(";")]
        others = [p for p in pairs if p and p.partition("=")[0].strip() != name]
        if others:
            kept.append({"key": str(entry.get("key") or "Cookie"), "value": "; ".join(others)})
    pair = f"{name}={value}"
    if kept:
        kept[-1] = {**kept[-1], "value": f"{kept[-1]['value']}; {pair}"}
    else:
        kept.append({"key": "Cookie", "value": pair})
    return kept
