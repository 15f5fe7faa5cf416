"""S3 event notifications as Lambda receives them (asynchronously, at least once).

Shape (https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html):
``{"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"bucket":
{"name": ...}, "object": {"key": <URL-encoded>, "size": ..., "versionId": ...,
"sequencer": ...}}}]}``. Keys are URL-encoded with ``+`` for spaces. Duplicates of one
delivery carry the same version id / sequencer, which is what results are keyed by.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import unquote_plus

from sml_handlers.runtime.batch import event_records

EVENT_SOURCE: Final = "aws:s3"
EVENTBRIDGE_SOURCE: Final = "aws.s3"
OBJECT_CREATED: Final = "Object Created"
MAX_KEY_BYTES: Final = 1024


class RecordError(ValueError):
    """A record that does not name one object (missing bucket or key, wrong types)."""


@dataclass(frozen=True, slots=True)
class S3Object:
    bucket: str
    key: str  # decoded
    size: int | None
    version_id: str | None
    sequencer: str | None
    event_name: str

    @property
    def object_id(self) -> str:
        """What results are keyed by: the same for every delivery of one upload."""
        revision = self.version_id or self.sequencer or ""
        return f"s3://{self.bucket}/{self.key}#{revision}"


def event_objects(event: object) -> list[Any] | None:
    """The records if ``event`` is an S3 notification (first record from ``aws:s3``), or
    ``[event]`` for an EventBridge ``Object Created`` event (an existing bucket's route)."""
    if (
        isinstance(event, dict)
        and event.get("source") == EVENTBRIDGE_SOURCE
        and event.get("detail-type") == OBJECT_CREATED
    ):
        return [event]
    return event_records(event, EVENT_SOURCE)


def parse_record(record: object) -> S3Object:
    """The object a record names (RecordError when it names none)."""
    if isinstance(record, Mapping) and record.get("source") == EVENTBRIDGE_SOURCE:
        return _parse_eventbridge(record)
    if not isinstance(record, Mapping) or record.get("eventSource") != EVENT_SOURCE:
        raise RecordError("not an S3 event record")
    s3 = record.get("s3")
    bucket = s3.get("bucket") if isinstance(s3, Mapping) else None
    obj = s3.get("object") if isinstance(s3, Mapping) else None
    name = bucket.get("name") if isinstance(bucket, Mapping) else None
    raw_key = obj.get("key") if isinstance(obj, Mapping) else None
    if not isinstance(name, str) or not name or not isinstance(raw_key, str) or not raw_key:
        raise RecordError("record names no s3.bucket.name and s3.object.key")
    assert isinstance(obj, Mapping)
    return _object(name, unquote_plus(raw_key), obj.get("size"), obj.get("versionId"),
                   obj.get("sequencer"), record.get("eventName"))  # fmt: skip


def _object(
    bucket: str, key: str, size: object, version: object, sequencer: object, event_name: object
) -> S3Object:
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise RecordError(f"object key longer than {MAX_KEY_BYTES} bytes")
    return S3Object(
        bucket=bucket,
        key=key,
        size=size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None,
        version_id=version if isinstance(version, str) and version else None,
        sequencer=sequencer if isinstance(sequencer, str) and sequencer else None,
        event_name=event_name if isinstance(event_name, str) else "",
    )


def _parse_eventbridge(event: Mapping[str, Any]) -> S3Object:
    """An EventBridge ``Object Created`` event: ``detail.bucket.name``, ``detail.object.key``
    (not URL-encoded, unlike notification records), ``version-id``, ``sequencer``."""
    detail = event.get("detail")
    bucket = detail.get("bucket") if isinstance(detail, Mapping) else None
    obj = detail.get("object") if isinstance(detail, Mapping) else None
    name = bucket.get("name") if isinstance(bucket, Mapping) else None
    key = obj.get("key") if isinstance(obj, Mapping) else None
    if not isinstance(name, str) or not name or not isinstance(key, str) or not key:
        raise RecordError("event names no detail.bucket.name and detail.object.key")
    assert isinstance(obj, Mapping) and isinstance(detail, Mapping)
    return _object(name, key, obj.get("size"), obj.get("version-id"), obj.get("sequencer"),
                   "ObjectCreated:" + str(detail.get("reason", "")))  # fmt: skip
