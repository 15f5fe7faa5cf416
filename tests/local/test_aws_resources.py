"""The reference services' planned resources created for real in moto's server (a separate
process on a free port, as a local run uses it): tables with their keys and streams, Kinesis
streams ACTIVE in the planned mode, queues, topics and versioned buckets; plan values resolved
to what the deployed stack would hold; and everything deleted again."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from serverless_ml.core.plan import build_plan
from serverless_ml.core.plan_types import (
    ACCOUNT_ID,
    PARTITION,
    REGION,
    BucketPlan,
    Joined,
    KinesisStreamPlan,
    QueuePlan,
    Ref,
    ServicePlan,
    TablePlan,
    TopicPlan,
)
from serverless_ml.local.aws_resources import (
    MOTO_ACCOUNT_ID,
    LocalResources,
    account_of,
    create_resources,
    delete_resources,
)
from serverless_ml.local.moto_server import LocalRunError, moto_server
from serverless_ml.reference.scenarios import (
    fraud_detection,
    image_processing,
    iot_anomaly_detection,
)

pytestmark = pytest.mark.slow

REGION_NAME = "eu-west-1"  # not us-east-1: buckets need their location constraint
SCENARIOS: dict[str, Callable[[], Any]] = {
    "fraud": fraud_detection,
    "iot": iot_anomaly_detection,
    "image": image_processing,
}
PLANS: dict[str, ServicePlan] = {name: build_plan(spec()) for name, spec in SCENARIOS.items()}


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


def _resources(endpoint: str, region: str) -> LocalResources:
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region
    )
    return LocalResources(
        session=session,
        endpoint=endpoint,
        account_id=account_of(session, endpoint),
        region=region,
    )


@pytest.fixture(scope="module", params=sorted(SCENARIOS))
def created(
    request: pytest.FixtureRequest, endpoint: str
) -> Iterator[tuple[ServicePlan, LocalResources]]:
    """One reference service's resources, created once for the module's checks."""
    plan = PLANS[request.param]
    resources = create_resources(_resources(endpoint, REGION_NAME), plan.resources)
    yield plan, resources
    delete_resources(resources)


def _of(plan: ServicePlan, kind: type[Any]) -> list[Any]:
    return [r for r in plan.resources if isinstance(r, kind)]


def test_every_planned_resource_was_created(created: tuple[ServicePlan, LocalResources]) -> None:
    plan, resources = created
    assert resources.created == list(plan.resources)
    assert set(resources.attributes) == {r.node_id for r in plan.resources}
    assert resources.account_id == MOTO_ACCOUNT_ID
    for attributes in resources.attributes.values():
        assert attributes["arn"].startswith("arn:aws:")
        assert attributes["name"]


def test_tables(created: tuple[ServicePlan, LocalResources]) -> None:
    plan, resources = created
    tables = _of(plan, TablePlan)
    assert tables  # every reference service writes results to a table
    dynamodb = resources.client("dynamodb")
    for table in tables:
        described = dynamodb.describe_table(TableName=table.name)["Table"]
        assert described["TableStatus"] == "ACTIVE"
        keys = [(table.partition_key, "HASH", table.partition_key_type)]
        if table.sort_key is not None:
            keys.append((table.sort_key, "RANGE", table.sort_key_type))
        assert [(k["AttributeName"], k["KeyType"]) for k in described["KeySchema"]] == [
            (name, kind) for name, kind, _ in keys
        ]
        assert {
            a["AttributeName"]: a["AttributeType"] for a in described["AttributeDefinitions"]
        } == {name: scalar for name, _, scalar in keys}
        assert described["BillingModeSummary"]["BillingMode"] == table.billing_mode
        attributes = resources.attributes[table.node_id]
        assert attributes == {
            "arn": described["TableArn"],
            "name": table.name,
            **({"stream_arn": described["LatestStreamArn"]} if table.stream_view_type else {}),
        }
        if table.stream_view_type is None:
            assert not described.get("StreamSpecification", {}).get("StreamEnabled", False)
        else:
            assert described["StreamSpecification"] == {
                "StreamEnabled": True,
                "StreamViewType": table.stream_view_type,
            }
            assert ":table/" in attributes["stream_arn"] and "/stream/" in attributes["stream_arn"]


def test_fraud_transactions_table_streams_new_images() -> None:
    streamed = [t for t in _of(PLANS["fraud"], TablePlan) if t.stream_view_type is not None]
    assert [t.stream_view_type for t in streamed] == ["NEW_IMAGE"]


def test_kinesis_streams_are_active_in_the_planned_mode(
    created: tuple[ServicePlan, LocalResources],
) -> None:
    plan, resources = created
    kinesis = resources.client("kinesis")
    for stream in _of(plan, KinesisStreamPlan):
        summary = kinesis.describe_stream_summary(StreamName=stream.name)[
            "StreamDescriptionSummary"
        ]
        assert summary["StreamStatus"] == "ACTIVE"
        assert summary["StreamModeDetails"]["StreamMode"] == stream.mode
        shards = kinesis.list_shards(StreamName=stream.name)["Shards"]
        expected = 4 if stream.mode == "ON_DEMAND" else stream.shard_count
        assert summary["OpenShardCount"] == len(shards) == expected
        assert resources.attributes[stream.node_id] == {
            "arn": summary["StreamARN"],
            "name": stream.name,
        }


def test_iot_has_an_on_demand_stream() -> None:
    assert [s.mode for s in _of(PLANS["iot"], KinesisStreamPlan)] == ["ON_DEMAND"]


def test_queues_and_topics(created: tuple[ServicePlan, LocalResources]) -> None:
    plan, resources = created
    sqs, sns = resources.client("sqs"), resources.client("sns")
    for queue in _of(plan, QueuePlan):
        attributes = resources.attributes[queue.node_id]
        assert attributes["url"] == sqs.get_queue_url(QueueName=queue.name)["QueueUrl"]
        actual = sqs.get_queue_attributes(QueueUrl=attributes["url"], AttributeNames=["All"])[
            "Attributes"
        ]
        assert actual["QueueArn"] == attributes["arn"]
        assert actual["QueueArn"].endswith(f":{MOTO_ACCOUNT_ID}:{queue.name}")
        assert int(actual["MessageRetentionPeriod"]) == queue.retention_s
        assert int(actual["VisibilityTimeout"]) == queue.visibility_timeout_s
    for topic in _of(plan, TopicPlan):
        arn = resources.attributes[topic.node_id]["arn"]
        assert arn == f"arn:aws:sns:{REGION_NAME}:{MOTO_ACCOUNT_ID}:{topic.name}"
        assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["TopicArn"] == arn


def test_buckets(created: tuple[ServicePlan, LocalResources]) -> None:
    plan, resources = created
    s3 = resources.client("s3")
    for bucket in _of(plan, BucketPlan):
        attributes = resources.attributes[bucket.node_id]
        name = attributes["name"]
        assert name == f"image-processing-uploads-{MOTO_ACCOUNT_ID}-{REGION_NAME}"
        assert attributes["arn"] == f"arn:aws:s3:::{name}"
        s3.head_bucket(Bucket=name)
        assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] == REGION_NAME
        versioning = s3.get_bucket_versioning(Bucket=name).get("Status")
        assert versioning == ("Enabled" if bucket.versioned else None)


def test_image_bucket_is_versioned() -> None:
    assert [b.versioned for b in _of(PLANS["image"], BucketPlan)] == [True]


def test_resolve_plan_values(created: tuple[ServicePlan, LocalResources]) -> None:
    plan, resources = created
    assert resources.resolve("literal") == "literal"
    assert resources.resolve(ACCOUNT_ID) == MOTO_ACCOUNT_ID
    assert resources.resolve(REGION) == REGION_NAME
    assert resources.resolve(PARTITION) == "aws"
    assert resources.resolve(Joined(("a-", ACCOUNT_ID, "-", REGION, "-", PARTITION))) == (
        f"a-{MOTO_ACCOUNT_ID}-{REGION_NAME}-aws"
    )
    assert resources.resolve(Joined(("x",)) + "/suffix") == "x/suffix"
    for resource in plan.resources:
        arn = resources.attributes[resource.node_id]["arn"]
        assert resources.resolve(resource.ref("arn")) == arn
        assert resources.resolve(resource.ref("arn", "/*")) == f"{arn}/*"
    for table in _of(plan, TablePlan):
        if table.stream_view_type is not None:
            assert (
                resources.resolve(table.ref("stream_arn"))
                == resources.attributes[table.node_id]["stream_arn"]
            )
    for bucket in _of(plan, BucketPlan):
        assert resources.resolve(bucket.name) == resources.attributes[bucket.node_id]["name"]
        assert resources.resolve(bucket.arn) == resources.attributes[bucket.node_id]["arn"]


def test_resolve_rejects_what_was_not_created(created: tuple[ServicePlan, LocalResources]) -> None:
    _, resources = created
    with pytest.raises(
        LocalRunError, match=r"table:nope\.arn is not a resource the local run created"
    ):
        resources.resolve(Ref("table:nope", "arn"))
    with pytest.raises(LocalRunError):
        resources.resolve(Ref("log_group", "arn"))  # the function core is not created locally
    with pytest.raises(TypeError):
        resources.resolve(42)  # type: ignore[arg-type]


def test_function_environment_resolves_completely(
    created: tuple[ServicePlan, LocalResources],
) -> None:
    plan, resources = created
    environment = resources.resolve_environment(plan.function.environment)
    assert list(environment) == [key for key, _ in plan.function.environment]
    assert all(isinstance(value, str) and value for value in environment.values())
    assert not [v for v in environment.values() if "Ref(" in v or "Pseudo(" in v or "Joined(" in v]
    assert environment == {**environment, **plan.function.literal_environment()}
    for key, value in plan.function.environment:
        if isinstance(value, Ref):
            assert environment[key] == resources.attributes[value.resource][value.attribute]


def test_iot_and_image_environments_name_the_created_resources(endpoint: str) -> None:
    """Values known only at deploy: the alert topic's ARN, the results bucket's name."""
    resources = create_resources(_resources(endpoint, "ap-southeast-2"), PLANS["iot"].resources)
    try:
        environment = resources.resolve_environment(PLANS["iot"].function.environment)
        topic = resources.attributes["topic:alerts"]["arn"]
        assert environment["SML_ALERT_TOPIC_ARN"] == topic
        assert topic.startswith(f"arn:aws:sns:ap-southeast-2:{MOTO_ACCOUNT_ID}:")
    finally:
        assert delete_resources(resources) == []
    image = create_resources(_resources(endpoint, "ap-southeast-2"), PLANS["image"].resources)
    try:
        environment = image.resolve_environment(PLANS["image"].function.environment)
        assert environment["SML_RESULTS_BUCKET"] == (
            f"image-processing-uploads-{MOTO_ACCOUNT_ID}-ap-southeast-2"
        )
    finally:
        assert delete_resources(image) == []


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_delete_resources_leaves_nothing(endpoint: str, scenario: str) -> None:
    """In us-east-1 (buckets without a location constraint), apart from the module's region;
    the bucket holds object versions and a delete marker, as a run leaves it."""
    plan = PLANS[scenario]
    resources = create_resources(_resources(endpoint, "us-east-1"), plan.resources)
    s3 = resources.client("s3")
    for bucket in _of(plan, BucketPlan):
        name = resources.attributes[bucket.node_id]["name"]
        assert name.endswith("-us-east-1")
        for body in (b"one", b"two"):
            s3.put_object(Bucket=name, Key="uploads/digit.png", Body=body)
        s3.delete_object(Bucket=name, Key="uploads/digit.png")  # a delete marker on top

    assert delete_resources(resources) == []

    dynamodb, kinesis = resources.client("dynamodb"), resources.client("kinesis")
    sqs, sns = resources.client("sqs"), resources.client("sns")
    names = {r.name for r in plan.resources if not isinstance(r, BucketPlan)}
    assert not names & set(dynamodb.list_tables()["TableNames"])
    assert not names & set(kinesis.list_streams()["StreamNames"])
    assert not [u for u in sqs.list_queues().get("QueueUrls", []) if u.rsplit("/", 1)[-1] in names]
    assert not [t for t in sns.list_topics()["Topics"] if t["TopicArn"].rsplit(":", 1)[-1] in names]
    buckets = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert not {resources.attributes[b.node_id]["name"] for b in _of(plan, BucketPlan)} & buckets


def test_delete_reports_what_it_could_not_delete(endpoint: str) -> None:
    resources = create_resources(_resources(endpoint, "sa-east-1"), PLANS["fraud"].resources)
    table = next(r for r in PLANS["fraud"].resources if isinstance(r, TablePlan))
    resources.client("dynamodb").delete_table(TableName=table.name)  # gone behind its back
    errors = delete_resources(resources)
    assert len(errors) == 1 and errors[0].startswith(f"{table.node_id}: ResourceNotFoundException")
