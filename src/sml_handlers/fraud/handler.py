"""Fraud scoring Lambda: one handler for HTTP requests, DynamoDB stream batches and warmers.

- HTTP API (payload 2.0 or 1.0), function URL, or REST API proxy (payload 1.0): ``POST`` one
  transaction as JSON -> 200
  ``{transaction_id, decision, score, model_version}``; client mistakes -> 400
  ``{"error": "invalid_transaction", "fields": {...}}``; other methods -> 405.
- DynamoDB stream (``ReportBatchItemFailures`` on): every INSERT/MODIFY ``NewImage`` is a
  transaction; all valid ones are scored in one model call and each decision is written once
  to ``$SML_RESULTS_TABLE`` per set of model inputs (conditional put: replays write nothing, a
  MODIFY that changes what the model reads is decided again); REMOVE is ignored. The
  response lists exactly the failed records; if all of them failed the handler raises so Lambda
  retries or bisects the whole batch (Powertools ``BatchProcessor`` semantics).
- ``{"serverless-ml": "warmer"}``: ``{"warmed": true}``, no inference, logs or metrics.

INIT (importing this module) loads and warms the model (onnxruntime, or the compiled module when
the bundle carries one: then neither numpy nor onnxruntime is imported); boto3 loads on the
first stream batch.
"""

from __future__ import annotations

import os
import time
from array import array
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from sml_handlers.fraud.features import (
    FEATURE_NAMES,
    Transaction,
    TransactionError,
    decide,
    feature_vector,
    parse_transaction,
)
from sml_handlers.runtime import aws, batch, concurrent_writes, env, http_api, snapstart, warmer
from sml_handlers.runtime.dynamodb import ImageError, from_dynamodb_image
from sml_handlers.runtime.logs import get_logger
from sml_handlers.runtime.metrics import Metrics
from sml_handlers.runtime.model import (
    Model,
    check_features,
    default_model_dir,
    load_model,
    ready_fields,
)
from sml_handlers.runtime.unrecognised import unrecognised_event

SERVICE: Final = "fraud"
MAX_BODY_BYTES: Final = 16 * 1024  # a transaction is < 1 KiB; anything this big is not one
# Where stream decisions go: the library's results-table variable (set by the plan).
RESULTS_TABLE_ENV: Final = env.RESULTS_TABLE
STREAM_SOURCE: Final = "aws:dynamodb"
SCORE_DECIMALS: Final = 6
WRITE_CONCURRENCY = concurrent_writes.MAX_WORKERS  # 1: one conditional put after another

logger = get_logger(__name__)


def _thresholds(model: Model) -> tuple[float, float]:
    thresholds = model.card.get("thresholds")
    if not isinstance(thresholds, Mapping):
        raise ValueError("model_card.json has no 'thresholds' object")
    try:
        review, decline = float(thresholds["review"]), float(thresholds["decline"])
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(
            f"model_card.json thresholds need numeric review/decline: {error}"
        ) from None
    decide(0.0, review, decline)  # raises now, at INIT, if review > decline
    return review, decline


MODEL: Final = load_model(default_model_dir())
check_features(MODEL, FEATURE_NAMES)
FRAUD_COLUMN: Final = int(MODEL.card.get("positive_class_column", 1))  # P(fraud) in the output
REVIEW_THRESHOLD, DECLINE_THRESHOLD = _thresholds(MODEL)
METRICS: Final = Metrics.from_env(SERVICE)
SNAPSTART_HOOKS: Final = snapstart.register_hooks(MODEL)
logger.info("model ready", extra=ready_fields(MODEL, snapstart_hooks=SNAPSTART_HOOKS))


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Lambda entry point ("sml_handlers.fraud.handler.handler")."""
    if warmer.is_warmer(event):
        METRICS.absorb_cold_start()
        return warmer.warmer_response()
    METRICS.record_cold_start()
    if http_api.is_http_event(event):
        return _handle_http(event)
    records = _stream_records(event)
    if records is not None:
        return _handle_stream(records)
    raise unrecognised_event(
        event,
        "an HTTP request (HTTP API, function URL or REST API proxy), a DynamoDB stream batch",
        logger,
    )


def score(rows: Sequence[Sequence[float]]) -> list[float]:
    """P(fraud) for each row of ``n_features`` numbers, in one model call (latency recorded)."""
    start = time.perf_counter()
    probabilities = MODEL.predict(rows)
    METRICS.record_latency((time.perf_counter() - start) * 1000.0)
    return [row[FRAUD_COLUMN] for row in probabilities]


def _decision(txn: Transaction, fraud_probability: float) -> dict[str, Any]:
    return {
        "transaction_id": txn.transaction_id,
        "decision": decide(fraud_probability, REVIEW_THRESHOLD, DECLINE_THRESHOLD),
        "score": round(fraud_probability, SCORE_DECIMALS),
        "model_version": MODEL.version,
    }


# --- HTTP: HTTP API, function URL, REST API proxy --------------------------------------------


def _handle_http(event: Mapping[str, Any]) -> dict[str, Any]:
    if http_api.method(event) != "POST":
        payload = {"error": "method_not_allowed", "allowed": ["POST"]}
        return http_api.json_response(405, payload, headers={"Allow": "POST"})
    try:
        txn = parse_transaction(http_api.json_object_body(event, max_bytes=MAX_BODY_BYTES))
    except http_api.RequestError as error:
        return _bad_request(error.fields)
    except TransactionError as error:
        return _bad_request(error.errors)
    return http_api.json_response(200, _decision(txn, score([feature_vector(txn)])[0]))


def _bad_request(fields: Mapping[str, str]) -> dict[str, Any]:
    logger.info("invalid transaction", extra={"invalid_fields": sorted(fields)})
    return http_api.json_response(400, {"error": "invalid_transaction", "fields": dict(fields)})


# --- DynamoDB stream -----------------------------------------------------------------------------


def _stream_records(event: object) -> list[Any] | None:
    """The batch's records if ``event`` is a DynamoDB stream batch, else None."""
    return batch.event_records(event, STREAM_SOURCE)


def _sequence_number(record: object) -> str | None:
    stream = record.get("dynamodb") if isinstance(record, Mapping) else None
    value = stream.get("SequenceNumber") if isinstance(stream, Mapping) else None
    return value if isinstance(value, str) else None


def decisions_table() -> str:
    """The decisions table's name from the environment (RuntimeError if unset)."""
    value = os.environ.get(RESULTS_TABLE_ENV)
    if value:
        return value
    raise RuntimeError(f"{RESULTS_TABLE_ENV} is not set: stream decisions have nowhere to go")


def _record_transaction(record: object) -> Transaction | None:
    """The record's transaction; None for REMOVE (nothing to decide)."""
    if not isinstance(record, Mapping) or record.get("eventSource") != STREAM_SOURCE:
        raise ImageError("not a DynamoDB stream record")
    name = record.get("eventName")
    if name == "REMOVE":
        return None
    if name not in ("INSERT", "MODIFY"):
        raise ImageError(f"unexpected eventName {str(name)[:20]!r}")
    stream = record.get("dynamodb")
    image = stream.get("NewImage") if isinstance(stream, Mapping) else None
    if image is None:
        raise ImageError("record has no NewImage (stream view type must include NEW_IMAGE)")
    return parse_transaction(from_dynamodb_image(image))


def _handle_stream(records: Sequence[Any]) -> dict[str, Any]:
    table = decisions_table()
    failures: dict[int, str] = {}
    pending: list[tuple[int, Transaction]] = []
    for index, record in enumerate(records):
        try:
            txn = _record_transaction(record)
        except TransactionError as error:
            failures[index] = f"invalid transaction: {', '.join(sorted(error.errors))}"
            continue
        except ImageError as error:
            failures[index] = f"unreadable image: {error}"
            continue
        if txn is not None:
            pending.append((index, txn))
    written = 0
    if pending:
        rows = [feature_vector(txn) for _, txn in pending]
        probabilities = score(rows)
        client = aws.client("dynamodb")
        decided_at = datetime.now(UTC).isoformat(timespec="milliseconds")
        puts = [
            (index, _decision(txn, probability), features_digest(row))
            for (index, txn), row, probability in zip(pending, rows, probabilities, strict=True)
        ]
        outcomes = concurrent_writes.write_each(
            puts,
            lambda put: _put_decision(client, table, put[1], decided_at, put[2]),
            key=lambda put: put[1]["transaction_id"],
            max_workers=WRITE_CONCURRENCY,
        )
        for (index, _, _), outcome in zip(puts, outcomes, strict=True):
            if isinstance(outcome, Exception):  # any write failure fails this record alone
                failures[index] = f"write failed: {type(outcome).__name__}: {outcome}"
            else:
                written += outcome
    for index in sorted(failures):
        logger.warning(
            "stream record failed",
            extra={"sequence_number": _sequence_number(records[index]), "reason": failures[index]},
        )
    logger.info(
        "stream batch",
        extra={
            "records": len(records),
            "scored": len(pending),
            "written": written,
            "failed": len(failures),
        },
    )
    ordered = sorted(failures)
    return batch.partial_batch_response(
        [_sequence_number(records[index]) for index in ordered],
        [failures[index] for index in ordered],
        total=len(records),
    )


def features_digest(row: Sequence[float]) -> str:
    """What the model read of a transaction (its features as float32): equal digests, equal
    decision."""
    import hashlib  # deferred: OpenSSL's load is ~5 ms of INIT; only the stream path hashes

    return hashlib.sha256(array("f", row).tobytes()).hexdigest()[:32]


def _put_decision(
    client: Any, table: str, decision: Mapping[str, Any], decided_at: str, digest: str
) -> int:
    """Write the decision unless this transaction was decided on the same features (1 if
    written, 0 if not). A MODIFY that changes what the model reads is decided again and
    replaces the earlier decision; a replay, or a change to other fields, writes nothing."""
    item = {
        "transaction_id": {"S": decision["transaction_id"]},
        "decision": {"S": decision["decision"]},
        "score": {"N": f"{decision['score']:.{SCORE_DECIMALS}f}"},
        "model_name": {"S": MODEL.name},
        "model_version": {"S": decision["model_version"]},
        "decided_at": {"S": decided_at},
        "features_digest": {"S": digest},
    }
    try:
        client.put_item(
            TableName=table,
            Item=item,
            ConditionExpression="attribute_not_exists(transaction_id) OR "
            "attribute_not_exists(features_digest) OR features_digest <> :digest",
            ExpressionAttributeValues={":digest": {"S": digest}},
        )
    except client.exceptions.ConditionalCheckFailedException:
        return 0  # decided by an earlier delivery of this record: success
    return 1


# --- anything else -------------------------------------------------------------------------------
