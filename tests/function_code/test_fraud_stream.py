"""Fraud handler on DynamoDB stream batches: one inference per batch, idempotent decisions,
exactly the poison records reported (ReportBatchItemFailures), against moto."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from sml_handlers.fraud import handler as fraud
from sml_handlers.fraud.features import decide, feature_vector, parse_transaction
from sml_handlers.runtime import aws
from sml_handlers.runtime.batch import BatchFailedError
from tests.function_code.handler_events import (
    DECISIONS_TABLE,
    StreamTables,
    sample_transactions,
    to_item,
)


@pytest.fixture
def tables(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[StreamTables]:
    monkeypatch.setenv("SML_RESULTS_TABLE", DECISIONS_TABLE)
    with mock_aws():
        yield StreamTables()


@pytest.fixture
def score_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Row counts of every onnxruntime call the handler makes."""
    calls: list[int] = []
    real_score = fraud.score

    def counting(rows: np.ndarray) -> np.ndarray:
        calls.append(len(rows))
        return real_score(rows)

    monkeypatch.setattr(fraud, "score", counting)
    return calls


def expected_decisions(txns: list[dict[str, Any]]) -> dict[str, tuple[str, float]]:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(
        str(Path(os.environ["SML_MODEL_DIR"]) / "model.onnx"),
        options,
        providers=["CPUExecutionProvider"],
    )
    rows = np.asarray([feature_vector(parse_transaction(t)) for t in txns], dtype=np.float32)
    scores = np.asarray(session.run(["probabilities"], {"features": rows})[0])[:, 1]
    thresholds = fraud.MODEL.card["thresholds"]
    return {
        t["transaction_id"]: (decide(s, thresholds["review"], thresholds["decline"]), s)
        for t, s in zip(txns, scores.tolist(), strict=True)
    }


def sequence_numbers(event: dict[str, Any], wanted: set[str]) -> list[str]:
    """Sequence numbers, in batch order, of the records whose key is in ``wanted``."""
    return [
        r["dynamodb"]["SequenceNumber"]
        for r in event["Records"]
        if r["dynamodb"]["Keys"]["transaction_id"]["S"] in wanted
    ]


def failures(response: dict[str, Any]) -> list[str]:
    return [item["itemIdentifier"] for item in response["batchItemFailures"]]


def test_a_batch_is_scored_in_one_call_and_every_decision_written(
    tables: StreamTables, score_calls: list[int]
) -> None:
    txns = sample_transactions(25, seed=31)
    for txn in txns:
        tables.put(to_item(txn))
    event = tables.next_batch()
    assert len(event["Records"]) == 25

    assert fraud.handler(event, None) == {"batchItemFailures": []}
    assert score_calls == [25]
    written = tables.decisions()
    for transaction_id, (decision, score) in expected_decisions(txns).items():
        item = written[transaction_id]
        assert item["decision"]["S"] == decision
        assert float(item["score"]["N"]) == pytest.approx(score, abs=2e-6)
        assert item["model_version"]["S"] == fraud.MODEL.version
        assert item["model_name"]["S"] == fraud.MODEL.name
        assert item["decided_at"]["S"].endswith("+00:00")


def poison_batch(tables: StreamTables) -> tuple[dict[str, Any], list[str], list[dict[str, Any]]]:
    """A batch with valid records around four poison ones; returns (event, poison ids, valid)."""
    txns = sample_transactions(12, seed=77)
    valid = txns[:2] + txns[3:5] + txns[6:8] + txns[9:]
    bad_field = {**txns[2], "amount": "twelve"}  # DynamoDB stores it; the schema refuses it
    missing_field = {k: v for k, v in txns[5].items() if k != "account_age_days"}
    for txn in [*txns[:2], bad_field, *txns[3:5], missing_field, *txns[6:]]:
        tables.put(to_item(txn))
    event = tables.next_batch()
    # Unreadable images cannot be stored by DynamoDB, so two records are damaged in transit.
    for record in event["Records"]:
        key = record["dynamodb"]["Keys"]["transaction_id"]["S"]
        if key == txns[8]["transaction_id"]:
            record["dynamodb"]["NewImage"]["amount"] = {"N": "twelve"}
        if key == txns[11]["transaction_id"]:
            del record["dynamodb"]["NewImage"]
    poison = [t["transaction_id"] for t in (txns[2], txns[5], txns[8], txns[11])]
    valid = [t for t in valid if t["transaction_id"] not in poison]
    return event, poison, valid


def test_poison_records_fail_alone(tables: StreamTables, score_calls: list[int]) -> None:
    event, poison, valid = poison_batch(tables)
    response = fraud.handler(event, None)
    assert failures(response) == sequence_numbers(event, set(poison))
    assert len(failures(response)) == 4
    assert score_calls == [len(valid)]
    assert set(tables.decisions()) == {t["transaction_id"] for t in valid}


def test_replaying_a_batch_is_idempotent(
    tables: StreamTables, caplog: pytest.LogCaptureFixture
) -> None:
    event, _, valid = poison_batch(tables)
    with caplog.at_level(logging.INFO, logger="sml_handlers"):
        first = fraud.handler(event, None)
        decided = tables.decisions()
        again = fraud.handler(json.loads(json.dumps(event)), None)
    assert again == first
    assert tables.decisions() == decided  # same items, same decided_at: nothing rewritten
    batches = [r for r in caplog.records if r.message == "stream batch"]
    assert [(r.__dict__["scored"], r.__dict__["written"]) for r in batches] == [
        (len(valid), len(valid)),
        (len(valid), 0),
    ]


def test_a_modify_that_changes_what_the_model_reads_is_decided_again(
    tables: StreamTables,
) -> None:
    """Issue #8: the first decision is no longer kept silently when the transaction changes."""
    (txn,) = sample_transactions(1, seed=3)
    tables.put(to_item(txn))
    fraud.handler(tables.next_batch(), None)
    before = tables.decisions()
    changed = {**txn, "amount": txn["amount"] * 40 + 5000}
    tables.put(to_item(changed))
    event = tables.next_batch()
    assert [r["eventName"] for r in event["Records"]] == ["MODIFY"]
    assert fraud.handler(event, None) == {"batchItemFailures": []}
    after = tables.decisions()
    (decision, score) = expected_decisions([changed])[txn["transaction_id"]]
    row = after[txn["transaction_id"]]
    assert row != before[txn["transaction_id"]]
    assert row["decision"]["S"] == decision
    assert float(row["score"]["N"]) == pytest.approx(score, abs=1e-5)
    assert fraud.handler(json.loads(json.dumps(event)), None) == {"batchItemFailures": []}
    assert tables.decisions() == after  # a replay of the MODIFY writes nothing


def test_a_modify_of_fields_the_model_ignores_keeps_the_decision(tables: StreamTables) -> None:
    (txn,) = sample_transactions(1, seed=4)
    tables.put(to_item(txn))
    fraud.handler(tables.next_batch(), None)
    before = tables.decisions()
    tables.put(to_item({**txn, "reviewed_by": "analyst-7"}))
    event = tables.next_batch()
    assert [r["eventName"] for r in event["Records"]] == ["MODIFY"]
    assert fraud.handler(event, None) == {"batchItemFailures": []}
    assert tables.decisions() == before


def test_remove_events_are_ignored(tables: StreamTables, score_calls: list[int]) -> None:
    txns = sample_transactions(3, seed=9)
    for txn in txns:
        tables.put(to_item(txn))
    fraud.handler(tables.next_batch(), None)
    before = tables.decisions()
    score_calls.clear()
    for txn in txns:
        tables.delete(txn["transaction_id"])
    event = tables.next_batch()
    assert {r["eventName"] for r in event["Records"]} == {"REMOVE"}
    assert fraud.handler(event, None) == {"batchItemFailures": []}
    assert score_calls == []
    assert tables.decisions() == before


def test_remove_next_to_a_poison_record(tables: StreamTables) -> None:
    (txn,) = sample_transactions(1, seed=10)
    tables.put(to_item(txn))
    fraud.handler(tables.next_batch(), None)
    tables.delete(txn["transaction_id"])
    tables.put(to_item({**txn, "transaction_id": "bad-1", "card_present": "sometimes"}))
    event = tables.next_batch()
    assert fraud.handler(event, None) == {
        "batchItemFailures": [{"itemIdentifier": sequence_numbers(event, {"bad-1"})[0]}]
    }


def test_an_all_poison_batch_raises_so_lambda_retries_it(tables: StreamTables) -> None:
    """Powertools semantics: a response listing every record is replaced by an exception."""
    (txn,) = sample_transactions(1, seed=12)
    tables.put(to_item({**txn, "amount": "n/a"}))
    with pytest.raises(BatchFailedError, match="all 1 records"):
        fraud.handler(tables.next_batch(), None)


def test_write_errors_fail_only_their_records(
    tables: StreamTables, monkeypatch: pytest.MonkeyPatch
) -> None:
    txns = sample_transactions(6, seed=21)
    for txn in txns:
        tables.put(to_item(txn))
    event = tables.next_batch()
    client = aws.client("dynamodb")
    real_put = client.put_item
    throttled = txns[3]["transaction_id"]

    def flaky_put(**kwargs: Any) -> Any:
        if kwargs["Item"]["transaction_id"]["S"] == throttled:
            error = {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}}
            raise ClientError(error, "PutItem")  # type: ignore[arg-type]
        return real_put(**kwargs)

    monkeypatch.setattr(client, "put_item", flaky_put)
    assert failures(fraud.handler(event, None)) == sequence_numbers(event, {throttled})
    assert throttled not in tables.decisions()
    monkeypatch.setattr(client, "put_item", real_put)  # Lambda retries from the failed record
    assert fraud.handler(event, None) == {"batchItemFailures": []}
    assert set(tables.decisions()) == {t["transaction_id"] for t in txns}


def test_a_missing_decisions_table_fails_the_batch(tables: StreamTables) -> None:
    tables.put(to_item(sample_transactions(1, seed=4)[0]))
    tables.dynamodb.delete_table(TableName=DECISIONS_TABLE)
    with pytest.raises(BatchFailedError, match="write failed: ResourceNotFoundException"):
        fraud.handler(tables.next_batch(), None)


def test_the_table_name_must_be_configured(
    tables: StreamTables, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SML_RESULTS_TABLE")
    monkeypatch.delenv("SML_RESULTS_TABLE", raising=False)
    tables.put(to_item(sample_transactions(1, seed=4)[0]))
    with pytest.raises(RuntimeError, match="SML_RESULTS_TABLE"):
        fraud.handler(tables.next_batch(), None)


def test_failures_match_powertools_batch_processor(tables: StreamTables) -> None:
    """Powertools' BatchProcessor, given the same records and validation, reports the same items."""
    from aws_lambda_powertools.utilities.batch import (
        BatchProcessor,
        EventType,
        process_partial_response,
    )
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
        DynamoDBRecord,
        DynamoDBRecordEventName,
    )

    def plain(value: Any) -> Any:
        if isinstance(value, Decimal):
            return int(value) if value == value.to_integral_value() else float(value)
        return value

    def record_handler(record: DynamoDBRecord) -> None:
        if record.event_name == DynamoDBRecordEventName.REMOVE:
            return
        image = record.dynamodb.new_image if record.dynamodb else None
        if not image:
            raise ValueError("no NewImage")
        parse_transaction({name: plain(value) for name, value in image.items()})

    event, _, _ = poison_batch(tables)
    theirs = process_partial_response(
        event=json.loads(json.dumps(event)),
        record_handler=record_handler,
        processor=BatchProcessor(event_type=EventType.DynamoDBStreams),
    )
    assert fraud.handler(event, None) == theirs
