"""CDK and Pulumi deploy the same edge personalization: the facts of the synthesized
EdgePersonalizationStack equal those of the Pulumi render of the same spec, resource kind by
resource kind (function, role, policies, distribution, bucket, alarms)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from serverless_ml.reference.scenarios import edge_personalization
from tests.cdk.conftest import Synth, edge_variant_specs
from tests.pulumi.harness import RenderedEdge, render_edge

Facts = dict[str, Any]


def _resources(template: dict[str, Any], type_: str) -> list[dict[str, Any]]:
    return [r for r in template["Resources"].values() if r["Type"] == type_]


def _items(config: dict[str, Any] | None, key: str, nested: bool) -> list[str]:
    """Header/cookie names of a CloudFront policy config (Pulumi nests them under ``items``)."""
    value = (config or {}).get(key)
    if nested:
        value = (value or {}).get("items")
    return sorted(value or [])


def _principals(principal: Any) -> list[str]:
    service = principal["Service"] if isinstance(principal, dict) else principal
    return sorted([service] if isinstance(service, str) else service)


def cdk_facts(template: dict[str, Any]) -> Facts:
    (function,) = _resources(template, "AWS::Lambda::Function")
    f = function["Properties"]
    (role,) = _resources(template, "AWS::IAM::Role")
    (cache,) = _resources(template, "AWS::CloudFront::CachePolicy")
    c = cache["Properties"]["CachePolicyConfig"]
    key = c["ParametersInCacheKeyAndForwardedToOrigin"]
    (orp,) = _resources(template, "AWS::CloudFront::OriginRequestPolicy")
    o = orp["Properties"]["OriginRequestPolicyConfig"]
    oac = _resources(template, "AWS::CloudFront::OriginAccessControl")
    a = oac[0]["Properties"]["OriginAccessControlConfig"] if oac else None
    (distribution,) = _resources(template, "AWS::CloudFront::Distribution")
    d = distribution["Properties"]["DistributionConfig"]
    b = d["DefaultCacheBehavior"]
    (log_group,) = _resources(template, "AWS::Logs::LogGroup")
    (policy,) = _resources(template, "AWS::IAM::Policy")
    return {
        "function": (f["FunctionName"], f["Handler"], f["Runtime"], f["MemorySize"],
                     f["Timeout"], tuple(f["Architectures"]), "Environment" in f,
                     function.get("DeletionPolicy") == "Retain"),
        "trust": sorted(p for s in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
                        for p in _principals(s["Principal"])),
        "role_policy": sorted((s["Sid"], tuple(sorted(_list(s["Action"]))))
                              for s in policy["Properties"]["PolicyDocument"]["Statement"]),
        "log_group": (log_group["Properties"]["LogGroupName"],
                      log_group["Properties"]["RetentionInDays"]),
        "cache": (c["Name"], c["DefaultTTL"], c["MinTTL"], c["MaxTTL"],
                  key["HeadersConfig"]["HeaderBehavior"], _items(key["HeadersConfig"], "Headers", False),
                  key["CookiesConfig"]["CookieBehavior"], _items(key["CookiesConfig"], "Cookies", False),
                  key["QueryStringsConfig"]["QueryStringBehavior"],
                  key["EnableAcceptEncodingGzip"], key["EnableAcceptEncodingBrotli"]),
        "origin_request": (o["Name"], o["HeadersConfig"]["HeaderBehavior"],
                           _items(o["HeadersConfig"], "Headers", False),
                           o["CookiesConfig"]["CookieBehavior"],
                           o["QueryStringsConfig"]["QueryStringBehavior"]),
        "oac": a and (a["Name"], a["OriginAccessControlOriginType"], a["SigningBehavior"],
                      a["SigningProtocol"]),
        "distribution": (d["Comment"], d["PriceClass"], d["HttpVersion"], d["IPV6Enabled"],
                         d.get("DefaultRootObject"), tuple(b["AllowedMethods"]),
                         tuple(b["CachedMethods"]), b["Compress"], b["ViewerProtocolPolicy"],
                         [x["EventType"] for x in b["LambdaFunctionAssociations"]],
                         d["ViewerCertificate"].get("CloudFrontDefaultCertificate", False),
                         d["ViewerCertificate"].get("MinimumProtocolVersion"),
                         d.get("WebACLId"), d.get("Aliases"), _cdk_origin(d["Origins"][0])),
        "bucket": _cdk_bucket(template),
        "alarms": sorted(_cdk_alarm(x["Properties"])
                         for x in _resources(template, "AWS::CloudWatch::Alarm")),
    }  # fmt: skip


def _cdk_origin(origin: dict[str, Any]) -> tuple[Any, ...]:
    custom = origin.get("CustomOriginConfig") or {}
    return (origin["Id"], origin.get("OriginPath"), custom.get("OriginProtocolPolicy"),
            custom.get("HTTPSPort"), custom.get("OriginSSLProtocols"))  # fmt: skip


def _cdk_bucket(template: dict[str, Any]) -> tuple[Any, ...] | None:
    buckets = _resources(template, "AWS::S3::Bucket")
    if not buckets:
        return None
    (bucket,) = buckets
    (policy,) = _resources(template, "AWS::S3::BucketPolicy")
    return (bucket.get("DeletionPolicy") == "Retain",
            bucket["Properties"]["VersioningConfiguration"]["Status"],
            sorted((s["Effect"], tuple(_list(s["Action"])))
                   for s in policy["Properties"]["PolicyDocument"]["Statement"]))  # fmt: skip


def _list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _cdk_alarm(p: dict[str, Any]) -> tuple[Any, ...]:
    return (p["AlarmName"], p.get("Namespace"), p.get("MetricName"),
            p.get("Statistic") or p.get("ExtendedStatistic"), float(p["Threshold"]),
            p["ComparisonOperator"], p["EvaluationPeriods"], p["DatapointsToAlarm"],
            sorted(d["Name"] for d in p.get("Dimensions", [])))  # fmt: skip


def pulumi_facts(edge: RenderedEdge) -> Facts:
    def one(type_: str) -> dict[str, Any]:
        (found,) = edge.of_type(type_)
        return found.inputs

    (function_resource,) = edge.of_type("aws:lambda/function:Function")
    f = function_resource.inputs
    role = one("aws:iam/role:Role")
    c = one("aws:cloudfront/cachePolicy:CachePolicy")
    key = c["parametersInCacheKeyAndForwardedToOrigin"]
    o = one("aws:cloudfront/originRequestPolicy:OriginRequestPolicy")
    oac = edge.of_type("aws:cloudfront/originAccessControl:OriginAccessControl")
    a = oac[0].inputs if oac else None
    d = one("aws:cloudfront/distribution:Distribution")
    b = d["defaultCacheBehavior"]
    log_group = one("aws:cloudwatch/logGroup:LogGroup")
    policy = json.loads(one("aws:iam/rolePolicy:RolePolicy")["policy"])
    certificate = d["viewerCertificate"]
    return {
        "function": (f["name"], f["handler"], f["runtime"], f["memorySize"], f["timeout"],
                     tuple(f["architectures"]), "environment" in f,
                     function_resource.retain_on_delete and f["skipDestroy"]),
        "trust": sorted(p for s in json.loads(role["assumeRolePolicy"])["Statement"]
                        for p in _principals(s["Principal"])),
        "role_policy": sorted((s["Sid"], tuple(sorted(_list(s["Action"]))))
                              for s in policy["Statement"]),
        "log_group": (log_group["name"], int(log_group["retentionInDays"])),
        "cache": (c["name"], c["defaultTtl"], c["minTtl"], c["maxTtl"],
                  key["headersConfig"]["headerBehavior"], _items(key["headersConfig"], "headers", True),
                  key["cookiesConfig"]["cookieBehavior"], _items(key["cookiesConfig"], "cookies", True),
                  key["queryStringsConfig"]["queryStringBehavior"],
                  key["enableAcceptEncodingGzip"], key["enableAcceptEncodingBrotli"]),
        "origin_request": (o["name"], o["headersConfig"]["headerBehavior"],
                           _items(o["headersConfig"], "headers", True),
                           o["cookiesConfig"]["cookieBehavior"],
                           o["queryStringsConfig"]["queryStringBehavior"]),
        "oac": a and (a["name"], a["originAccessControlOriginType"], a["signingBehavior"],
                      a["signingProtocol"]),
        "distribution": (d["comment"], d["priceClass"], d["httpVersion"], d["isIpv6Enabled"],
                         d.get("defaultRootObject"), tuple(b["allowedMethods"]),
                         tuple(b["cachedMethods"]), b["compress"], b["viewerProtocolPolicy"],
                         [x["eventType"] for x in b["lambdaFunctionAssociations"]],
                         certificate.get("cloudfrontDefaultCertificate", False),
                         certificate.get("minimumProtocolVersion"),
                         d.get("webAclId"), d.get("aliases"), _pulumi_origin(d["origins"][0])),
        "bucket": _pulumi_bucket(edge),
        "alarms": sorted(_pulumi_alarm(x.inputs)
                         for x in edge.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")),
    }  # fmt: skip


def _pulumi_origin(origin: dict[str, Any]) -> tuple[Any, ...]:
    custom = origin.get("customOriginConfig") or {}
    port = custom.get("httpsPort")
    return (origin["originId"], origin.get("originPath"), custom.get("originProtocolPolicy"),
            None if port is None else int(port), custom.get("originSslProtocols"))  # fmt: skip


def _pulumi_bucket(edge: RenderedEdge) -> tuple[Any, ...] | None:
    buckets = edge.of_type("aws:s3/bucket:Bucket")
    if not buckets:
        return None
    (bucket,) = buckets
    (versioning,) = edge.of_type("aws:s3/bucketVersioning:BucketVersioning")
    (policy,) = edge.of_type("aws:s3/bucketPolicy:BucketPolicy")
    return (bucket.retain_on_delete, versioning.inputs["versioningConfiguration"]["status"],
            sorted((s["Effect"], tuple(_list(s["Action"])))
                   for s in json.loads(policy.inputs["policy"])["Statement"]))  # fmt: skip


def _pulumi_alarm(p: dict[str, Any]) -> tuple[Any, ...]:
    return (p["name"], p.get("namespace"), p.get("metricName"),
            p.get("statistic") or p.get("extendedStatistic"), float(p["threshold"]),
            p["comparisonOperator"], p["evaluationPeriods"], p["datapointsToAlarm"],
            sorted(p.get("dimensions", {})))  # fmt: skip


CASES = {"reference": "EdgePersonalizationStack", "Hardened": "EdgeHardenedStack"}


@pytest.fixture(scope="module")
def both(synth: Synth) -> dict[str, tuple[Facts, Facts]]:
    specs = {"reference": edge_personalization(), **edge_variant_specs()}
    return {
        case: (cdk_facts(synth.templates[stack]), pulumi_facts(render_edge(specs[case])))
        for case, stack in CASES.items()
    }


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize(
    "kind",
    ["function", "trust", "role_policy", "log_group", "cache", "origin_request", "oac",
     "distribution", "bucket", "alarms"],
)  # fmt: skip
def test_both_backends_deploy_the_same(
    both: dict[str, tuple[Facts, Facts]], case: str, kind: str
) -> None:
    cdk, pulumi = both[case]
    assert cdk[kind] == pulumi[kind]


def test_the_hardened_variant_takes_the_other_branches(
    both: dict[str, tuple[Facts, Facts]],
) -> None:
    cdk, _ = both["Hardened"]
    assert cdk["bucket"] is None and cdk["oac"] is None
    assert cdk["cache"][4:9] == ("none", [], "none", [], "none")  # no caching: no cache key
    assert cdk["distribution"][9] == ["viewer-request"]
    assert cdk["distribution"][11] == "TLSv1.2_2021" and cdk["distribution"][13] == [
        "www.example.com"
    ]
