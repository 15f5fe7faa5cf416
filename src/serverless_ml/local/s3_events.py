"""S3 event notifications for local runs: the records Lambda receives, the bucket notification's
filter, and a relay that turns real uploads into those records.

Record shape: https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
(``eventVersion`` 2.1, as S3 sends object-created events to Lambda). ``s3.object.key`` is
form-encoded: spaces become ``+``, UTF-8 and reserved characters are percent-encoded, ``/`` is
kept (S3's own events, as LocalStack's AWS-recorded snapshots show: ``a@b`` -> ``a%40b``,
``testupload/dir1/testfile.txt`` unchanged). ``versionId`` is present only for a versioned bucket.

``BucketEventRelay`` sees uploads the way the deployed stack does: the bucket's notification
configuration sends ``s3:ObjectCreated:*`` to a relay SQS queue (its policy lets
``s3.amazonaws.com`` send, so LocalStack and a real account work too); a thread long-polls the
queue and, for each record the rule matches, rebuilds the Lambda-facing record from
``head_object`` and hands ``{"Records": [record]}`` to ``deliver`` (one record per event, as S3
invokes Lambda). moto's server does send notifications to SQS (checked with moto 5.2: a
``s3:TestEvent`` on configuration, then one message per upload, without ``versionId`` or
``sequencer``, which the relay then takes from ``head_object`` / makes up). An endpoint that does
not is detected by a probe upload; the relay then delivers when the uploader calls
``object_created(key)``, which is a no-op bookkeeping call when notifications flow.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, Literal
from urllib.parse import quote_plus, unquote_plus

from serverless_ml.core.plan_types import BucketNotificationPlan

if TYPE_CHECKING:
    from serverless_ml.local.aws_resources import LocalResources

EVENT_VERSION: Final = "2.1"
EVENT_SOURCE: Final = "aws:s3"
TEST_EVENT: Final = "s3:TestEvent"
OBJECT_CREATED_ALL: Final = "s3:ObjectCreated:*"
RELAY_CONFIGURATION_ID: Final = "sml-local-relay"
PROBE_PREFIX: Final = ".sml-relay-probe/"
PROBE_TIMEOUT_S: Final = 2.0
POLL_WAIT_S: Final = 1  # SQS long-poll wait; bounds how long close() waits for the thread
LOCAL_PRINCIPAL: Final = "AWS:AIDALOCALRUNNEREXAMPLE"
LOCAL_SOURCE_IP: Final = "127.0.0.1"

Deliver = Callable[[dict[str, Any]], object]
"""Takes one S3 event (``{"Records": [record]}``); an ``AsyncDelivery.submit`` fits."""


def encode_key(key: str) -> str:
    """The object key as S3 writes it into an event (form-encoded, ``/`` kept)."""
    return quote_plus(key, safe="/")


def event_timestamp(moment: datetime | None = None) -> str:
    """ISO-8601 UTC with milliseconds, as S3 and Lambda write times (``...T12:00:00.123Z``)."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def s3_event_record(
    *,
    bucket: str,
    key: str,
    size: int,
    etag: str,
    version_id: str | None,
    sequencer: str | None,
    event_name: str = "ObjectCreated:Put",
    region: str,
    event_time: datetime | str,
    principal_id: str,
    source_ip: str,
    configuration_id: str,
    owner_id: str | None = None,
    request_id: str | None = None,
    host_id: str | None = None,
    partition: str = "aws",
) -> dict[str, Any]:
    """One notification record. ``key`` is the raw key (encoded here); ``etag`` may be quoted
    as ``head_object`` returns it; ``owner_id`` defaults to ``principal_id``."""
    obj: dict[str, Any] = {"key": encode_key(key), "size": size, "eTag": etag.strip('"')}
    if version_id:
        obj["versionId"] = version_id
    if sequencer:
        obj["sequencer"] = sequencer
    when = event_time if isinstance(event_time, str) else event_timestamp(event_time)
    return {
        "eventVersion": EVENT_VERSION,
        "eventSource": EVENT_SOURCE,
        "awsRegion": region,
        "eventTime": when,
        "eventName": event_name.removeprefix("s3:"),
        "userIdentity": {"principalId": principal_id},
        "requestParameters": {"sourceIPAddress": source_ip},
        "responseElements": {
            "x-amz-request-id": request_id or uuid.uuid4().hex[:16].upper(),
            "x-amz-id-2": host_id or uuid.uuid4().hex,
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": configuration_id,
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": owner_id or principal_id},
                "arn": f"arn:{partition}:s3:::{bucket}",
            },
            "object": obj,
        },
    }


def s3_event(records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The event Lambda receives: ``{"Records": [...]}``."""
    return {"Records": [dict(record) for record in records]}


@dataclass(frozen=True, slots=True, kw_only=True)
class NotificationRule:
    """Which object events a bucket notification sends: event types (``s3:ObjectCreated:*``
    wildcards), a literal key prefix and suffix (matched on the raw key, like the spec's
    ``S3Trigger.watches``)."""

    events: tuple[str, ...]
    prefix: str = ""
    suffix: str = ""
    configuration_id: str = "local"

    @classmethod
    def from_plan(cls, plan: BucketNotificationPlan) -> NotificationRule:
        return cls(events=plan.events, prefix=plan.prefix, suffix=plan.suffix,
                   configuration_id=plan.key)  # fmt: skip

    def matches(self, event_name: str, key: str) -> bool:
        """``event_name`` as in a record (``ObjectCreated:Put``) or a config (``s3:...``)."""
        name = event_name if event_name.startswith("s3:") else f"s3:{event_name}"
        typed = any(
            name == wanted or (wanted.endswith(":*") and name.startswith(wanted[:-1]))
            for wanted in self.events
        )
        return typed and key.startswith(self.prefix) and key.endswith(self.suffix)


@dataclass(slots=True)
class RelayStats:
    messages: int = 0  # SQS messages received
    test_events: int = 0
    records: int = 0  # S3 records seen (probe excluded)
    delivered: int = 0
    skipped: int = 0  # not matched by the rule
    errors: int = 0  # a record or a poll that failed (last_error says why)
    last_error: str = ""


class _Sequencer:
    """Increasing hex sequencers, for endpoints whose events carry none (moto)."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> str:
        with self._lock:
            self._last = max(self._last + 1, time.time_ns())
            return f"{self._last:018X}"


class BucketEventRelay:
    """A bucket's object-created events, delivered as Lambda-facing S3 events (see module doc).

    ``mode``: ``"auto"`` probes (``probe_timeout_s``) and picks ``"notifications"`` or
    ``"direct"``. Start with ``start()`` (or ``with``); stop with ``close()``.
    """

    def __init__(
        self,
        resources: LocalResources,
        *,
        bucket: str,
        rule: NotificationRule,
        deliver: Deliver,
        mode: Literal["auto", "notifications", "direct"] = "auto",
        probe_timeout_s: float = PROBE_TIMEOUT_S,
        principal_id: str = LOCAL_PRINCIPAL,
        source_ip: str = LOCAL_SOURCE_IP,
    ) -> None:
        self._s3, self._sqs = resources.client("s3"), resources.client("sqs")
        self.bucket, self.rule, self._deliver = bucket, rule, deliver
        self._region, self._account = resources.region, resources.account_id
        self._partition = resources.partition
        self._requested = mode
        self.mode: Literal["notifications", "direct"] | None = None
        self._probe_timeout_s = probe_timeout_s
        self._principal, self._source_ip = principal_id, source_ip
        self.stats = RelayStats()
        self._lock = threading.Lock()
        self._balance: Counter[str] = Counter()  # announced minus seen, per key
        self._in_process = 0
        self._probe_key = f"{PROBE_PREFIX}{uuid.uuid4().hex}"
        self._probe_seen = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._queue_url: str | None = None
        self.queue_name: str | None = None  # the relay queue, once made
        self._previous: dict[str, Any] | None = None
        self._sequencer = _Sequencer()

    @classmethod
    def for_plan(
        cls,
        resources: LocalResources,
        plan: BucketNotificationPlan,
        deliver: Deliver,
        **options: Any,
    ) -> BucketEventRelay:
        """Started, for a plan's bucket notification, in the local AWS ``resources`` made."""
        bucket = resources.resolve(plan.bucket)
        rule = NotificationRule.from_plan(plan)
        return cls(resources, bucket=bucket, rule=rule, deliver=deliver, **options).start()

    # --- lifecycle ------------------------------------------------------------------------
    def start(self) -> BucketEventRelay:
        if self.mode is not None:
            return self
        if self._requested == "direct":
            self.mode = "direct"
            return self
        self._open_queue()
        if self._requested == "notifications" or self._probe():
            self.mode = "notifications"
        else:
            self.mode = "direct"
            self._teardown()
        return self

    def close(self) -> None:
        """Stop polling; restore the bucket's notification configuration; delete the queue."""
        self._teardown()

    def __enter__(self) -> BucketEventRelay:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def describe(self) -> str:
        """How uploads reach ``deliver``, for a run's report."""
        if self.mode == "notifications":
            return f"the bucket's notification -> SQS relay queue {self.queue_name}"
        if self.mode == "direct" and self._requested == "auto":
            return (f"direct calls (no S3 notification reached SQS within "
                    f"{self._probe_timeout_s:g} s)")  # fmt: skip
        return "direct calls" if self.mode == "direct" else "not started"

    def idle(self) -> bool:
        """Nothing received is being processed, and every upload announced with
        ``object_created`` has been seen (notifications mode)."""
        with self._lock:
            return self._in_process == 0 and not any(n > 0 for n in self._balance.values())

    def drain(self, timeout_s: float) -> bool:
        """Wait until ``idle()``; whether it got there within ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while not self.idle():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True

    # --- uploads --------------------------------------------------------------------------
    def object_created(
        self, key: str, *, version_id: str | None = None, event_name: str = "ObjectCreated:Put"
    ) -> None:
        """The uploader wrote ``key``: delivered now in direct mode; otherwise awaited (its
        notification will come through the queue)."""
        if self.mode == "notifications":
            with self._lock:
                self._balance[key] += 1
            return
        if self.mode is None:
            raise RuntimeError("start() the relay before uploading")
        self._relay(key, event_name, version_id, {})

    # --- internals ------------------------------------------------------------------------
    def _open_queue(self) -> None:
        name = f"sml-relay-{self.bucket.replace('.', '-')[:48]}-{uuid.uuid4().hex[:8]}"
        url: str = self._sqs.create_queue(QueueName=name)["QueueUrl"]
        self._queue_url, self.queue_name = url, name
        arn = self._sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self._sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": self._policy(arn)})
        previous = self._s3.get_bucket_notification_configuration(Bucket=self.bucket)
        previous.pop("ResponseMetadata", None)
        self._previous = previous
        relay = {"Id": RELAY_CONFIGURATION_ID, "QueueArn": arn, "Events": [OBJECT_CREATED_ALL]}
        config = {**previous, "QueueConfigurations": [*previous.get("QueueConfigurations", []),
                                                      relay]}  # fmt: skip
        self._s3.put_bucket_notification_configuration(
            Bucket=self.bucket, NotificationConfiguration=config
        )
        self._thread = threading.Thread(target=self._poll, name="s3-relay", daemon=True)
        self._thread.start()

    def _policy(self, queue_arn: str) -> str:
        statement = {
            "Sid": "S3SendsObjectCreated",
            "Effect": "Allow",
            "Principal": {"Service": "s3.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": queue_arn,
            "Condition": {
                "ArnLike": {"aws:SourceArn": f"arn:{self._partition}:s3:::{self.bucket}"},
                "StringEquals": {"aws:SourceAccount": self._account},
            },
        }
        return json.dumps({"Version": "2012-10-17", "Statement": [statement]})

    def _probe(self) -> bool:
        put = self._s3.put_object(Bucket=self.bucket, Key=self._probe_key, Body=b"")
        try:
            return self._probe_seen.wait(self._probe_timeout_s)
        finally:
            extra = {"VersionId": put["VersionId"]} if put.get("VersionId") else {}
            with contextlib.suppress(Exception):
                self._s3.delete_object(Bucket=self.bucket, Key=self._probe_key, **extra)

    def _teardown(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._previous is not None:
            with contextlib.suppress(Exception):
                self._s3.put_bucket_notification_configuration(
                    Bucket=self.bucket, NotificationConfiguration=self._previous
                )
            self._previous = None
        if self._queue_url is not None:
            with contextlib.suppress(Exception):
                self._sqs.delete_queue(QueueUrl=self._queue_url)
            self._queue_url = None

    def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                answer = self._sqs.receive_message(
                    QueueUrl=self._queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=POLL_WAIT_S
                )
            except Exception as error:  # endpoint gone or closing: count it, keep polling
                self._failed(error)
                self._stop.wait(0.2)
                continue
            for message in answer.get("Messages", []):
                with self._lock:
                    self._in_process += 1
                    self.stats.messages += 1
                try:
                    self._message(message["Body"])
                    self._sqs.delete_message(
                        QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"]
                    )
                except Exception as error:
                    self._failed(error)
                finally:
                    with self._lock:
                        self._in_process -= 1

    def _message(self, body: str) -> None:
        decoded = json.loads(body)
        if decoded.get("Event") == TEST_EVENT:
            with self._lock:
                self.stats.test_events += 1
            return
        for record in decoded.get("Records", []):
            obj = record.get("s3", {}).get("object", {})
            key = unquote_plus(obj.get("key", ""))
            if key == self._probe_key:
                self._probe_seen.set()
                continue
            if key.startswith(PROBE_PREFIX):
                continue  # a late probe of an earlier relay
            with self._lock:
                self.stats.records += 1
                self._balance[key] -= 1
                if self._balance[key] == 0:
                    del self._balance[key]
            try:
                self._relay(key, record.get("eventName", ""), obj.get("versionId"), record)
            except Exception as error:
                self._failed(error)

    def _relay(
        self, key: str, event_name: str, version_id: str | None, seen: Mapping[str, Any]
    ) -> None:
        """Rebuild the record from ``head_object`` and the notification ``seen`` (empty in
        direct mode), and deliver it when the rule matches."""
        if not self.rule.matches(event_name, key):
            with self._lock:
                self.stats.skipped += 1
            return
        obj = seen.get("s3", {}).get("object", {})
        extra = {"VersionId": version_id} if version_id else {}
        try:
            head = self._s3.head_object(Bucket=self.bucket, Key=key, **extra)
            size, etag, version = head["ContentLength"], head["ETag"], head.get("VersionId")
        except self._s3.exceptions.ClientError:
            if not obj:
                raise
            size, etag, version = obj.get("size", 0), obj.get("eTag", ""), version_id
        response = seen.get("responseElements", {})
        record = s3_event_record(
            bucket=self.bucket,
            key=key,
            size=int(size),
            etag=str(etag),
            version_id=version if version and version != "null" else None,
            sequencer=obj.get("sequencer") or self._sequencer.next(),
            event_name=event_name,
            region=seen.get("awsRegion") or self._region,
            event_time=seen.get("eventTime") or datetime.now(UTC),
            principal_id=seen.get("userIdentity", {}).get("principalId") or self._principal,
            source_ip=seen.get("requestParameters", {}).get("sourceIPAddress") or self._source_ip,
            configuration_id=self.rule.configuration_id,
            request_id=response.get("x-amz-request-id"),
            host_id=response.get("x-amz-id-2"),
            partition=self._partition,
        )
        self._deliver(s3_event([record]))
        with self._lock:
            self.stats.delivered += 1

    def _failed(self, error: BaseException) -> None:
        with self._lock:
            self.stats.errors += 1
            self.stats.last_error = f"{type(error).__name__}: {error}"
