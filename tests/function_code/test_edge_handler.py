"""The edge personalization handler on CloudFront-shaped events, served by the compiled model
the bundler writes: the variant onnxruntime would pick, sticky cookies, URI rewrites, and every
failure passing the request through unchanged."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest

from serverless_ml.bundling.compiled import compiled_model_dir
from serverless_ml.models.personalization_data import generate_sessions
from sml_handlers.personalize import features as pf
from sml_handlers.personalize.request import personalize
from sml_handlers.personalize.settings import Settings, settings_of
from tests.function_code.edge_events import (
    PERSONALIZATION_MODEL_DIR,
    origin_request,
    request_of,
    viewer_request,
    viewer_response,
)
from tests.function_code.handlers import import_with_model

REPO = Path(__file__).resolve().parents[2]
NOW = 1_767_614_400.0  # 2026-01-05 12:00 UTC, a Monday
HEADER = settings_of({})


@pytest.fixture(scope="module")
def compiled_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compiled_model_dir(PERSONALIZATION_MODEL_DIR, tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="module")
def edge(compiled_dir: Path) -> ModuleType:
    module = import_with_model("sml_handlers.personalize.handler", compiled_dir)
    assert module.READY is not None, "the compiled personalization model did not load"
    return module


@pytest.fixture(scope="module")
def onnx_scores() -> Any:
    """P(convert) per row from onnxruntime on the shipped ONNX model (the reference)."""
    session = ort.InferenceSession(
        str(PERSONALIZATION_MODEL_DIR / "model.onnx"), providers=["CPUExecutionProvider"]
    )

    def score(rows: Sequence[Sequence[float]]) -> list[float]:
        (probabilities,) = session.run(
            ["probabilities"], {"features": np.asarray(rows, np.float32)}
        )
        return [float(p) for p in probabilities[:, 1]]

    return score


def header_value(request: dict[str, Any], name: str) -> list[str]:
    return [entry["value"] for entry in request["headers"].get(name, [])]


def cookie_pairs(request: dict[str, Any]) -> list[str]:
    return [p.strip() for v in header_value(request, "cookie") for p in v.split(";")]


def test_a_viewer_request_gets_a_variant_header_and_cookie(edge: ModuleType) -> None:
    event = viewer_request("/", headers={"Cookie": "session=abc; theme=dark"})
    before = copy.deepcopy(event)
    result = edge.handler(event, None)
    assert event == before  # the event CloudFront passed is not modified in place
    (variant,) = header_value(result, "x-sml-variant")
    assert variant in pf.VARIANTS
    assert result["headers"]["x-sml-variant"][0]["key"] == "X-Sml-Variant"
    assert cookie_pairs(result) == ["session=abc", "theme=dark", f"sml_variant={variant}"]
    unchanged = {k: v for k, v in result.items() if k != "headers"}
    assert unchanged == {k: v for k, v in request_of(before).items() if k != "headers"}


def test_the_variant_is_the_one_onnxruntime_ranks_first(edge: ModuleType, onnx_scores: Any) -> None:
    """Across held-out sessions the compiled model picks what onnxruntime would, and the picks
    differ by visit (the model personalizes)."""
    picks = []
    score, _settings = edge.READY
    for session in generate_sessions(400, seed=99):
        decision = personalize(session.request, score, HEADER, session.epoch_s)
        rows = pf.variant_rows(pf.visit_of(session.request, session.epoch_s))
        assert decision.variant == pf.best_variant(onnx_scores(rows))
        assert decision.reason == "predicted"
        picks.append(decision.variant)
    assert len(set(picks)) >= 2


def test_an_origin_request_reads_the_viewer_headers(edge: ModuleType, onnx_scores: Any) -> None:
    chosen = set()
    for country in ("US", "JP", "IN", "BR"):
        for mobile in (False, True):
            event = origin_request("/index.html", country=country, mobile=mobile)
            request = edge.handler(event, None)
            visit = pf.visit_of(request_of(event), NOW)
            assert (visit.country, visit.device) == (country, "mobile" if mobile else "desktop")
            chosen.add(header_value(request, "x-sml-variant")[0])
            assert request["origin"] == request_of(event)["origin"]
    assert chosen <= set(pf.VARIANTS)


def test_a_cookie_naming_a_variant_keeps_it_without_inference(edge: ModuleType) -> None:
    def refuse(rows: Sequence[Sequence[float]]) -> list[float]:
        raise AssertionError("a sticky visit must not be scored")

    event = viewer_request("/", headers={"Cookie": "sml_variant=editorial; a=1"})
    decision = personalize(request_of(event), refuse, HEADER, NOW)
    assert (decision.variant, decision.reason) == ("editorial", "sticky")
    assert cookie_pairs(decision.request) == ["a=1", "sml_variant=editorial"]
    not_sticky = settings_of({"sticky": "false"})
    again = personalize(request_of(event), edge.READY[0], not_sticky, NOW)
    assert again.reason == "predicted"


def test_a_cookie_naming_no_variant_is_replaced(edge: ModuleType) -> None:
    event = viewer_request(headers={"Cookie": "sml_variant=bogus; sml_variant=sale2; b=2"})
    result = edge.handler(event, None)
    pairs = cookie_pairs(result)
    assert [p for p in pairs if p.startswith("sml_variant=")] == [
        f"sml_variant={header_value(result, 'x-sml-variant')[0]}"
    ]
    assert "b=2" in pairs


def test_uri_mode_rewrites_to_the_variant_copy(edge: ModuleType) -> None:
    settings = settings_of({"mode": "uri", "paths": "/,/shop"})
    score = edge.READY[0]
    event = origin_request("/shop/shoes.html", querystring="utm_source=news&utm_medium=email")
    decision = personalize(request_of(event), score, settings, NOW)
    assert decision.request["uri"] == f"/variants/{decision.variant}/shop/shoes.html"
    assert decision.request["querystring"] == "utm_source=news&utm_medium=email"
    copy_request = personalize(
        request_of(origin_request("/variants/sale/index.html")), score, settings, NOW
    )
    assert copy_request.variant is None  # a variant copy is never rewritten twice
    only_shop = settings_of({"mode": "uri", "paths": "/shop"})
    assert personalize(request_of(origin_request("/about")), score, only_shop, NOW).variant is None


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS"])
def test_only_gets_and_heads_are_personalized(edge: ModuleType, method: str) -> None:
    event = viewer_request("/")
    request_of(event)["method"] = method
    assert edge.handler(event, None) == request_of(event)


MALFORMED_HEADERS: list[Any] = [
    {"cookie": [{"key": "Cookie", "value": "=;;==a;b; ;sml_variant"}]},
    {"cookie": [{"key": "Cookie"}], "referer": [{"value": None}]},
    {"cookie": "sml_variant=sale", "cloudfront-viewer-country": "US"},
    {"cookie": [None, 3, {"value": ["x"]}], "cloudfront-is-mobile-viewer": [{"value": "maybe"}]},
    {"cloudfront-viewer-country": [{"key": "CloudFront-Viewer-Country", "value": "ZZ"}]},
    {"cloudfront-viewer-country": [{"value": "ü" * 3000}], "referer": [{"value": "::::"}]},
    {
        "referer": [{"value": "https://user:pw@[::1]:99/x?y"}],
        "cookie": [{"value": "sml_visits=9" * 999}],
    },
    {"cookie": [{"key": "Cookie", "value": "sml_visits=-3; sml_visits=12"}]},
    {},
]


@pytest.mark.parametrize("headers", MALFORMED_HEADERS)
def test_malformed_headers_and_cookies_still_get_a_variant(edge: ModuleType, headers: Any) -> None:
    event = viewer_request("/")
    request_of(event)["headers"] = headers
    result = edge.handler(copy.deepcopy(event), None)
    assert header_value(result, "x-sml-variant")[0] in pf.VARIANTS
    assert result["uri"] == "/"


@pytest.mark.parametrize(
    "request_value", [None, [], "GET /", {"method": "GET", "uri": 7}, {"uri": "/"}]
)
def test_request_shapes_nobody_expected_pass_through(edge: ModuleType, request_value: Any) -> None:
    event = viewer_request()
    event["Records"][0]["cf"]["request"] = request_value
    assert edge.handler(event, None) == request_value


@pytest.mark.parametrize("event", [{}, [], None, {"Records": []}, {"Records": [{"cf": 1}]}])
def test_events_from_elsewhere_are_returned_unchanged(edge: ModuleType, event: Any) -> None:
    assert edge.handler(event, None) == event


def test_a_response_event_passes_its_response(edge: ModuleType) -> None:
    event = viewer_response(viewer_request())
    assert edge.handler(event, None) == event["Records"][0]["cf"]["response"]


def test_any_failure_passes_the_request_through(
    edge: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(rows: Sequence[Sequence[float]]) -> list[float]:
        raise MemoryError("model blew up")

    monkeypatch.setattr(edge, "READY", (broken, HEADER))
    event = viewer_request("/", headers={"Cookie": "a=1"})
    assert edge.handler(event, None) == request_of(event)
    monkeypatch.setattr(edge, "READY", None)  # INIT could not load model or config
    assert edge.handler(event, None) == request_of(event)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"colour": "red"}, "unknown config keys"),
        ({"mode": "redirect"}, "mode="),
        ({"header": "Host"}, "header="),
        ({"header": "x-amz-cf-pop"}, "refuses headers starting"),
        ({"header": "cookie"}, "header="),
        ({"header": "bad header"}, "header="),
        ({"cookie": "a;b"}, "cookie="),
        ({"uri_prefix": "variants"}, "uri_prefix="),
        ({"uri_prefix": "/"}, "uri_prefix="),
        ({"paths": ""}, "paths="),
        ({"paths": "/a, b"}, "paths="),
        ({"sticky": "yes"}, "sticky="),
    ],
)
def test_bad_settings_are_refused_with_the_key_named(config: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        settings_of(config)


def test_settings_defaults() -> None:
    assert settings_of({}) == Settings(
        "header", "x-sml-variant", "sml_variant", "/variants", ("/",), True
    )
    assert settings_of({"header": "X-Variant", "uri_prefix": "/v/"}).header == "x-variant"
    assert settings_of({"uri_prefix": "/v/"}).uri_prefix == "/v"


def test_a_model_reading_other_features_disables_personalization(tmp_path: Path) -> None:
    """The fraud model in the edge handler: INIT logs and passes everything through."""
    fraud = REPO / "src" / "serverless_ml" / "models" / "artifacts" / "fraud"
    code = (
        "import json, sys\n"
        "import sml_handlers.personalize.handler as h\n"
        "from tests.function_code.edge_events import viewer_request, request_of\n"
        "e = viewer_request()\n"
        "assert h.READY is None\n"
        "assert h.handler(e, None) == request_of(e)\n"
    )
    done = _run(code, fraud)
    assert "personalization disabled" in done.stderr


def test_init_imports_neither_numpy_nor_onnxruntime(compiled_dir: Path) -> None:
    code = (
        "import json, sys\n"
        "import sml_handlers.personalize.handler as h\n"
        "from tests.function_code.edge_events import viewer_request\n"
        "r = h.handler(viewer_request(), None)\n"
        "print(json.dumps({'heavy': sorted(m for m in ('numpy', 'onnxruntime') if m in sys.modules),"
        " 'variant': r['headers']['x-sml-variant'][0]['value']}))\n"
    )
    done = _run(code, compiled_dir)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["heavy"] == []
    assert result["variant"] in pf.VARIANTS


def _run(code: str, model_dir: Path) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "SML_MODEL_DIR": str(model_dir),
        "PYTHONPATH": f"{REPO / 'src'}:{REPO}",
    }
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environment, check=False
    )
    assert done.returncode == 0, done.stderr
    return done
