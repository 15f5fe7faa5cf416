"""Image and document processing on S3 upload: handwritten digits read by a small CNN.

Event: an S3 notification (several records per event, URL-encoded keys), delivered
asynchronously and at least once. Each object is fetched with a lazily created client, decoded
(PNG or JPEG only, with byte and pixel limits) and read in one of two modes, chosen by its key:

- **image** (default): one digit per image, with its confidence;
- **document** (any key with a ``documents/`` folder): a scanned row of handwritten digits (an
  account number on a form) segmented into cells and read as a string, with per-digit
  confidence.

Every digit of the event goes through one ONNX Runtime call. Results are keyed by bucket, key
and version (or sequencer), so a duplicate delivery writes nothing new: a conditional put into
``$SML_RESULTS_TABLE`` and/or a create-only result object under ``$SML_RESULTS_PREFIX`` in
``$SML_RESULTS_BUCKET``. A file that is not an image, is too large or expands past the pixel
limit gets a recorded failure result and never stops its neighbours. A transient failure (an
AWS call) of one object leaves the others written, then raises, so Lambda retries the event
(and the retry skips what is already written).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import numpy as np

from sml_handlers.image.vision import BadImage, decode, segment_row, to_digit_input
from sml_handlers.runtime import aws, env, s3, snapstart, warmer
from sml_handlers.runtime.logs import get_logger
from sml_handlers.runtime.metrics import Metrics
from sml_handlers.runtime.model import default_model_dir, ready_fields
from sml_handlers.runtime.onnx_model import OnnxModel, load_onnx_model
from sml_handlers.runtime.unrecognised import unrecognised_event

SERVICE: Final = "image"
DEFAULT_MAX_OBJECT_BYTES: Final = 20 * 1024 * 1024
MAX_PIXELS: Final = 40_000_000  # ~ a 600 dpi A4 scan; Pillow alone only warns below 2x 89.5 MP
MAX_CELLS: Final = 64  # digits read from one document row
DOCUMENT_FOLDER: Final = "documents"
CONFIDENCE_DECIMALS: Final = 4

logger = get_logger(__name__)


def _check_model(model: OnnxModel) -> tuple[str, ...]:
    """Refuse at INIT a model that does not read 8x8 digit images into classes."""
    if model.input_shape != (1, 8, 8):
        raise ValueError(f"digits model must take [n, 1, 8, 8] images, not {model.input_shape}")
    classes = model.card.get("classes", [str(d) for d in range(10)])
    if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
        raise ValueError("model_card.json 'classes' must be a list of strings")
    return tuple(classes)


MODEL: Final = load_onnx_model(default_model_dir())
CLASSES: Final = _check_model(MODEL)
METRICS: Final = Metrics.from_env(SERVICE)
SNAPSTART_HOOKS: Final = snapstart.register_hooks(MODEL)
logger.info("model ready", extra=ready_fields(MODEL, snapstart_hooks=SNAPSTART_HOOKS))


class RetryableError(RuntimeError):
    """Some objects hit a transient failure: raised after the others are written, so Lambda
    retries the event (async retries, then the on-failure destination)."""


class ObjectProblem(Exception):
    """A permanent problem with one object: recorded as its failure result."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass
class Work:
    """One object of the event on its way to a result."""

    obj: s3.S3Object
    mode: str
    inputs: list[np.ndarray] = field(default_factory=list)
    failure: tuple[str, str] | None = None  # (reason, detail): a recorded failure result
    retry: bool = False  # a transient failure: no result now, the retried event makes one
    result: dict[str, Any] | None = None


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Lambda entry point."""
    if warmer.is_warmer(event):
        METRICS.absorb_cold_start()
        return warmer.warmer_response()
    METRICS.record_cold_start()
    records = s3.event_objects(event)
    if records is None:
        raise unrecognised_event(event, "an S3 notification", logger)
    return handle_event(records)


def mode_of(key: str) -> str:
    """``document`` for keys with a ``documents/`` folder, else ``image``."""
    return "document" if DOCUMENT_FOLDER in key.split("/")[:-1] else "image"


def handle_event(records: Sequence[Any]) -> dict[str, Any]:
    """Read every object of the event; write one result each; raise if any must be retried."""
    works: dict[str, Work] = {}
    unreadable = 0
    for record in records:
        try:
            obj = s3.parse_record(record)
        except s3.RecordError as error:
            unreadable += 1
            logger.warning("unreadable S3 record", extra={"reason": str(error)})
            continue
        works.setdefault(obj.object_id, Work(obj=obj, mode=mode_of(obj.key)))
    retry: list[str] = []
    for work in works.values():
        try:
            _prepare(work)
        except ObjectProblem as problem:
            work.failure = (problem.reason, str(problem))
        except Exception as error:  # an AWS call failed: retry this object later
            retry.append(f"{work.obj.object_id}: {type(error).__name__}: {error}")
            work.retry = True
    ready = [w for w in works.values() if not w.retry]
    classify(ready)
    written = 0
    for work in ready:
        try:
            written += _write(work)
        except Exception as error:
            retry.append(f"{work.obj.object_id}: write failed: {type(error).__name__}: {error}")
    _report(len(records), unreadable, ready, written, retry)
    if retry:
        raise RetryableError(f"{len(retry)} object(s) to retry: " + "; ".join(retry[:5]))
    return {
        "objects": len(works),
        "results_written": written,
        "failed": sum(w.failure is not None for w in ready),
        "unreadable_records": unreadable,
    }


def _max_bytes() -> int:
    raw = os.environ.get(env.MAX_OBJECT_BYTES, "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else DEFAULT_MAX_OBJECT_BYTES


def _prepare(work: Work) -> None:
    """Fetch the object and cut it into digit inputs (ObjectProblem if it is bad)."""
    limit = _max_bytes()
    obj = work.obj
    if obj.size is not None and obj.size > limit:
        raise ObjectProblem("too_large_bytes", f"{obj.size} bytes is over the {limit} limit")
    read(work, fetch(obj, limit), limit)


def read(work: Work, data: bytes, limit: int) -> None:
    """Decode the object's bytes and cut them into the work's digit inputs."""
    try:
        image = decode(data, max_pixels=MAX_PIXELS, max_bytes=limit)
        if work.mode == "image":
            work.inputs = [to_digit_input(image)]
            return
        cells = segment_row(image)
        if not cells:
            raise ObjectProblem("no_digits", "no handwriting found in the document")
        if len(cells) > MAX_CELLS:
            raise ObjectProblem("too_many_digits", f"{len(cells)} cells (at most {MAX_CELLS})")
        work.inputs = [to_digit_input(cell) for cell in cells]
    except BadImage as bad:
        raise ObjectProblem(bad.reason, str(bad)) from None
    except ObjectProblem:
        raise
    except Exception as error:  # deterministic on these bytes: retrying cannot help
        logger.exception("image could not be processed", extra={"object_id": work.obj.object_id})
        raise ObjectProblem("unprocessable", f"{type(error).__name__}: {error}") from None


def fetch(obj: s3.S3Object, limit: int) -> bytes:
    """The object's bytes (the exact version the event names), at most ``limit`` of them."""
    client = aws.client("s3")
    request: dict[str, Any] = {"Bucket": obj.bucket, "Key": obj.key}
    if obj.version_id:
        request["VersionId"] = obj.version_id
    try:
        response = client.get_object(**request)
    except client.exceptions.NoSuchKey:
        raise ObjectProblem("object_missing", "the object was deleted before it was read") from None
    except Exception as error:
        code = getattr(error, "response", {}).get("Error", {}).get("Code")
        if code in ("NoSuchKey", "NoSuchVersion", "NoSuchBucket", "404"):
            raise ObjectProblem("object_missing", f"the object is gone ({code})") from None
        raise
    body = response["Body"]
    try:
        length = response.get("ContentLength")
        if isinstance(length, int) and length > limit:
            raise ObjectProblem("too_large_bytes", f"{length} bytes is over the {limit} limit")
        data: bytes = body.read(limit + 1)
    finally:
        body.close()
    if len(data) > limit:
        raise ObjectProblem("too_large_bytes", f"over the {limit}-byte limit")
    return data


def classify(works: Sequence[Work]) -> None:
    """One session run for every digit of the event; fills each work's result."""
    batch = [x for w in works if w.failure is None for x in w.inputs]
    probabilities = np.zeros((0, len(CLASSES)), dtype=np.float32)
    if batch:
        start = time.perf_counter()
        probabilities = MODEL.run(np.stack(batch).astype(np.float32, copy=False))
        METRICS.record_latency((time.perf_counter() - start) * 1000.0)
    row = 0
    processed_at = datetime.now(UTC).isoformat(timespec="milliseconds")
    for work in works:
        base = {
            "object_id": work.obj.object_id,
            "bucket": work.obj.bucket,
            "key": work.obj.key,
            "version_id": work.obj.version_id,
            "mode": work.mode,
            "model_name": MODEL.name,
            "model_version": MODEL.version,
            "processed_at": processed_at,
        }
        if work.failure is not None:
            reason, detail = work.failure
            work.result = {**base, "status": "failed", "reason": reason, "detail": detail[:500]}
            continue
        scores = probabilities[row : row + len(work.inputs)]
        row += len(work.inputs)
        digits = [CLASSES[int(i)] for i in scores.argmax(axis=1)]
        confidences = [round(float(p), CONFIDENCE_DECIMALS) for p in scores.max(axis=1)]
        if work.mode == "image":
            work.result = {**base, "status": "ok", "digit": digits[0],
                           "confidence": confidences[0]}  # fmt: skip
        else:
            work.result = {**base, "status": "ok", "text": "".join(digits),
                           "confidences": confidences}  # fmt: skip


def _write(work: Work) -> int:
    """Write the result where the plan says; 1 if this delivery wrote anything new."""
    assert work.result is not None
    wrote = False
    table = os.environ.get(env.RESULTS_TABLE)
    if table:
        wrote |= _put_item(table, work.result)
    bucket = os.environ.get(env.RESULTS_BUCKET)
    if bucket:
        prefix = os.environ.get(env.RESULTS_PREFIX, "results/")
        key = f"{prefix}{work.obj.key}{env.RESULT_OBJECT_SUFFIX}"
        wrote |= _put_object(bucket, key, work.result)
    if not table and not bucket:
        raise RuntimeError(f"neither {env.RESULTS_TABLE} nor {env.RESULTS_BUCKET} is set")
    return int(wrote)


def _attribute(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float):
        return {"N": repr(value)}
    if isinstance(value, list):
        return {"L": [_attribute(v) for v in value]}
    return {"S": str(value)}


def _put_item(table: str, result: Mapping[str, Any]) -> bool:
    client = aws.client("dynamodb")
    item = {k: _attribute(v) for k, v in result.items() if v is not None and v != ""}
    try:
        client.put_item(
            TableName=table, Item=item, ConditionExpression="attribute_not_exists(object_id)"
        )
    except client.exceptions.ConditionalCheckFailedException:
        return False  # an earlier delivery of this upload wrote it
    return True


def _put_object(bucket: str, key: str, result: Mapping[str, Any]) -> bool:
    client = aws.client("s3")
    body = json.dumps(result, sort_keys=True).encode()
    try:
        client.put_object(
            Bucket=bucket, Key=key, Body=body, ContentType="application/json", IfNoneMatch="*"
        )
    except Exception as error:
        code = getattr(error, "response", {}).get("Error", {}).get("Code")
        if code in ("PreconditionFailed", "ConditionalRequestConflict"):
            return False  # written by an earlier delivery
        raise
    return True


def _report(
    records: int, unreadable: int, works: Sequence[Work], written: int, retry: Sequence[str]
) -> None:
    failed = [w for w in works if w.failure is not None]
    for work in failed:
        assert work.failure is not None
        logger.warning(
            "object failed",
            extra={"object_id": work.obj.object_id, "reason": work.failure[0]},
        )
    counts = {
        "ObjectsRead": len(works) - len(failed),
        "ObjectsFailed": len(failed),
        "ResultsWritten": written,
        "ObjectsToRetry": len(retry),
        "RecordsUnreadable": unreadable,
    }
    logger.info("s3 event", extra={"records": records, **counts})
    METRICS.record_counts(counts)
