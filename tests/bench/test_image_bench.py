"""Structure of the image benchmark: it runs the trimmed bundle's handler in a fresh
read-only process on real PNG / JPEG uploads (no timing is asserted)."""

from __future__ import annotations

import json

import pytest

from serverless_ml.bench.image_bench import format_image_table, run_image_bench

pytestmark = pytest.mark.xdist_group("bundle")


def test_bench_runs_the_bundle_and_reports_every_number() -> None:
    result = run_image_bench(repeats=1)
    json.dumps(result)
    for field in ("init_ms_median", "images_per_s_batched", "images_per_s_one_by_one",
                  "documents_per_s_batched", "bundle_arm64_zipped_mb"):  # fmt: skip
        assert result[field] > 0, field
    assert result["bundle_arm64_unzipped_mb"] < 250
    assert result["pillow_trimmed_mb"] > 5  # fonts, colour management, WebP / AVIF are gone
    table = format_image_table(result)
    assert "INIT median" in table and "documents/s" in table
