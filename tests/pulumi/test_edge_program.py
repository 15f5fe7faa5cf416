"""EdgePersonalization under Pulumi mocks: everything through its own us-east-1 provider, the
function kept on destroy and published as a numbered version that the distribution runs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from serverless_ml.reference.scenarios import edge_personalization
from tests.pulumi.harness import RenderedEdge, render_edge

PROVIDER = "pulumi:providers:aws"


@pytest.fixture(scope="module")
def edge() -> RenderedEdge:
    return render_edge(edge_personalization())  # the stack's default region is eu-west-1


def _custom(edge: RenderedEdge) -> list[Any]:
    return [r for r in edge.resources if r.custom and r.type != PROVIDER]


def test_every_resource_goes_through_the_us_east_1_provider(edge: RenderedEdge) -> None:
    (provider,) = edge.of_type(PROVIDER)
    assert provider.inputs["region"] == "us-east-1"
    assert provider.name == "edge-personalization-us-east-1"
    for resource in _custom(edge):
        assert resource.provider.startswith(provider.urn), (resource.type, resource.name)
    # Pseudo parameters come from that provider too: the bucket is named for us-east-1.
    (bucket,) = edge.of_type("aws:s3/bucket:Bucket")
    assert bucket.inputs["bucket"] == "edge-personalization-site-123456789012-us-east-1"


def test_the_function_is_a_kept_numbered_version_without_environment(edge: RenderedEdge) -> None:
    (function,) = edge.of_type("aws:lambda/function:Function")
    inputs = function.inputs
    assert inputs["publish"] is True and inputs["skipDestroy"] is True
    assert function.retain_on_delete
    assert "environment" not in inputs and "layers" not in inputs and "vpcConfig" not in inputs
    assert (
        inputs["runtime"],
        inputs["architectures"],
        inputs["memorySize"],
        inputs["timeout"],
    ) == (
        "python3.13",
        ["x86_64"],
        128,
        5,
    )
    (role,) = edge.of_type("aws:iam/role:Role")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    principals = {p for s in trust["Statement"] for p in s["Principal"]["Service"]}
    assert principals == {"lambda.amazonaws.com", "edgelambda.amazonaws.com"}
    assert edge.outputs["version_arn"].endswith(":1")


def test_the_distribution_runs_that_version_at_origin_request(edge: RenderedEdge) -> None:
    (distribution,) = edge.of_type("aws:cloudfront/distribution:Distribution")
    behavior = distribution.inputs["defaultCacheBehavior"]
    (association,) = behavior["lambdaFunctionAssociations"]
    assert association["eventType"] == "origin-request"
    assert association["lambdaArn"] == edge.outputs["version_arn"]
    (origin,) = distribution.inputs["origins"]
    assert origin["originAccessControlId"] == "edge-personalization-oac-id"
    assert origin["domainName"].endswith(".s3.us-east-1.amazonaws.com")
    assert behavior["viewerProtocolPolicy"] == "redirect-to-https"
    (cache,) = edge.of_type("aws:cloudfront/cachePolicy:CachePolicy")
    key = cache.inputs["parametersInCacheKeyAndForwardedToOrigin"]
    assert "CloudFront-Viewer-Country" in key["headersConfig"]["headers"]["items"]
    assert key["cookiesConfig"]["cookies"]["items"] == ["sml_variant", "sml_visits"]
    (origin_request,) = edge.of_type("aws:cloudfront/originRequestPolicy:OriginRequestPolicy")
    assert origin_request.inputs["headersConfig"]["headers"]["items"] == ["Referer"]


def test_only_this_distribution_reads_the_bucket(edge: RenderedEdge) -> None:
    (policy,) = edge.of_type("aws:s3/bucketPolicy:BucketPolicy")
    statements = json.loads(policy.inputs["policy"])["Statement"]
    (read,) = [s for s in statements if s["Effect"] == "Allow"]
    (distribution,) = edge.of_type("aws:cloudfront/distribution:Distribution")
    assert read["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert read["Condition"]["StringEquals"]["AWS:SourceArn"] == distribution.outputs["arn"]
    assert any(s["Effect"] == "Deny" for s in statements)  # TLS only
    assert all(r.retain_on_delete for r in edge.resources if r.type.startswith("aws:s3/"))


def test_alarms_watch_the_function_and_the_distribution_5xx_rate(edge: RenderedEdge) -> None:
    alarms = {
        a.inputs["name"]: a.inputs for a in edge.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    }
    assert set(alarms) == {
        "edge-personalization-errors", "edge-personalization-throttles",
        "edge-personalization-duration-p99", "edge-personalization-distribution-5xx-rate",
    }  # fmt: skip
    rate = alarms["edge-personalization-distribution-5xx-rate"]
    assert (rate["namespace"], rate["metricName"]) == ("AWS/CloudFront", "5xxErrorRate")
    assert rate["dimensions"] == {"DistributionId": "edge-personalization-distribution-id",
                                  "Region": "Global"}  # fmt: skip
    errors = alarms["edge-personalization-errors"]
    assert errors["dimensions"] == {"FunctionName": "edge-personalization"}
