"""The S3 trigger part: a new bucket, its notification on the alias, async settings, loop
refusal, and the plan values that keep CloudFormation free of a dependency cycle."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from serverless_ml.core.plan import build_plan
from serverless_ml.core.plan_types import ACCOUNT_ID, PARTITION, Joined, Ref
from serverless_ml.reference.scenarios import image_processing
from serverless_ml.spec import (
    NewBucket,
    ResultObjects,
    ResultsTable,
    S3Trigger,
    SpecError,
)


def _spec(**trigger: Any) -> Any:
    return dataclasses.replace(
        image_processing(),
        triggers=(S3Trigger(new_bucket=NewBucket(name_suffix="uploads"), **trigger),),
    )


def test_bucket_is_private_encrypted_versioned_tls_only_and_retained() -> None:
    plan = build_plan(image_processing())
    (bucket,) = plan.buckets
    assert (bucket.encryption, bucket.versioned, bucket.block_public_access) == (
        "AES256", True, True,
    )  # fmt: skip
    assert bucket.retain_on_delete
    assert bucket.name == Joined(("image-processing-uploads-", ACCOUNT_ID, "-",
                                  bucket.name.parts[-1]))  # fmt: skip
    (deny,) = bucket.policy
    assert deny.effect == "Deny" and deny.actions == ("s3:*",)
    assert deny.conditions == (("Bool", "aws:SecureTransport", "false"),)
    assert deny.resources == (bucket.ref("arn"), Ref("bucket:uploads", "arn", "/*"))


def test_notification_and_permission_name_the_bucket_without_referring_to_it() -> None:
    """The bucket's notification depends on the invoke permission: if the permission or the
    role referred to the bucket resource, CloudFormation would see a cycle."""
    plan = build_plan(image_processing())
    (n,) = plan.notifications
    (bucket,) = plan.buckets
    assert n.bucket == bucket.ref("name") and n.bucket_arn == bucket.arn
    assert isinstance(n.bucket_arn, Joined)
    assert (n.principal, n.source_account) == ("s3.amazonaws.com", ACCOUNT_ID)
    assert (n.events, n.prefix, n.suffix) == (("s3:ObjectCreated:*",), "uploads/", "")
    for statement in plan.iam:
        for resource in statement.resources:
            assert not (isinstance(resource, Ref) and resource.resource == bucket.node_id)
    env = dict(plan.function.environment)
    assert env["SML_RESULTS_BUCKET"] == bucket.name and env["SML_RESULTS_PREFIX"] == "results/"
    read = next(s for s in plan.iam if s.sid == "ReadUploadsUploads")
    assert read.actions == ("s3:GetObject", "s3:GetObjectVersion")
    assert read.resources == (bucket.arn + "/uploads/*",)
    write = next(s for s in plan.iam if s.sid == "WriteResultObjectsUploads")
    assert write.resources == (bucket.arn + "/results/*",)


def test_async_settings_and_alarms_come_from_the_trigger() -> None:
    plan = build_plan(_spec(retry_attempts=1, max_event_age_s=600))
    a = plan.alias
    assert (a.async_max_retries, a.async_max_event_age_s) == (1, 600)
    assert a.async_on_failure == Ref("queue:failures", "arn")
    keys = {x.key for x in plan.monitoring.alarms}
    assert {"async_event_age", "async_events_dropped", "failure_queue_depth"} <= keys
    titles = [w.title for w in plan.monitoring.widgets]
    assert "Asynchronous S3 events" in titles


@pytest.mark.parametrize(
    ("trigger", "outputs", "code"),
    [
        ({"prefix": ""}, (ResultObjects(bucket="uploads"),), "SML189"),
        ({"prefix": "up"}, (ResultObjects(bucket="uploads", prefix="uploads/results/"),),
         "SML189"),
        ({"prefix": "a/a/"}, (ResultObjects(bucket="uploads", prefix="a/"),), "SML189"),
        ({"prefix": "", "suffix": "n"}, (ResultObjects(bucket="uploads"),), "SML189"),
        ({}, (ResultObjects(bucket="elsewhere"),), "SML192"),
    ],
)  # fmt: skip
def test_results_that_would_trigger_again_are_refused(
    trigger: dict[str, Any], outputs: tuple[Any, ...], code: str
) -> None:
    with pytest.raises(SpecError) as info:
        dataclasses.replace(_spec(**trigger), outputs=outputs)
    assert info.value.code == code


def test_results_outside_the_watched_filter_are_allowed() -> None:
    ok = dataclasses.replace(_spec(prefix="", suffix=".png"),
                             outputs=(ResultObjects(bucket="uploads"),))  # fmt: skip
    assert build_plan(ok).buckets
    ok = dataclasses.replace(_spec(prefix="in/"), outputs=(ResultObjects(bucket="uploads"),))
    assert build_plan(ok).notifications[0].prefix == "in/"


@pytest.mark.parametrize(
    ("build", "code"),
    [
        (lambda: S3Trigger(), "SML182"),
        (lambda: S3Trigger(new_bucket=NewBucket(name_suffix="u"), existing_bucket_name="b-1"),
         "SML182"),
        (lambda: NewBucket(name_suffix="Uploads"), "SML183"),
        (lambda: S3Trigger(existing_bucket_name="Not_A_Bucket"), "SML184"),
        (lambda: S3Trigger(existing_bucket_name="team-uploads", events=("s3:ObjectCreated:Put",)),
         "SML194"),
        (lambda: S3Trigger(new_bucket=NewBucket(name_suffix="u"), name="x"), "SML196"),
        (lambda: S3Trigger(new_bucket=NewBucket(name_suffix="u"), events=("s3:ObjectRemoved:*",)),
         "SML185"),
        (lambda: S3Trigger(new_bucket=NewBucket(name_suffix="u"), prefix="a*"), "SML186"),
        (lambda: S3Trigger(new_bucket=NewBucket(name_suffix="u"), retry_attempts=3), "SML187"),
        (lambda: S3Trigger(new_bucket=NewBucket(name_suffix="u"), max_event_age_s=30), "SML188"),
        (lambda: ResultObjects(bucket="u", prefix="results"), "SML190"),
        (lambda: S3Trigger(new_bucket=NewBucket(name_suffix="u"), max_object_bytes=0), "SML193"),
    ],
)  # fmt: skip
def test_s3_refusals(build: Any, code: str) -> None:
    with pytest.raises(SpecError) as info:
        build()
    assert info.value.code == code


def test_two_s3_triggers_must_share_the_alias_async_config() -> None:
    with pytest.raises(SpecError) as info:
        dataclasses.replace(
            image_processing(),
            triggers=(
                S3Trigger(new_bucket=NewBucket(name_suffix="a")),
                S3Trigger(new_bucket=NewBucket(name_suffix="b"), retry_attempts=0),
            ),
            outputs=(ResultsTable(name_suffix="results", partition_key="object_id"),),
        )
    assert info.value.code == "SML191"


def test_a_long_bucket_name_is_refused_at_plan_time() -> None:
    spec = dataclasses.replace(
        _spec(), name="a-very-long-service-name-for-images",
        triggers=(S3Trigger(new_bucket=NewBucket(name_suffix="uploads-incoming")),),
        outputs=(ResultsTable(name_suffix="results", partition_key="object_id"),),
    )  # fmt: skip
    with pytest.raises(SpecError) as info:
        build_plan(spec)
    assert info.value.code == "SML207"


def test_an_existing_bucket_delivers_through_an_eventbridge_rule() -> None:
    queue = "arn:aws:sqs:us-east-1:123456789012:scans-dlq"
    spec = dataclasses.replace(
        image_processing(), name="scans",
        triggers=(S3Trigger(existing_bucket_name="partner-scans", prefix="inbox/", suffix=".png",
                            on_failure_queue_arn=queue),),
        outputs=(ResultsTable(name_suffix="results", partition_key="object_id"),),
    )  # fmt: skip
    plan = build_plan(spec)
    assert plan.buckets == () and plan.notifications == ()
    (rule,) = plan.s3_rules
    assert rule.rule_name == "scans-partner-scans-uploads" and rule.principal == (
        "events.amazonaws.com"
    )
    assert json.loads(rule.event_pattern) == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": ["partner-scans"]},
                   "object": {"key": [{"wildcard": "inbox/*.png"}]}},
    }  # fmt: skip
    read = next(s for s in plan.iam if s.sid.startswith("ReadUploads"))
    assert read.resources == (Joined(("arn:", PARTITION, ":s3:::", "partner-scans",
                                      "/inbox/*")),)  # fmt: skip
    own = next(s for s in plan.iam if s.sid == "SendFailuresPartnerScans")
    assert own.resources == (queue,) and "sqs:SendMessage" in own.actions
    assert plan.alias.async_on_failure == queue


@pytest.mark.parametrize(
    ("prefix", "suffix", "key"),
    [("in/", "", [{"prefix": "in/"}]), ("", ".jpg", [{"suffix": ".jpg"}]), ("", "", None)],
)
def test_event_patterns_match_the_key_filter(prefix: str, suffix: str, key: Any) -> None:
    from serverless_ml.core.triggers.s3 import event_pattern

    detail = json.loads(event_pattern("b", prefix, suffix))["detail"]
    assert detail.get("object", {}).get("key") == key
