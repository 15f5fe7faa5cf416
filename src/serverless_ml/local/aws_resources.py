"""A plan's resources created for real in the local AWS (moto_server, LocalStack, or an account),
and the plan's deploy-time values resolved against them.

The same ``ServicePlan`` / ``EdgeServicePlan`` the renderers deploy decides what exists: tables
(keys, billing, stream view), Kinesis streams (mode, shards), queues, topics and buckets
(versioning). ``LocalResources.resolve`` turns any plan ``Value`` (``Ref``, ``Pseudo``,
``Joined``) into the string the deployed stack would hold, so the function's environment is the
planned one. ``delete`` removes what was created (used for endpoints that outlive the run).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from serverless_ml.core.plan_types import (
    BucketPlan,
    Joined,
    KinesisStreamPlan,
    Pseudo,
    QueuePlan,
    Ref,
    ResourcePlan,
    TablePlan,
    TopicPlan,
    Value,
)
from serverless_ml.local.moto_server import LocalRunError

MOTO_ACCOUNT_ID: Final = "123456789012"  # moto's default account
ACTIVE_WAIT_S: Final = 60.0


@dataclass
class LocalResources:
    """What was created, by plan node id, with the attributes a ``Ref`` may name."""

    session: Any  # boto3.session.Session
    endpoint: str | None
    account_id: str
    region: str
    partition: str = "aws"
    attributes: dict[str, dict[str, str]] = field(default_factory=dict)
    created: list[ResourcePlan] = field(default_factory=list)

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.endpoint)

    def resolve(self, value: Value) -> str:
        """The deployed string for a plan value."""
        if isinstance(value, str):
            return value
        if isinstance(value, Pseudo):
            return {"account_id": self.account_id, "region": self.region}.get(
                value.name, self.partition
            )
        if isinstance(value, Joined):
            return "".join(self.resolve(part) for part in value.parts)
        if isinstance(value, Ref):
            try:
                return self.attributes[value.resource][value.attribute] + value.suffix
            except KeyError:
                raise LocalRunError(
                    f"{value.resource}.{value.attribute} is not a resource the local run created"
                ) from None
        raise TypeError(f"not a plan value: {value!r}")

    def resolve_environment(self, environment: Iterable[tuple[str, Value]]) -> dict[str, str]:
        return {key: self.resolve(value) for key, value in environment}


def _table(resources: LocalResources, table: TablePlan) -> dict[str, str]:
    keys = [(table.partition_key, table.partition_key_type, "HASH")]
    if table.sort_key is not None:
        keys.append((table.sort_key, table.sort_key_type or "S", "RANGE"))
    request: dict[str, Any] = {
        "TableName": table.name,
        "KeySchema": [{"AttributeName": name, "KeyType": kind} for name, _, kind in keys],
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": kind} for name, kind, _ in keys
        ],
        "BillingMode": table.billing_mode,
    }
    if table.stream_view_type is not None:
        request["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": table.stream_view_type,
        }
    client = resources.client("dynamodb")
    created = client.create_table(**request)["TableDescription"]
    client.get_waiter("table_exists").wait(TableName=table.name)
    attributes = {"arn": created["TableArn"], "name": table.name}
    if created.get("LatestStreamArn"):
        attributes["stream_arn"] = created["LatestStreamArn"]
    return attributes


def _stream(resources: LocalResources, stream: KinesisStreamPlan) -> dict[str, str]:
    client = resources.client("kinesis")
    request: dict[str, Any] = {
        "StreamName": stream.name,
        "StreamModeDetails": {"StreamMode": stream.mode},
    }
    if stream.mode != "ON_DEMAND":  # on demand, Kinesis picks the shards (4 at first)
        request["ShardCount"] = stream.shard_count or 1
    client.create_stream(**request)
    deadline = time.monotonic() + ACTIVE_WAIT_S
    while True:
        summary = client.describe_stream_summary(StreamName=stream.name)
        description = summary["StreamDescriptionSummary"]
        if description["StreamStatus"] == "ACTIVE":
            return {"arn": description["StreamARN"], "name": stream.name}
        if time.monotonic() > deadline:
            raise LocalRunError(f"Kinesis stream {stream.name} did not become ACTIVE")
        time.sleep(0.2)


def _queue(resources: LocalResources, queue: QueuePlan) -> dict[str, str]:
    client = resources.client("sqs")
    url = client.create_queue(
        QueueName=queue.name,
        Attributes={
            "MessageRetentionPeriod": str(queue.retention_s),
            "VisibilityTimeout": str(queue.visibility_timeout_s),
        },
    )["QueueUrl"]
    arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return {"arn": arn, "name": queue.name, "url": url}


def _topic(resources: LocalResources, topic: TopicPlan) -> dict[str, str]:
    arn = resources.client("sns").create_topic(Name=topic.name)["TopicArn"]
    return {"arn": arn, "name": topic.name}


def _bucket(resources: LocalResources, bucket: BucketPlan) -> dict[str, str]:
    name = resources.resolve(bucket.name)
    client = resources.client("s3")
    request: dict[str, Any] = {"Bucket": name}
    if resources.region != "us-east-1":
        request["CreateBucketConfiguration"] = {"LocationConstraint": resources.region}
    client.create_bucket(**request)
    if bucket.versioned:
        client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return {"arn": resources.resolve(bucket.arn), "name": name}


_CREATORS: Final[dict[type[ResourcePlan], Callable[[LocalResources, Any], dict[str, str]]]] = {
    TablePlan: _table,
    KinesisStreamPlan: _stream,
    QueuePlan: _queue,
    TopicPlan: _topic,
    BucketPlan: _bucket,
}


def create_resources(resources: LocalResources, plans: Iterable[ResourcePlan]) -> LocalResources:
    """Create every planned resource in order; record its attributes."""
    for plan in plans:
        resources.attributes[plan.node_id] = _CREATORS[type(plan)](resources, plan)
        resources.created.append(plan)
    return resources


def account_of(session: Any, endpoint: str | None) -> str:
    """The account the endpoint answers for (STS ``GetCallerIdentity``; moto's is its default
    account, ``MOTO_ACCOUNT_ID``)."""
    identity = session.client("sts", endpoint_url=endpoint).get_caller_identity()
    return str(identity["Account"])


def _empty_bucket(client: Any, name: str) -> None:
    for page in client.get_paginator("list_object_versions").paginate(Bucket=name):
        objects = [
            {"Key": item["Key"], "VersionId": item["VersionId"]}
            for item in (*page.get("Versions", []), *page.get("DeleteMarkers", []))
        ]
        if objects:
            client.delete_objects(Bucket=name, Delete={"Objects": objects, "Quiet": True})


def delete_resources(resources: LocalResources) -> list[str]:
    """Delete what ``create_resources`` made (newest first); the errors, as text."""
    errors: list[str] = []
    for plan in reversed(resources.created):
        attributes = resources.attributes.get(plan.node_id, {})
        try:
            if isinstance(plan, TablePlan):
                resources.client("dynamodb").delete_table(TableName=plan.name)
            elif isinstance(plan, KinesisStreamPlan):
                resources.client("kinesis").delete_stream(
                    StreamName=plan.name, EnforceConsumerDeletion=True
                )
            elif isinstance(plan, QueuePlan):
                resources.client("sqs").delete_queue(QueueUrl=attributes["url"])
            elif isinstance(plan, TopicPlan):
                resources.client("sns").delete_topic(TopicArn=attributes["arn"])
            elif isinstance(plan, BucketPlan):
                s3 = resources.client("s3")
                _empty_bucket(s3, attributes["name"])
                s3.delete_bucket(Bucket=attributes["name"])
        except Exception as error:  # keep deleting the rest; report what stayed
            errors.append(f"{plan.node_id}: {type(error).__name__}: {error}")
    return errors
