"""The stream-writes benchmark runs end to end against moto on loopback (no duration
asserted): both variants write every decision, and the result reads as a table."""

from __future__ import annotations

import json

import pytest

from serverless_ml.bench.stream_writes import (
    VARIANTS,
    format_stream_writes_table,
    run_stream_writes_bench,
)

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]


def test_both_variants_write_every_decision_at_each_latency() -> None:
    result = run_stream_writes_bench(rounds=1, added_latency_ms=(0.0, 1.0))
    assert [case["added_latency_ms"] for case in result["cases"]] == [0.0, 1.0]
    # priming + one round, per variant and latency: 100 fresh decisions each
    assert result["decisions_written"] == 2 * 2 * 2 * result["batch_size"]
    for case in result["cases"]:
        assert tuple(case["variants"]) == VARIANTS
        assert case["variants"]["sequential"]["max_workers"] == 1
        assert case["variants"]["concurrent"]["max_workers"] > 1
        for measured in case["variants"].values():
            assert measured["batch_ms_median"] > 0 and measured["records_per_s"] > 0
    json.dumps(result)
    table = format_stream_writes_table(result)
    assert "billed ms per record" in table and "concurrent" in table
    print(table)
