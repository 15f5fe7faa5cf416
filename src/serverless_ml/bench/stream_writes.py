"""Stream batches end to end: the fraud handler's conditional puts one after another vs
overlapped (``runtime.concurrent_writes``), against a moto server on loopback, in one run.

Each round hands the handler a fresh 100-record DynamoDB stream batch (new transaction ids, so
every put writes), alternating the variants; the handler is the real one (model, features,
conditional idempotent puts over HTTP to moto). Reported per variant: batch duration
(median, p90), records per second, and billed milliseconds per record (Lambda bills the
duration rounded up to the millisecond). Loopback has no network round trip, so each case is
run as it is and with a stand-in delay per put (``added_latency_ms``).
"""

from __future__ import annotations

import contextlib
import copy
import io
import math
import os
import statistics
import time
from collections.abc import Iterator
from typing import Any, Final

from serverless_ml.bench.compiled_runtime import stream_batch
from serverless_ml.bench.figures import percentile
from sml_handlers.runtime import env as handler_env

VARIANTS: Final = ("sequential", "concurrent")
BATCH_SIZE: Final = 100
TABLE: Final = "bench-decisions"
# Loopback as it is, and with a round trip like DynamoDB's from Lambda in the same region.
ADDED_LATENCY_MS: Final = (0.0, 5.0)


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _batch(round_number: int, variant: str) -> dict[str, Any]:
    """A fresh batch: the generator's transactions under ids no earlier round used."""
    event = copy.deepcopy(stream_batch(BATCH_SIZE))
    for i, record in enumerate(event["Records"]):
        new_id = f"bench-{variant}-{round_number}-{i}"
        record["dynamodb"]["Keys"]["transaction_id"] = {"S": new_id}
        record["dynamodb"]["NewImage"]["transaction_id"] = {"S": new_id}
    return event


def run_stream_writes_bench(
    *, rounds: int = 10, added_latency_ms: tuple[float, ...] = ADDED_LATENCY_MS
) -> dict[str, Any]:
    """Measure both variants at each added per-put latency (see module doc); JSON-ready."""
    if rounds < 1:
        raise ValueError("rounds must be >= 1")
    from serverless_ml.local.moto_server import moto_server
    from serverless_ml.models.build import ARTIFACTS_ROOT

    with (
        moto_server() as endpoint,
        _environment(
            {
                "AWS_ENDPOINT_URL": endpoint,
                "AWS_ACCESS_KEY_ID": "bench",
                "AWS_SECRET_ACCESS_KEY": "bench",
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_REGION": "us-east-1",
                handler_env.MODEL_DIR: os.environ.get(
                    handler_env.MODEL_DIR, str(ARTIFACTS_ROOT / "fraud")
                ),
                handler_env.RESULTS_TABLE: TABLE,
            }
        ),
        contextlib.redirect_stdout(io.StringIO()),
    ):  # the handler's EMF lines
        from sml_handlers.fraud import handler as fraud
        from sml_handlers.runtime import aws, concurrent_writes

        aws.reset_clients()
        client = aws.client("dynamodb")
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "transaction_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "transaction_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        workers = {"sequential": 1, "concurrent": concurrent_writes.MAX_WORKERS}
        delay = [0.0]

        def network(**_: Any) -> None:  # botocore hook: the round trip AWS would add
            if delay[0]:
                time.sleep(delay[0])

        client.meta.events.register("before-send.dynamodb.PutItem", network)
        timings: dict[tuple[float, str], list[float]] = {}
        saved = fraud.WRITE_CONCURRENCY
        try:
            for latency in added_latency_ms:
                delay[0] = latency / 1000.0
                for variant in VARIANTS:  # priming: clients, connections, page cache
                    fraud.WRITE_CONCURRENCY = workers[variant]
                    fraud.handler(_batch(-1, f"{variant}-{latency}"), None)
                for round_number in range(rounds):
                    for variant in VARIANTS:
                        fraud.WRITE_CONCURRENCY = workers[variant]
                        event = _batch(round_number, f"{variant}-{latency}")
                        began = time.perf_counter()
                        response = fraud.handler(event, None)
                        elapsed = (time.perf_counter() - began) * 1000.0
                        timings.setdefault((latency, variant), []).append(elapsed)
                        if response != {"batchItemFailures": []}:
                            raise RuntimeError(f"{variant}: records failed: {response}")
            written = int(client.scan(TableName=TABLE, Select="COUNT")["Count"])
        finally:
            fraud.WRITE_CONCURRENCY = saved
            client.meta.events.unregister("before-send.dynamodb.PutItem", network)
            aws.reset_clients()
    cases = []
    for latency in added_latency_ms:
        variants = {v: _summary(timings[latency, v], workers[v]) for v in VARIANTS}
        cases.append(
            {
                "added_latency_ms": latency,
                "variants": variants,
                "speedup": round(
                    variants["sequential"]["batch_ms_median"]
                    / variants["concurrent"]["batch_ms_median"],
                    2,
                ),
            }
        )
    return {
        "function": "fraud-detection (stream path)",
        "batch_size": BATCH_SIZE,
        "rounds": rounds,
        "cases": cases,
        "decisions_written": written,
        "notes": [
            f"the real fraud handler in this process, {rounds} alternating rounds per variant "
            "after one priming batch each, conditional puts over HTTP to moto_server on "
            "127.0.0.1 (which shares this machine's 2 cores with the handler); "
            "'added latency' sleeps in botocore's before-send hook of each PutItem, standing "
            "in for the network round trip to DynamoDB that loopback does not have"
        ],
    }


def _summary(values: list[float], workers: int) -> dict[str, Any]:
    ordered = sorted(values)
    median = statistics.median(ordered)
    return {
        "max_workers": workers,
        "batch_ms_median": round(median, 2),
        "batch_ms_p90": round(percentile(ordered, 0.9), 2),
        "batch_ms_spread": [round(ordered[0], 2), round(ordered[-1], 2)],
        "records_per_s": round(BATCH_SIZE / (median / 1000.0), 1),
        "billed_ms_per_record": round(math.ceil(median) / BATCH_SIZE, 2),
    }


def format_stream_writes_table(result: dict[str, Any]) -> str:
    def row(label: str, left: str, right: str) -> str:
        return f"  {label:<34}{left:>14}{right:>18}"

    lines = [
        f"{result['function']}: {result['batch_size']}-record batches, {result['rounds']} rounds"
    ]
    for case in result["cases"]:
        s, c = case["variants"]["sequential"], case["variants"]["concurrent"]
        lines += [
            f"  + {case['added_latency_ms']:g} ms per put:",
            row("", "sequential", f"concurrent ({c['max_workers']})"),
            row("batch, median", f"{s['batch_ms_median']:.1f} ms", f"{c['batch_ms_median']:.1f} ms"),
            row("batch, p90", f"{s['batch_ms_p90']:.1f} ms", f"{c['batch_ms_p90']:.1f} ms"),
            row("records/s", f"{s['records_per_s']:,.0f}", f"{c['records_per_s']:,.0f}"),
            row("billed ms per record", f"{s['billed_ms_per_record']:.2f}",
                f"{c['billed_ms_per_record']:.2f}"),
            f"    {case['speedup']}x faster with overlapped writes",
        ]  # fmt: skip
    lines.append(f"  {result['decisions_written']} decisions written")
    lines.extend(f"  note: {note}" for note in result["notes"])
    return "\n".join(lines)
