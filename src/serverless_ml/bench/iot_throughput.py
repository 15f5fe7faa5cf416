"""IoT function throughput: Kinesis records scored per second, batched vs record by record.

In one warm in-process environment (the handler module imported once, with the committed IoT
model), for each batch size it times the handler's scoring path on Lambda-shaped Kinesis records:
base64 + JSON decoding, validation, features and inference. ``batched`` runs that path once per
batch (one onnxruntime call, as the handler does); ``per_record`` runs it once per record. The
DynamoDB / SNS writes of anomalies are left out (they depend on the network, not the function).
INIT is measured in fresh processes of this interpreter importing the handler module (the dev
environment, not the trimmed Lambda bundle: ``serverless-ml bench cold-start`` measures bundles).
"""

from __future__ import annotations

import importlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, Final

from serverless_ml.local.stream_esm import lambda_record
from serverless_ml.models.iot_data import generate_readings
from sml_handlers.runtime import env as handler_env

MODEL_DIR: Final = Path(__file__).resolve().parents[1] / "models" / "artifacts" / "iot"
BATCH_SIZES: Final = (1, 100, 1000)
STREAM_ARN: Final = "arn:aws:kinesis:us-east-1:123456789012:stream/iot-bench"
_INIT_CHILD: Final = """
import json, time
start = time.perf_counter()
import sml_handlers.iot.handler as handler
total = (time.perf_counter() - start) * 1000.0
print(json.dumps({"init_ms": total, "session_ms": handler.MODEL.load_ms,
                  "warm_up_ms": handler.MODEL.warm_up_ms}))
"""


def load_handler(model_dir: Path = MODEL_DIR) -> ModuleType:
    """``sml_handlers.iot.handler`` imported (INIT) with ``model_dir``; the env is restored."""
    previous = os.environ.get(handler_env.MODEL_DIR)
    os.environ[handler_env.MODEL_DIR] = str(model_dir)
    try:
        return importlib.import_module("sml_handlers.iot.handler")
    finally:
        if previous is None:
            os.environ.pop(handler_env.MODEL_DIR, None)
        else:
            os.environ[handler_env.MODEL_DIR] = previous


def kinesis_records(n: int, *, seed: int = 7) -> list[dict[str, Any]]:
    """``n`` Lambda-shaped Kinesis records carrying generated readings."""
    steps = max(1, -(-n // 50))
    readings, _ = generate_readings(50, steps, seed=seed, device_prefix="bench")
    return [
        lambda_record(
            {
                "SequenceNumber": f"4959{i:052d}",
                "Data": json.dumps(reading).encode("utf-8"),
                "PartitionKey": reading["device_id"],
            },
            stream_arn=STREAM_ARN,
            shard_id="shardId-000000000000",
        )
        for i, reading in enumerate(readings[:n])
    ]


def _scoring_path(module: ModuleType) -> Callable[[Sequence[Any]], int]:
    """The handler's decode -> validate -> features -> one inference, on a list of records."""
    parse_records = module.parse_records
    feature_vector = module.feature_vector
    predict = module.MODEL.predict

    def score(records: Sequence[Any]) -> int:
        readings, _ = parse_records(records)
        predict([feature_vector(r) for _, r in readings])
        return len(readings)

    return score


def _rate(action: Callable[[], int], *, min_records: int, repeats: int) -> float:
    """Median records per second over ``repeats`` timings of at least ``min_records`` each."""
    rates: list[float] = []
    for _ in range(repeats):
        done, start = 0, time.perf_counter()
        while done < min_records:
            done += action()
        rates.append(done / (time.perf_counter() - start))
    return statistics.median(rates)


def measure_init(runs: int, *, python: str | None = None) -> dict[str, Any]:
    """Median INIT (import of the handler module: model load + warm-up) in fresh processes."""
    env = {**os.environ, handler_env.MODEL_DIR: str(MODEL_DIR), "PYTHONDONTWRITEBYTECODE": "1"}
    samples: list[dict[str, float]] = []
    for _ in range(runs):
        out = subprocess.run(
            [python or sys.executable, "-c", _INIT_CHILD],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        samples.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {
        "runs": runs,
        "python": python or sys.executable,
        **{
            f"{name}_median": round(statistics.median(s[name] for s in samples), 2)
            for name in ("init_ms", "session_ms", "warm_up_ms")
        },
        "init_ms_min": round(min(s["init_ms"] for s in samples), 2),
        "environment": "fresh process, dev virtualenv (not the trimmed Lambda bundle)",
    }


def run_iot_bench(
    *,
    batch_sizes: Sequence[int] = BATCH_SIZES,
    min_records: int = 3000,
    repeats: int = 5,
    init_runs: int = 5,
) -> dict[str, Any]:
    """Records/s batched vs record by record per batch size, and INIT; a JSON-ready dict."""
    module = load_handler()
    score = _scoring_path(module)
    rows: list[dict[str, Any]] = []
    for size in batch_sizes:
        records = kinesis_records(size)
        score(records)  # warm this path once
        singles = [[record] for record in records]

        def batch(records: list[dict[str, Any]] = records) -> int:
            return score(records)

        def one_by_one(singles: list[list[dict[str, Any]]] = singles) -> int:
            return sum(score(single) for single in singles)

        batched = _rate(batch, min_records=min_records, repeats=repeats)

        per_record = _rate(one_by_one, min_records=min_records, repeats=repeats)
        rows.append(
            {
                "batch_size": size,
                "batched_records_per_s": round(batched, 1),
                "per_record_records_per_s": round(per_record, 1),
                "speedup": round(batched / per_record, 2),
            }
        )
    return {
        "benchmark": "iot-throughput",
        "model": {"name": module.MODEL.name, "version": module.MODEL.version},
        "intra_op_threads": module.MODEL.intra_op_threads,
        "path": "base64+JSON decode, validation, features, onnxruntime (AWS writes excluded)",
        "min_records_per_timing": min_records,
        "repeats": repeats,
        "throughput": rows,
        "init": measure_init(init_runs) if init_runs > 0 else None,
    }


def format_iot_table(result: dict[str, Any]) -> str:
    """A plain-text table of ``run_iot_bench``'s result."""
    lines = [
        f"IoT anomaly function ({result['model']['name']} {result['model']['version']}), "
        f"{result['intra_op_threads']} ORT thread(s); {result['path']}",
        f"{'batch':>6}  {'batched rec/s':>14}  {'one-by-one rec/s':>17}  {'speedup':>8}",
    ]
    for row in result["throughput"]:
        lines.append(
            f"{row['batch_size']:>6}  {row['batched_records_per_s']:>14,.0f}  "
            f"{row['per_record_records_per_s']:>17,.0f}  {row['speedup']:>7.2f}x"
        )
    init = result.get("init")
    if init:
        lines.append(
            f"INIT (import handler: model load + warm-up), median of {init['runs']}: "
            f"{init['init_ms_median']:.0f} ms (min {init['init_ms_min']:.0f}; session "
            f"{init['session_ms_median']:.1f} ms, warm-up {init['warm_up_ms_median']:.2f} ms); "
            f"{init['environment']}"
        )
    return "\n".join(lines)
