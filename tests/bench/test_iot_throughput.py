"""Structure of the IoT throughput benchmark (tiny sizes; no timing is asserted)."""

from __future__ import annotations

import json

from serverless_ml.bench.iot_throughput import (
    format_iot_table,
    kinesis_records,
    load_handler,
    run_iot_bench,
)


def test_bench_result_shape_and_table() -> None:
    result = run_iot_bench(batch_sizes=(1, 7), min_records=14, repeats=1, init_runs=1)
    json.dumps(result)
    assert result["model"]["name"] == "iot-anomaly"
    assert [row["batch_size"] for row in result["throughput"]] == [1, 7]
    for row in result["throughput"]:
        assert row["batched_records_per_s"] > 0 and row["per_record_records_per_s"] > 0
        assert (
            row["speedup"]
            == round(row["batched_records_per_s"] / row["per_record_records_per_s"], 2)
            or abs(row["speedup"] - row["batched_records_per_s"] / row["per_record_records_per_s"])
            < 0.01
        )
    assert result["init"]["runs"] == 1 and result["init"]["init_ms_median"] > 0
    table = format_iot_table(result)
    assert "batched rec/s" in table and "INIT" in table
    assert len(table.splitlines()) == 2 + 2 + 1


def test_bench_records_are_valid_kinesis_readings() -> None:
    module = load_handler()
    records = kinesis_records(120)
    assert len(records) == 120
    readings, failures = module.parse_records(records)
    assert failures == {} and len(readings) == 120
