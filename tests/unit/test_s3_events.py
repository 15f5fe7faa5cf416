"""S3 event records as Lambda receives them (field by field against the documented example, key
encoding, versioned / unversioned) and the bucket notification's event / key filter."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from serverless_ml.core.plan import build_plan
from serverless_ml.core.plan_types import BucketNotificationPlan
from serverless_ml.local.s3_events import (
    NotificationRule,
    encode_key,
    event_timestamp,
    s3_event,
    s3_event_record,
)
from serverless_ml.reference.scenarios import image_processing
from sml_handlers.runtime.s3 import event_objects, parse_record

# The example message in notification-content-structure.html (ObjectCreated:Put, eventVersion
# 2.1), every field.
DOCUMENTED: dict[str, Any] = {
    "eventVersion": "2.1",
    "eventSource": "aws:s3",
    "awsRegion": "us-west-2",
    "eventTime": "1970-01-01T00:00:00.000Z",
    "eventName": "ObjectCreated:Put",
    "userIdentity": {"principalId": "AIDAJDPLRKLG7UEXAMPLE"},
    "requestParameters": {"sourceIPAddress": "172.16.0.1"},
    "responseElements": {
        "x-amz-request-id": "C3D13FE58DE4C810",
        "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD",
    },
    "s3": {
        "s3SchemaVersion": "1.0",
        "configurationId": "testConfigRule",
        "bucket": {
            "name": "amzn-s3-demo-bucket",
            "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
            "arn": "arn:aws:s3:::amzn-s3-demo-bucket",
        },
        "object": {
            "key": "HappyFace.jpg",
            "size": 1024,
            "eTag": "d41d8cd98f00b204e9800998ecf8427e",
            "versionId": "096fKKXTRTtl3on89fVO.nfljtsv6qko",
            "sequencer": "0055AED6DCD90281E5",
        },
    },
}


def _record(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "bucket": "amzn-s3-demo-bucket",
        "key": "HappyFace.jpg",
        "size": 1024,
        "etag": '"d41d8cd98f00b204e9800998ecf8427e"',  # quoted, as head_object returns it
        "version_id": "096fKKXTRTtl3on89fVO.nfljtsv6qko",
        "sequencer": "0055AED6DCD90281E5",
        "region": "us-west-2",
        "event_time": "1970-01-01T00:00:00.000Z",
        "principal_id": "AIDAJDPLRKLG7UEXAMPLE",
        "source_ip": "172.16.0.1",
        "configuration_id": "testConfigRule",
        "owner_id": "A3NL1KOZZKExample",
        "request_id": "C3D13FE58DE4C810",
        "host_id": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD",
    }
    return s3_event_record(**{**fields, **overrides})


def test_record_is_the_documented_example() -> None:
    assert _record() == DOCUMENTED
    assert s3_event([_record()]) == {"Records": [DOCUMENTED]}


def test_unversioned_bucket_has_no_version_id() -> None:
    obj = _record(version_id=None)["s3"]["object"]
    assert "versionId" not in obj
    assert obj["sequencer"] == "0055AED6DCD90281E5"


@pytest.mark.parametrize(
    ("key", "encoded"),
    [
        ("red flower.jpg", "red+flower.jpg"),  # the documented example
        ("uploads/photo (1) é.png", "uploads/photo+%281%29+%C3%A9.png"),
        ("a@b", "a%40b"),
        ("c++/x=1&y;z:w.png", "c%2B%2B/x%3D1%26y%3Bz%3Aw.png"),
        ("日本/写真.png", "%E6%97%A5%E6%9C%AC/%E5%86%99%E7%9C%9F.png"),
    ],
)
def test_key_is_form_encoded_keeping_slashes(key: str, encoded: str) -> None:
    record = _record(key=key)
    assert encode_key(key) == encoded
    assert record["s3"]["object"]["key"] == encoded
    parsed = parse_record(record)  # what the image handler reads back
    assert parsed.key == key
    assert parsed.version_id == "096fKKXTRTtl3on89fVO.nfljtsv6qko"
    assert parsed.size == 1024


def test_handler_reads_the_event() -> None:
    event = s3_event([_record(key="uploads/x.png", version_id=None)])
    [record] = event_objects(event) or []
    parsed = parse_record(record)
    assert (parsed.bucket, parsed.key, parsed.version_id) == ("amzn-s3-demo-bucket",
                                                              "uploads/x.png", None)  # fmt: skip
    assert parsed.sequencer == "0055AED6DCD90281E5"
    assert parsed.event_name == "ObjectCreated:Put"


def test_defaults_and_normalization() -> None:
    moment = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    record = s3_event_record(
        bucket="b-1", key="k", size=0, etag="e", version_id=None, sequencer=None,
        event_name="s3:ObjectCreated:Copy", region="eu-west-1", event_time=moment,
        principal_id="AWS:me", source_ip="127.0.0.1", configuration_id="c", partition="aws-cn",
    )  # fmt: skip
    assert record["eventTime"] == "2024-05-06T07:08:09.123Z"
    assert record["eventName"] == "ObjectCreated:Copy"
    assert record["s3"]["object"] == {"key": "k", "size": 0, "eTag": "e"}
    assert record["s3"]["bucket"]["ownerIdentity"] == {"principalId": "AWS:me"}
    assert record["s3"]["bucket"]["arn"] == "arn:aws-cn:s3:::b-1"
    assert re.fullmatch(r"[0-9A-F]{16}", record["responseElements"]["x-amz-request-id"])
    assert record["responseElements"]["x-amz-id-2"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", event_timestamp())


def test_rule_from_the_image_plan() -> None:
    plan = next(b for b in build_plan(image_processing()).bindings
                if isinstance(b, BucketNotificationPlan))  # fmt: skip
    rule = NotificationRule.from_plan(plan)
    assert rule == NotificationRule(events=("s3:ObjectCreated:*",), prefix="uploads/",
                                    configuration_id=plan.key)  # fmt: skip
    assert rule.matches("ObjectCreated:Put", "uploads/a.png")
    assert rule.matches("s3:ObjectCreated:CompleteMultipartUpload", "uploads/deep/b.png")
    assert not rule.matches("ObjectCreated:Put", "results/a.png")
    assert not rule.matches("ObjectRemoved:Delete", "uploads/a.png")


@pytest.mark.parametrize(
    ("events", "event_name", "expected"),
    [
        (("s3:ObjectCreated:*",), "ObjectCreated:Copy", True),
        (("s3:ObjectCreated:Put",), "ObjectCreated:Put", True),
        (("s3:ObjectCreated:Put",), "ObjectCreated:Post", False),
        (("s3:ObjectCreated:Put", "s3:ObjectCreated:Post"), "s3:ObjectCreated:Post", True),
        (("s3:ObjectCreated:*",), "ObjectRestore:Completed", False),
        (("s3:ObjectCreated:*",), "ObjectCreatedX:Put", False),
        (("s3:ObjectCreated:*",), "", False),
    ],
)
def test_event_type_wildcards(events: tuple[str, ...], event_name: str, expected: bool) -> None:
    assert NotificationRule(events=events).matches(event_name, "k") is expected


def test_prefix_and_suffix() -> None:
    rule = NotificationRule(events=("s3:ObjectCreated:*",), prefix="in/", suffix=".png")
    assert rule.matches("ObjectCreated:Put", "in/a.png")
    assert not rule.matches("ObjectCreated:Put", "in/a.jpg")
    assert not rule.matches("ObjectCreated:Put", "out/a.png")
    assert not rule.matches("ObjectCreated:Put", "xin/a.png")
