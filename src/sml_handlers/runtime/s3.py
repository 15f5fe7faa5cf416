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
    """The records if ``event`` is an S3 notification (first record from ``aws:s3``)."""
    return event_records(event, EVENT_SOURCE)


def parse_record(record: object) -> S3Object:
    """The object a record names (RecordError when it names none)."""
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
    key = unquote_plus(raw_key)
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise RecordError(f"object key longer than {MAX_KEY_BYTES} bytes")
    size = obj.get("size")
    version, sequencer = obj.get("versionId"), obj.get("sequencer")
    event_name = record.get("eventName")
    return S3Object(
        bucket=name,
        key=key,
        size=size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None,
        version_id=version if isinstance(version, str) and version else None,
        sequencer=sequencer if isinstance(sequencer, str) and sequencer else None,
        event_name=event_name if isinstance(event_name, str) else "",
    )
