"""The S3 -> Lambda event relay against moto's real server (its notifications reach SQS): the
records delivered for uploads under / outside the watched prefix, in a versioned and an
unversioned bucket; the direct path; the probe's fallback when notifications never arrive; and
the clean-up."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from serverless_ml.core.plan import build_plan
from serverless_ml.core.plan_types import BucketNotificationPlan, BucketPlan, Joined, Pseudo
from serverless_ml.local.aws_resources import MOTO_ACCOUNT_ID, LocalResources, create_resources
from serverless_ml.local.moto_server import moto_server
from serverless_ml.local.s3_events import BucketEventRelay, NotificationRule
from serverless_ml.reference.scenarios import image_processing
from sml_handlers.runtime.s3 import parse_record

REGION = "us-east-1"
PLAN = build_plan(image_processing())
BUCKET = next(r for r in PLAN.resources if isinstance(r, BucketPlan))
NOTIFICATION = next(b for b in PLAN.bindings if isinstance(b, BucketNotificationPlan))
UPLOADS = {"uploads/photo 1 é.png": b"\x89PNG one", "uploads/two.png": b"\x89PNG second"}
OUTSIDE = {"results/three.png": b"not watched"}


class Sink:
    """``deliver``: keeps every event, thread-safe."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def __call__(self, event: dict[str, Any]) -> None:
        with self._lock:
            self.events.append(event)


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


def _session() -> Any:
    return boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )


def _resources(endpoint: str | None, versioned: bool) -> LocalResources:
    """The plan's bucket (a fresh name: one moto server serves the module)."""
    name = Joined((f"img-{uuid.uuid4().hex[:8]}-", Pseudo("account_id"), "-", Pseudo("region")))
    bucket = dataclasses.replace(BUCKET, versioned=versioned, name=name)
    resources = LocalResources(
        session=_session(), endpoint=endpoint, account_id=MOTO_ACCOUNT_ID, region=REGION
    )
    return create_resources(resources, [bucket])


def _upload(resources: LocalResources, relay: BucketEventRelay) -> dict[str, dict[str, Any]]:
    s3, written = resources.client("s3"), {}
    for key, body in {**UPLOADS, **OUTSIDE}.items():
        written[key] = s3.put_object(Bucket=relay.bucket, Key=key, Body=body)
        relay.object_created(key, version_id=written[key].get("VersionId"))
    return written


def _check(events: list[dict[str, Any]], written: dict[str, Any], versioned: bool) -> None:
    assert len(events) == len(UPLOADS)
    assert all(len(event["Records"]) == 1 for event in events)
    parsed = {parse_record(e["Records"][0]).key: e["Records"][0] for e in events}
    assert set(parsed) == set(UPLOADS)
    for key, record in parsed.items():
        obj = record["s3"]["object"]
        assert obj["size"] == len(UPLOADS[key])
        assert obj["eTag"] == written[key]["ETag"].strip('"')
        assert obj.get("versionId") == (written[key]["VersionId"] if versioned else None)
        assert "versionId" in obj if versioned else "versionId" not in obj
        assert obj["sequencer"]
        assert record["eventName"] == "ObjectCreated:Put"
        assert record["s3"]["configurationId"] == NOTIFICATION.key
        assert record["awsRegion"] == REGION
    assert parsed["uploads/photo 1 é.png"]["s3"]["object"]["key"] == "uploads/photo+1+%C3%A9.png"


@pytest.mark.parametrize("versioned", [True, False])
def test_notifications_through_the_relay_queue(endpoint: str, versioned: bool) -> None:
    resources, sink = _resources(endpoint, versioned), Sink()
    s3, sqs = resources.client("s3"), resources.client("sqs")
    relay = BucketEventRelay.for_plan(resources, NOTIFICATION, sink)
    try:
        assert relay.mode == "notifications"  # moto's server sends S3 events to SQS
        [queue_url] = sqs.list_queues(QueueNamePrefix="sml-relay-")["QueueUrls"]
        assert relay.queue_name is not None and queue_url.endswith(relay.queue_name)
        assert "SQS relay queue sml-relay-" in relay.describe()
        written = _upload(resources, relay)
        assert relay.drain(20), relay.stats
    finally:
        relay.close()
    _check(sink.events, written, versioned)
    assert "SQS relay queue sml-relay-" in relay.describe()  # still says how, after close
    stats = relay.stats
    assert (stats.delivered, stats.skipped, stats.errors) == (2, 1, 0)
    assert stats.test_events >= 1  # S3's s3:TestEvent on configuration, skipped
    config = s3.get_bucket_notification_configuration(Bucket=relay.bucket)
    assert "QueueConfigurations" not in config
    assert queue_url not in sqs.list_queues().get("QueueUrls", [])
    assert not s3.list_objects_v2(Bucket=relay.bucket, Prefix=".sml-relay-probe/").get("Contents")


def test_direct_mode(endpoint: str) -> None:
    resources, sink = _resources(endpoint, True), Sink()
    relay = BucketEventRelay.for_plan(resources, NOTIFICATION, sink, mode="direct")
    assert relay.describe() == "direct calls"
    written = _upload(resources, relay)  # delivered synchronously, no queue
    assert relay.idle()
    relay.close()
    _check(sink.events, written, versioned=True)
    assert not resources.client("sqs").list_queues(QueueNamePrefix="sml-relay-").get("QueueUrls")


def test_probe_falls_back_to_direct_when_no_notification_arrives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An endpoint that accepts the notification configuration but never sends (moto with its
    S3 -> SQS sender disabled): the probe times out and uploads are delivered directly."""
    import moto.s3.notifications as notifications

    monkeypatch.setattr(notifications, "_send_sqs_message", lambda *_args: None)
    with mock_aws():
        resources, sink = _resources(None, True), Sink()
        s3 = resources.client("s3")
        relay = BucketEventRelay.for_plan(resources, NOTIFICATION, sink, probe_timeout_s=0.3)
        assert relay.mode == "direct"
        assert relay.describe() == "direct calls (no S3 notification reached SQS within 0.3 s)"
        assert resources.client("sqs").list_queues().get("QueueUrls", []) == []
        assert "QueueConfigurations" not in s3.get_bucket_notification_configuration(
            Bucket=relay.bucket
        )
        written = _upload(resources, relay)
        relay.close()
        _check(sink.events, written, versioned=True)


def test_rule_filters_event_types(endpoint: str) -> None:
    """A rule for Post only: a PutObject is seen but not delivered."""
    resources, sink = _resources(endpoint, False), Sink()
    rule = NotificationRule(events=("s3:ObjectCreated:Post",), prefix="uploads/")
    name = resources.attributes[BUCKET.node_id]["name"]
    relay = BucketEventRelay(resources, bucket=name, rule=rule, deliver=sink, mode="notifications")
    relay.start()
    try:
        resources.client("s3").put_object(Bucket=name, Key="uploads/x.png", Body=b"x")
        relay.object_created("uploads/x.png")
        assert relay.drain(20)
    finally:
        relay.close()
    assert sink.events == [] and relay.stats.skipped == 1
