"""The edge benchmark runs end to end and reports a well-formed result (no duration asserted):
both variants are the edge handler on its two runtimes, choose the same variant for every
visit, and only the compiled one fits a viewer event's 1 MB."""

from __future__ import annotations

import json
from typing import Any

import pytest

from serverless_ml.bench.edge_bench import (
    VARIANTS,
    edge_functions,
    format_edge_table,
    origin_request_events,
    run_edge_bench,
)

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("bundle")]


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    return run_edge_bench(repeats=1, warm_calls=20)


def test_both_runtimes_serve_the_same_decisions(result: dict[str, Any]) -> None:
    variants = result["variants"]
    assert tuple(variants) == VARIANTS
    for label in VARIANTS:
        assert variants[label]["init_ms_median"] > 0
        assert (
            0
            < variants[label]["warm_request"]["p50_ms"]
            <= variants[label]["warm_request"]["p99_ms"]
        )
    assert variants["onnxruntime"]["numpy_loaded"] and not variants["compiled"]["numpy_loaded"]
    assert result["same_variant_for_every_visit"] is True


def test_only_the_compiled_bundle_fits_a_viewer_event(result: dict[str, Any]) -> None:
    ort, compiled = (result["variants"][v]["bundle"] for v in VARIANTS)
    assert compiled["fits_viewer_budget"] and not ort["fits_viewer_budget"]
    assert ort["fits_origin_budget"]
    assert result["targets"]["compiled_under_1mb_zipped"]
    assert result["targets"]["compiled_under_100kb_zipped"]  # no unused runtime modules shipped


def test_the_result_is_json_and_reads_as_a_table(result: dict[str, Any]) -> None:
    json.dumps(result)
    table = format_edge_table(result)
    assert "onnxruntime" in table and "compiled" in table and "viewer event" in table
    print(table)


def test_the_baseline_differs_only_in_its_model_runtime() -> None:
    functions = edge_functions()
    ort, compiled = functions["onnxruntime"], functions["compiled"]
    assert compiled.bundle.model_runtime == "compiled" and compiled.bundle.requirements == ()
    assert ort.bundle.model_runtime == "onnxruntime" and ort.bundle.requirements
    assert (ort.handler, ort.memory_mb, ort.bundle.baked_config) == (
        compiled.handler,
        compiled.memory_mb,
        compiled.bundle.baked_config,
    )
    events = origin_request_events(3)
    assert [e["Records"][0]["cf"]["config"]["eventType"] for e in events] == ["origin-request"] * 3
