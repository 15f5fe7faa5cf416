"""The compiled-vs-onnxruntime benchmark runs end to end and reports a well-formed result.

Structure and sanity only (no duration is asserted: shared 2-core machines are noisy); what
must hold whatever the timings: the two variants really are the two runtimes, the compiled one
loads neither numpy nor onnxruntime, both score the same transaction alike, and the compiled
bundle is a small fraction of the other.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from serverless_ml.bench.compiled_runtime import (
    VARIANTS,
    format_compiled_table,
    run_compiled_bench,
    stream_batch,
)

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("bundle")]


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    return run_compiled_bench(repeats=1, warm_calls=20)


def test_both_runtimes_are_measured_side_by_side(result: dict[str, Any]) -> None:
    variants = result["variants"]
    assert tuple(variants) == VARIANTS
    for label in VARIANTS:
        measured = variants[label]
        assert measured["init_ms_median"] > 0 and measured["bare_init_ms_median"] > 0
        for key in ("warm_single", "warm_model_call", "warm_batch_100"):
            assert 0 < measured[key]["p50_ms"] <= measured[key]["p99_ms"]
    assert variants["onnxruntime"]["numpy_loaded"] and variants["onnxruntime"]["onnxruntime_loaded"]
    assert not variants["compiled"]["numpy_loaded"]
    assert not variants["compiled"]["onnxruntime_loaded"]
    assert result["score_difference"] <= 1e-5


def test_the_compiled_bundle_is_a_fraction_of_the_onnxruntime_one(result: dict[str, Any]) -> None:
    ort, compiled = (result["variants"][v]["bundle"] for v in VARIANTS)
    assert compiled["zipped_bytes"] < 1024 * 1024 < ort["zipped_bytes"]
    assert compiled["zipped_bytes"] * 20 < ort["zipped_bytes"]


def test_the_result_is_json_and_reads_as_a_table(result: dict[str, Any]) -> None:
    json.dumps(result)
    table = format_compiled_table(result)
    assert "onnxruntime" in table and "compiled" in table and "100-record batch" in table
    print(table)


def test_the_batch_is_a_real_dynamodb_stream_shape() -> None:
    batch = stream_batch(5)
    assert len(batch["Records"]) == 5
    record = batch["Records"][0]
    assert record["eventSource"] == "aws:dynamodb" and record["eventName"] == "INSERT"
    assert "transaction_id" in record["dynamodb"]["NewImage"]
