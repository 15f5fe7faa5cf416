"""Personalization: the clickstream generator, the request parser both sides share, and the
committed model (reproducible, compilable, better than random and most-popular)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from serverless_ml.models.build import ARTIFACTS_ROOT, REGISTRY, build_all, validate_committed
from serverless_ml.models.compiler.artifact import verified_source
from serverless_ml.models.personalization_data import (
    conversion_probabilities,
    generate_sessions,
)
from sml_handlers.personalize import features as pf

DIRECTORY = ARTIFACTS_ROOT / "personalization"


def h(name: str, value: str) -> list[dict[str, str]]:
    return [{"key": name, "value": value}]


@pytest.fixture(scope="module")
def card() -> dict[str, Any]:
    return dict(json.loads((DIRECTORY / "model_card.json").read_text()))


def test_sessions_are_seeded_and_parse_back_to_the_visit_that_made_them() -> None:
    first, again = generate_sessions(2000, seed=3), generate_sessions(2000, seed=3)
    assert [s.request for s in first] == [s.request for s in again]
    assert [s.shown for s in first] == [s.shown for s in again]
    assert [s.request for s in generate_sessions(50, seed=4)] != [s.request for s in first[:50]]
    assert all(pf.visit_of(s.request, s.epoch_s) == s.visit for s in first)
    seen = {field: {getattr(s.visit, field) for s in first} for field in pf.Visit._fields}
    assert seen["country"] == {*pf.COUNTRIES, pf.OTHER_COUNTRY}
    assert seen["device"] == set(pf.DEVICES) and seen["referrer"] == set(pf.REFERRERS)
    assert seen["segment"] == set(pf.SEGMENTS) and seen["weekend"] == {True, False}
    assert {s.shown for s in first} == set(pf.VARIANTS)  # uniform logging
    rate = np.mean([s.converted for s in first])
    assert 0.03 < rate < 0.12


def test_the_best_variant_depends_on_the_visit() -> None:
    sessions = generate_sessions(3000, seed=5)
    best = {pf.VARIANTS[int(np.argmax(conversion_probabilities(s.visit)))] for s in sessions}
    assert best == set(pf.VARIANTS)


@pytest.mark.parametrize(
    ("headers", "querystring", "expected"),
    [
        ({}, "", "direct"),
        ({"referer": h("Referer", "https://www.google.co.jp/search?q=x")}, "", "search"),
        ({"referer": h("Referer", "https://duckduckgo.com/")}, "", "search"),
        ({"referer": h("Referer", "https://t.co/abc")}, "", "social"),
        ({"referer": h("Referer", "https://m.facebook.com/story")}, "", "social"),
        ({"referer": h("Referer", "https://box.com/files")}, "", "direct"),  # not x.com
        ({"referer": h("Referer", "https://mail.google.com/mail/u/0")}, "", "email"),
        ({}, "utm_source=news&utm_medium=email", "email"),
        ({"referer": h("Referer", "https://www.google.com/")}, "gclid=abc", "ads"),
        ({}, "UTM_MEDIUM=CPC", "ads"),
        (
            {
                "referer": h("Referer", "https://shop.example.com/cart"),
                "host": h("Host", "shop.example.com"),
            },
            "",
            "direct",
        ),
        ({"referer": h("Referer", "not a url")}, "", "direct"),
    ],
)
def test_referrer_classes(headers: dict[str, Any], querystring: str, expected: str) -> None:
    assert pf.referrer_of(headers, querystring) == expected


@pytest.mark.parametrize(
    "headers",
    [
        None,
        "cookie: a=b",
        {"cookie": "sml_visits=9"},  # not CloudFront's list shape
        {"cookie": [None, 3, {"key": "Cookie"}]},
        {"cookie": [{"key": "Cookie", "value": 12}]},
        {"cloudfront-viewer-country": [{"key": "x", "value": "A" * 5000}]},
        {"cloudfront-is-mobile-viewer": [{"value": "TRUE-ish"}]},
    ],
)
def test_malformed_headers_fall_back_to_defaults(headers: object) -> None:
    visit = pf.visit_of({"headers": headers, "querystring": None}, 1_735_689_600)
    assert visit == pf.Visit("other", "desktop", 0, False, "direct", "new")


def test_cookies_and_segments() -> None:
    headers = {
        "cookie": [
            {"key": "Cookie", "value": "a=1; sml_visits=3;;=x; broken; b = 2"},
            {"key": "Cookie", "value": 'sml_visits=99; c="q"'},
        ]
    }
    found = pf.cookies(headers)
    assert found == {"a": "1", "sml_visits": "3", "b": "2", "c": "q"}
    assert pf.segment_of(found) == "returning"
    assert pf.segment_of({"sml_visits": "5"}) == "loyal"
    assert pf.segment_of({"sml_visits": "-1"}) == "new"
    assert pf.segment_of({"sml_visits": "9" * 40}) == "new"  # absurd: ignored


def test_device_country_and_local_time() -> None:
    headers = {
        "cloudfront-viewer-country": h("CloudFront-Viewer-Country", "jp"),
        "cloudfront-is-desktop-viewer": h("CloudFront-Is-Desktop-Viewer", "false"),
        "cloudfront-is-tablet-viewer": h("CloudFront-Is-Tablet-Viewer", "true"),
    }
    # 2025-01-03 (Friday) 20:30 UTC is Saturday 05:30 in Japan
    visit = pf.visit_of({"headers": headers}, 1_735_936_200)
    assert (visit.country, visit.device, visit.local_hour, visit.weekend) == (
        "JP", "tablet", 5, True,
    )  # fmt: skip


def test_one_row_per_variant_in_feature_order() -> None:
    visit = pf.Visit("DE", "mobile", 21, True, "social", "loyal")
    rows = pf.variant_rows(visit)
    assert len(rows) == len(pf.VARIANTS) and all(len(r) == len(pf.FEATURE_NAMES) for r in rows)
    named = [dict(zip(pf.FEATURE_NAMES, row, strict=True)) for row in rows]
    assert [n["variant_new_arrivals"] for n in named] == [0.0, 1.0, 0.0, 0.0]
    assert named[0]["country_de"] == named[0]["device_mobile"] == named[0]["segment_loyal"] == 1
    assert named[0]["local_hour"] == 21.0 and named[0]["weekend"] == 1.0
    assert pf.best_variant([0.1, 0.3, 0.3, 0.2]) == "new-arrivals"  # ties: the earlier


def test_committed_model_is_registered_valid_and_beats_both_baselines(
    card: dict[str, Any],
) -> None:
    assert REGISTRY["personalization"] == "serverless_ml.models.personalization_model:build"
    (validated,) = validate_committed(names=["personalization"])
    assert validated == card
    assert card["features"] == list(pf.FEATURE_NAMES)
    assert card["variants"] == list(pf.VARIANTS)
    metrics = card["metrics"]
    policies = metrics["policies"]
    assert policies["most_popular"]["variant"] == "sale"
    assert metrics["uplift_vs_random"] > 0.3 and metrics["uplift_vs_most_popular"] > 0.1
    assert metrics["replay_uplift_vs_most_popular"] > 0.05  # what real logs would show
    assert policies["model"]["expected_conversion"] <= policies["oracle"]["expected_conversion"]
    assert card["parity"]["max_abs_diff"] <= 1e-5


def test_committed_model_compiles_small_and_faithful() -> None:
    source, compiled_card = verified_source(DIRECTORY)
    assert compiled_card["compiled"]["parity"]["max_abs_diff"] <= 1e-5
    assert len(source.encode()) < 100 * 1024


@pytest.mark.slow
def test_rebuild_is_byte_identical_to_the_committed_artifact(
    tmp_path: Path, card: dict[str, Any]
) -> None:
    (built,) = build_all(tmp_path, names=["personalization"])
    assert (tmp_path / "personalization" / "model.onnx").read_bytes() == (
        DIRECTORY / "model.onnx"
    ).read_bytes()
    assert {k: v for k, v in built.items() if k != "libraries"} == {
        k: v for k, v in card.items() if k != "libraries"
    }
