"""The cold-start benchmark runs end to end and reports a well-formed result.

Structure and sanity only: timings on a shared 2-core machine are noisy, so no threshold on any
duration is asserted (the numbers are printed; `serverless-ml bench cold-start` reports them).
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from serverless_ml.bench.cold_start import (
    format_cold_start_table,
    fraud_function_plan,
    run_cold_start_bench,
)
from serverless_ml.core.limits import LAMBDA_UNZIPPED_BYTES, LAMBDA_ZIP_DIRECT_UPLOAD_BYTES
from serverless_ml.spec.model import ARTIFACTS_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("bundle")]

MB = 2**20
POSITIVE_FIELDS = (
    "init_ms_median",
    "init_ms_min",
    "first_invoke_ms_median",
    "process_ms_median",
    "no_pyc_init_ms_median",
    "baseline_init_ms_median",
    "baseline_pyc_init_ms_median",
    "init_speedup_vs_baseline_pyc",
    "baseline_first_invoke_ms_median",
    "baseline_process_ms_median",
    "init_speedup",
    "pyc_speedup",
    "warm_p50_us",
    "warm_p99_us",
    "baseline_warm_p50_us",
    "baseline_warm_p99_us",
    "bundle_zip_mb",
    "bundle_unzipped_mb",
    "baseline_bundle_unzipped_mb",
    "baseline_bundle_zip_mb",
)


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    if not (ARTIFACTS_ROOT / "fraud" / "model.onnx").is_file():
        pytest.skip("the fraud model is not built (run `serverless-ml build-models`)")
    return run_cold_start_bench(repeats=2, warm_invokes=200)


def test_result_has_every_field_with_sane_values(result: dict[str, Any]) -> None:
    for field in POSITIVE_FIELDS:
        value = result[field]
        assert isinstance(value, int | float) and math.isfinite(value) and value > 0, field
    function = fraud_function_plan()
    assert (result["function"], result["handler"]) == (function.name, function.handler)
    assert result["memory_mb"] == function.memory_mb
    assert result["repeats"] == 2 and result["warm_invokes"] == 200
    assert result["architecture"] in ("x86_64", "arm64")
    assert isinstance(result["pyc_compiled"], bool)
    assert isinstance(result["interpreter"], str) and result["interpreter"]
    assert all(isinstance(note, str) and note for note in result["notes"])
    for runs in (
        "init_ms_runs",
        "no_pyc_init_ms_runs",
        "baseline_init_ms_runs",
        "baseline_pyc_init_ms_runs",
    ):
        assert len(result[runs]) == 2 and all(value > 0 for value in result[runs])
    # Derived figures are computed from the reported medians, not invented.
    ratio = result["baseline_init_ms_median"] / result["init_ms_median"]
    assert result["init_speedup"] == pytest.approx(ratio, rel=0.01)
    assert result["init_ms_min"] <= result["init_ms_median"]
    assert result["warm_p50_us"] <= result["warm_p99_us"]
    json.dumps(result)  # the CLI's --json output


def test_bundles_fit_lambda_and_both_handlers_agree(result: dict[str, Any]) -> None:
    deploy = result["deploy_bundle"]
    assert deploy["architecture"] == "arm64" and deploy["python_version"] == "3.13"
    for unzipped, zipped in (
        (result["bundle_unzipped_mb"], result["bundle_zip_mb"]),
        (deploy["unzipped_mb"], deploy["zip_mb"]),
    ):
        assert 0 < zipped < unzipped < LAMBDA_UNZIPPED_BYTES / MB
        assert zipped < LAMBDA_ZIP_DIRECT_UPLOAD_BYTES / MB
    assert result["baseline_bundle_unzipped_mb"] > result["bundle_unzipped_mb"]
    # The same transaction scored by ONNX Runtime (ours) and scikit-learn (baseline).
    assert 0.0 <= result["score"] <= 1.0
    assert result["score"] == pytest.approx(result["baseline_score"], abs=1e-4)


def test_table_shows_the_measured_numbers(result: dict[str, Any]) -> None:
    table = format_cold_start_table(result)
    print(table)
    assert f"{result['init_ms_median']:.1f}" in table
    assert f"{result['baseline_init_ms_median']:.1f}" in table
    assert f"{result['init_speedup']:.1f}x" in table
    assert "naive sklearn + joblib" in table
