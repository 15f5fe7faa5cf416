"""Kinesis Data Streams records as Lambda delivers them: recognise a batch, decode a record.

Event shape (https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html, example event):
``{"Records": [{"eventSource": "aws:kinesis", "eventSourceARN": ..., "kinesis":
{"sequenceNumber": ..., "partitionKey": ..., "data": <base64>, ...}}]}``. A record's
``sequenceNumber`` is its ``itemIdentifier`` in a partial batch response.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any, Final

from sml_handlers.runtime.batch import event_records

EVENT_SOURCE: Final = "aws:kinesis"
MAX_RECORD_BYTES: Final = 1024 * 1024  # a Kinesis record's data blob is at most 1 MiB


class RecordError(ValueError):
    """A record whose data is not one JSON object (bad base64, UTF-8 or JSON, or not an object)."""


def batch_records(event: object) -> list[Any] | None:
    """The records if ``event`` is a Kinesis batch (first record from ``aws:kinesis``), else None."""
    return event_records(event, EVENT_SOURCE)


def sequence_number(record: object) -> str | None:
    """``kinesis.sequenceNumber`` of a record, or None if it has none."""
    kinesis = record.get("kinesis") if isinstance(record, Mapping) else None
    value = kinesis.get("sequenceNumber") if isinstance(kinesis, Mapping) else None
    return value if isinstance(value, str) else None


def json_object(record: object) -> dict[str, Any]:
    """The record's data decoded from base64 and parsed as one JSON object (RecordError if not)."""
    if not isinstance(record, Mapping) or record.get("eventSource") != EVENT_SOURCE:
        raise RecordError("not a Kinesis record")
    kinesis = record.get("kinesis")
    data = kinesis.get("data") if isinstance(kinesis, Mapping) else None
    if not isinstance(data, str):
        raise RecordError("record has no base64 kinesis.data string")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise RecordError("kinesis.data is not valid base64") from None
    if len(raw) > MAX_RECORD_BYTES:
        raise RecordError(f"record data exceeds {MAX_RECORD_BYTES} bytes")
    try:
        parsed = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise RecordError("record data is not UTF-8") from None
    except json.JSONDecodeError as error:
        raise RecordError(f"malformed JSON: {error.msg} at position {error.pos}") from None
    except (RecursionError, ValueError):
        raise RecordError("malformed JSON: nested too deeply or number too long") from None
    if not isinstance(parsed, dict):
        raise RecordError(f"expected a JSON object, got {type(parsed).__name__}")
    return parsed
