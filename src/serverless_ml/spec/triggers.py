"""Trigger specs: how requests and records reach the function's alias."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any, Literal

from serverless_ml.spec.errors import SpecError

_ARN = re.compile(r"^arn:aws[a-zA-Z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{0,12}:.+$")
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def is_token(value: str | None) -> bool:
    """A CDK token (``${Token[...]}``): a value known only at deploy time."""
    return value is not None and value.startswith("${Token")


def check_key(key: str, what: str) -> str:
    """A part's key names its construct ids, Pulumi names, IAM Sids and physical names."""
    if not _KEY.match(key):
        raise SpecError(
            "SML177",
            f"{what} key {key!r}: use 1-64 letters, digits, '-' and '_', starting with a letter "
            "or digit (on a trigger, name=... chooses it)",
        )
    return key


def check_arn(value: str | None, service: str, what: str) -> None:
    """Refuse a value that is not an ARN of ``service`` (tokens are left for deploy time)."""
    if value is None or is_token(value):
        return
    if not _ARN.match(value) or value.split(":")[2] != service:
        raise SpecError(
            "SML140", f"{what} {value!r} is not an {service} ARN (arn:aws:{service}:...)"
        )


@dataclass(frozen=True, kw_only=True)
class HttpTrigger:
    """A synchronous HTTPS endpoint on the alias: an HTTP API (v2) route or a Function URL.

    ``auth="iam"`` (default) requires SigV4-signed callers; ``"none"`` is public and must be
    asked for explicitly.
    """

    kind: Literal["http_api", "function_url"] = "http_api"
    route: str = "POST /score"
    auth: Literal["iam", "none"] = "iam"
    cors_origins: tuple[str, ...] = ()
    throttle_rate_per_s: int = 100
    throttle_burst: int = 200

    @property
    def key(self) -> str:
        """One HTTP endpoint per service: its constructs are ``Http`` / ``<name>``."""
        return "http"

    def __post_init__(self) -> None:
        if self.kind not in ("http_api", "function_url"):
            raise SpecError(
                "SML141", f"HttpTrigger kind {self.kind!r}: use 'http_api' or 'function_url'"
            )
        if self.auth not in ("iam", "none"):
            raise SpecError("SML142", f"HttpTrigger auth {self.auth!r}: use 'iam' or 'none'")
        method, _, path = self.route.partition(" ")
        if method not in ("GET", "POST", "PUT", "ANY") or not path.startswith("/"):
            raise SpecError("SML143", f"HttpTrigger route {self.route!r}: use 'POST /path'")
        if not 1 <= self.throttle_rate_per_s <= 10_000 or not 1 <= self.throttle_burst <= 5_000:
            raise SpecError(
                "SML144",
                f"HttpTrigger throttling rate={self.throttle_rate_per_s}/s burst={self.throttle_burst}: "
                "use rate 1..10000 and burst 1..5000 (account defaults)",
            )


@dataclass(frozen=True, kw_only=True)
class NewTable:
    """A DynamoDB table the stack creates (on-demand billing, PITR, encrypted); string keys."""

    name_suffix: str
    partition_key: str
    sort_key: str | None = None
    stream: bool = False

    def __post_init__(self) -> None:
        check_key(self.name_suffix, "NewTable name_suffix")
        for attribute in (self.partition_key, self.sort_key):
            if attribute is not None and not 1 <= len(attribute.encode()) <= 255:
                raise SpecError("SML178", f"NewTable key attribute {attribute!r}: use 1..255 bytes")


@dataclass(frozen=True, kw_only=True)
class NewStream:
    """A Kinesis data stream the stack creates, encrypted with the AWS-managed key.

    ``mode="ON_DEMAND"`` (default) scales shards itself; ``"PROVISIONED"`` needs
    ``shard_count``.
    """

    name_suffix: str
    mode: Literal["ON_DEMAND", "PROVISIONED"] = "ON_DEMAND"
    shard_count: int | None = None
    retention_hours: int = 24

    def __post_init__(self) -> None:
        check_key(self.name_suffix, "NewStream name_suffix")
        if self.mode not in ("ON_DEMAND", "PROVISIONED"):
            raise SpecError("SML170", f"stream mode {self.mode!r}: use ON_DEMAND or PROVISIONED")
        if (self.mode == "PROVISIONED") != (self.shard_count is not None):
            raise SpecError(
                "SML171",
                "shard_count is required with mode='PROVISIONED' and refused with 'ON_DEMAND' "
                "(which scales shards itself)",
            )
        if self.shard_count is not None and not 1 <= self.shard_count <= 500:
            raise SpecError("SML172", f"shard_count={self.shard_count}: use 1..500")
        if not 24 <= self.retention_hours <= 8760:
            raise SpecError(
                "SML173", f"retention_hours={self.retention_hours}: Kinesis keeps 24..8760 hours"
            )


@dataclass(frozen=True, kw_only=True)
class StreamBatching:
    """How a stream's records reach the alias, shared by every stream trigger. Defaults lose
    nothing: bisect on error, bounded retries and record age, an on-failure SQS queue (the
    service's own unless ``on_failure_queue_arn``); ReportBatchItemFailures is always on."""

    batch_size: int = 100
    max_batching_window_s: int = 1
    starting_position: Literal["LATEST", "TRIM_HORIZON"] = "LATEST"
    bisect_on_error: bool = True
    retry_attempts: int = 3
    max_record_age_s: int = 3600
    parallelization_factor: int = 1
    on_failure_queue_arn: str | None = None

    def __post_init__(self) -> None:
        check_arn(self.on_failure_queue_arn, "sqs", "on_failure_queue_arn")
        if self.starting_position not in ("LATEST", "TRIM_HORIZON"):
            raise SpecError(
                "SML147",
                f"starting_position {self.starting_position!r}: use LATEST or TRIM_HORIZON",
            )


@dataclass(frozen=True, kw_only=True)
class KinesisTrigger(StreamBatching):
    """Records of a Kinesis data stream, delivered in batches to the alias.

    Either ``new_stream`` or ``existing_stream_arn``, never both. Defaults lose nothing: bisect
    on error, bounded retries and record age, an on-failure SQS queue, ReportBatchItemFailures.
    """

    new_stream: NewStream | None = None
    existing_stream_arn: str | None = None
    filter_patterns: tuple[dict[str, Any], ...] = ()
    name: str | None = None

    @property
    def key(self) -> str:
        """``name``, else the new stream's suffix, else the existing stream's name."""
        if self.name is not None:
            return self.name
        if self.new_stream is not None:
            return self.new_stream.name_suffix
        return str(self.existing_stream_arn).rsplit("/", 1)[-1]

    def __post_init__(self) -> None:
        super().__post_init__()
        if (self.new_stream is None) == (self.existing_stream_arn is None):
            raise SpecError(
                "SML174",
                "KinesisTrigger needs exactly one of new_stream=NewStream(...) or "
                "existing_stream_arn='arn:aws:kinesis:...:stream/NAME'",
            )
        check_arn(self.existing_stream_arn, "kinesis", "existing_stream_arn")
        _check_named(self.name, self.existing_stream_arn, "KinesisTrigger")
        check_key(self.key, "KinesisTrigger")


@dataclass(frozen=True, kw_only=True)
class DynamoStreamTrigger(StreamBatching):
    """Records of a DynamoDB stream, delivered in batches to the alias.

    Either ``new_table`` (the stack creates the table with a NEW_IMAGE stream) or
    ``existing_stream_arn``, never both. Defaults lose nothing: bisect on error, bounded retries
    and record age, an on-failure SQS queue, and ReportBatchItemFailures (always on).
    """

    new_table: NewTable | None = None
    existing_stream_arn: str | None = None
    event_names: tuple[str, ...] = ("INSERT", "MODIFY")
    extra_filter_patterns: tuple[dict[str, Any], ...] = ()
    name: str | None = None

    @property
    def key(self) -> str:
        """``name``, else the new table's suffix, else the existing stream's table name."""
        if self.name is not None:
            return self.name
        if self.new_table is not None:
            return self.new_table.name_suffix
        return str(self.existing_stream_arn).split(":table/", 1)[-1].split("/", 1)[0]

    def __post_init__(self) -> None:
        super().__post_init__()
        if (self.new_table is None) == (self.existing_stream_arn is None):
            raise SpecError(
                "SML145",
                "DynamoStreamTrigger needs exactly one of new_table=NewTable(...) or "
                "existing_stream_arn='arn:aws:dynamodb:...:table/T/stream/...'",
            )
        if self.new_table is not None and not self.new_table.stream:
            # The trigger needs the table's stream: keep every other setting (sort key too).
            object.__setattr__(self, "new_table", dataclasses.replace(self.new_table, stream=True))
        check_arn(self.existing_stream_arn, "dynamodb", "existing_stream_arn")
        _check_named(self.name, self.existing_stream_arn, "DynamoStreamTrigger")
        check_key(self.key, "DynamoStreamTrigger")
        bad = set(self.event_names) - {"INSERT", "MODIFY", "REMOVE"}
        if bad or not self.event_names:
            raise SpecError("SML146", f"event_names {self.event_names}: use INSERT, MODIFY, REMOVE")


def _check_named(name: str | None, existing_arn: str | None, what: str) -> None:
    """``name`` keys an existing source; a new resource is keyed by its own name suffix (one
    key for the resource and its mapping). A token ARN has no name to derive a key from."""
    if name is not None and existing_arn is None:
        raise SpecError(
            "SML196",
            f"{what}: name= keys an existing stream; a new table or stream is keyed by its "
            "name_suffix (rename that instead)",
        )
    if name is None and is_token(existing_arn):
        raise SpecError(
            "SML179",
            f"{what}: existing_stream_arn is a deploy-time token, so its name is unknown at "
            "synth; set name='...' to key the trigger's resources",
        )


@dataclass(frozen=True, kw_only=True)
class NewBucket:
    """An S3 bucket the stack creates: SSE-S3 encrypted, public access blocked, TLS-only,
    versioned (so a replayed event names the exact object version), retained on delete.
    Its name is ``<service>-<name_suffix>-<account>-<region>`` (bucket names are global)."""

    name_suffix: str
    versioned: bool = True

    def __post_init__(self) -> None:
        check_key(self.name_suffix, "NewBucket name_suffix")
        if self.name_suffix != self.name_suffix.lower() or "_" in self.name_suffix:
            raise SpecError(
                "SML183",
                f"NewBucket name_suffix {self.name_suffix!r}: bucket names take lowercase "
                "letters, digits and '-' only",
            )


_S3_EVENTS = (
    "s3:ObjectCreated:*",
    "s3:ObjectCreated:Put",
    "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload",
)
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


@dataclass(frozen=True, kw_only=True)
class S3Trigger:
    """Objects uploaded to a bucket, delivered asynchronously to the alias.

    ``new_bucket``: the stack creates the bucket and its own notification configuration (no
    custom resource). ``existing_bucket_name``: a bucket owned elsewhere, whose owner turns on
    its EventBridge notifications (``aws s3api put-bucket-notification-configuration
    --notification-configuration '{"EventBridgeConfiguration": {}}'``); an EventBridge rule the
    stack creates delivers its Object Created events to the alias. Never both. ``prefix`` / ``suffix`` filter keys; asynchronous invocation retries
    ``retry_attempts`` times (0..2) within ``max_event_age_s`` (60..21600), then the event goes
    to ``on_failure_queue_arn`` or the service's failure queue.
    """

    new_bucket: NewBucket | None = None
    existing_bucket_name: str | None = None
    events: tuple[str, ...] = ("s3:ObjectCreated:*",)
    prefix: str = "uploads/"
    suffix: str = ""
    retry_attempts: int = 2
    max_event_age_s: int = 3600
    on_failure_queue_arn: str | None = None
    max_object_bytes: int = 20 * 1024 * 1024
    name: str | None = None

    @property
    def key(self) -> str:
        """``name``, else the new bucket's suffix, else the existing bucket's name."""
        if self.name is not None:
            return self.name
        if self.new_bucket is not None:
            return self.new_bucket.name_suffix
        return str(self.existing_bucket_name)

    def __post_init__(self) -> None:
        if (self.new_bucket is None) == (self.existing_bucket_name is None):
            raise SpecError(
                "SML182",
                "S3Trigger needs exactly one of new_bucket=NewBucket(...) or "
                "existing_bucket_name='my-bucket'",
            )
        existing = self.existing_bucket_name
        if existing is not None and not is_token(existing) and not _BUCKET_NAME.match(existing):
            raise SpecError(
                "SML184",
                f"existing_bucket_name {existing!r} is not a bucket name (3-63 lowercase "
                "letters, digits, '.', '-')",
            )
        if existing is not None and self.events != ("s3:ObjectCreated:*",):
            raise SpecError(
                "SML194",
                "an existing bucket delivers through EventBridge, whose 'Object Created' event "
                "does not tell the S3 event types apart: leave events at the default",
            )
        bad = [e for e in self.events if e not in _S3_EVENTS]
        if bad or not self.events:
            raise SpecError(
                "SML185", f"events {self.events}: use object-created events of {_S3_EVENTS}"
            )
        for value, what in ((self.prefix, "prefix"), (self.suffix, "suffix")):
            if len(value.encode()) > 1024 or "*" in value:
                raise SpecError(
                    "SML186",
                    f"{what} {value!r}: a literal key {what} of at most 1024 bytes (no wildcards)",
                )
        if not 0 <= self.retry_attempts <= 2:
            raise SpecError("SML187", f"retry_attempts={self.retry_attempts}: use 0..2")
        if not 60 <= self.max_event_age_s <= 21_600:
            raise SpecError("SML188", f"max_event_age_s={self.max_event_age_s}: use 60..21600")
        check_arn(self.on_failure_queue_arn, "sqs", "on_failure_queue_arn")
        _check_named(self.name, self.existing_bucket_name, "S3Trigger")
        if not 1 <= self.max_object_bytes <= 512 * 1024 * 1024:
            raise SpecError(
                "SML193",
                f"max_object_bytes={self.max_object_bytes}: use 1..{512 * 1024 * 1024} (objects "
                "are read into memory; larger files get a recorded failure result)",
            )
        check_key(self.key, "S3Trigger")

    def watches(self, key: str) -> bool:
        """Whether an object written at ``key`` would trigger the function again."""
        return key.startswith(self.prefix) and key.endswith(self.suffix)


Trigger = HttpTrigger | DynamoStreamTrigger | KinesisTrigger | S3Trigger
"""Every trigger kind a service's ``triggers`` may hold."""
