"""`bench cold-start --all` runs every reference function against its naive twin, end to end.

Structure and sanity only (one round, a few warm invokes): no duration is asserted.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
from typing import Any

import pytest

from serverless_ml.bench.every_function import format_every_function_table
from serverless_ml.bench.functions import FUNCTIONS
from serverless_ml.cli import main
from serverless_ml.spec.model import ARTIFACTS_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("bundle")]

REFERENCE_FUNCTIONS = ("fraud-detection", "iot-anomaly", "image-processing", "edge-personalization")
POSITIVE_FIELDS = (
    "init_ms_median",
    "init_ms_min",
    "first_invoke_ms_median",
    "process_ms_median",
    "no_pyc_init_ms_median",
    "pyc_speedup",
    "baseline_init_ms_median",
    "baseline_first_invoke_ms_median",
    "baseline_pyc_init_ms_median",
    "init_speedup",
    "init_speedup_vs_baseline_pyc",
    "init_ratio",
    "first_invoke_ratio",
    "init_ratio_weak",
    "first_invoke_ratio_weak",
    "warm_p50_us",
    "baseline_warm_p50_us",
    "bundle_zip_mb",
    "bundle_unzipped_mb",
    "baseline_bundle_unzipped_mb",
    "baseline_bundle_zip_mb",
)
TWIN_POSITIVE_FIELDS = (
    "init_ms_median",
    "init_ms_min",
    "first_invoke_ms_median",
    "process_ms_median",
    "init_ratio",
    "first_invoke_ratio",
)


def _positive(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    for artifact in ("fraud", "iot", "digits", "personalization"):
        if not (ARTIFACTS_ROOT / artifact / "model.onnx").is_file():
            pytest.skip(f"the {artifact} model is not built (run `serverless-ml build-models`)")
    out = io.StringIO()
    argv = ["bench", "cold-start", "--all", "--json", "--repeats", "1", "--warm-invokes", "5"]
    with contextlib.redirect_stdout(out):
        assert main(argv) == 0
    parsed: dict[str, Any] = json.loads(out.getvalue())
    return parsed


def test_one_row_per_reference_function(result: dict[str, Any]) -> None:
    rows = result["rows"]
    assert [row["function"] for row in rows] == list(REFERENCE_FUNCTIONS)
    assert [row["handler"] for row in rows] == [f.plan().handler for f in FUNCTIONS]
    assert result["repeats"] == 1 and result["warm_invokes"] == 5


def test_rows_have_positive_numbers_and_the_same_answer(result: dict[str, Any]) -> None:
    keys = set(result["rows"][0])
    for row in result["rows"]:
        assert set(row) == keys, row["function"]
        for field in POSITIVE_FIELDS:
            assert _positive(row[field]), (row["function"], field)
        for twin in (row["twin_strong"], row["twin_weak"]):
            for field in TWIN_POSITIVE_FIELDS:
                assert _positive(twin[field]), (row["function"], field)
        assert len(row["init_ms_runs"]) == len(row["baseline_pyc_init_ms_runs"]) == 1
        # Ratios are computed from the reported medians, not invented.
        ratio = row["twin_strong"]["init_ms_median"] / row["init_ms_median"]
        assert row["init_ratio"] == pytest.approx(ratio, rel=0.01)
        assert row["same_answer"] is True, row["function"]
        assert row["answer"] == row["twin_answer"] == row["twin_weak"]["answer"]
    json.dumps(result)


def test_answers_are_what_each_function_decides(result: dict[str, Any]) -> None:
    fraud, iot, image, edge = result["rows"]
    assert fraud["answer"] in ("approve", "review", "decline")
    assert fraud["score"] == pytest.approx(fraud["baseline_score"], abs=1e-4)
    assert isinstance(iot["answer"], list) and iot["answer"]  # the batch holds anomalies
    assert image["answer"] in [str(digit) for digit in range(10)]
    assert edge["answer"].startswith("/variants/")


def test_strong_twin_has_pyc_and_weak_twin_has_none(result: dict[str, Any]) -> None:
    for row in result["rows"]:
        strong, weak = row["twin_strong"], row["twin_weak"]
        assert strong["pyc"] is True and strong["pyc_files"] > 0, row["function"]
        assert weak["pyc"] is False and weak["pyc_files"] == 0, row["function"]


def test_table_shows_every_function(result: dict[str, Any]) -> None:
    table = format_every_function_table(result)
    print(table)
    for row in result["rows"]:
        assert row["function"] in table
        assert f"{row['init_ms_median']:.1f}" in table
        assert f"{row['twin_strong']['init_ms_median']:.1f}" in table
