"""The program the local runner runs in a fresh interpreter that sees only the function's bundle.

Stdlib only (plus boto3 for reading the results table, as Lambda's runtime provides it): the
parent passes this file's source to ``bench.isolated.run_isolated`` and a JSON job file through
``$SML_LOCAL_JOB``. Steps: import the handler module (INIT, timed), send every HTTP event (each
call timed), then every stream batch, count the results table, replay one batch, count again.
Handler stdout (EMF metric lines) is captured and counted, not printed; the report is the last
line of stdout, as JSON.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

JOB_ENV = "SML_LOCAL_JOB"


def _call(handler: Any, event: Any) -> tuple[dict[str, Any], float]:
    """``(outcome, milliseconds)``; the outcome holds the response or the exception's text."""
    began = time.perf_counter_ns()
    try:
        response = handler(event, None)
    except Exception as error:  # a raised batch is an outcome to report, not a crash
        outcome: dict[str, Any] = {"error": f"{type(error).__name__}: {error}"}
    else:
        outcome = {"response": response}
    return outcome, (time.perf_counter_ns() - began) / 1e6


def _table_snapshot(table: str) -> dict[str, str]:
    """Key -> ``decided_at`` for every item of the results table (a full, paginated scan)."""
    import boto3  # the runtime's SDK, as the handler's own writes use

    client = boto3.client("dynamodb")
    snapshot: dict[str, str] = {}
    for page in client.get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            snapshot[item["transaction_id"]["S"]] = item.get("decided_at", {}).get("S", "")
    return snapshot


def _emf_counts(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in text.splitlines():
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if not isinstance(document, dict) or "_aws" not in document:
            continue
        for directive in document["_aws"].get("CloudWatchMetrics", []):
            for metric in directive.get("Metrics", []):
                counts[metric["Name"]] = counts.get(metric["Name"], 0) + 1
    return counts


def main() -> None:
    job = json.loads(Path(os.environ[JOB_ENV]).read_text(encoding="utf-8"))
    sys.path.append(job["sdk_path"])  # after the bundle, like the runtime's own packages
    report_stream, captured = sys.stdout, io.StringIO()
    sys.stdout = captured
    module_name, _, function_name = job["handler"].rpartition(".")
    began = time.perf_counter()
    module = importlib.import_module(module_name)
    init_ms = (time.perf_counter() - began) * 1000.0
    boto3_at_init = "boto3" in sys.modules
    handler = getattr(module, function_name)

    http, http_ms = [], []
    for event in job["http_events"]:
        outcome, ms = _call(handler, event)
        http.append(outcome)
        http_ms.append(ms)
    poison_http = [_call(handler, event)[0] for event in job["poison_http_events"]]

    stream, stream_ms = [], []
    for event in job["stream_events"]:
        outcome, ms = _call(handler, event)
        stream.append(outcome)
        stream_ms.append(ms)
    before_replay = _table_snapshot(job["results_table"])
    replay, replay_ms = _call(handler, job["stream_events"][job["replay_index"]])
    after_replay = _table_snapshot(job["results_table"])

    sys.stdout = report_stream
    numpy = sys.modules.get("numpy")
    report = {
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "numpy_file": getattr(numpy, "__file__", None),
        "init_ms": init_ms,
        "boto3_at_init": boto3_at_init,
        "http": http,
        "http_ms": http_ms,
        "poison_http": poison_http,
        "stream": stream,
        "stream_ms": stream_ms,
        "before_replay": before_replay,
        "replay": replay,
        "replay_ms": replay_ms,
        "after_replay": after_replay,
        "emf": _emf_counts(captured.getvalue()),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
