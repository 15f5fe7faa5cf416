"""Compiled runtime vs onnxruntime, on the fraud function, in one run.

Both variants are the fraud reference stack's function (its plan, memory and environment);
one serves the GBDT through onnxruntime (the default), the other through
``ModelArtifact(runtime="compiled")``: ``model/compiled_model.py`` and no third-party package.
Each bundle is copied read-only and run by fresh ``-I -B`` interpreters that see only it
(``bench.isolated``), alternating run by run. Measured per variant:

- INIT: import of the handler module (model loaded and warmed), median of the runs: in a bare
  interpreter, and after the modules Lambda's own bootstrap imports first (the Lambda figure);
- warm ``handler()`` on one HTTP API 2.0 transaction, and the model call alone, p50/p99;
- warm ``handler()`` on a 100-record DynamoDB stream batch (decisions written to an in-process
  stand-in for DynamoDB, so the figure is our code, not the network), p50/p99;
- bundle sizes: the deployed (arm64) artifact, zipped and unzipped.
"""

from __future__ import annotations

import dataclasses
import json
import statistics
import time
from pathlib import Path
from typing import Any, Final

from serverless_ml.bench.cold_start import (
    fraud_function_plan,
    host_architecture,
    lambda_environment,
    resolve_python,
    sample_event,
    task_roots,
)
from serverless_ml.bench.figures import kb, latency_summary, local_and_deployed, ms, row
from serverless_ml.bench.isolated import run_isolated
from serverless_ml.bundling import spec_from_plan
from serverless_ml.bundling.cache import default_cache_dir
from serverless_ml.core.plan_types import FunctionPlan
from serverless_ml.spec.model import ModelArtifact
from sml_handlers.runtime import env as handler_env

VARIANTS: Final = ("onnxruntime", "compiled")
BATCH_SIZE: Final = 100
WARM_CALLS: Final = 2000
BATCH_CALLS: Final = 200
BATCH_SEED: Final = 77
TARGET_INIT_RATIO: Final = 5.0  # compiled INIT at most a fifth of onnxruntime's
TARGET_SINGLE_P99_MS: Final = 1.0

# What Lambda's Python bootstrap (awslambdaric bootstrap.py) has imported before it imports the
# handler: INIT on Lambda includes them whatever the handler does, so they are loaded before
# the clock starts in the "after bootstrap" figure.
BOOTSTRAP_IMPORTS: Final = "importlib, json, logging, os, sys, time, traceback"

_CHILD: Final = """
import os, sys, time
{preload}
import json
_out = sys.stdout
sys.stdout = open(os.devnull, "w")
start = time.perf_counter()
import importlib
module = importlib.import_module({module!r})
init_ms = (time.perf_counter() - start) * 1000.0
event = json.loads({event!r})
batch = json.loads({batch!r})
warm = {warm}
response = module.handler(event, None)


class _Exceptions:
    ConditionalCheckFailedException = type("ConditionalCheckFailedException", (Exception,), {{}})


class _Table:
    exceptions = _Exceptions()

    def put_item(self, **request):
        return {{}}


from sml_handlers.runtime import aws
aws._clients["dynamodb"] = _Table()


def timed(action, calls):
    values = []
    for _ in range(calls):
        began = time.perf_counter_ns()
        action()
        values.append((time.perf_counter_ns() - began) / 1000.0)
    return values


single, model, batched = [], [], []
if warm:
    body = json.loads(event["body"])
    from sml_handlers.fraud.features import feature_vector, parse_transaction
    row = feature_vector(parse_transaction(body))
    for _ in range(200):
        module.handler(event, None)
        module.handler(batch, None)
    single = timed(lambda: module.handler(event, None), warm)
    model = timed(lambda: module.score([row]), warm)
    batched = timed(lambda: module.handler(batch, None), {batch_calls})
    result = module.handler(batch, None)
    assert result == {{"batchItemFailures": []}}, result
sys.stdout = _out
print(json.dumps({{
    "init_ms": init_ms,
    "status": response["statusCode"],
    "score": json.loads(response["body"])["score"],
    "runtime": module.MODEL.runtime,
    "numpy_loaded": "numpy" in sys.modules,
    "onnxruntime_loaded": "onnxruntime" in sys.modules,
    "single_us": single,
    "model_us": model,
    "batch_us": batched,
}}))
"""


def stream_batch(n: int = BATCH_SIZE, *, seed: int = BATCH_SEED) -> dict[str, Any]:
    """A DynamoDB stream batch of ``n`` generated transactions (INSERT, NEW_IMAGE)."""
    from serverless_ml.local.events import as_lambda_record, to_item
    from serverless_ml.models.fraud_data import generate_transactions

    transactions, _labels = generate_transactions(n, seed=seed)
    stream_arn = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x"
    return {
        "Records": [
            as_lambda_record(
                {
                    "eventID": f"bench-{i}",
                    "eventName": "INSERT",
                    "eventSource": "aws:dynamodb",
                    "awsRegion": "us-east-1",
                    "dynamodb": {
                        "Keys": {"transaction_id": {"S": str(txn["transaction_id"])}},
                        "NewImage": to_item(txn),
                        "SequenceNumber": f"{10**20 + i}",
                        "SizeBytes": 512,
                        "StreamViewType": "NEW_AND_OLD_IMAGES",
                    },
                },
                stream_arn,
            )
            for i, txn in enumerate(transactions)
        ]
    }


def compiled_function_plan() -> FunctionPlan:
    """The fraud function with its model served compiled."""
    from serverless_ml.core.plan import build_plan
    from serverless_ml.reference.scenarios import SCENARIOS

    spec = SCENARIOS["fraud-detection"]()
    spec = dataclasses.replace(spec, model=ModelArtifact.packaged("fraud", runtime="compiled"))
    return build_plan(spec).function


def run_compiled_bench(
    *,
    repeats: int = 10,
    warm_calls: int = WARM_CALLS,
    target_python: str | None = None,
    cache_dir: Path | None = None,
) -> dict[str, Any]:
    """Measure both runtimes (see module doc); a JSON-ready dict."""
    if repeats < 1:
        raise ValueError("repeats must be >= 1")
    root = default_cache_dir(cache_dir)
    functions = {"onnxruntime": fraud_function_plan(), "compiled": compiled_function_plan()}
    specs = {label: spec_from_plan(f, cache_dir=root) for label, f in functions.items()}
    python, version, interpreter, notes = resolve_python(
        specs["onnxruntime"].python_version, target_python
    )
    architecture = host_architecture()
    local, deployed, warned = local_and_deployed(
        specs, python=python, version=version, architecture=architecture, cache_dir=root
    )
    notes.extend(warned)
    event_json = json.dumps(sample_event())
    batch_json = json.dumps(stream_batch())
    module = functions["onnxruntime"].handler.rsplit(".", 1)[0]
    runs: dict[str, list[dict[str, Any]]] = {label: [] for label in VARIANTS}
    with task_roots({label: (b.path, True) for label, b in local.items()}) as roots:

        def run(label: str, warm: int, *, bootstrap: bool = True) -> dict[str, Any]:
            code = _CHILD.format(
                preload=f"import {BOOTSTRAP_IMPORTS}" if bootstrap else "",
                module=module,
                event=event_json,
                batch=batch_json,
                warm=warm,
                batch_calls=max(1, warm // 10),
            )
            env = {
                **lambda_environment(functions[label], roots[label]),
                handler_env.RESULTS_TABLE: "bench-decisions",
                "AWS_DEFAULT_REGION": "us-east-1",
            }
            began = time.perf_counter()
            result = run_isolated(python, roots[label], code, env=env)
            result["process_ms"] = (time.perf_counter() - began) * 1000.0
            if result["status"] != 200 or result["runtime"] != label:
                raise RuntimeError(f"{label}: {result['status']} from {result['runtime']}")
            return result

        for label in VARIANTS:  # priming: page cache warm for both alike
            run(label, 0)
        bare: dict[str, list[dict[str, Any]]] = {label: [] for label in VARIANTS}
        for _ in range(repeats):
            for label in VARIANTS:
                runs[label].append(run(label, 0))
                bare[label].append(run(label, 0, bootstrap=False))
        warm = {label: run(label, warm_calls) for label in VARIANTS}
    variants: dict[str, Any] = {}
    for label in VARIANTS:
        variants[label] = {
            "init_ms_median": round(statistics.median(r["init_ms"] for r in runs[label]), 2),
            "init_ms_min": round(min(r["init_ms"] for r in runs[label]), 2),
            "bare_init_ms_median": round(statistics.median(r["init_ms"] for r in bare[label]), 2),
            "process_ms_median": round(statistics.median(r["process_ms"] for r in runs[label]), 1),
            "warm_single": latency_summary(warm[label]["single_us"]),
            "warm_model_call": latency_summary(warm[label]["model_us"]),
            "warm_batch_100": latency_summary(warm[label]["batch_us"]),
            "numpy_loaded": warm[label]["numpy_loaded"],
            "onnxruntime_loaded": warm[label]["onnxruntime_loaded"],
            "score": warm[label]["score"],
            "bundle": {
                "zipped_bytes": deployed[label].zipped_bytes,
                "unzipped_bytes": deployed[label].unzipped_bytes,
                "architecture": deployed[label].architecture,
                "content_hash": deployed[label].content_hash[:16],
            },
        }
    ort, compiled = variants["onnxruntime"], variants["compiled"]
    ratio = ort["init_ms_median"] / compiled["init_ms_median"]
    notes.append(
        f"INIT = import of the handler module in a fresh `{Path(python).name} -I -B` process "
        f"that sees only the read-only bundle, after importing what Lambda's bootstrap imports "
        f"first ({BOOTSTRAP_IMPORTS}; 'bare': nothing preloaded); medians of {repeats} "
        "alternating runs after one "
        f"priming run each; warm figures from {warm_calls} calls ({max(1, warm_calls // 10)} "
        f"for the {BATCH_SIZE}-record batch) in one process per variant"
    )
    return {
        "function": functions["onnxruntime"].name,
        "memory_mb": functions["onnxruntime"].memory_mb,
        "interpreter": interpreter,
        "host_architecture": architecture,
        "repeats": repeats,
        "variants": variants,
        "init_speedup": round(ratio, 2),
        "bare_init_speedup": round(ort["bare_init_ms_median"] / compiled["bare_init_ms_median"], 2),
        "score_difference": round(abs(ort["score"] - compiled["score"]), 7),
        "targets": {
            "init_at_most_a_fifth": ratio >= TARGET_INIT_RATIO,
            "single_p99_under_1ms": compiled["warm_single"]["p99_ms"] < TARGET_SINGLE_P99_MS,
        },
        "notes": notes,
    }


def format_compiled_table(result: dict[str, Any]) -> str:
    """The result as a side-by-side table a person reads at a glance."""
    ort, compiled = result["variants"]["onnxruntime"], result["variants"]["compiled"]

    lines = [
        f"{result['function']} ({result['memory_mb']} MB), {result['interpreter']}",
        row("", "onnxruntime", "compiled"),
        row(
            "INIT after bootstrap (median)",
            ms(ort["init_ms_median"]),
            ms(compiled["init_ms_median"]),
        ),
        row(
            "INIT bare interpreter (median)",
            ms(ort["bare_init_ms_median"]),
            ms(compiled["bare_init_ms_median"]),
        ),
        row(
            "fresh process, whole (median)",
            ms(ort["process_ms_median"]),
            ms(compiled["process_ms_median"]),
        ),
    ]
    for key, label in (
        ("warm_single", "warm handler, 1 txn"),
        ("warm_model_call", "warm model call, 1 row"),
        ("warm_batch_100", f"warm handler, {BATCH_SIZE}-record batch"),
    ):
        for stat in ("p50_ms", "p99_ms"):
            lines.append(row(f"{label} {stat[:3]}", ms(ort[key][stat]), ms(compiled[key][stat])))
    for key, label in (("zipped_bytes", "bundle zipped"), ("unzipped_bytes", "bundle unzipped")):
        lines.append(
            row(
                f"{label} ({ort['bundle']['architecture']})",
                kb(ort["bundle"][key]),
                kb(compiled["bundle"][key]),
            )
        )
    targets = result["targets"]
    lines.append(
        f"  INIT {result['init_speedup']}x faster compiled "
        f"(target >= {TARGET_INIT_RATIO:g}x: {'met' if targets['init_at_most_a_fifth'] else 'MISSED'}); "
        f"single-transaction p99 {compiled['warm_single']['p99_ms']:.3f} ms "
        f"(target < 1 ms: {'met' if targets['single_p99_under_1ms'] else 'MISSED'}); "
        f"score difference {result['score_difference']:g}"
    )
    lines.extend(f"  note: {note}" for note in result["notes"])
    return "\n".join(lines)
