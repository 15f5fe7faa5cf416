"""Lambda Managed Instances send one execution environment several requests at once. The Python
runtime gives each its own process, but nothing in the handlers may rely on that: here the
fraud and IoT handlers, imported once, serve 200 invocations from 16 threads at once (HTTP
requests, DynamoDB stream batches, Kinesis batches) against moto, and every answer, every
row written and every alert equals what the same invocations give one after another. The
shared pieces hold: one ONNX Runtime session per model (``InferenceSession.run`` is
thread-safe), one boto3 client per service (created under a lock), whole EMF lines on stdout,
one ``ColdStart`` per environment. SnapStart hooks do not apply (no ``snapshot_restore_py``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from serverless_ml.local.events import stream_batches
from sml_handlers.runtime import aws
from sml_handlers.runtime.metrics import Metrics
from sml_handlers.runtime.model import environment_share, intra_op_threads, load_model
from tests.function_code import iot_support
from tests.function_code.handler_events import (
    DECISIONS_TABLE,
    StreamTables,
    http_event,
    sample_transactions,
    to_item,
)
from tests.function_code.handlers import import_with_model

THREADS = 16
HTTP_REQUESTS = 120
FRAUD_BATCHES = 40  # of 5 records
IOT_BATCHES = 40  # of 6 readings
INVOCATIONS = HTTP_REQUESTS + FRAUD_BATCHES + IOT_BATCHES
FRAUD_MODEL_DIR = Path(__file__).resolve().parents[2] / "src/serverless_ml/models/artifacts/fraud"

Invocation = tuple[str, Callable[[dict[str, Any], Any], dict[str, Any]], dict[str, Any]]


@pytest.fixture(scope="module")
def fraud() -> Any:
    return import_with_model("sml_handlers.fraud.handler", FRAUD_MODEL_DIR)


@pytest.fixture(scope="module")
def iot() -> Any:
    return iot_support.iot_handler()


@pytest.fixture
def environment(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SML_RESULTS_TABLE", DECISIONS_TABLE)  # the fraud handler's


def _fraud_stream_events() -> list[dict[str, Any]]:
    """Stream batches as Lambda delivers them, read from a moto table's real stream (one
    poison record in every fourth batch: a transaction without an amount)."""
    txns = sample_transactions(FRAUD_BATCHES * 5, seed=71)
    for i in range(0, len(txns), 20):
        del txns[i]["amount"]
    with mock_aws():
        tables = StreamTables()
        for txn in txns:
            tables.put(to_item(txn))
        records = tables.next_batch()["Records"]
    assert len(records) == len(txns)
    return stream_batches(records, 5)


def _iot_events() -> list[dict[str, Any]]:
    readings = iot_support.mixed_readings(IOT_BATCHES * 5, IOT_BATCHES, seed=29)
    payloads = [iot_support.encode(r) for r in readings]
    batches = [payloads[i : i + 6] for i in range(0, len(payloads), 6)]
    batches[3][2] = b"not json"  # a poison record
    return [iot_support.kinesis_event(batch) for batch in batches]


@pytest.fixture
def invocations(environment: None, fraud: Any, iot: Any) -> list[Invocation]:
    txns = sample_transactions(HTTP_REQUESTS, seed=5)
    http = [("http", fraud.handler, http_event(json.dumps(t))) for t in txns]
    stream = [("fraud-stream", fraud.handler, e) for e in _fraud_stream_events()]
    kinesis = [("iot", iot.handler, e) for e in _iot_events()]
    assert (len(http), len(stream), len(kinesis)) == (HTTP_REQUESTS, FRAUD_BATCHES, IOT_BATCHES)
    # Interleaved, so every kind runs alongside every other.
    mixed = [x for group in zip(http[:40], stream, kinesis, strict=True) for x in group]
    return mixed + http[40:]


class World:
    """The AWS side of one run, in moto: decisions, anomalies and alerts."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        dynamodb = boto3.client("dynamodb")
        dynamodb.create_table(
            TableName=DECISIONS_TABLE,
            KeySchema=[{"AttributeName": "transaction_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "transaction_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        self.dynamodb = dynamodb
        self.iot = iot_support.AwsResources()
        monkeypatch.setenv("SML_ALERT_TOPIC_ARN", self.iot.topic_arn)
        monkeypatch.setenv("SML_RESULTS_TABLE", DECISIONS_TABLE)

    def state(self) -> dict[str, Any]:
        """What the invocations left behind, without the write-time timestamps."""
        decisions = self.dynamodb.scan(TableName=DECISIONS_TABLE)["Items"]
        anomalies = self.iot.anomalies()
        alerts = self.iot.alerts()
        return {
            "decisions": sorted(
                json.dumps({k: v for k, v in d.items() if k != "decided_at"}, sort_keys=True)
                for d in decisions
            ),
            "anomalies": sorted(
                json.dumps({k: v for k, v in a.items() if k != "detected_at"}, sort_keys=True)
                for a in anomalies.values()
            ),
            "alerts": sorted(json.dumps(a, sort_keys=True) for a in alerts),
        }


@pytest.fixture
def client_creations(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Every boto3 client the handlers' runtime (``runtime.aws``) creates, by service (the
    test's own clients, from other sessions, are not counted)."""
    created: Counter[str] = Counter()
    real = boto3.session.Session.client

    def counting(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        if self is aws._session:
            created[service_name] += 1
        return real(self, service_name, *args, **kwargs)

    monkeypatch.setattr(boto3.session.Session, "client", counting)
    yield created


def _run(calls: list[Invocation], *, threads: int) -> list[dict[str, Any]]:
    start = threading.Barrier(min(threads, len(calls)))

    def one(item: Invocation) -> dict[str, Any]:
        _, handler, event = item
        if threads > 1:
            with contextlib.suppress(threading.BrokenBarrierError):
                start.wait(timeout=0.5)  # the first wave starts together
        response: dict[str, Any] = handler(event, None)
        return response

    if threads == 1:
        return [one(item) for item in calls]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(one, calls))


def _separate_tables(monkeypatch: pytest.MonkeyPatch, iot: Any) -> None:
    """The fraud handler writes to the decisions table, the IoT one to its anomalies table:
    both read ``SML_RESULTS_TABLE``, so the IoT handler's reader is pointed at its own."""
    real = iot._env

    def iot_env(name: str) -> str:
        if name == iot.RESULTS_TABLE_ENV:
            return iot_support.ANOMALIES_TABLE
        result: str = real(name)
        return result

    monkeypatch.setattr(iot, "_env", iot_env)


def test_concurrent_invocations_answer_as_sequential_ones(
    environment: None,
    fraud: Any,
    iot: Any,
    invocations: list[Invocation],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    client_creations: Counter[str],
) -> None:
    _separate_tables(monkeypatch, iot)
    assert len(invocations) == INVOCATIONS
    with mock_aws():
        world = World(monkeypatch)
        sequential = _run(invocations, threads=1)
        expected_state = world.state()
    aws.reset_clients()
    client_creations.clear()
    capsys.readouterr()
    caplog.clear()
    caplog.set_level(logging.INFO, logger="sml_handlers")
    for module in (fraud, iot):  # a fresh environment: its first request is the cold one
        monkeypatch.setattr(module.METRICS, "_cold", True)
    with mock_aws():
        world = World(monkeypatch)
        concurrent = _run(invocations, threads=THREADS)
        state = world.state()

    assert concurrent == sequential  # every answer, in order of the invocations
    assert state == expected_state  # every decision, anomaly row and alert
    assert expected_state["decisions"] and expected_state["anomalies"] and expected_state["alerts"]
    failed = [r for r in concurrent if r.get("batchItemFailures")]
    assert len(failed) >= 2  # the poison records were reported, not lost in the crowd

    # One client per service, shared by both handlers' threads.
    assert client_creations == Counter({"dynamodb": 1, "sns": 1})
    assert set(aws.cached_client_names()) == {"dynamodb", "sns"}

    # Whole EMF documents, one per line: one ColdStart per handler, one latency per model call.
    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    names = Counter(
        m["Name"] for d in documents for m in d["_aws"]["CloudWatchMetrics"][0]["Metrics"]
    )
    assert names["ColdStart"] == 2
    assert names["InferenceLatency"] == INVOCATIONS  # every invocation scores once
    assert names["RecordsScored"] == IOT_BATCHES
    batches = Counter(r.getMessage() for r in caplog.records)
    assert batches["stream batch"] == FRAUD_BATCHES
    assert batches["kinesis batch"] == IOT_BATCHES
    assert batches["stream record failed"] == FRAUD_BATCHES * 5 // 20  # the poison ones
    assert batches["kinesis record failed"] == 1


def test_snapstart_hooks_do_not_apply(fraud: Any, iot: Any) -> None:
    """Managed Instances have no snapshots: the hooks are not registered (no
    ``snapshot_restore_py`` outside SnapStart), and nothing else depends on them."""
    assert fraud.SNAPSTART_HOOKS is False
    assert iot.SNAPSTART_HOOKS is False


# --- thread settings per mode ------------------------------------------------------------


def test_threads_per_request_on_managed_instances(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lambda (default): the environment's vCPUs for its one request. Managed Instances: each
    request's process gets its share of the environment's vCPUs, at least one."""
    assert intra_op_threads(3538) == 2  # two vCPUs, one request
    assert intra_op_threads(4096, (1, 16)) == 1  # Python's default: 16 requests per vCPU
    assert intra_op_threads(16384, (4, 2)) == 2
    assert intra_op_threads(16384, (4, 8)) == 1
    monkeypatch.delenv("SML_REQUESTS_PER_ENVIRONMENT", raising=False)
    monkeypatch.delenv("SML_VCPUS_PER_ENVIRONMENT", raising=False)
    assert environment_share() is None
    monkeypatch.setenv("SML_REQUESTS_PER_ENVIRONMENT", "16")
    monkeypatch.setenv("SML_VCPUS_PER_ENVIRONMENT", "2")
    assert environment_share() == (2, 16)
    model = load_model(FRAUD_MODEL_DIR, memory_mb=8192)  # share from the variables
    assert model.intra_op_threads == 1
    monkeypatch.setenv("SML_VCPUS_PER_ENVIRONMENT", "zero")
    assert environment_share() is None


def test_no_cold_start_is_counted_on_managed_instances(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SML_REQUESTS_PER_ENVIRONMENT", "16")
    metrics = Metrics.from_env("fraud")
    assert metrics.record_cold_start() is False
    assert capsys.readouterr().out == ""
    monkeypatch.delenv("SML_REQUESTS_PER_ENVIRONMENT")
    assert Metrics.from_env("fraud").record_cold_start() is True
